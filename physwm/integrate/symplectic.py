"""physwm's own fixed-step integrators: splitting methods and implicit midpoint.

Splitting methods integrate a separable Hamiltonian ``H(q, p) = T(p) + V(q)`` by alternating
*kicks* ``p <- p - a h dV/dq(q)`` and *drifts* ``q <- q + b h dT/dp(p)``; each is the exact
flow of one part of ``H``, hence symplectic, and so is any composition of them
(Hairer, Lubich, Wanner, *Geometric Numerical Integration*, 2nd ed., 2006, ch. II.5 and VI.3).
The force from the last kick of a step is reused by the first kick of the next (FSAL), so
leapfrog costs one force evaluation per step.

Implicit midpoint ``y1 = y0 + h f(t + h/2, (y0 + y1)/2)`` is symplectic for *every*
Hamiltonian, separable or not, and conserves quadratic invariants exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from physwm._errors import ArgumentTypeError, ArgumentValueError, IntegrationError
from physwm._typing import SeparableHamiltonian
from physwm._validate import integer, positive
from physwm.integrate._base import Integrator, Solution, checked_field, time_grid
from physwm.integrate._hamiltonian import grad_kinetic, grad_potential
from physwm.state import merge_qp, split_qp

__all__ = ["FixedStepIntegrator", "SplittingMethod", "ImplicitMidpoint", "composition", "YOSHIDA4", "YOSHIDA6"]


@dataclass
class _Context:
    """Mutable counters of one solve (the integrator objects themselves stay stateless)."""

    step: int = 0
    n_fevals: int = 0
    n_kinetic_grads: int = 0
    n_fixed_point_iters: int = 0


class FixedStepIntegrator(Integrator):
    """Shared driver: steps of at most ``dt`` that land exactly on every output time.

    See :func:`physwm.integrate.step_plan` for how steps are laid between output times, and
    :mod:`physwm.integrate._base` for the synchronisation policy: the step times are built on the
    device once, the result is checked to be finite once after the last step, and a failed solve
    replays its first non-finite output interval to name the failing step.
    """

    def init(self, f: Any, y0: Tensor, ctx: _Context, options: dict) -> Any:
        return y0

    def output(self, state: Any) -> Tensor:
        return state

    def step(self, f: Any, state: Any, t: Tensor, h: float, ctx: _Context, options: dict) -> Any:
        raise NotImplementedError  # pragma: no cover

    def prepare(self, f: Any) -> Any:
        """The dynamics as the steps call them (general dynamics: with the output-shape check)."""
        return checked_field(f)

    def check_options(self, y0: Tensor, options: dict) -> dict:
        if options:
            raise ArgumentTypeError(f"method {self.name!r} takes no options, got {sorted(options)}")
        return {}

    def integrate(self, f, y0, t, plan, *, dt, rtol, atol, max_steps, **options) -> Solution:
        options = self.check_options(y0, options)
        f = self.prepare(f)
        times = time_grid(t, plan)
        # the step sizes are host floats, unless gradients with respect to t are wanted: then each output
        # interval's step size is the tensor (t[i+1] - t[i]) / n_i, so the result depends on t
        hs = [h for _, h in plan] if not t.requires_grad else \
            list((t[1:] - t[:-1]) / torch.tensor([n for n, _ in plan], dtype=t.dtype, device=t.device))
        ctx = _Context()
        state = self.init(f, y0, ctx, options)
        ys = [y0]
        for (n, _), h in zip(plan, hs):
            for _ in range(n):
                state = self.step(f, state, times[ctx.step], h, ctx, options)
                ctx.step += 1
            ys.append(self.output(state))
        ys = torch.stack(ys)
        if not bool(torch.isfinite(ys).all()):
            self._locate_failure(f, ys, times, plan, options)
        return Solution(t=t, ys=ys, method=self.name, n_steps=ctx.step, n_fevals=ctx.n_fevals,
                        stats={k: v for k, v in vars(ctx).items() if k not in ("step", "n_fevals")})

    def _locate_failure(self, f, ys: Tensor, times: Tensor, plan, options) -> None:
        """Replay the first output interval that ended non-finite, step by step, and raise there."""
        bad = int((~torch.isfinite(ys.reshape(ys.shape[0], -1))).any(-1).to(torch.int64).argmax())
        first = sum(n for n, _ in plan[: bad - 1])
        n, h = plan[bad - 1]
        ctx = _Context(step=first)
        with torch.no_grad():
            state = self.init(f, ys[bad - 1], ctx, options)
            for _ in range(n):
                state = self.step(f, state, times[ctx.step], h, ctx, options)
                if not bool(torch.isfinite(self.output(state)).all()):
                    break
                ctx.step += 1
        raise IntegrationError(f"{self.name}: the state became non-finite (NaN or inf)",
                               t=float(times[min(ctx.step, len(times) - 1)]), step=ctx.step, dt=h)


def composition(weights: Sequence[float]) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Kick and drift coefficients of the composition of leapfrog steps ``w_1 h, ..., w_s h``.

    Leapfrog with step ``w h`` is kick ``w/2``, drift ``w``, kick ``w/2``; adjacent half-kicks of
    consecutive leapfrogs merge, giving kicks ``(w_1/2, (w_1+w_2)/2, ..., w_s/2)`` and drifts
    ``(w_1, ..., w_s)``.
    """
    w = [float(x) for x in weights]
    kicks = [w[0] / 2] + [(a + b) / 2 for a, b in zip(w[:-1], w[1:])] + [w[-1] / 2]
    return tuple(kicks), tuple(w)


_CBRT2 = 2.0 ** (1.0 / 3.0)
#: Yoshida (1990) fourth order: the triple jump ``(w1, w0, w1)``, ``w1 = 1/(2 - 2^(1/3))``.
YOSHIDA4 = (1.0 / (2.0 - _CBRT2), -_CBRT2 / (2.0 - _CBRT2), 1.0 / (2.0 - _CBRT2))
# Yoshida (1990), Phys. Lett. A 150, 262, Table 1, solution A (seven stages, symmetric).
_Y6_W1, _Y6_W2, _Y6_W3 = -1.17767998417887, 0.235573213359357, 0.784513610477560
_Y6_W0 = 1.0 - 2.0 * (_Y6_W1 + _Y6_W2 + _Y6_W3)
#: Yoshida (1990) sixth order, solution A: ``(w3, w2, w1, w0, w1, w2, w3)``.
YOSHIDA6 = (_Y6_W3, _Y6_W2, _Y6_W1, _Y6_W0, _Y6_W1, _Y6_W2, _Y6_W3)


class SplittingMethod(FixedStepIntegrator):
    """An explicit symplectic splitting method for separable Hamiltonians ``T(p) + V(q)``.

    One step of size ``h`` applies, for ``i = 1..s``: kick ``p <- p - a_i h dV/dq(q)``, then drift
    ``q <- q + b_i h dT/dp(p)``; and a final kick ``a_{s+1}``. The time argument of ``f`` is
    never used: separable Hamiltonians here are autonomous.

    Args:
        name: registry key.
        kicks: ``(a_1, ..., a_{s+1})``; zeros are skipped.
        drifts: ``(b_1, ..., b_s)``.
        order: classical order.
    """

    symplectic = True
    requires = SeparableHamiltonian

    def __init__(self, name: str, kicks: Sequence[float], drifts: Sequence[float], order: int):
        if len(kicks) != len(drifts) + 1:
            raise ArgumentValueError(f"`kicks` must have len(drifts) + 1 = {len(drifts) + 1} entries, got {len(kicks)}")
        self.name, self.order = name, order
        self.kicks, self.drifts = tuple(kicks), tuple(drifts)

    def prepare(self, f):
        return f  # the kicks and drifts call kinetic/potential (or their closed-form gradients), checked there

    def init(self, f, y0, ctx, options):
        q, p = split_qp(y0)
        return q, p, None

    def output(self, state):
        q, p, _ = state
        return merge_qp(q, p)

    def step(self, f, state, t, h, ctx, options):
        q, p, force = state
        for a, b in zip(self.kicks, self.drifts + (None,)):
            if a != 0.0:
                if force is None:
                    force = grad_potential(f, q)
                    ctx.n_fevals += 1
                p = p - (a * h) * force
            if b is not None:
                q = q + (b * h) * grad_kinetic(f, p)
                ctx.n_kinetic_grads += 1
                force = None
        return q, p, force


class ImplicitMidpoint(FixedStepIntegrator):
    """Implicit midpoint rule ``y1 = y0 + h f(t + h/2, (y0 + y1)/2)``: symplectic, order 2.

    The stage is solved by fixed-point iteration from an explicit-Euler guess until
    ``max|y1^(k+1) - y1^(k)| <= implicit_tol * (1 + max|y1^(k+1)|)``; it converges when
    ``h L / 2 < 1`` with ``L`` the Lipschitz constant of ``f``. Otherwise an
    :class:`~physwm.IntegrationError` names the step.

    Gradients are exact at the converged stage by the implicit function theorem, not by
    unrolling the iterations: the forward pass stores one evaluation of ``f``, and backward
    solves the adjoint fixed point ``g = v + (h/2) J^T g`` (``J = df/dy`` at the midpoint) by the
    same iteration, as in deep equilibrium models (Bai, Kolter, Koltun 2019). First derivatives
    only: double backward through this step is not supported.

    Options (keyword arguments of :func:`physwm.solve`):
        implicit_tol: relative tolerance of the stage (default ``64 * eps`` of the dtype:
            1.4e-14 in float64, 7.6e-6 in float32).
        implicit_max_iter: iteration cap (default 100).
    """

    name = "implicit_midpoint"
    order = 2
    symplectic = True

    def check_options(self, y0, options):
        options = dict(options)
        tol = options.pop("implicit_tol", None)
        max_iter = options.pop("implicit_max_iter", 100)
        if options:
            raise ArgumentTypeError(f"method 'implicit_midpoint' got unexpected options {sorted(options)}; "
                                    "expected implicit_tol, implicit_max_iter")
        tol = 64 * torch.finfo(y0.dtype).eps if tol is None else positive("implicit_tol", tol)
        return {"tol": float(tol), "max_iter": integer("implicit_max_iter", max_iter, minimum=1)}

    def step(self, f, y, t, h, ctx, options):
        tol, max_iter = options["tol"], options["max_iter"]
        tm = t + h / 2
        y_const = y.detach()
        with torch.no_grad():
            z = y_const + h * f(tm, y_const)
            ctx.n_fevals += 1
            z = self._fixed_point(lambda z: y_const + h * f(tm, 0.5 * (y_const + z)), z, tol, max_iter, ctx, t, h)
        if not torch.is_grad_enabled():
            return z
        y1 = y + h * f(tm, 0.5 * (y + z))
        ctx.n_fevals += 1
        if y1.requires_grad:
            y1.register_hook(self._adjoint_hook(f, tm, y_const, z, h, tol, max_iter, t, ctx.step))
        return y1

    @staticmethod
    def _fixed_point(g: Callable[[Tensor], Tensor], z: Tensor, tol, max_iter, ctx, t, h) -> Tensor:
        if z.numel() == 0:  # an empty batch: nothing to solve for
            return z
        for _ in range(max_iter):
            z_new = g(z)
            ctx.n_fevals += 1
            ctx.n_fixed_point_iters += 1
            delta = (z_new - z).abs().max()
            z = z_new
            if bool(delta <= tol * (1.0 + z.abs().max())):
                return z
        if not bool(torch.isfinite(z).all()):
            raise IntegrationError("implicit_midpoint: the state became non-finite (NaN or inf)",
                                   t=t, step=ctx.step, dt=h)
        raise IntegrationError(
            f"implicit_midpoint: the stage did not converge in {max_iter} fixed-point iterations "
            f"(last change {float(delta):.3g}); reduce dt or raise implicit_max_iter",
            t=t, step=ctx.step, dt=h,
        )

    @staticmethod
    def _adjoint_hook(f, tm, y_const, z, h, tol, max_iter, t, step):
        def hook(v: Tensor | None) -> Tensor | None:
            if v is None:  # undefined gradient: nothing flows back through this step
                return v
            with torch.enable_grad():
                zz = z.detach().requires_grad_(True)
                out = h * f(tm, 0.5 * (y_const + zz))
            g = v
            for _ in range(max_iter):
                (vjp,) = torch.autograd.grad(out, zz, g, retain_graph=True)
                g_new = v + vjp
                delta = (g_new - g).abs().max()
                g = g_new
                if bool(delta <= tol * (1.0 + g.abs().max())):
                    return g
            raise IntegrationError("implicit_midpoint: the adjoint fixed point did not converge in "
                                   f"{max_iter} iterations", t=t, step=step, dt=h)

        return hook
