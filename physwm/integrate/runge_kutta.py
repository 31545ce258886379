"""Classical and adaptive Runge-Kutta methods, delegated to torchdiffeq.

torchdiffeq (Chen et al. 2018) does the stepping, the error control, the dense output and the
adjoint; physwm adds input checks, step and evaluation counts, and readable failures.
torchdiffeq guards its own failures with ``assert`` (gone under ``python -O``); here the same
conditions are checked in a step callback and raised as :class:`~physwm.IntegrationError`.
"""

from __future__ import annotations

from typing import Any

import torch
import torchdiffeq
from torch import Tensor, nn

from physwm._errors import IntegrationError
from physwm.integrate._base import Integrator, Solution, step_plan, time_grid

__all__ = ["TorchdiffeqMethod"]


class _Counted(nn.Module):
    """Wraps ``f`` to count evaluations and to check every step torchdiffeq starts."""

    def __init__(self, f: Any, name: str, max_steps: int):
        super().__init__()
        self.f = f  # registered as a submodule when it is one, so the adjoint finds its parameters
        self.method = name
        self.max_steps = max_steps
        self.n_fevals = 0
        self.n_attempts = 0
        self.n_accepted = 0

    def forward(self, t: Tensor, y: Tensor) -> Tensor:
        self.n_fevals += 1
        return self.f(t, y)

    def callback_step(self, t0: Tensor, y0: Tensor, dt: Tensor) -> None:
        step, t_, dt_ = self.n_attempts, float(t0.detach()), float(dt.detach())
        if not bool(torch.isfinite(y0).all()):
            raise IntegrationError(f"{self.method}: the state became non-finite (NaN or inf)",
                                   t=t_, step=step, dt=dt_)
        if not bool(t0 + dt != t0):
            raise IntegrationError(f"{self.method}: the step size underflowed; the problem may be stiff "
                                   "or singular here", t=t_, step=step, dt=dt_)
        if step >= self.max_steps:
            raise IntegrationError(f"{self.method}: more than max_steps={self.max_steps} steps", t=t_,
                                   step=step, dt=dt_)
        self.n_attempts += 1


class _CountedAdaptive(_Counted):
    def callback_accept_step(self, t0: Tensor, y0: Tensor, dt: Tensor) -> None:
        self.n_accepted += 1


class TorchdiffeqMethod(Integrator):
    """A torchdiffeq solver under a physwm name.

    Fixed-step methods (``euler``, ``rk4``) step on the grid of
    :func:`~physwm.integrate._base.step_plan`, so output times are hit exactly.
    Adaptive methods (``bosh3``, ``dopri5``, ``dopri8``) choose steps by ``rtol``/``atol`` and
    are made to step onto every output time (torchdiffeq's ``step_t``), so the outputs are the
    method's own steps rather than torchdiffeq's 4th-order dense interpolant; given ``dt`` they take
    constant steps on the same exact grid with error control off (diffrax's
    ``ConstantStepSize``), which is how their convergence order is measured.

    Options (keyword arguments of :func:`physwm.solve`) go to torchdiffeq's ``options``
    (e.g. ``first_step``, ``max_step``), plus ``adjoint_params`` for ``adjoint=True``.
    """

    def __init__(self, name: str, torchdiffeq_name: str, order: int, adaptive: bool):
        self.name, self.order, self.adaptive = name, order, adaptive
        self._solver = torchdiffeq_name

    def integrate(self, f, y0, t, *, dt, rtol, atol, max_steps, adjoint=False, adjoint_params=None,
                  **options) -> Solution:
        func = (_CountedAdaptive if self.adaptive else _Counted)(f, self.name, max_steps)
        opts = dict(options)
        kwargs: dict[str, Any] = {"method": self._solver}
        if dt is not None or not self.adaptive:
            plan = step_plan(t.tolist(), dt)
            total = sum(n for n, _ in plan)
            if total > max_steps:
                raise ValueError(f"`dt`={dt} needs {total} steps to cover t, more than `max_steps`={max_steps}")
            grid = time_grid(t, plan)
            if self.adaptive:
                # Constant steps: error control off (huge tolerances), and a maximal step a hair
                # longer than the longest grid step, so every step is clipped by torchdiffeq onto
                # the next grid point exactly (with max_step equal to the grid step, round-off lets
                # steps overshoot grid points and the output would be interpolated).
                h_max = float(grid.diff().abs().max()) * (1 + 1e-6)
                opts.update(step_t=grid[1:], first_step=h_max, max_step=h_max)
                kwargs.update(rtol=1e30, atol=1e30)
            else:
                opts["grid_constructor"] = self._grid_constructor(dt)
        else:
            kwargs.update(rtol=rtol, atol=atol)
            # Step onto every output time: torchdiffeq's dense output is a 4th-order interpolant,
            # which would throw away most of dopri8's accuracy between steps.
            if "step_t" not in opts:
                opts["step_t"] = t[1:]
        kwargs["options"] = opts
        if adjoint:
            if adjoint_params is None and not isinstance(f, nn.Module):
                adjoint_params = ()
            ys = torchdiffeq.odeint_adjoint(func, y0, t, adjoint_params=adjoint_params, **kwargs)
        else:
            if adjoint_params is not None:
                raise TypeError("`adjoint_params` is only used with adjoint=True")
            ys = torchdiffeq.odeint(func, y0, t, **kwargs)
        if not bool(torch.isfinite(ys).all()):
            bad = int((~torch.isfinite(ys.reshape(len(t), -1))).any(-1).nonzero()[0])
            raise IntegrationError(f"{self.name}: the state became non-finite (NaN or inf)",
                                   t=float(t[bad - 1]), step=max(func.n_attempts - 1, 0),
                                   dt=float(t[bad] - t[bad - 1]))
        n_steps = func.n_accepted if self.adaptive else func.n_attempts
        stats = {"n_rejected": func.n_attempts - func.n_accepted} if self.adaptive else {}
        return Solution(t=t, ys=ys, method=self.name, n_steps=n_steps, n_fevals=func.n_fevals, stats=stats)

    @staticmethod
    def _grid_constructor(dt):
        # torchdiffeq calls this with the times it integrates over: the output times (flipped to
        # increasing when t decreases) forwards, and one output interval at a time in the adjoint's
        # backward pass; the same step_plan rule lays the grid in both.
        def construct(func, y0, t):
            return time_grid(t, step_plan(t.tolist(), None if dt is None else abs(dt)))

        return construct
