"""Integrator base class, the solution object, the fixed-step time grid and the synchronisation policy.

Device synchronisation (CUDA): a host-device synchronisation stalls the Python loop until the GPU
has finished its queue, so the fixed-step paths keep them out of the stepping loop:

- the step plan is made on the host from the output times once per solve (no synchronisation
  when ``t`` is on the CPU, one copy when it is on the GPU);
- ``y0`` is checked to be finite once, before stepping;
- the result is checked to be finite once, after the last step; only when it is not is the failing
  output interval replayed, step by step, to name the step where the state blew up
  (:class:`~physwm.IntegrationError` carries ``t``, ``dt`` and ``step``).

Exceptions, inherent to the methods: adaptive methods decide every step size on the host (one
synchronisation per step, in torchdiffeq), implicit midpoint tests the convergence of its fixed
point on the host (one per iteration), and torchdiffeq's fixed-grid loop (``euler``, ``rk4``)
compares each step's end time with the next output time (one per step on CUDA).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from physwm._errors import ArgumentTypeError, ArgumentValueError
from physwm._typing import Dynamics
from physwm._validate import describe, inside_checked_call

__all__ = ["Integrator", "Solution", "step_plan", "time_grid", "checked_field"]


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

    Integrators are stateless: all run-time state lives inside one call of :meth:`integrate`, so
    one object can be shared freely (the registry holds one per name). Each declares what it can do,
    and :func:`physwm.solve` reads these declarations instead of testing classes.

    Attributes:
        name: canonical registry key.
        order: classical order of convergence ``p`` (global error ``O(dt^p)``).
        symplectic: whether the one-step map is symplectic on Hamiltonian dynamics.
        adaptive: whether the step size is chosen by error control (``rtol``/``atol``).
        supports_adjoint: whether ``adjoint=True`` (gradients by the adjoint ODE) is available.
        requires: the protocol the dynamics must satisfy (:class:`~physwm._typing.Dynamics`, any
            ``f(t, y)``; or :class:`~physwm._typing.SeparableHamiltonian`, an object with ``kinetic(p)``
            and ``potential(q)``).
    """

    name: str = ""
    order: int = 0
    symplectic: bool = False
    adaptive: bool = False
    supports_adjoint: bool = False
    requires: type = Dynamics

    def integrate(
        self,
        f: Any,
        y0: Tensor,
        t: Tensor,
        plan: list[tuple[int, float]] | None,
        *,
        dt: float | None,
        rtol: float,
        atol: float,
        max_steps: int,
        **options: Any,
    ) -> Solution:  # pragma: no cover - abstract
        """Integrate from ``y0`` over the output times ``t``; ``plan`` is :func:`step_plan` of ``t`` and
        ``dt`` (``None`` for an adaptive run without ``dt``)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        flags = [f"order={self.order}"]
        if self.symplectic:
            flags.append("symplectic")
        if self.adaptive:
            flags.append("adaptive")
        if self.supports_adjoint:
            flags.append("adjoint")
        if self.requires is not Dynamics:
            flags.append(f"requires={self.requires.__name__}")
        return f"{type(self).__name__}({self.name!r}, {', '.join(flags)})"


def step_plan(t: list[float], dt: float | None, dtype: torch.dtype = torch.float64,
              max_steps: int | None = None) -> list[tuple[int, float]]:
    """Number and size of the equal sub-steps that join consecutive output times.

    Between ``t[i]`` and ``t[i+1]`` the fixed-step methods take ``n_i = ceil(|t[i+1]-t[i]| / |dt|)``
    equal steps of size ``(t[i+1]-t[i]) / n_i``; every output time is therefore hit exactly, by
    a step no longer than ``dt``. When the output spacing is a multiple of ``dt`` (the usual case)
    every step is ``dt``. Output times stored in ``dtype`` carry round-off of a few ulps of their
    magnitude (in float32, ``linspace(0, 100, 1001)`` is spaced ``0.1 ± 1e-5``), so a ratio
    ``|Δt| / |dt|`` within that round-off (plus a relative ``1e-9``, and at most 0.01) of an integer
    counts as that integer: a spacing of ``dt`` is one step, not two, and a step may exceed ``dt`` by
    that round-off, never by more than 1%. With ``dt=None`` each interval is one step.

    Args:
        t: the output times (host floats).
        dt: the step size, or ``None``.
        dtype: the dtype ``t`` is stored in.
        max_steps: cap on the total number of steps.

    Returns:
        a list of ``(n_i, h_i)`` pairs, one per output interval.

    Raises:
        ValueError: more than ``max_steps`` steps (or a ``dt`` so small that the count overflows).

    Example:
        >>> step_plan([0.0, 0.25, 0.5], 0.1)
        [(3, 0.08333333333333333), (3, 0.08333333333333333)]
        >>> n, h = step_plan((99.9000015258789, 100.0), 0.1, torch.float32)[0]  # float32 99.9 to 100: one step
        >>> n
        1
    """
    eps = torch.finfo(dtype).eps
    cap = math.inf if max_steps is None else max_steps
    plan, total = [], 0
    for a, b in zip(t[:-1], t[1:]):
        span = b - a
        if dt is None:
            n = 1
        else:
            ratio = abs(span) / abs(dt)
            if not ratio <= cap:  # also catches inf and NaN
                raise ArgumentValueError(f"`dt`={dt!r} needs {ratio:.3g} steps for the output interval [{a!r}, {b!r}], "
                                         f"more than `max_steps`={max_steps}; raise max_steps or use a larger dt")
            slack = min(0.01, 1e-9 * ratio + 8 * eps * max(abs(a), abs(b)) / abs(dt))
            nearest = round(ratio)
            n = max(1, nearest if abs(ratio - nearest) <= slack else math.ceil(ratio))
        total += n
        if total > cap:
            raise ArgumentValueError(f"`dt`={dt!r} needs more than {total - 1} steps to cover t, more than "
                                     f"`max_steps`={max_steps}; raise max_steps or use a larger dt")
        plan.append((n, span / n))
    return plan


def time_grid(t: Tensor, plan: list[tuple[int, float]]) -> Tensor:
    """All step times of a :func:`step_plan`, with the output times themselves exactly in it.

    Built with tensor operations on ``t``'s device (no host-device synchronisation).
    """
    pieces = []
    for i, (n, _h) in enumerate(plan):
        frac = torch.arange(n, dtype=t.dtype, device=t.device) / n
        pieces.append(t[i] + frac * (t[i + 1] - t[i]))
    pieces.append(t[-1:])
    return torch.cat(pieces)


def checked_field(f: Callable[..., Tensor], name: str = "f") -> Callable[..., Tensor]:
    """``f`` wrapped so that every evaluation is checked to return a tensor of the state's shape.

    The check compares shapes and dtypes on the host only (no synchronisation), so it runs on every
    call: a field that returns a broadcastable wrong shape part way through a solve is caught where
    it happens instead of silently corrupting the trajectory, and one that computes in another dtype
    than the state is refused by every method alike. ``f`` runs inside
    :func:`~physwm._validate.inside_checked_call`: a model skips its per-call finiteness check (a
    synchronisation), forwards and in the backward passes of the adjoint and implicit midpoint alike.
    """

    def call(t: Tensor, y: Tensor, *args: Any) -> Tensor:
        with inside_checked_call():  # also in backward passes (adjoint, implicit midpoint), outside solve's own
            out = f(t, y, *args)
        if not isinstance(out, Tensor):
            raise ArgumentTypeError(f"`{name}(t, y)` must return a torch.Tensor, got {describe(out)}")
        if out.shape != y.shape:
            raise ArgumentValueError(f"`{name}(t, y)` must return the shape of the state {tuple(y.shape)}, "
                                     f"got {tuple(out.shape)}")
        if out.dtype != y.dtype:
            raise ArgumentTypeError(f"`{name}(t, y)` must return the dtype of the state {y.dtype}, got {out.dtype}: "
                                    f"make f compute in {y.dtype} or pass y0 as {out.dtype}")
        return out

    return call
