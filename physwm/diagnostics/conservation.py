"""Energy, momentum and angular-momentum errors along trajectories, and convergence orders."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

__all__ = [
    "relative_energy_error", "energy_drift", "energy_growth", "invariant_error", "total_momentum",
    "total_angular_momentum", "momentum_error", "angular_momentum_error", "observed_order",
]


def _check_series(name: str, x: Tensor, min_dim: int = 1) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"`{name}` must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"`{name}` must have a floating dtype, got {x.dtype}")
    if x.dim() < min_dim or x.shape[0] < 1:
        raise ValueError(f"`{name}` must be time-first with at least {min_dim} dims, got shape {tuple(x.shape)}")
    return x


def _floor(x: Tensor) -> Tensor:
    """Guard against division by a vanishing reference: at least ``tiny`` of the dtype."""
    return x.clamp_min(torch.finfo(x.dtype).tiny)


def relative_energy_error(energies: Tensor) -> Tensor:
    r"""Relative energy error :math:`|E(t) - E(t_0)| / |E(t_0)|` along trajectories.

    Args:
        energies: ``E`` at each output time, time first.

    Shapes:
        energies: ``(T, *batch)`` -> ``(T, *batch)``.

    Example:
        >>> relative_energy_error(torch.tensor([2.0, 2.2, 1.9]))
        tensor([0.0000, 0.1000, 0.0500])
    """
    e = _check_series("energies", energies)
    return (e - e[0]).abs() / _floor(e[0].abs())


def energy_drift(energies: Tensor, t: Tensor) -> Tensor:
    r"""Secular drift: least-squares slope of :math:`(E(t) - E_0)/|E_0|` against ``t`` (1/time).

    A symplectic integrator's energy error oscillates in a band, so its slope shrinks like
    ``amplitude / horizon`` as the horizon grows; a dissipative or unstable method gives a slope
    that stays put. Compare ``|slope| * horizon`` with the maximum error to tell them apart, or
    use :func:`energy_growth`.

    Shapes:
        energies: ``(T, *batch)``, t: ``(T,)`` -> ``(*batch,)``.
    """
    e = _check_series("energies", energies)
    if t.shape != e.shape[:1]:
        raise ValueError(f"`t` must have shape ({e.shape[0]},) to match energies, got {tuple(t.shape)}")
    if e.shape[0] < 2:
        raise ValueError("`energies` needs at least 2 times to fit a drift")
    r = (e - e[0]) / _floor(e[0].abs())
    tc = (t.to(r) - t.to(r).mean()).reshape(-1, *([1] * (r.dim() - 1)))
    return (tc * (r - r.mean(0))).sum(0) / (tc**2).sum(0)


def energy_growth(energies: Tensor) -> Tensor:
    r"""Ratio of the largest relative energy error in the second half of the trajectory to that in
    the first half.

    About 1 for bounded (oscillating) errors such as a symplectic integrator's; about 2 or more
    for errors that grow linearly or faster (``rk4`` on an oscillator).

    Shapes:
        energies: ``(T, *batch)`` with ``T >= 4`` -> ``(*batch,)``.
    """
    err = relative_energy_error(energies)
    if err.shape[0] < 4:
        raise ValueError(f"`energies` needs at least 4 times, got {err.shape[0]}")
    half = err.shape[0] // 2
    return err[half:].amax(0) / _floor(err[1:half].amax(0))


def invariant_error(values: Tensor, *, event_dims: int = 0, scale: Tensor | float | None = None) -> Tensor:
    r"""Change of a conserved quantity from its initial value: :math:`\|v(t) - v(t_0)\| / s`.

    Args:
        values: the quantity along the trajectory, time first.
        event_dims: trailing dims that form one value (1 for a vector such as momentum); the
            Euclidean norm is taken over them.
        scale: divide by this (e.g. a typical magnitude); default 1 (absolute error).

    Shapes:
        values: ``(T, *batch, *event)`` -> ``(T, *batch)``.
    """
    v = _check_series("values", values, 1 + event_dims)
    diff = v - v[0]
    err = diff.flatten(v.dim() - event_dims).norm(dim=-1) if event_dims else diff.abs()
    return err if scale is None else err / scale


def total_momentum(p: Tensor) -> Tensor:
    """Total linear momentum :math:`\\sum_i p_i`. Shapes: ``(..., N, D)`` -> ``(..., D)``."""
    return p.sum(-2)


def total_angular_momentum(q: Tensor, p: Tensor) -> Tensor:
    r"""Total angular momentum :math:`\sum_i q_i \times p_i` about the origin.

    Shapes:
        ``q, p``: ``(..., N, 3)`` -> ``(..., 3)``; in 2-D ``(..., N, 2)`` -> ``(..., 1)`` (the z part).
    """
    if q.shape != p.shape:
        raise ValueError(f"`q` and `p` must have the same shape, got {tuple(q.shape)} and {tuple(p.shape)}")
    if q.shape[-1] == 3:
        return torch.linalg.cross(q, p).sum(-2)
    if q.shape[-1] == 2:
        return (q[..., 0] * p[..., 1] - q[..., 1] * p[..., 0]).sum(-1, keepdim=True)
    raise ValueError(f"angular momentum needs positions in 2-D or 3-D, got last dim {q.shape[-1]}")


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
    return invariant_error(total_momentum(p), event_dims=1, scale=scale)


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
    return invariant_error(total_angular_momentum(q, p), event_dims=1, scale=scale)


def observed_order(step_sizes: Sequence[float] | Tensor, errors: Sequence[float] | Tensor) -> float:
    r"""Convergence order from a least-squares fit of :math:`\log e = p \log h + c`.

    Args:
        step_sizes: the ``h`` values (at least 2, positive).
        errors: the global errors at those ``h`` (positive).

    Returns:
        the fitted slope ``p``.

    Raises:
        ValueError: fewer than 2 points, different lengths, or non-positive values.

    Example:
        >>> round(observed_order([0.1, 0.05, 0.025], [1e-2, 2.5e-3, 6.25e-4]), 6)
        2.0
    """
    h = torch.as_tensor(step_sizes, dtype=torch.float64).flatten().cpu()
    e = torch.as_tensor(errors, dtype=torch.float64).flatten().cpu()
    if h.numel() < 2 or h.numel() != e.numel():
        raise ValueError(f"need at least 2 (step size, error) pairs of equal length, got {h.numel()} and {e.numel()}")
    if not bool((h > 0).all() and (e > 0).all()):
        raise ValueError(f"step sizes and errors must be positive, got {h.tolist()} and {e.tolist()}")
    x, y = h.log(), e.log()
    xc = x - x.mean()
    return float((xc * (y - y.mean())).sum() / (xc**2).sum())
