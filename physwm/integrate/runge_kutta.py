"""Classical and adaptive Runge-Kutta methods, delegated to torchdiffeq.

torchdiffeq (Chen et al. 2018) does the stepping, the error control, the dense output and the
adjoint; physwm adds input checks, step and evaluation counts, and readable failures.
torchdiffeq guards its own failures with ``assert`` (gone under ``python -O``); here the same
conditions are checked and raised as :class:`~physwm.IntegrationError`. The checks follow the
synchronisation policy of :mod:`physwm.integrate._base`: the fixed-step methods check the result
once, after the solve, and replay the failing output interval to name the step.
"""

from __future__ import annotations

from typing import Any

import torch
import torchdiffeq
from torch import Tensor, nn

from physwm._errors import ArgumentTypeError, ArgumentValueError, IntegrationError
from physwm._validate import describe, nonnegative, positive
from physwm.integrate._base import Integrator, Solution, checked_field, step_plan, time_grid

__all__ = ["TorchdiffeqMethod"]


class _Counted(nn.Module):
    """Wraps ``f`` to count evaluations and steps, and to check every output's shape.

    With ``check_steps`` every step torchdiffeq starts is also checked to be finite, to have a step size
    that did not underflow, and to stay within ``max_steps`` (one synchronisation per step: used by the
    adaptive methods, which synchronise per step anyway, and to replay a failed fixed-step interval).
    """

    def __init__(self, f: Any, name: str, max_steps: int, check_steps: bool, first_step: int = 0):
        super().__init__()
        self.f = f  # registered as a submodule when it is one, so the adjoint finds its parameters
        self._call = checked_field(f)
        self.method, self.max_steps, self.check_steps = name, max_steps, check_steps
        self.n_fevals = 0
        self.n_attempts = first_step
        self.n_accepted = 0
        self.last = (float("nan"), float("nan"))  # (t, dt) of the previous step, for a failure it produced

    def forward(self, t: Tensor, y: Tensor) -> Tensor:
        self.n_fevals += 1
        return self._call(t, y)

    def callback_step(self, t0: Tensor, y0: Tensor, dt: Tensor) -> None:
        if self.check_steps:
            step, t_, dt_ = self.n_attempts, float(t0.detach()), float(dt.detach())
            if not bool(torch.isfinite(y0).all()):  # the previous step produced it
                raise IntegrationError(f"{self.method}: the state became non-finite (NaN or inf)",
                                       t=self.last[0], step=step - 1, dt=self.last[1])
            if not bool(t0 + dt != t0):
                # the usual cause is not stiffness but a field that is NaN or inf here: every step is rejected
                with torch.no_grad():
                    field_finite = bool(torch.isfinite(self._call(t0.to(y0.dtype), y0)).all())
                if not field_finite:
                    raise IntegrationError(f"{self.method}: f(t, y) returned NaN or inf at a finite state, so every "
                                           "step was rejected", t=t_, step=step, dt=dt_)
                raise IntegrationError(f"{self.method}: the step size underflowed; the problem may be stiff "
                                       "or singular here", t=t_, step=step, dt=dt_)
            if step >= self.max_steps:
                raise IntegrationError(f"{self.method}: more than max_steps={self.max_steps} steps", t=t_,
                                       step=step, dt=dt_)
            self.last = (t_, dt_)
        self.n_attempts += 1


class _CountedAdaptive(_Counted):
    def callback_accept_step(self, t0: Tensor, y0: Tensor, dt: Tensor) -> None:
        self.n_accepted += 1


class TorchdiffeqMethod(Integrator):
    """A torchdiffeq solver under a physwm name.

    Fixed-step methods (``euler``, ``rk4``) step on the grid of
    :func:`~physwm.integrate.step_plan`, so output times are hit exactly.
    Adaptive methods (``bosh3``, ``dopri5``, ``dopri8``) choose steps by ``rtol``/``atol`` and
    are made to step onto every output time (torchdiffeq's ``step_t``), so the outputs are the
    method's own steps rather than torchdiffeq's 4th-order dense interpolant; given ``dt`` they take
    constant steps on the same exact grid with error control off (diffrax's
    ``ConstantStepSize``), which is how their convergence order is measured.

    Options (keyword arguments of :func:`physwm.solve`) of the adaptive methods go to torchdiffeq's
    ``options``: ``first_step`` (> 0), ``max_step`` (> 0), ``min_step`` (>= 0), ``safety`` (in (0, 1]),
    ``ifactor`` (>= 1), ``dfactor`` (in (0, 1]), ``step_t``, ``jump_t`` (times to step onto / restart
    at) and ``norm`` (a callable); ``adjoint_params`` goes with ``adjoint=True``. Any other name is an
    error (torchdiffeq only warns, and ignores it). The fixed-step methods, and the adaptive ones
    with ``dt``, take no step-size options.
    """

    supports_adjoint = True
    _STEP_OPTIONS = ("first_step", "max_step", "min_step", "safety", "ifactor", "dfactor")
    _OPTIONS = _STEP_OPTIONS + ("step_t", "jump_t", "norm")

    def check_options(self, options: dict, fixed: bool) -> dict:
        """The options, checked by name and range, before torchdiffeq sees them."""
        allowed = () if not self.adaptive else (("step_t", "jump_t", "norm") if fixed else self._OPTIONS)
        unknown = sorted(set(options) - set(allowed))
        if unknown:
            why = ("takes no options" if not self.adaptive else
                   "with `dt` takes constant steps, so no step-size options" if fixed else
                   "takes the options " + ", ".join(self._OPTIONS))
            raise ArgumentTypeError(f"method {self.name!r} {why}; got {unknown}")
        checked = dict(options)
        for name in ("first_step", "max_step"):
            if name in checked:
                checked[name] = positive(name, checked[name], finite=name != "max_step")
        if "min_step" in checked:
            checked["min_step"] = nonnegative("min_step", checked["min_step"])
        if "safety" in checked or "dfactor" in checked:
            for name in ("safety", "dfactor"):
                if name in checked and not 0 < positive(name, checked[name]) <= 1:
                    raise ArgumentValueError(f"`{name}` must lie in (0, 1], got {checked[name]!r}")
        if "ifactor" in checked and not positive("ifactor", checked["ifactor"]) >= 1:
            raise ArgumentValueError(f"`ifactor` must be >= 1, got {checked['ifactor']!r}")
        if checked.get("min_step", 0.0) > checked.get("max_step", float("inf")):
            raise ArgumentValueError(f"`min_step`={checked['min_step']!r} must not exceed `max_step`={checked['max_step']!r}")
        if "norm" in checked and not callable(checked["norm"]):
            raise ArgumentTypeError(f"`norm` must be callable as norm(tensor) -> scalar, got {describe(checked['norm'])}")
        return checked

    def __init__(self, name: str, torchdiffeq_name: str, order: int, adaptive: bool):
        self.name, self.order, self.adaptive = name, order, adaptive
        self._solver = torchdiffeq_name

    def integrate(self, f, y0, t, plan, *, dt, rtol, atol, max_steps, adjoint=False, adjoint_params=None,
                  **options) -> Solution:
        if adjoint_params is not None and not adjoint:
            raise ArgumentTypeError("`adjoint_params` is only used with adjoint=True")
        fixed = dt is not None or not self.adaptive
        options = self.check_options(options, fixed)
        if y0.numel() == 0 and self.adaptive:  # an empty batch: no error norm to control, nothing to integrate
            return Solution(t=t, ys=y0.unsqueeze(0).expand(len(t), *y0.shape).clone(), method=self.name,
                            n_steps=sum(n for n, _ in plan) if fixed else 0, n_fevals=0, stats={"n_rejected": 0})
        func = (_CountedAdaptive if self.adaptive else _Counted)(f, self.name, max_steps, check_steps=not fixed)
        ys = self._odeint(func, y0, t, plan, dt, rtol, atol, options, adjoint, adjoint_params)
        if not bool(torch.isfinite(ys).all()):
            self._locate_failure(f, ys, t, plan, dt, rtol, atol, max_steps, options)
        n_steps = func.n_accepted if self.adaptive else func.n_attempts
        stats = {"n_rejected": func.n_attempts - func.n_accepted} if self.adaptive else {}
        return Solution(t=t, ys=ys, method=self.name, n_steps=n_steps, n_fevals=func.n_fevals, stats=stats)

    def _odeint(self, func, y0, t, plan, dt, rtol, atol, options, adjoint=False, adjoint_params=None) -> Tensor:
        opts = dict(options)
        kwargs: dict[str, Any] = {"method": self._solver}
        if dt is not None or not self.adaptive:
            grid = time_grid(t, plan)
            if self.adaptive:
                # Constant steps: error control off (huge tolerances), and a maximal step a hair
                # longer than the longest grid step, so every step is clipped by torchdiffeq onto
                # the next grid point exactly (with max_step equal to the grid step, round-off lets
                # steps overshoot grid points and the output would be interpolated).
                h_max = max(abs(h) for _, h in plan) * (1 + 1e-6)
                opts.update(step_t=grid[1:].detach(), first_step=h_max, max_step=h_max)
                kwargs.update(rtol=1e30, atol=1e30)
            else:
                opts["grid_constructor"] = self._grid_constructor(dt, t, grid)
        else:
            kwargs.update(rtol=rtol, atol=atol)
            # Step onto every output time: torchdiffeq's dense output is a 4th-order interpolant,
            # which would throw away most of dopri8's accuracy between steps.
            if "step_t" not in opts:
                opts["step_t"] = t[1:].detach()
        kwargs["options"] = opts
        if adjoint:
            if adjoint_params is None and not isinstance(func.f, nn.Module):
                adjoint_params = ()
            return torchdiffeq.odeint_adjoint(func, y0, t, adjoint_params=adjoint_params, **kwargs)
        return torchdiffeq.odeint(func, y0, t, **kwargs)

    def _locate_failure(self, f, ys, t, plan, dt, rtol, atol, max_steps, options) -> None:
        """Replay the first output interval that ended non-finite with per-step checks, and raise there."""
        bad = int((~torch.isfinite(ys.reshape(len(t), -1))).any(-1).to(torch.int64).argmax())
        first = sum(n for n, _ in plan[: bad - 1]) if plan is not None else 0
        func = _Counted(f, self.name, max_steps + first, check_steps=True, first_step=first)
        with torch.no_grad():
            self._odeint(func, ys[bad - 1], t[bad - 1: bad + 1], None if plan is None else plan[bad - 1: bad], dt,
                         rtol, atol, options)
        # no step started from a non-finite state: the interval's last step produced it
        raise IntegrationError(f"{self.name}: the state became non-finite (NaN or inf)", t=func.last[0],
                               step=func.n_attempts - 1, dt=func.last[1])

    @staticmethod
    def _grid_constructor(dt, t_out: Tensor, grid: Tensor):
        # torchdiffeq calls this with the times it integrates over: forwards with the output times
        # themselves (given the grid built on the device from the host step plan, no synchronisation),
        # and one output interval at a time in the adjoint's backward pass, where the same step_plan
        # rule lays the grid again.
        def construct(func, y0, t):
            if t is t_out:
                return grid
            return time_grid(t, step_plan(t.tolist(), None if dt is None else abs(dt), t.dtype))

        return construct
