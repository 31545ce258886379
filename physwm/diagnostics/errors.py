"""Prediction errors of learned models: relative L2 error of fields, position error of particle predictions."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from physwm._errors import ArgumentTypeError, ArgumentValueError
from physwm._typing import Field
from physwm._validate import positive_int
from physwm._validate import tensor as check_tensor
from physwm.pde import PDEProblem

__all__ = ["relative_l2", "field_relative_l2", "particle_mse", "velocity_field_errors"]


def _pair(pred: Tensor, ref: Tensor) -> None:
    check_tensor("pred", pred), check_tensor("ref", ref)
    if pred.shape != ref.shape:
        raise ArgumentValueError(f"`pred` and `ref` must have the same shape, got {tuple(pred.shape)} and {tuple(ref.shape)}")


def relative_l2(pred: Tensor, ref: Tensor, *, dims: tuple[int, ...] | None = None) -> Tensor:
    r"""Relative :math:`L^2` error :math:`\|\hat u - u\|_2 / \|u\|_2` over ``dims`` (default: all entries).

    Shapes:
        pred, ref: any equal shape -> the shape without ``dims`` (a scalar by default).

    Example:
        >>> relative_l2(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 1.0]))
        tensor(0.7071)
    """
    _pair(pred, ref)
    if dims is None:
        dims = tuple(range(pred.dim()))
    else:
        dims = (dims,) if isinstance(dims, int) and not isinstance(dims, bool) else dims
        if not isinstance(dims, (tuple, list)) or not all(isinstance(d, int) and not isinstance(d, bool) for d in dims):
            raise ArgumentTypeError(f"`dims` must be a tuple of ints, got {dims!r}")
        if any(not -pred.dim() <= d < pred.dim() for d in dims) or len({d % pred.dim() for d in dims}) != len(dims):
            raise ArgumentValueError(f"`dims` must be distinct dims of a {pred.dim()}-d tensor, got {tuple(dims)}")
        dims = tuple(dims)
    num = ((pred - ref) ** 2).sum(dims)
    return (num / (ref**2).sum(dims).clamp_min(torch.finfo(ref.dtype).tiny)).sqrt()


@torch.no_grad()
def field_relative_l2(field: Field, problem: PDEProblem, points_per_axis: int = 32, *, chunk: int = 65536) -> float:
    r"""Relative :math:`L^2` error of a field against ``problem.exact`` on the ``N^n`` grid (endpoints included).

    ``field`` is any :class:`~physwm._typing.Field` (a PINN, SPINN or a conservation-corrected one),
    evaluated with ``predict(x, t)`` in chunks of ``chunk`` points in its own dtype and device. Data that
    give only the leading components of a vector field (velocity without pressure) are compared on those.

    Raises:
        TypeError: ``problem`` is not a :class:`~physwm.pde.PDEProblem`, or ``field`` has no ``predict``.
        ValueError: the problem has no ``exact`` solution, or the exact solution vanishes on the grid
            (no relative error to take).
    """
    if not isinstance(problem, PDEProblem):
        raise ArgumentTypeError(f"`problem` must be a physwm.pde.PDEProblem, got {type(problem).__name__}")
    if not callable(getattr(field, "predict", None)):
        raise ArgumentTypeError(f"`field` must have predict(x, t) (a physwm Field), got {type(field).__name__}")
    if problem.exact is None:
        raise ArgumentValueError("`problem` needs an `exact` solution for field_relative_l2")
    positive_int("points_per_axis", points_per_axis), positive_int("chunk", chunk)
    params = field.parameters() if hasattr(field, "parameters") else iter(())
    p = next(params, None)
    p = torch.empty(0, dtype=torch.get_default_dtype()) if p is None else p
    axes = problem.spacetime.grid(points_per_axis, dtype=p.dtype, device=p.device)
    z = torch.cartesian_prod(*axes).reshape(-1, len(axes))
    num = den = 0.0
    for start in range(0, z.shape[0], chunk):
        x, t = problem.split(z[start: start + chunk])
        ref = problem.exact(x, t)
        num += float(((problem.leading(field.predict(x, t), ref) - ref) ** 2).sum())
        den += float((ref**2).sum())
    if not den > 0:
        raise ArgumentValueError(f"`problem.exact` vanishes on the {points_per_axis}-point grid: the relative error is "
                                 "undefined (compare absolute errors instead)")
    return math.sqrt(num / den)


def particle_mse(pred: Tensor, target: Tensor) -> Tensor:
    """Mean squared error of predicted particle positions over all particles and coordinates (the EGNN benchmark's
    metric; Satorras, Hoogeboom & Welling 2021).

    Shapes:
        pred, target: ``(*batch, N, 3)`` -> scalar.
    """
    _pair(pred, target)
    if pred.dim() < 2 or pred.shape[-1] != 3:
        raise ArgumentValueError(f"particle positions must have shape (*batch, N, 3), got {tuple(pred.shape)}")
    return ((pred - target) ** 2).mean()


def velocity_field_errors(u: Tensor, ref: Tensor, *, lengths: float | tuple[float, ...] = 2 * math.pi) -> dict[str, Tensor]:
    r"""Incompressibility, kinetic energy and accuracy of periodic velocity fields against a reference, per snapshot.

    - ``divergence``: :math:`\max_x |\nabla\cdot u|` (spectral, :func:`physwm.pde.divergence`);
    - ``energy_error``: :math:`|E(u) - E(u_{ref})| / E(u_{ref})` with :math:`E = \tfrac12\int |u|^2 dx` (rectangle rule);
    - ``rel_l2``: :math:`\|u - u_{ref}\|_2 / \|u_{ref}\|_2`.

    Shapes:
        u, ref: ``(T, d, n_1, ..., n_d)`` -> each ``(T,)``.

    Raises:
        ValueError: shapes that differ or are not a batch of ``d``-component fields.
    """
    from physwm.pde import divergence

    _pair(u, ref)
    if u.dim() < 4 or u.shape[1] != u.dim() - 2:
        raise ArgumentValueError(f"`u` must be velocity snapshots (T, d, n_1, ..., n_d), got {tuple(u.shape)}")
    d = u.shape[1]
    spatial = tuple(range(1, u.dim()))
    cell = math.prod((lengths,) * d if isinstance(lengths, (int, float)) else lengths) / math.prod(u.shape[2:])

    def energy(v: Tensor) -> Tensor:
        return 0.5 * (v**2).sum(spatial) * cell

    return {"divergence": divergence(u, dim=d, lengths=lengths).abs().flatten(1).amax(1),
            "energy_error": (energy(u) - energy(ref)).abs() / energy(ref).clamp_min(torch.finfo(ref.dtype).tiny),
            "rel_l2": relative_l2(u, ref, dims=spatial)}
