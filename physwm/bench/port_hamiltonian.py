"""Damped, forced and controlled systems: power-balance residuals of the integrators, and PHNN as a world model."""

from __future__ import annotations

import time
from typing import Any

import torch
from torch import Tensor

import physwm
from physwm.bench._tables import row
from physwm.bench.config import BenchConfig
from physwm.data import make_trajectories
from physwm.diagnostics import power_balance_residual, valid_prediction_time
from physwm.models import PHNN, NeuralODE
from physwm.systems import DampedPendulum, Duffing, MassSpringDamper
from physwm.training import DerivativeMatching, fit

__all__ = ["PB_METHODS", "run", "table"]

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


def power_balance_rows(horizon_scale: float, device: torch.device) -> list[dict[str, Any]]:
    """Integrate each system with each method; report the power-balance error instead of an energy drift.

    The error ``H(t) - H(0) - W(t)``, with the work ``W = ∫(supplied - dissipated) dt`` integrated by
    the same method alongside the state, is normalised by the energy scale ``max |H|`` of the run.
    """
    dev = device
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


def _controlled(sys, n_traj: int, n_steps: int, dt: float, gen: torch.Generator):
    """Trajectories under random piecewise-constant torques in [-1, 1] (zero-order hold): the samples with their
    actions, and the full state series for open-loop rollouts."""
    y0 = sys.sample_initial_state(n_traj, generator=gen)
    t = torch.arange(n_steps + 1, dtype=torch.float64) * dt
    u = 2.0 * torch.rand(n_steps, n_traj, 1, generator=gen, dtype=torch.float64) - 1.0
    data = make_trajectories(sys, n_traj, t, y0=y0, action=u)
    with torch.no_grad():
        ys = physwm.solve(sys, y0, t, method="dopri8", rtol=1e-10, atol=1e-10, action=u).ys
    return data, t, ys


def phnn_task(steps: int, seed: int, device: torch.device) -> list[dict[str, Any]]:
    """PHNN vs an action-conditioned neural ODE on a damped pendulum driven by random torques.

    Trained on ``(t, y, u) -> dy/dt`` samples; tested by open-loop rollouts under held-out action
    sequences (zero-order hold). Reports the learned damping against the true ``b``.
    """
    sys = DampedPendulum(b=0.3)
    gen = torch.Generator().manual_seed(seed)
    dt = 0.05
    train, _, _ = _controlled(sys, 32, 60, dt, gen)
    test, t_test, ys_test = _controlled(sys, 8, 100, dt, gen)
    u_test = test.actions
    rows = []
    models = {"PHNN": lambda: PHNN(1, action_dim=1, hidden=(64, 64), dissipation="constant"),
              "ActionMLP": lambda: NeuralODE(2, hidden=(64, 64), action_dim=1)}
    scale = ys_test.reshape(-1, 2).std(0)
    for label, make in models.items():
        torch.manual_seed(seed)  # before building the model: its initialisation is part of the seeded run
        model = make().to(device=device, dtype=torch.float64)
        start = time.perf_counter()
        hist = fit(model, DerivativeMatching(train.to(device), batch_size=256), steps=steps, lr=1e-3,
                   val_data=test.to(device), seed=seed, progress=False)
        seconds = time.perf_counter() - start
        roll = physwm.integrate.rollout(model, ys_test[0].to(device), t_test.to(device), method="rk4", dt=dt / 5,
                                        action=u_test.to(device), chunk=len(t_test)).cpu()
        vpt = valid_prediction_time(roll, ys_test, t_test, scale=scale)
        r = {"task": "controlled_damped_pendulum", "model": label, "train_steps": steps, "test_loss": hist.val_loss[-1],
             "rollout_state_mse": float(((roll - ys_test) ** 2).mean()), "vpt": float(vpt.mean()),
             "horizon": float(t_test[-1]), "train_seconds": seconds, "true_damping": sys.damping, "learned_damping": None}
        if label == "PHNN":
            # ṗ = -∂H/∂q - R_pp ∂H/∂p + u with ∂H/∂p = q̇ once H is learned: R_pp is the viscous coefficient b.
            with torch.no_grad():
                r["learned_damping"] = float(model.dissipation_matrix(train.ys[0, :1].to(device))[0, 1, 1])
            pb = power_balance_residual(model, t_test.to(device), roll.to(device), u_test.to(device))
            r["power_balance_residual"] = float(pb.abs().max())
        rows.append(r)
    return rows


def run(cfg: BenchConfig) -> dict[str, Any]:
    s = cfg.section("port_hamiltonian")
    return {"power_balance": power_balance_rows(s["horizon_scale"], cfg.torch_device),
            "phnn": phnn_task(s["phnn_steps"], cfg.seed, cfg.torch_device)}


def table(res: dict[str, Any]) -> str:
    lines = ["Damped / forced / controlled systems (float64): power-balance error H(t)-H(0)-W(t), relative to max|H|",
             row(["system", "method", "dt", "steps", "max|resid|", "max|y-ref|"], 18)]
    for r in res["power_balance"]:
        lines.append(row([r["system"], r["method"], r["dt"], r["steps"], r["max_power_balance_residual"],
                          r["max_state_error"]], 18))
    lines += ["", "PHNN as an action-conditioned world model (damped pendulum, random torques, open-loop rollouts)",
              row(["model", "test loss", "rollout MSE", "VPT", "horizon", "damping", "true damping"], 14)]
    for r in res["phnn"]:
        lines.append(row([r["model"], r["test_loss"], r["rollout_state_mse"], r["vpt"], r["horizon"], r["learned_damping"],
                          r["true_damping"]], 14, style="auto"))
    return "\n".join(lines)
