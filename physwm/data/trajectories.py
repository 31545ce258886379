"""Trajectory datasets: states, times and time derivatives, time first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from physwm.integrate import solve

__all__ = ["TrajectoryData", "make_trajectories"]


@dataclass(frozen=True)
class TrajectoryData:
    """Trajectories sampled at common times.

    Attributes:
        t: sample times ``(T,)`` (s, or the system's time unit).
        ys: states ``(T, B, d)``.
        dydt: time derivatives ``(T, B, d)``: exact for simulated data, finite differences for
            measured data.
        actions: for controlled systems, the action ``u`` ``(T, B, m)`` in force at each sample
            (the derivative is ``f(t, y, u)``); ``None`` for autonomous data.

    Example:
        >>> from physwm.systems import Pendulum
        >>> data = make_trajectories(Pendulum(), 3, torch.linspace(0, 1, 11, dtype=torch.float64))
        >>> data.ys.shape, data.pairs()[0].shape
        (torch.Size([11, 3, 2]), torch.Size([33, 2]))
    """

    t: Tensor
    ys: Tensor
    dydt: Tensor
    actions: Tensor | None = None

    def __post_init__(self):
        if self.ys.dim() != 3 or self.dydt.shape != self.ys.shape or self.t.shape != self.ys.shape[:1]:
            raise ValueError(f"TrajectoryData needs t (T,), ys and dydt (T, B, d); got t {tuple(self.t.shape)}, "
                             f"ys {tuple(self.ys.shape)}, dydt {tuple(self.dydt.shape)}")
        if self.actions is not None and (self.actions.dim() != 3 or self.actions.shape[:2] != self.ys.shape[:2]):
            raise ValueError(f"TrajectoryData.actions must have shape (T, B, m) = ({self.ys.shape[0]}, "
                             f"{self.ys.shape[1]}, m), got {tuple(self.actions.shape)}")

    def __len__(self) -> int:
        return self.t.shape[0]

    def pairs(self) -> tuple[Tensor, Tensor]:
        """All ``(state, derivative)`` samples flattened: ``(T*B, d)`` each (derivative matching)."""
        d = self.ys.shape[-1]
        return self.ys.reshape(-1, d), self.dydt.reshape(-1, d)

    def flat_actions(self) -> Tensor | None:
        """The actions aligned with :meth:`pairs`, ``(T*B, m)``, or ``None``."""
        return None if self.actions is None else self.actions.reshape(-1, self.actions.shape[-1])

    def _select(self, time: slice = slice(None), traj: slice = slice(None)) -> TrajectoryData:
        acts = None if self.actions is None else self.actions[time, traj]
        return TrajectoryData(self.t[time], self.ys[time, traj], self.dydt[time, traj], acts)

    def split_time(self, fraction: float) -> tuple[TrajectoryData, TrajectoryData]:
        """The first ``int(fraction * T)`` samples in time, and the rest (the HNN paper's split)."""
        if not 0 < fraction < 1:
            raise ValueError(f"`fraction` must lie in (0, 1), got {fraction}")
        k = int(fraction * len(self))
        if k < 2 or len(self) - k < 2:
            raise ValueError(f"split at {fraction} leaves fewer than 2 samples on one side of {len(self)}")
        return self._select(time=slice(None, k)), self._select(time=slice(k, None))

    def split_trajectories(self, n_train: int) -> tuple[TrajectoryData, TrajectoryData]:
        """The first ``n_train`` trajectories and the rest."""
        if not 0 < n_train < self.ys.shape[1]:
            raise ValueError(f"`n_train` must lie in (0, {self.ys.shape[1]}), got {n_train}")
        return self._select(traj=slice(None, n_train)), self._select(traj=slice(n_train, None))

    def gaps(self, factor: float = 1.5) -> Tensor:
        """Indices ``i`` where ``t[i+1] - t[i]`` exceeds ``factor`` times the median spacing
        (missing frames of measured data)."""
        dt = self.t.diff()
        return (dt.abs() > factor * dt.abs().median()).nonzero().flatten()

    def to(self, *args: Any, **kwargs: Any) -> TrajectoryData:
        """Move/cast all tensors, like :meth:`torch.Tensor.to`."""
        acts = None if self.actions is None else self.actions.to(*args, **kwargs)
        return TrajectoryData(self.t.to(*args, **kwargs), self.ys.to(*args, **kwargs), self.dydt.to(*args, **kwargs), acts)


def make_trajectories(system: Any, n: int, t: Tensor, *, y0: Tensor | None = None, method: str = "dopri8",
                      rtol: float = 1e-10, atol: float = 1e-10, dt: float | None = None,
                      noise_std: float = 0.0, generator: torch.Generator | None = None) -> TrajectoryData:
    """Simulate ``n`` trajectories of ``system`` at times ``t`` with exact derivatives.

    Initial states come from ``system.sample_initial_state(n, generator=generator)`` unless
    ``y0`` ``(n, d)`` is given. Gaussian noise of standard deviation ``noise_std`` is added to
    the states (not to the derivatives), as in the HNN paper's simulated tasks.

    Shapes:
        t: ``(T,)``; returns ``ys``, ``dydt``: ``(T, n, d)``.
    """
    t = torch.as_tensor(t)
    dtype = t.dtype if t.is_floating_point() else torch.float64
    if y0 is None:
        y0 = system.sample_initial_state(n, generator=generator, dtype=dtype, device=t.device)
    if y0.shape[0] != n:
        raise ValueError(f"`y0` must have shape ({n}, d), got {tuple(y0.shape)}")
    if noise_std < 0:
        raise ValueError(f"`noise_std` must be >= 0, got {noise_std}")
    with torch.no_grad():
        ys = solve(system, y0, t, method=method, rtol=rtol, atol=atol, dt=dt).ys
        dydt = system(t[0], ys)
        if noise_std > 0:
            ys = ys + noise_std * torch.randn(ys.shape, generator=generator, dtype=ys.dtype).to(ys.device)
    return TrajectoryData(t.to(ys), ys, dydt)
