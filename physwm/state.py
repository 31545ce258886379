r"""State layouts shared by every layer (layer L0: torch + stdlib only).

- Canonical state: ``y = [q, p]`` of shape ``(*batch, 2n)``, coordinates first (:func:`split_qp`,
  :func:`merge_qp`). Lagrangian models use the same split for ``[q, q̇]``.
- Particles: positions and momenta keep the shape ``(*batch, N, 3)``; flattened they are
  particle-major, ``[x_1, y_1, z_1, x_2, ...]`` (:func:`flatten_particles`), and a particle system's
  state is ``y = [q.flatten(-2), p.flatten(-2)]`` of shape ``(*batch, 6N)``
  (:func:`particles_to_state`, :func:`state_to_particles`). The flat layout is e3nn's ``"Nx1o"``, so a
  rotation acts on it block by block.
- Time: dynamics take ``t`` as a scalar or as one time per batch entry, ``(*batch,)``
  (:func:`expand_time` broadcasts either to the batch).
- Angles: :func:`wrap_angles` maps chosen coordinates into ``[-π, π)`` (what a network that must be
  periodic in them sees).
- :func:`autograd_gradient`: the per-sample gradient of a scalar field, the one autograd primitive
  of Hamiltonian, Lagrangian and port-Hamiltonian models and of the symplectic integrators.

Example:
    >>> import torch
    >>> q, p = split_qp(torch.arange(4.0))
    >>> q, p
    (tensor([0., 1.]), tensor([2., 3.]))
    >>> state_to_particles(torch.zeros(2, 12), 2)[0].shape
    torch.Size([2, 2, 3])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from physwm._errors import ArgumentTypeError, ArgumentValueError
from physwm._validate import all_finite, describe, in_checked_call

__all__ = ["split_qp", "merge_qp", "flatten_particles", "unflatten_particles", "particles_to_state",
           "state_to_particles", "expand_time", "autograd_gradient", "wrap_angles", "angle_indices",
           "angle_features", "ANGLE_EMBEDDINGS"]

#: How a network sees angular coordinates (:func:`angle_features`).
ANGLE_EMBEDDINGS = ("wrap", "cos_sin")


def _require_tensor(name: str, x: object) -> Tensor:
    if not isinstance(x, Tensor):
        raise ArgumentTypeError(f"`{name}` must be a torch.Tensor, got {describe(x)}")
    return x


def split_qp(y: Tensor, n: int | None = None) -> tuple[Tensor, Tensor]:
    """Split ``y = [q, p]`` ``(*batch, 2n)`` into ``q, p`` ``(*batch, n)`` (views, no copy).

    Args:
        y: the state.
        n: the number of coordinates; by default half the last dimension.

    Raises:
        ArgumentValueError: an odd last dimension, or one other than ``2n``.
    """
    _require_tensor("y", y)
    d = y.shape[-1] if y.dim() else 0
    if (n is None and (d == 0 or d % 2)) or (n is not None and d != 2 * n):
        want = "an even last dimension" if n is None else f"last dimension 2n = {2 * n}"
        raise ArgumentValueError(f"`y` = [q, p] must have shape (*batch, 2n) with {want}, got {tuple(y.shape)}")
    half = d // 2
    return y[..., :half], y[..., half:]


def merge_qp(q: Tensor, p: Tensor) -> Tensor:
    """``q, p`` ``(*batch, n)`` -> ``y = [q, p]`` ``(*batch, 2n)``.

    Raises:
        ArgumentValueError: ``q`` and ``p`` of different shapes.
    """
    _require_tensor("q", q), _require_tensor("p", p)
    if q.shape != p.shape or q.dim() == 0:
        raise ArgumentValueError(f"`q` and `p` must have the same shape (*batch, n), got {tuple(q.shape)} and "
                                 f"{tuple(p.shape)}")
    return torch.cat([q, p], -1)


def flatten_particles(x: Tensor) -> Tensor:
    """Particle arrays ``(*batch, N, 3)`` -> ``(*batch, 3N)``, particle-major.

    Raises:
        ArgumentValueError: a last dimension other than 3.
    """
    _require_tensor("x", x)
    if x.dim() < 2 or x.shape[-1] != 3:
        raise ArgumentValueError(f"particle arrays must have shape (*batch, N, 3), got {tuple(x.shape)}")
    return x.flatten(-2)


def unflatten_particles(x: Tensor, n_bodies: int) -> Tensor:
    """``(*batch, 3N)`` -> ``(*batch, N, 3)``, the inverse of :func:`flatten_particles`.

    Raises:
        ArgumentValueError: a last dimension other than ``3 * n_bodies``.
    """
    _require_tensor("x", x)
    if x.dim() < 1 or x.shape[-1] != 3 * n_bodies:
        raise ArgumentValueError(f"flat particle arrays must have shape (*batch, 3N) = (*batch, {3 * n_bodies}), "
                                 f"got {tuple(x.shape)}")
    return x.unflatten(-1, (n_bodies, 3))


def particles_to_state(q: Tensor, p: Tensor) -> Tensor:
    """Positions and momenta ``(*batch, N, 3)`` -> the state ``y = [q.flatten(-2), p.flatten(-2)]`` ``(*batch, 6N)``.

    Raises:
        ArgumentValueError: shapes that differ or are not ``(*batch, N, 3)``.
    """
    _require_tensor("q", q), _require_tensor("p", p)
    if q.shape != p.shape:
        raise ArgumentValueError(f"`q` and `p` must both have shape (*batch, N, 3), got {tuple(q.shape)} and "
                                 f"{tuple(p.shape)}")
    return torch.cat([flatten_particles(q), flatten_particles(p)], -1)


def state_to_particles(y: Tensor, n_bodies: int) -> tuple[Tensor, Tensor]:
    """The state ``(*batch, 6N)`` -> positions and momenta ``(*batch, N, 3)`` (views).

    Raises:
        ArgumentValueError: a last dimension other than ``6 * n_bodies``.
    """
    q, p = split_qp(y, 3 * n_bodies)
    return unflatten_particles(q, n_bodies), unflatten_particles(p, n_bodies)


def expand_time(t: Tensor | float, y: Tensor) -> Tensor:
    """Time ``t`` (a number, a scalar tensor or one time per batch entry ``(*batch,)``) as a tensor of
    shape ``y.shape[:-1]`` in ``y``'s dtype and on its device.

    Raises:
        ArgumentTypeError: ``t`` is not a real number or tensor.
        ArgumentValueError: ``t`` does not broadcast to the batch shape of ``y``, or is not finite
            (checked outside :func:`physwm.solve` and :func:`physwm.training.fit`, which check it themselves).
    """
    if isinstance(t, Tensor):
        if t.is_complex() or t.dtype == torch.bool:
            raise ArgumentTypeError(f"`t` must hold real numbers, got dtype {t.dtype}")
    elif isinstance(t, bool) or not isinstance(t, (int, float)):
        raise ArgumentTypeError(f"`t` must be a number or a tensor of times, got {describe(t)}")
    tt = torch.as_tensor(t, dtype=y.dtype, device=y.device)
    if not in_checked_call():
        all_finite("t", tt)
    try:
        return tt.expand(y.shape[:-1])
    except RuntimeError:
        raise ArgumentValueError(f"`t` must be a scalar or have the batch shape of the state {tuple(y.shape[:-1])}, "
                                 f"got shape {tuple(tt.shape)}") from None


def autograd_gradient(fn: Callable[[Tensor], Tensor], x: Tensor) -> Tensor:
    """Gradient of the scalar field ``fn`` (shape ``(*batch,)``) at ``x`` (``(*batch, n)``).

    The batch entries are independent, so the gradient of ``fn(x).sum()`` is the per-sample
    gradient. In grad mode the result keeps its graph (``create_graph``), so it can be
    differentiated again, e.g. with respect to a network's parameters during training, and it
    depends on ``x`` when ``x`` requires grad. Outside grad mode the gradient is taken at a
    detached copy of ``x`` and comes back without a graph.
    """
    create_graph = torch.is_grad_enabled()
    with torch.enable_grad():
        # outside grad mode, a view of a tensor that requires grad still reports requires_grad but is
        # not connected to any graph: differentiate at a fresh leaf instead
        xg = x if (create_graph and x.requires_grad) else x.detach().requires_grad_(True)
        value = fn(xg)
        (grad,) = torch.autograd.grad(value.sum(), xg, create_graph=create_graph)
    return grad


def angle_indices(name: str, angles: Sequence[int], n: int) -> tuple[int, ...]:
    """Check ``angles``: distinct coordinate indices in ``[0, n)`` (a tuple, possibly empty).

    Raises:
        ValueError: an index out of range, repeated, or not an int.
    """
    try:
        values = tuple(angles)
    except TypeError:
        raise ArgumentTypeError(f"`{name}` must be a sequence of coordinate indices, got {describe(angles)}") from None
    bad = [a for a in values if not isinstance(a, int) or isinstance(a, bool) or not 0 <= a < n]
    if bad or len(set(values)) != len(values):
        raise ArgumentValueError(f"`{name}` must be distinct coordinate indices in [0, {n}), got {list(values)}")
    return values


def wrap_angles(q: Tensor, angles: Sequence[int]) -> Tensor:
    """``q`` with the coordinates ``angles`` wrapped into ``[-π, π)``: ``(q + π) mod 2π - π``.

    The wrap has derivative 1 (away from the cut), so gradients and Hessians through it are those of the
    unwrapped coordinate; a function of the wrapped angle is 2π-periodic by construction.

    Shapes:
        q: ``(*batch, n)`` -> ``(*batch, n)``.

    Raises:
        TypeError: ``q`` not a tensor.
        ValueError: ``angles`` not distinct indices in ``[0, n)``.

    Example:
        >>> wrap_angles(torch.tensor([4.0, 4.0]), (0,))
        tensor([-2.2832,  4.0000])
    """
    q, angles = _coordinates_and_angles(q, angles)
    if not angles:
        return q
    mask = torch.zeros(q.shape[-1], dtype=torch.bool, device=q.device)
    mask[list(angles)] = True
    return torch.where(mask, torch.remainder(q + math.pi, 2 * math.pi) - math.pi, q)


def angle_features(q: Tensor, angles: Sequence[int], angle_embedding: str = "wrap") -> Tensor:
    """The input a network sees for coordinates ``q`` whose entries ``angles`` are angles.

    - ``"wrap"``: the angles wrapped into ``[-π, π)`` (:func:`wrap_angles`); same width ``n``. A function
      of the result is 2π-periodic, but a network on it is discontinuous at the cut ``±π`` unless it
      learns to match both sides.
    - ``"cos_sin"``: each angle replaced by ``(cos θ, sin θ)`` (the other coordinates first, in their
      order, then the cosines, then the sines); width ``n + len(angles)``. Smooth and periodic: the
      embedding of Zhong, Dey & Chakraborty (SymODEN, ICLR 2020) for angular coordinates, needed where
      trajectories turn over (a chaotic double pendulum crosses ``±π`` all the time).

    Shapes:
        q: ``(*batch, n)`` -> ``(*batch, n)`` (``"wrap"``) or ``(*batch, n + len(angles))`` (``"cos_sin"``).

    Raises:
        TypeError: ``q`` not a tensor.
        ValueError: bad ``angles`` (see :func:`wrap_angles`); an unknown ``angle_embedding``.

    Example:
        >>> angle_features(torch.tensor([0.0, 2.0]), (0,), "cos_sin")
        tensor([2., 1., 0.])
    """
    if _embedding(angle_embedding) == "wrap":
        return wrap_angles(q, angles)
    q, angles = _coordinates_and_angles(q, angles)
    if not angles:
        return q
    other = [i for i in range(q.shape[-1]) if i not in angles]
    theta = q[..., list(angles)]
    return torch.cat([q[..., other], torch.cos(theta), torch.sin(theta)], -1)


def angle_feature_width(n: int, angles: Sequence[int], angle_embedding: str) -> int:
    """Width of :func:`angle_features` for ``n`` coordinates (checks ``angle_embedding``)."""
    return n + (len(tuple(angles)) if _embedding(angle_embedding) == "cos_sin" else 0)


def _embedding(angle_embedding: str) -> str:
    if not isinstance(angle_embedding, str):
        raise ArgumentTypeError(f"`angle_embedding` must be a str among {ANGLE_EMBEDDINGS}, got {describe(angle_embedding)}")
    if angle_embedding not in ANGLE_EMBEDDINGS:
        raise ArgumentValueError(f"`angle_embedding` must be one of {ANGLE_EMBEDDINGS}, got {angle_embedding!r}")
    return angle_embedding


def _coordinates_and_angles(q: Tensor, angles: Sequence[int]) -> tuple[Tensor, tuple[int, ...]]:
    """``q`` checked to be a tensor of coordinates ``(*batch, n)``, and ``angles`` as indices into its last axis."""
    q = _require_tensor("q", q)
    if q.dim() == 0:
        raise ArgumentValueError("`q` must have a last dimension of coordinates, got a 0-d tensor")
    return q, angle_indices("angles", angles, q.shape[-1])
