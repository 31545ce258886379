"""Damped, forced and controlled systems: power-balance residuals of the integrators, and PHNN as a world model."""

from __future__ import annotations

import math
import time
from typing import Any

import torch
from torch import Tensor, nn

import physwm
from physwm.data import TrajectoryData
from physwm.diagnostics import power_balance_residual, valid_prediction_time
from physwm.models import PHNN
from physwm.nn import MLP
from physwm.systems import DampedPendulum, Duffing, MassSpringDamper
from physwm.training import fit

__all__ = ["power_balance_rows", "phnn_task", "PB_METHODS"]

PB_METHODS = ("rk4", "dopri5", "implicit_midpoint")


def _systems() -> list[tuple[str, Any, bool]]:
    """(name, system, driven by an action sequence)."""
    return [("damped_pendulum", DampedPendulum(b=0.3), True), ("mass_spring_damper", MassSpringDamper(c=0.2), True),
            ("duffing", Duffing.regular(), False), ("duffing_chaotic", Duffing.chaotic(), False)]


class _WithWork:
    """``[y, W]`` with ``Ẇ = supplied - dissipated``: integrating the work alongside the state makes
    ``H(y) - H(y0) - W`` the integrator's own power-balance error (no quadrature error on top)."""

    def __init__(self, sys):
        self.sys = sys

    def __call__(self, t: Tensor, z: Tensor, u: Tensor | None = None) -> Tensor:
        y = z[..., :-1]
        pb = self.sys.power_balance(t, y, u)
        return torch.cat([self.sys(t, y, u), (pb["supplied"] - pb["dissipated"]).unsqueeze(-1)], -1)


def power_balance_rows(horizon_scale: float, device: str = "cpu") -> list[dict[str, Any]]:
    """Integrate each system with each method; report the power-balance error instead of an energy drift.

    The error ``H(t) - H(0) - W(t)``, with the work ``W = ∫(supplied - dissipated) dt`` integrated by
    the same method alongside the state, is normalised by the energy scale ``max |H|`` of the run.
    """
    dev = torch.device(device)
    rows = []
    dt = 0.01
    n = max(20, int(round(20.0 * horizon_scale / dt)))
    t = torch.linspace(0.0, n * dt, min(n, 200) + 1, dtype=torch.float64, device=dev)
    for name, sys, driven in _systems():
        z0 = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64, device=dev)
        action = (0.5 * torch.sin(0.7 * t[:-1])).reshape(-1, 1) if driven else None
        field = _WithWork(sys)
        with torch.no_grad():
            ref = physwm.solve(field, z0, t, method="dopri8", rtol=1e-12, atol=1e-12, action=action).ys[..., :2]
        scale = float(sys.energy(ref).abs().max())
        for method in PB_METHODS:
            kw = {"rtol": 1e-6, "atol": 1e-9} if method == "dopri5" else {"dt": dt}
            start = time.perf_counter()
            with torch.no_grad():
                sol = physwm.solve(field, z0, t, method=method, action=action, **kw)
            wall = time.perf_counter() - start
            ys, work = sol.ys[..., :2], sol.ys[..., 2]
            res = sys.energy(ys) - sys.energy(ys[0]) - work
            rows.append({"system": name, "method": method, "dt": kw.get("dt", "adaptive"), "t_end": float(t[-1]),
                         "steps": sol.n_steps, "max_power_balance_residual": float(res.abs().max()) / scale,
                         "max_state_error": float((ys - ref).abs().max()), "seconds": wall})
    return rows


class ActionMLP(nn.Module):
    """Unstructured action-conditioned baseline ``ẏ = MLP([y, u])``."""

    def __init__(self, dim: int, action_dim: int, hidden=(64, 64)):
        super().__init__()
        self.net = MLP(dim + action_dim, dim, hidden)

    def forward(self, t: Tensor, y: Tensor, u: Tensor) -> Tensor:
        return self.net(torch.cat([y, u.expand(*y.shape[:-1], u.shape[-1])], -1))


def _controlled_data(sys, n_traj: int, n_steps: int, dt: float, gen: torch.Generator) -> tuple[TrajectoryData, Tensor, Tensor]:
    """Trajectories under random piecewise-constant torques: the training samples (actions attached),
    and the full state series and action sequences for open-loop rollouts."""
    y0 = sys.sample_initial_state(n_traj, generator=gen)
    t = torch.arange(n_steps + 1, dtype=torch.float64) * dt
    u = 2.0 * torch.rand(n_steps, n_traj, 1, generator=gen, dtype=torch.float64) - 1.0
    with torch.no_grad():
        sol = physwm.solve(sys, y0, t, method="dopri8", rtol=1e-10, atol=1e-10, action=u)
    ys = sol.ys[:-1]
    return TrajectoryData(t[:-1], ys, sys(t[0], ys, u), u), t, sol.ys


def phnn_task(steps: int, seed: int = 0, device: str = "cpu") -> list[dict[str, Any]]:
    """PHNN vs an action-conditioned MLP on a damped pendulum driven by random torques.

    Trained on ``(y, u) -> dy/dt`` pairs; tested by open-loop rollouts under held-out action
    sequences (zero-order hold). Reports the learned damping against the true ``b``.
    """
    dev = torch.device(device)
    sys = DampedPendulum(b=0.3)
    gen = torch.Generator().manual_seed(seed)
    dt = 0.05
    train, _, _ = _controlled_data(sys, 32, 60, dt, gen)
    test, t_test, ys_test = _controlled_data(sys, 8, 100, dt, gen)
    u_test = test.actions
    rows = []
    models = {"PHNN": lambda: PHNN(1, action_dim=1, hidden=(64, 64), dissipation="constant"),
              "ActionMLP": lambda: ActionMLP(2, 1)}
    scale = ys_test.reshape(-1, 2).std(0)
    for label, make in models.items():
        torch.manual_seed(seed)  # before building the model: its initialisation is part of the seeded run
        model = make().to(device=dev, dtype=torch.float64)
        start = time.perf_counter()
        hist = fit(model, train.to(dev), steps=steps, lr=1e-3, batch_size=256, val_data=test.to(dev),
                   eval_every=steps, seed=seed, progress=False)
        seconds = time.perf_counter() - start
        try:
            with torch.no_grad():
                roll = physwm.solve(model, ys_test[0].to(dev), t_test.to(dev), method="rk4", dt=dt / 5,
                                    action=u_test.to(dev)).ys.cpu()
        except physwm.IntegrationError:
            roll = torch.full_like(ys_test, math.nan)
        vpt = valid_prediction_time(roll, ys_test, t_test, scale=scale)
        row = {"task": "controlled_damped_pendulum", "model": label, "train_steps": steps, "test_loss": hist.val_loss[-1],
               "rollout_state_mse": float(((roll - ys_test) ** 2).mean()), "vpt": float(vpt.mean()),
               "horizon": float(t_test[-1]), "train_seconds": seconds, "true_damping": sys.damping,
               "learned_damping": None}
        if label == "PHNN":
            # ṗ = -∂H/∂q - R_pp ∂H/∂p + u with ∂H/∂p = q̇ once H is learned: R_pp is the viscous coefficient b.
            with torch.no_grad():
                row["learned_damping"] = float(model.dissipation_matrix(train.ys[0, :1].to(dev))[0, 1, 1])
            pb = power_balance_residual(model, t_test.to(dev), roll.to(dev), u_test.to(dev))
            row["power_balance_residual"] = float(pb.abs().max())
        rows.append(row)
    return rows
