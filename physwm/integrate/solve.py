"""``physwm.solve``: one entry point for every integrator."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Union

import torch
from torch import Tensor

from physwm._errors import ArgumentTypeError, ArgumentValueError, IntegrationError, NotSeparableError
from physwm._registry import Registry
from physwm._typing import ControlledDynamics, Dynamics, SeparableGradients, SeparableHamiltonian
from physwm._validate import all_finite, describe, inside_checked_call, nonnegative, positive_int, real
from physwm._validate import tensor as check_tensor
from physwm.integrate._base import Integrator, Solution, step_plan
from physwm.integrate.runge_kutta import TorchdiffeqMethod
from physwm.integrate.symplectic import YOSHIDA4, YOSHIDA6, ImplicitMidpoint, SplittingMethod, composition

__all__ = ["solve", "rollout", "methods", "get_method", "register_method", "METHODS"]

#: The method registry: one canonical name per integrator.
METHODS: Registry[Integrator] = Registry("method")


def register_method(integrator: Integrator) -> Integrator:
    """Add an integrator to the registry under ``integrator.name``."""
    return METHODS.register(integrator.name, integrator)


for _m in (
    TorchdiffeqMethod("euler", "euler", order=1, adaptive=False),
    TorchdiffeqMethod("rk4", "rk4", order=4, adaptive=False),
    TorchdiffeqMethod("bosh3", "bosh3", order=3, adaptive=True),
    TorchdiffeqMethod("dopri5", "dopri5", order=5, adaptive=True),
    TorchdiffeqMethod("dopri8", "dopri8", order=8, adaptive=True),
    SplittingMethod("symplectic_euler", kicks=(1.0, 0.0), drifts=(1.0,), order=1),
    SplittingMethod("leapfrog", *composition([1.0]), order=2),
    SplittingMethod("yoshida4", *composition(YOSHIDA4), order=4),
    SplittingMethod("yoshida6", *composition(YOSHIDA6), order=6),
    ImplicitMidpoint(),
):
    register_method(_m)


def methods() -> list[str]:
    """Names of all registered integration methods, in registration order.

    Example:
        >>> import physwm
        >>> "leapfrog" in physwm.integrate.methods()
        True
    """
    return METHODS.names()


def get_method(method: Union[str, Integrator]) -> Integrator:
    """The integrator object for a registry name (or the object itself).

    Raises:
        ValueError: unknown name; the message lists the valid ones.
        TypeError: neither a ``str`` nor an :class:`Integrator`.
    """
    if isinstance(method, Integrator):
        return method
    if not isinstance(method, str):
        raise ArgumentTypeError(f"`method` must be a registry name or an Integrator, got {describe(method)}")
    return METHODS.get(method)


def _check_t(t: Any, y0: Tensor) -> tuple[Tensor, list[float]]:
    """The output times on ``y0``'s device and dtype, and as host floats (read once, for the step plan)."""
    if not isinstance(t, Tensor):
        if isinstance(t, (str, bytes)) or not isinstance(t, Sequence):
            raise ArgumentTypeError(f"`t` must be a 1-D tensor or sequence of times, got {describe(t)}")
        try:
            t = torch.tensor(t, dtype=y0.dtype)
        except (TypeError, ValueError, RuntimeError):
            raise ArgumentTypeError(f"`t` must be a 1-D tensor or sequence of real times, got {describe(t)}") from None
    if not (t.is_floating_point() or t.dtype in (torch.int32, torch.int64)):
        raise ArgumentTypeError(f"`t` must hold real numbers, got dtype {t.dtype}")
    if t.dim() != 1:
        raise ArgumentValueError(f"`t` must be 1-D, got shape {tuple(t.shape)}")
    if t.numel() < 2:
        raise ArgumentValueError(f"`t` must hold at least 2 times (start and end), got {t.numel()}")
    t = t.to(dtype=y0.dtype)
    host = t.detach().tolist()
    if not all(math.isfinite(v) for v in host):
        raise ArgumentValueError("`t` must be finite, got NaN or inf entries")
    d = [b - a for a, b in zip(host[:-1], host[1:])]
    if not (all(v > 0 for v in d) or all(v < 0 for v in d)):
        signs = sorted({(v > 0) - (v < 0) for v in d})
        raise ArgumentValueError(f"`t` must be strictly monotone (all increasing or all decreasing), got steps with "
                                 f"signs {signs}")
    return t.to(device=y0.device), host


def _check_dynamics(f: Any, integrator: Integrator, y0: Tensor) -> None:
    """``f`` satisfies the protocol the integrator declares it requires."""
    if not callable(f):
        raise ArgumentTypeError(f"`f` must be callable as f(t, y), got {describe(f)}")
    separable_by_gradients = integrator.requires is SeparableHamiltonian and isinstance(f, SeparableGradients)
    if not isinstance(f, integrator.requires) and not separable_by_gradients:
        if integrator.requires is SeparableHamiltonian:
            raise NotSeparableError(
                f"method {integrator.name!r} needs a separable Hamiltonian H = T(p) + V(q): an object with "
                f"kinetic(p) and potential(q) methods, or with grad_kinetic(p) and grad_potential(q); got {type(f).__name__}. Use "
                "method='implicit_midpoint' (symplectic for any Hamiltonian) or a Runge-Kutta method.")
        raise ArgumentTypeError(f"method {integrator.name!r} needs dynamics satisfying {integrator.requires.__name__}, "
                                f"got {type(f).__name__}")
    if integrator.requires is SeparableHamiltonian and y0.shape[-1] % 2:
        raise ArgumentValueError(f"method {integrator.name!r} needs y0 = [q, p] with an even last dimension, "
                                 f"got {y0.shape[-1]}")


Action = Union[Tensor, Callable[[Tensor, Tensor], Tensor]]


def _check_action(action: Any, integrator: Integrator, y0: Tensor, t: Tensor) -> None:
    if integrator.requires is SeparableHamiltonian:
        raise ArgumentValueError(f"`action` needs a method for general dynamics f(t, y, u); {integrator.name!r} needs a "
                                 "separable Hamiltonian. Use 'implicit_midpoint', 'rk4' or 'dopri5'.")
    if isinstance(action, Tensor):
        if not action.is_floating_point():
            raise ArgumentTypeError(f"`action` must have a floating dtype, got {action.dtype}")
        if action.dim() < 2 or action.shape[0] != t.numel() - 1:
            raise ArgumentValueError(f"`action` as a sequence must have shape (len(t)-1, *batch, m) = ({t.numel() - 1}, "
                                     f"..., m): one action per output interval, got {tuple(action.shape)}")
        try:
            torch.broadcast_shapes(action.shape[1:-1], y0.shape[:-1])
        except RuntimeError:
            raise ArgumentValueError(f"`action` batch shape {tuple(action.shape[1:-1])} does not broadcast with y0's "
                                     f"batch shape {tuple(y0.shape[:-1])}") from None
        all_finite("action", action)
    elif not callable(action):
        raise ArgumentTypeError("`action` must be a tensor of shape (len(t)-1, *batch, m) or a policy callable as "
                                f"policy(t, y) -> u, got {describe(action)}")


def _action_at(action: Action, k: int, tk: Tensor, yk: Tensor) -> Tensor:
    if isinstance(action, Tensor):
        return action[k].to(dtype=yk.dtype, device=yk.device)
    u = action(tk, yk)
    if not isinstance(u, Tensor) or u.dim() < 1 or not u.is_floating_point():
        raise ArgumentTypeError(f"the policy must return a floating tensor of shape (*batch, m), got {describe(u)}")
    if not bool(torch.isfinite(u).all()):
        raise IntegrationError("the policy returned a non-finite action", t=float(tk), step=k, dt=0.0)
    return u.to(dtype=yk.dtype, device=yk.device)  # actions, like a sequence's, take the state's dtype and device


def _solve_with_action(f, y0: Tensor, t: Tensor, plan, action: Action, integrator: Integrator, **kwargs: Any) -> Solution:
    """Zero-order hold: integrate ``f(., ., u_k)`` over each ``[t_k, t_{k+1}]`` with ``u_k`` fixed."""
    ys, us = [y0], []
    n_steps = n_fevals = 0
    stats: dict[str, Any] = {}
    for k in range(t.numel() - 1):
        u = _action_at(action, k, t[k], ys[-1])
        us.append(u)

        def fk(tt: Tensor, y: Tensor, u: Tensor = u) -> Tensor:
            return f(tt, y, u)

        sol = integrator.integrate(fk, ys[-1], t[k: k + 2], None if plan is None else plan[k: k + 1], **kwargs)
        ys.append(sol.ys[-1])
        n_steps += sol.n_steps
        n_fevals += sol.n_fevals
        for key, v in sol.stats.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                stats[key] = stats.get(key, 0) + v
    try:
        actions = torch.stack(us)
    except RuntimeError:
        raise ArgumentValueError(f"the actions must keep one shape over time, got {[tuple(u.shape) for u in us]}") from None
    return Solution(t=t, ys=torch.stack(ys), method=integrator.name, n_steps=n_steps, n_fevals=n_fevals,
                    stats=stats, actions=actions)


def solve(
    f: Dynamics | ControlledDynamics | SeparableHamiltonian,
    y0: Tensor,
    t: Union[Tensor, Sequence[float]],
    *,
    method: Union[str, Integrator] = "dopri5",
    dt: Union[float, Tensor, None] = None,
    rtol: float = 1e-7,
    atol: float = 1e-9,
    adjoint: bool = False,
    max_steps: int = 10_000_000,
    action: Union[Action, None] = None,
    **options: Any,
) -> Solution:
    r"""Integrate ``dy/dt = f(t, y)`` from ``y(t[0]) = y0`` and return the states at the times ``t``.

    Hamilton's equations ``dq/dt = dH/dp, dp/dt = -dH/dq`` are the main use, with the state
    ``y = [q, p]``, but any dynamics work with the non-separable methods.

    Methods (``physwm.integrate.methods()``), with their order:

    ========================  =====  ==========  ========  =========================
    name                      order  symplectic  adaptive  needs
    ========================  =====  ==========  ========  =========================
    ``euler``                 1      no          no        any ``f``
    ``rk4``                   4      no          no        any ``f``
    ``bosh3``                 3      no          yes       any ``f``
    ``dopri5``                5      no          yes       any ``f``
    ``dopri8``                8      no          yes       any ``f``
    ``symplectic_euler``      1      yes         no        separable ``H = T(p)+V(q)``
    ``leapfrog``              2      yes         no        separable
    ``yoshida4``              4      yes         no        separable
    ``yoshida6``              6      yes         no        separable
    ``implicit_midpoint``     2      yes         no        any ``f`` (any ``H``)
    ========================  =====  ==========  ========  =========================

    The Runge-Kutta methods run in torchdiffeq (Chen et al., NeurIPS 2018); the symplectic ones
    are physwm's (Hairer, Lubich, Wanner 2006; Yoshida, Phys. Lett. A 150, 1990).

    Fixed-step methods take ``dt``: between consecutive output times they take
    ``ceil(|Δt| / |dt|)`` equal steps, so every output time is hit exactly by a step no longer
    than ``dt`` (exactly ``dt`` when the output spacing is a multiple of it). ``dt=None`` means one
    step per output interval. Adaptive methods choose their steps by ``rtol``/``atol`` and also
    step onto every output time (no interpolation); given ``dt`` they take constant steps instead.

    **Actions** (controlled systems, action-conditioned world models ``x_{k+1} = F(x_k, a_k)``):
    with ``action`` given, ``f`` is called as ``f(t, y, u)`` and the action is held constant
    (zero-order hold) over each output interval ``[t[k], t[k+1])``. ``action`` is either a
    sequence of shape ``(len(t)-1, *batch, m)`` or a feedback policy ``policy(t_k, y_k) -> u_k``
    sampled at the output times. Each interval is integrated separately, so the switch of the
    action never falls inside a step. The actions used come back as ``Solution.actions``.

    Args:
        f: dynamics ``f(t, y) -> dy/dt``. The explicit symplectic methods instead need an
            object with ``kinetic(p)`` and ``potential(q)`` (e.g. a catalogue system or a
            :class:`~physwm.models.SeparableHNN`), or with their gradients ``grad_kinetic(p)`` and
            ``grad_potential(q)`` (:class:`~physwm._typing.SeparableGradients`, e.g. a
            :class:`~physwm.models.NewtonianDynamics` with conservative forces).
        y0: initial state, shape ``(*batch, d)``, float32 or float64, finite.
        t: output times (same units as ``dt``), 1-D, strictly increasing or decreasing;
            converted to ``y0``'s dtype and device.
        method: registry name or :class:`~physwm.integrate.Integrator` object.
        dt: step size of the fixed-step methods; its sign must match the direction of ``t``.
        rtol: relative tolerance of the adaptive methods (``>= 0``).
        atol: absolute tolerance of the adaptive methods (``>= 0``).
        adjoint: adaptive and Runge-Kutta methods only: compute gradients by torchdiffeq's
            adjoint (memory constant in the number of steps). Parameters come from ``f`` when it
            is an ``nn.Module``; otherwise pass ``adjoint_params=(...)``.
        max_steps: cap on the number of steps.
        action: a control input for dynamics ``f(t, y, u)``: a tensor ``(len(t)-1, *batch, m)``
            or a policy ``policy(t, y) -> (*batch, m)``; see above. Needs a method for general
            dynamics (not the explicit symplectic ones).
        **options: method options: ``implicit_tol``, ``implicit_max_iter`` (implicit midpoint);
            ``adjoint_params`` and torchdiffeq ``options`` entries (Runge-Kutta methods).

    Returns:
        A :class:`~physwm.integrate.Solution` with ``.t``, ``.ys``, ``.n_steps``, ``.n_fevals``.

    Shapes:
        - y0: ``(*batch, d)``
        - t: ``(T,)``
        - Solution.ys: ``(T, *batch, d)``
        - action (sequence): ``(T-1, *batch, m)``; Solution.actions: ``(T-1, *batch, m)``

    Raises:
        TypeError: ``f`` is not callable, ``y0``/``t`` are not tensors of real numbers, or the
            method needs a separable Hamiltonian (:class:`~physwm.NotSeparableError`).
        ValueError: non-finite ``y0`` or ``t``; ``t`` not 1-D or not strictly monotone;
            ``dt`` zero, non-finite or pointing against ``t``; negative tolerances; unknown
            method (the message lists the valid ones); ``f(t, y0)`` of another shape than ``y0``.
        IntegrationError: the state became non-finite, the step size underflowed or an implicit
            stage did not converge; carries ``t``, ``step`` and ``dt``.

    Example:
        >>> import torch, physwm
        >>> from physwm.systems import HarmonicOscillator
        >>> osc = HarmonicOscillator()
        >>> sol = physwm.solve(osc, torch.tensor([1.0, 0.0], dtype=torch.float64),
        ...                    torch.linspace(0, 10, 101, dtype=torch.float64), method="leapfrog", dt=0.01)
        >>> sol.ys.shape
        torch.Size([101, 2])
    """
    integrator = get_method(method)
    check_tensor("y0", y0, min_dim=1)
    if y0.shape[-1] == 0:
        raise ArgumentValueError(f"`y0` must have shape (*batch, d) with d >= 1, got shape {tuple(y0.shape)}")
    all_finite("y0", y0)
    t, t_host = _check_t(t, y0)
    direction = 1.0 if t_host[1] > t_host[0] else -1.0
    if dt is not None:
        dt = real("dt", dt)
        if dt == 0.0:
            raise ArgumentValueError(f"`dt` must be finite and non-zero, got {dt}")
        if dt * direction < 0:
            way = "increasing" if direction > 0 else "decreasing"
            raise ArgumentValueError(f"`dt`={dt} points the wrong way: t is {way}, so dt must be "
                                     f"{'positive' if direction > 0 else 'negative'}")
    rtol, atol = nonnegative("rtol", rtol), nonnegative("atol", atol)
    max_steps = positive_int("max_steps", max_steps)
    if adjoint:
        if not integrator.supports_adjoint:
            raise ArgumentValueError(f"`adjoint=True` is available for the Runge-Kutta methods only, not "
                                     f"{integrator.name!r}; the symplectic methods backpropagate through their steps")
        options["adjoint"] = True
    if integrator.adaptive and dt is None and rtol == 0.0 and atol == 0.0:
        raise ArgumentValueError(f"`rtol` and `atol` cannot both be 0 for the adaptive method {integrator.name!r}: no step "
                                 "would be accepted; give a tolerance, or `dt` for constant steps")
    plan = step_plan(t_host, dt, y0.dtype, max_steps) if (dt is not None or not integrator.adaptive) else None
    if action is not None:
        if not callable(f):
            raise ArgumentTypeError(f"`f` must be callable as f(t, y, u), got {describe(f)}")
        _check_action(action, integrator, y0, t)
        with inside_checked_call():
            return _solve_with_action(f, y0, t, plan, action, integrator, dt=dt, rtol=rtol, atol=atol,
                                      max_steps=max_steps, **options)
    _check_dynamics(f, integrator, y0)
    with inside_checked_call():
        return integrator.integrate(f, y0, t, plan, dt=dt, rtol=rtol, atol=atol, max_steps=max_steps, **options)


def rollout(f: Dynamics | ControlledDynamics | SeparableHamiltonian, y0: Tensor, t: Union[Tensor, Sequence[float]], *, chunk: int = 50,
            **solve_kwargs: Any) -> Tensor:
    """The states of :func:`solve` at ``t``, with a blow-up ending the trajectory instead of raising.

    Long rollouts of learned models may leave the region where the model is defined: the state becomes
    non-finite (:class:`~physwm.IntegrationError`) or a learned Lagrangian's mass matrix turns singular
    (:class:`~physwm.SingularMassMatrixError`). ``rollout`` integrates ``chunk`` output intervals at a
    time under ``torch.no_grad``; when a chunk fails, the states from that chunk on are NaN, so
    diagnostics such as :func:`physwm.diagnostics.valid_prediction_time` count them as failed.

    Args:
        f: dynamics, as for :func:`solve`.
        y0: initial states ``(*batch, d)``.
        t: output times ``(T,)``.
        chunk: output intervals per solve (the resolution at which a blow-up is located).
        **solve_kwargs: ``method``, ``dt`` and the other keywords of :func:`solve`.

    Returns:
        ``ys`` ``(T, *batch, d)``.

    Raises:
        ValueError / TypeError: bad input, as for :func:`solve`.

    Example:
        >>> import torch
        >>> f = lambda t, y: y**2                     # blows up at t = 1 from y = 1
        >>> ys = rollout(f, torch.ones(1, dtype=torch.float64), torch.linspace(0, 2, 21), method="rk4", chunk=5)
        >>> bool(torch.isfinite(ys[:5]).all()), bool(torch.isnan(ys[-1]).all())
        (True, True)
    """
    from physwm._errors import SingularMassMatrixError

    chunk = positive_int("chunk", chunk)
    check_tensor("y0", y0, min_dim=1)
    t, _ = _check_t(t, y0)
    out = [y0.detach().unsqueeze(0)]
    y = y0.detach()
    with torch.no_grad():
        for start in range(0, len(t) - 1, chunk):
            try:
                ys = solve(f, y, t[start: start + chunk + 1], **solve_kwargs).ys
            except (IntegrationError, SingularMassMatrixError):
                out.append(torch.full((len(t) - 1 - start, *y0.shape), math.nan, dtype=y0.dtype, device=y0.device))
                break
            out.append(ys[1:])
            y = ys[-1]
    return torch.cat(out)
