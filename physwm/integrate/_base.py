"""Integrator base class, the solution object, and the fixed-step time grid."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

__all__ = ["Integrator", "Solution", "step_plan"]


@dataclass(frozen=True)
class Solution:
    """What :func:`physwm.solve` returns.

    Attributes:
        t: output times, shape ``(T,)``, on the device and in the dtype of ``y0``.
        ys: states at ``t``, shape ``(T, *batch, d)``; ``ys[0]`` is ``y0``.
        method: registry name of the integrator used.
        n_steps: accepted steps taken over the whole solve.
        n_fevals: evaluations of the vector field ``f``; for the explicit symplectic methods,
            evaluations of the force ``-dV/dq`` (the expensive half of the field).
        stats: further counts, e.g. ``n_rejected`` (adaptive), ``n_kinetic_grads`` (separable
            methods), ``n_fixed_point_iters`` (implicit midpoint).
        actions: for action-driven dynamics ``f(t, y, u)``, the action held over each output
            interval ``[t[k], t[k+1])``, shape ``(T-1, *batch, m)``; ``None`` otherwise.
    """

    t: Tensor
    ys: Tensor
    method: str
    n_steps: int
    n_fevals: int
    stats: dict[str, Any] = field(default_factory=dict)
    actions: Tensor | None = None


class Integrator:
    """Base class of the integrators behind :func:`physwm.solve`.

    Integrators are stateless: all run-time state lives inside one call of
    :meth:`integrate`, so one object can be shared freely (the registry holds one per name).

    Attributes:
        name: canonical registry key.
        order: classical order of convergence ``p`` (global error ``O(dt^p)``).
        symplectic: whether the one-step map is symplectic on Hamiltonian dynamics.
        adaptive: whether the step size is chosen by error control (``rtol``/``atol``).
        requires: ``"dynamics"`` (any ``f(t, y)``) or ``"separable"`` (an object with
            ``kinetic(p)`` and ``potential(q)``).
    """

    name: str = ""
    order: int = 0
    symplectic: bool = False
    adaptive: bool = False
    requires: str = "dynamics"

    def integrate(
        self,
        f: Callable[[Tensor, Tensor], Tensor],
        y0: Tensor,
        t: Tensor,
        *,
        dt: float | None,
        rtol: float,
        atol: float,
        max_steps: int,
        **options: Any,
    ) -> Solution:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        flags = [f"order={self.order}"]
        if self.symplectic:
            flags.append("symplectic")
        if self.adaptive:
            flags.append("adaptive")
        if self.requires != "dynamics":
            flags.append(f"requires={self.requires}")
        return f"{type(self).__name__}({self.name!r}, {', '.join(flags)})"


def step_plan(t: list[float], dt: float | None) -> list[tuple[int, float]]:
    """Number and size of the equal sub-steps that join consecutive output times.

    Between ``t[i]`` and ``t[i+1]`` the fixed-step methods take ``n_i = ceil(|t[i+1]-t[i]| / |dt|)``
    equal steps of size ``(t[i+1]-t[i]) / n_i``; every output time is therefore hit exactly, by
    a step that is never longer than ``dt``. When the output spacing is a multiple of ``dt``
    (the usual case) every step is exactly ``dt``. A relative slack of ``1e-9`` keeps round-off in
    the spacing from adding a spurious extra step. With ``dt=None`` each interval is one step.

    Returns:
        a list of ``(n_i, h_i)`` pairs, one per output interval.
    """
    plan = []
    for a, b in zip(t[:-1], t[1:]):
        span = b - a
        if dt is None:
            n = 1
        else:
            n = max(1, math.ceil(abs(span) / abs(dt) * (1.0 - 1e-9)))
        plan.append((n, span / n))
    return plan


def time_grid(t: Tensor, plan: list[tuple[int, float]]) -> Tensor:
    """All step times of a :func:`step_plan`, with the output times themselves exactly in it."""
    pieces = []
    for i, (n, _h) in enumerate(plan):
        frac = torch.arange(n, dtype=t.dtype, device=t.device) / n
        pieces.append(t[i] + frac * (t[i + 1] - t[i]))
    pieces.append(t[-1:])
    return torch.cat(pieces)
