"""Trajectory datasets: times, states, time derivatives and actions, time first; time travels with every sample."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from physwm._errors import ArgumentTypeError, ArgumentValueError
from physwm._validate import integer, nonnegative, positive_int
from physwm._validate import tensor as check_tensor
from physwm.integrate import solve

__all__ = ["TrajectoryData", "Samples", "make_trajectories"]


@dataclass(frozen=True)
class Samples:
    """Flat ``(t, y, dy/dt[, u])`` samples: what derivative matching trains on.

    Attributes:
        t: the time of each sample ``(N,)``.
        y: states ``(N, d)``.
        dydt: time derivatives ``(N, d)``.
        u: actions in force ``(N, m)``, or ``None``.
    """

    t: Tensor
    y: Tensor
    dydt: Tensor
    u: Tensor | None = None

    def __len__(self) -> int:
        return self.y.shape[0]

    def take(self, index: Tensor | slice) -> Samples:
        """The samples ``index``."""
        return Samples(self.t[index], self.y[index], self.dydt[index], None if self.u is None else self.u[index])


@dataclass(frozen=True)
class TrajectoryData:
    """Trajectories sampled at common times.

    Attributes:
        t: sample times ``(T,)`` (s, or the system's time unit); absolute, so forced
            (non-autonomous) dynamics can be learned.
        ys: states ``(T, B, d)``.
        dydt: time derivatives ``(T, B, d)``: exact for simulated data (``f(t_k, y_k[, u_k])``),
            finite differences for measured data.
        actions: for controlled systems, the action ``u`` ``(T, B, m)`` in force at each sample
            (held over ``[t_k, t_{k+1})``); ``None`` for autonomous data.

    Raises:
        TypeError: a field that is not a floating tensor, or ``dydt``/``actions`` in another dtype
            than ``ys`` (``t`` may be float64 beside float32 states).
        ValueError: inconsistent shapes, NaN or inf entries (named with their count).

    Example:
        >>> from physwm.systems import Pendulum
        >>> data = make_trajectories(Pendulum(), 3, torch.linspace(0, 1, 11, dtype=torch.float64))
        >>> data.ys.shape, data.samples().t.shape
        (torch.Size([11, 3, 2]), torch.Size([33]))
    """

    t: Tensor
    ys: Tensor
    dydt: Tensor
    actions: Tensor | None = None

    def __post_init__(self):
        for name in ("t", "ys", "dydt") + (("actions",) if self.actions is not None else ()):
            check_tensor(name, getattr(self, name), finite=True)
            if name != "t" and getattr(self, name).dtype != self.ys.dtype:  # times may be kept in float64
                raise ArgumentTypeError(f"`{name}` must have the dtype of `ys` ({self.ys.dtype}), got "
                                        f"{getattr(self, name).dtype}")
        if self.ys.dim() != 3 or self.dydt.shape != self.ys.shape or self.t.shape != self.ys.shape[:1]:
            raise ArgumentValueError(f"TrajectoryData needs t (T,), ys and dydt (T, B, d); got t {tuple(self.t.shape)}, "
                                     f"ys {tuple(self.ys.shape)}, dydt {tuple(self.dydt.shape)}")
        if self.actions is not None:
            check_tensor("actions", self.actions)
            if self.actions.dim() != 3 or self.actions.shape[:2] != self.ys.shape[:2]:
                raise ArgumentValueError(f"TrajectoryData.actions must have shape (T, B, m) = ({self.ys.shape[0]}, "
                                         f"{self.ys.shape[1]}, m), got {tuple(self.actions.shape)}")

    def __len__(self) -> int:
        return self.t.shape[0]

    @property
    def n_trajectories(self) -> int:
        return self.ys.shape[1]

    def samples(self) -> Samples:
        """Every ``(t, y, dy/dt[, u])`` sample, flattened time-major: ``N = T * B``."""
        d = self.ys.shape[-1]
        t = self.t.unsqueeze(1).expand(self.ys.shape[:2]).reshape(-1)
        u = None if self.actions is None else self.actions.reshape(-1, self.actions.shape[-1])
        return Samples(t, self.ys.reshape(-1, d), self.dydt.reshape(-1, d), u)

    def window_starts(self, horizon: int, *, rtol: float = 1e-6) -> Tensor:
        """Start indices of the gap-free windows of ``horizon + 1`` samples on the nominal (median) spacing.

        Measured data miss frames here and there (:meth:`gaps`); a window over a gap would ask a model to
        predict across a longer interval than the others, so it is left out.
        """
        positive_int("horizon", horizon)
        dt = self.t.diff()
        nominal = dt.median()
        ok = ((dt - nominal).abs() <= rtol * nominal.abs()).to(torch.int64)
        run = torch.cat([torch.zeros(1, dtype=torch.int64, device=ok.device), ok.cumsum(0)])
        starts = torch.arange(max(len(self) - horizon, 0), device=ok.device)
        return starts[(run[starts + horizon] - run[starts]) == horizon]

    def _select(self, time: slice = slice(None), traj: slice = slice(None)) -> TrajectoryData:
        acts = None if self.actions is None else self.actions[time, traj]
        return TrajectoryData(self.t[time], self.ys[time, traj], self.dydt[time, traj], acts)

    def split_time(self, fraction: float) -> tuple[TrajectoryData, TrajectoryData]:
        """The first ``int(fraction * T)`` samples in time, and the rest (the HNN paper's split)."""
        if not 0 < fraction < 1:
            raise ArgumentValueError(f"`fraction` must lie in (0, 1), got {fraction!r}")
        k = int(fraction * len(self))
        if k < 2 or len(self) - k < 2:
            raise ArgumentValueError(f"split at {fraction} leaves fewer than 2 samples on one side of {len(self)}")
        return self._select(time=slice(None, k)), self._select(time=slice(k, None))

    def split_trajectories(self, n_train: int) -> tuple[TrajectoryData, TrajectoryData]:
        """The first ``n_train`` trajectories and the rest."""
        integer("n_train", n_train, minimum=1, maximum=self.n_trajectories - 1)
        return self._select(traj=slice(None, n_train)), self._select(traj=slice(n_train, None))

    def gaps(self, factor: float = 1.5) -> Tensor:
        """Indices ``i`` where ``t[i+1] - t[i]`` exceeds ``factor`` times the median spacing
        (missing frames of measured data)."""
        dt = self.t.diff()
        return (dt.abs() > factor * dt.abs().median()).nonzero().flatten()

    def to(self, *args: Any, **kwargs: Any) -> TrajectoryData:
        """Move/cast all tensors, like :meth:`torch.Tensor.to`.

        Raises:
            ValueError: an unknown device or a target torch refuses (the message is torch's).
        """
        try:
            acts = None if self.actions is None else self.actions.to(*args, **kwargs)
            return TrajectoryData(self.t.to(*args, **kwargs), self.ys.to(*args, **kwargs), self.dydt.to(*args, **kwargs),
                                  acts)
        except (RuntimeError, TypeError) as exc:
            raise ArgumentValueError(f"TrajectoryData.to{args or ''}{kwargs or ''}: {exc}") from None


def make_trajectories(system: Any, n: int, t: Tensor, *, y0: Tensor | None = None, action: Tensor | None = None,
                      method: str = "dopri8", rtol: float = 1e-10, atol: float = 1e-10, dt: float | None = None,
                      noise_std: float = 0.0, generator: torch.Generator | None = None) -> TrajectoryData:
    """Simulate ``n`` trajectories of ``system`` at times ``t`` with exact derivatives.

    Every sample is labelled with the field at its own time, ``dy/dt = f(t_k, y_k)``
    (``f(t_k, y_k, u_k)`` with actions), so forced systems such as :class:`~physwm.systems.Duffing`
    get correct labels at every time. Initial states come from
    ``system.sample_initial_state(n, generator=generator)`` unless ``y0`` ``(n, d)`` is given.
    Gaussian noise of standard deviation ``noise_std`` is added to the states (not to the
    derivatives), as in the HNN paper's simulated tasks.

    With ``action`` ``(T-1, n, m)`` the system is driven by it (zero-order hold over each
    ``[t_k, t_{k+1})``, :func:`physwm.solve`); the returned data then hold the ``T - 1`` samples at
    which an action is in force, with ``actions`` attached.

    Shapes:
        t: ``(T,)``; returns ``ys``, ``dydt``: ``(T, n, d)`` (``(T-1, n, d)`` with actions).

    Raises:
        ValueError: a ``y0`` of the wrong batch size, negative ``noise_std``.

    Example:
        >>> from physwm.systems import Duffing
        >>> data = make_trajectories(Duffing(), 2, torch.linspace(0, 2, 5, dtype=torch.float64))
        >>> data.dydt.shape
        torch.Size([5, 2, 2])
    """
    positive_int("n", n)
    noise_std = nonnegative("noise_std", noise_std)
    t = torch.as_tensor(t)
    dtype = t.dtype if t.is_floating_point() else torch.float64
    if y0 is None:
        y0 = system.sample_initial_state(n, generator=generator, dtype=dtype, device=t.device)
    if y0.shape[0] != n:
        raise ArgumentValueError(f"`y0` must have shape ({n}, d), got {tuple(y0.shape)}")
    with torch.no_grad():
        ys = solve(system, y0, t, method=method, rtol=rtol, atol=atol, dt=dt, action=action).ys
        t = t.to(ys)
        if action is not None:
            ys, t, action = ys[:-1], t[:-1], action.to(ys)
        t_k = t.reshape(-1, *([1] * (ys.dim() - 2))).expand(ys.shape[:-1])
        dydt = system(t_k, ys) if action is None else system(t_k, ys, action)
        if noise_std > 0:
            ys = ys + noise_std * torch.randn(ys.shape, generator=generator, dtype=ys.dtype).to(ys.device)
    return TrajectoryData(t, ys, dydt, action)
