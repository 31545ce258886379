"""Energy, momentum and angular-momentum errors along trajectories, and convergence orders."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from physwm._errors import ArgumentTypeError, ArgumentValueError
from physwm._validate import describe, integer, positive
from physwm._validate import tensor as check_tensor

__all__ = [
    "relative_energy_error", "energy_drift", "energy_growth", "invariant_error", "total_momentum",
    "total_angular_momentum", "momentum_error", "angular_momentum_error", "observed_order",
]


def _check_series(name: str, x: Tensor, min_dim: int = 1, min_len: int = 1) -> Tensor:
    """A time-first floating tensor with at least ``min_dim`` dims and ``min_len`` times (NaN allowed: the
    diagnostics measure blown-up rollouts too)."""
    check_tensor(name, x, min_dim=min_dim)
    if x.shape[0] < min_len:
        raise ArgumentValueError(f"`{name}` must be time-first with at least {min_len} time{'s' if min_len > 1 else ''}, "
                                 f"got shape {tuple(x.shape)}")
    return x


def _check_scale(scale: Tensor | float) -> Tensor | float:
    """A divisor: a number > 0 or a tensor of entries > 0 (one synchronisation)."""
    if isinstance(scale, Tensor) and scale.numel() != 1:
        check_tensor("scale", scale)
        if not bool((scale > 0).all()):
            raise ArgumentValueError(f"`scale` must be > 0 everywhere, got {int((~(scale > 0)).sum())} entries <= 0 or NaN "
                                     f"of {scale.numel()}")
        return scale
    return positive("scale", scale, finite=False)


def _floor(x: Tensor) -> Tensor:
    """Guard against division by a vanishing reference: at least ``tiny`` of the dtype."""
    return x.clamp_min(torch.finfo(x.dtype).tiny)


def _ratio(num: Tensor, den: Tensor, undefined: float = 0.0) -> Tensor:
    """``num / den`` for ``den > 0`` (``den >= 0``); where ``den == 0``: ``undefined`` for ``num == 0``, else
    ``±inf`` by the sign of ``num`` (a relative change of something that was zero)."""
    limit = torch.where(num == 0, undefined, math.inf).to(num.dtype) * torch.where(num < 0, -1.0, 1.0).to(num.dtype)
    return torch.where(den > 0, num / _floor(den), limit)


def relative_energy_error(energies: Tensor) -> Tensor:
    r"""Relative energy error :math:`|E(t) - E(t_0)| / |E(t_0)|` along trajectories.

    Where :math:`E(t_0) = 0` the relative error is undefined: it is ``inf`` where the energy moved
    and 0 where it did not (use :func:`invariant_error` for the absolute error there).

    Args:
        energies: ``E`` at each output time, time first.

    Shapes:
        energies: ``(T, *batch)`` -> ``(T, *batch)``.

    Example:
        >>> relative_energy_error(torch.tensor([2.0, 2.2, 1.9]))
        tensor([0.0000, 0.1000, 0.0500])
    """
    e = _check_series("energies", energies)
    return _ratio((e - e[0]).abs(), e[0].abs())


def energy_drift(energies: Tensor, t: Tensor) -> Tensor:
    r"""Secular drift: least-squares slope of :math:`(E(t) - E_0)/|E_0|` against ``t`` (1/time).

    A symplectic integrator's energy error oscillates in a band, so its slope shrinks like
    ``amplitude / horizon`` as the horizon grows; a dissipative or unstable method gives a slope
    that stays put. Compare ``|slope| * horizon`` with the maximum error to tell them apart, or
    use :func:`energy_growth`.

    Where :math:`E_0 = 0` the relative drift is undefined: ``±inf`` where the energy drifts, 0 where
    it does not.

    Args:
        energies: ``E`` at each output time, time first (NaN after a blow-up propagates).
        t: the output times (finite, not all equal).

    Shapes:
        energies: ``(T, *batch)``, t: ``(T,)`` -> ``(*batch,)``.

    Raises:
        TypeError: ``energies`` or ``t`` not a floating tensor.
        ValueError: fewer than 2 times, ``t`` of another length, non-finite or constant.

    Example:
        >>> energy_drift(torch.tensor([1.0, 1.1, 1.2]), torch.tensor([0.0, 1.0, 2.0]))
        tensor(0.1000)
    """
    e = _check_series("energies", energies, min_len=2)
    check_tensor("t", t, shape=(e.shape[0],), finite=True)
    if not bool((t != t[0]).any()):
        raise ArgumentValueError(f"`t` must span an interval to fit a slope, got {e.shape[0]} equal times {float(t[0])!r}")
    r = e - e[0]
    tc = (t.to(r) - t.to(r).mean()).reshape(-1, *([1] * (r.dim() - 1)))
    slope = (tc * (r - r.mean(0))).sum(0) / (tc**2).sum(0)  # of E - E0, made relative to |E0|
    return _ratio(slope, e[0].abs())


def energy_growth(energies: Tensor) -> Tensor:
    r"""Ratio of the largest relative energy error in the second half of the trajectory to that in
    the first half.

    About 1 for bounded (oscillating) errors such as a symplectic integrator's; about 2 or more
    for errors that grow linearly or faster (``rk4`` on an oscillator). The ratio of absolute errors
    :math:`\max|E - E_0|` is the same and needs no :math:`E_0 \ne 0`; it is 1 where the energy is
    exactly conserved in both halves and ``inf`` where it moves only in the second.

    Shapes:
        energies: ``(T, *batch)`` with ``T >= 4`` -> ``(*batch,)``.
    """
    e = _check_series("energies", energies, min_len=4)
    err = (e - e[0]).abs()
    half = err.shape[0] // 2
    return _ratio(err[half:].amax(0), err[1:half].amax(0), undefined=1.0)


def invariant_error(values: Tensor, *, event_dims: int = 0, scale: Tensor | float | None = None) -> Tensor:
    r"""Change of a conserved quantity from its initial value: :math:`\|v(t) - v(t_0)\| / s`.

    Args:
        values: the quantity along the trajectory, time first.
        event_dims: trailing dims that form one value (1 for a vector such as momentum); the
            Euclidean norm is taken over them.
        scale: divide by this (e.g. a typical magnitude; > 0, a number or a tensor broadcasting
            with ``(T, *batch)``); default 1 (absolute error).

    Shapes:
        values: ``(T, *batch, *event)`` -> ``(T, *batch)``.

    Raises:
        TypeError: ``values`` not a floating tensor.
        ValueError: fewer than ``1 + event_dims`` dims, a negative ``event_dims``, a ``scale`` <= 0.

    Example:
        >>> invariant_error(torch.tensor([[1.0, 0.0], [1.0, 0.5]]), event_dims=1)
        tensor([0.0000, 0.5000])
    """
    event_dims = integer("event_dims", event_dims, minimum=0)
    v = _check_series("values", values, 1 + event_dims)
    return _invariant_error(v, event_dims, None if scale is None else _check_scale(scale))


def _invariant_error(v: Tensor, event_dims: int, scale: Tensor | float | None) -> Tensor:
    diff = v - v[0]
    err = diff.flatten(v.dim() - event_dims).norm(dim=-1) if event_dims else diff.abs()
    return err if scale is None else err / scale


def total_momentum(p: Tensor) -> Tensor:
    """Total linear momentum :math:`\\sum_i p_i`.

    Shapes:
        p: ``(..., N, D)`` -> ``(..., D)``.

    Raises:
        TypeError: ``p`` not a floating tensor. ValueError: fewer than 2 dims.

    Example:
        >>> total_momentum(torch.tensor([[1.0, 0.0], [-0.5, 2.0]]))
        tensor([0.5000, 2.0000])
    """
    return check_tensor("p", p, min_dim=2).sum(-2)


def total_angular_momentum(q: Tensor, p: Tensor) -> Tensor:
    r"""Total angular momentum :math:`\sum_i q_i \times p_i` about the origin.

    Shapes:
        ``q, p``: ``(..., N, 3)`` -> ``(..., 3)``; in 2-D ``(..., N, 2)`` -> ``(..., 1)`` (the z part).

    Raises:
        TypeError: ``q`` or ``p`` not a floating tensor.
        ValueError: fewer than 2 dims, different shapes, or a last dim other than 2 or 3.

    Example:
        >>> total_angular_momentum(torch.tensor([[1.0, 0.0, 0.0]]), torch.tensor([[0.0, 2.0, 0.0]]))
        tensor([0., 0., 2.])
    """
    check_tensor("q", q, min_dim=2), check_tensor("p", p, min_dim=2)
    if q.shape != p.shape:
        raise ArgumentValueError(f"`q` and `p` must have the same shape, got {tuple(q.shape)} and {tuple(p.shape)}")
    if q.shape[-1] == 3:
        return torch.linalg.cross(q, p).sum(-2)
    if q.shape[-1] == 2:
        return (q[..., 0] * p[..., 1] - q[..., 1] * p[..., 0]).sum(-1, keepdim=True)
    raise ArgumentValueError(f"`q` must hold positions in 2-D or 3-D, shape (..., N, 2) or (..., N, 3), got {tuple(q.shape)}")


def momentum_error(p: Tensor, *, relative: bool = False) -> Tensor:
    r"""Drift of the total momentum :math:`\|P(t) - P(t_0)\|`, ``P = \sum_i p_i``.

    Args:
        p: particle momenta along the trajectory, time first.
        relative: divide by :math:`\sum_i |p_i(t_0)|` (total momentum is often zero, so the
            scale is the particles' own momenta, not ``|P|``).

    Shapes:
        p: ``(T, *batch, N, D)`` -> ``(T, *batch)``.
    """
    p = _check_series("p", p, 3)
    scale = _floor(p[0].norm(dim=-1).sum(-1)) if relative else None
    return _invariant_error(total_momentum(p), 1, scale)  # the scale is derived, NaN only after a blow-up


def angular_momentum_error(q: Tensor, p: Tensor, *, relative: bool = False) -> Tensor:
    r"""Drift of the total angular momentum :math:`\|L(t) - L(t_0)\|`, ``L = \sum_i q_i \times p_i``.

    Args:
        q: particle positions along the trajectory, time first.
        p: particle momenta, same shape.
        relative: divide by :math:`\sum_i |q_i(t_0)| |p_i(t_0)|` (``L`` may vanish, as for the
            figure-eight orbit).

    Shapes:
        q, p: ``(T, *batch, N, 3)`` (or ``N, 2``) -> ``(T, *batch)``.
    """
    q, p = _check_series("q", q, 3), _check_series("p", p, 3)
    scale = _floor((q[0].norm(dim=-1) * p[0].norm(dim=-1)).sum(-1)) if relative else None
    return _invariant_error(total_angular_momentum(q, p), 1, scale)


def observed_order(step_sizes: Sequence[float] | Tensor, errors: Sequence[float] | Tensor) -> float:
    r"""Convergence order from a least-squares fit of :math:`\log e = p \log h + c`.

    Args:
        step_sizes: the ``h`` values (at least 2, positive).
        errors: the global errors at those ``h`` (positive).

    Returns:
        the fitted slope ``p``.

    Raises:
        TypeError: not sequences of real numbers.
        ValueError: fewer than 2 points, different lengths, non-finite or non-positive values, or
            fewer than 2 distinct step sizes.

    Example:
        >>> round(observed_order([0.1, 0.05, 0.025], [1e-2, 2.5e-3, 6.25e-4]), 6)
        2.0
    """
    def values(name: str, v: Any) -> Tensor:
        if isinstance(v, Tensor) and (v.is_complex() or v.dtype == torch.bool):
            raise ArgumentTypeError(f"`{name}` must hold real numbers, got dtype {v.dtype}")
        try:
            out = torch.as_tensor(v if isinstance(v, Tensor) else list(v), dtype=torch.float64)
        except (TypeError, ValueError, RuntimeError):
            raise ArgumentTypeError(f"`{name}` must be a sequence or tensor of real numbers, got {describe(v)}") from None
        out = out.detach().flatten().cpu()
        if not bool((torch.isfinite(out) & (out > 0)).all()):
            raise ArgumentValueError(f"`{name}` must be finite and > 0, got {out.tolist()}")
        return out

    h, e = values("step_sizes", step_sizes), values("errors", errors)
    if h.numel() < 2 or h.numel() != e.numel():
        raise ArgumentValueError(f"`step_sizes` and `errors` must be at least 2 pairs of equal length, got {h.numel()} "
                                 f"and {e.numel()}")
    if h.unique().numel() < 2:
        raise ArgumentValueError(f"`step_sizes` must hold at least 2 distinct values to fit a slope, got {h.tolist()}")
    x, y = h.log(), e.log()
    xc = x - x.mean()
    return float((xc * (y - y.mean())).sum() / (xc**2).sum())
