"""Power balance of port-Hamiltonian systems: energy changes only by dissipation and supplied work."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from physwm._errors import ArgumentTypeError, ArgumentValueError

__all__ = ["power_balance_residual"]


def power_balance_residual(system: Any, t: Tensor, ys: Tensor, actions: Tensor | None = None) -> Tensor:
    r"""Residual of the integrated power balance along a trajectory.

    A port-Hamiltonian system :math:`\dot x = (J - R)\nabla H + G u + F(t)` satisfies
    :math:`\dot H = -\nabla H^\top R \nabla H + \nabla H^\top (G u + F)`; integrated,

    .. math::
        r(t_k) = H(x_k) - H(x_0) - \int_{t_0}^{t_k} \big(P_{supplied} - P_{dissipated}\big)\,dt,

    which is zero along exact solutions. The integral is the trapezoidal rule on the output
    grid, with the action ``u_k`` held over ``[t_k, t_{k+1}]`` (zero-order hold, as in
    :func:`physwm.solve`), so ``r`` is ``O(Δt²)`` in the output spacing: sample the trajectory
    finely, or compare the residual's decrease under refinement. Works for the catalogue's
    port-Hamiltonian systems and for :class:`~physwm.models.PHNN` (the learned balance).

    Args:
        system: an object with ``energy(y)`` and ``power_balance(t, y, u)`` returning
            ``{"dissipated": ..., "supplied": ...}``.
        t: output times.
        ys: states at ``t`` (e.g. ``physwm.solve(...).ys``).
        actions: actions held over each interval (``Solution.actions``), or ``None``.

    Shapes:
        t: ``(T,)``; ys: ``(T, *batch, d)``; actions: ``(T-1, *batch, m)`` -> ``(T, *batch)``.

    Raises:
        TypeError: ``system`` lacks ``energy``/``power_balance``.
        ValueError: inconsistent shapes.
    """
    if not (callable(getattr(system, "energy", None)) and callable(getattr(system, "power_balance", None))):
        raise ArgumentTypeError(f"`system` must have energy(y) and power_balance(t, y, u), got {type(system).__name__}")
    if not isinstance(ys, Tensor) or not isinstance(t, Tensor) or ys.dim() < 2 or t.shape != ys.shape[:1]:
        raise ArgumentValueError(f"`t` must be (T,) and `ys` (T, *batch, d) with the same T, got "
                         f"{getattr(t, 'shape', t)} and {getattr(ys, 'shape', ys)}")
    if actions is not None and (not isinstance(actions, Tensor) or actions.shape[0] != ys.shape[0] - 1):
        raise ArgumentValueError(f"`actions` must have shape (T-1, *batch, m) = ({ys.shape[0] - 1}, ...), got "
                         f"{getattr(actions, 'shape', actions)}")
    t = t.to(ys)

    def power(tk: Tensor, y: Tensor, u: Tensor | None) -> Tensor:
        pb = system.power_balance(tk, y, u)
        return (pb["supplied"] - pb["dissipated"]).detach()

    energy = system.energy(ys).detach()
    work = [torch.zeros_like(energy[0])]
    for k in range(ys.shape[0] - 1):
        u = None if actions is None else actions[k]
        h = t[k + 1] - t[k]
        work.append(work[-1] + 0.5 * h * (power(t[k], ys[k], u) + power(t[k + 1], ys[k + 1], u)))
    return energy - energy[0] - torch.stack(work)
