"""Learned pendulum models, simulated and measured: HNN against a neural ODE (the HNN paper's real pendulum)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

import physwm
from physwm.bench._plotting import pyplot, save_figure
from physwm.bench._tables import row
from physwm.bench.config import BenchConfig
from physwm.data import TrajectoryData, load_schmidt_lipson, make_trajectories
from physwm.models import HNN, NeuralODE
from physwm.references import REAL_PENDULUM
from physwm.systems import Pendulum
from physwm.training import fit

__all__ = ["REAL_PENDULUM_K", "real_pendulum_energy", "run", "table", "plots"]

#: The HNN code's energy for the measured pendulum: H = 2.4 (1 - cos q) + p^2 (q = angle, p = angular velocity).
REAL_PENDULUM_K = 2.4


def real_pendulum_energy(y: torch.Tensor) -> torch.Tensor:
    """The HNN paper's energy of the measured pendulum, ``2.4 (1 - cos q) + p²``."""
    return REAL_PENDULUM_K * (1 - torch.cos(y[..., 0])) + y[..., 1] ** 2


def _case(task: str, train: TrajectoryData, test: TrajectoryData, energy: Callable, cfg: BenchConfig,
          rollout_dt: float, steps: int) -> tuple[list[dict], dict[str, Any]]:
    t_roll = test.t - test.t[0]
    horizon = cfg.section("pendulum")["rollout_horizon"]
    keep = len(t_roll) if horizon is None else int((t_roll <= horizon).sum())  # the smoke budget: the start only
    t_roll, truth = t_roll[:keep], test.ys[:keep]
    rows, portraits = [], {"true": truth[:, 0].cpu().tolist()}
    for label, make in (("NeuralODE", lambda: NeuralODE(2)), ("HNN", lambda: HNN(1))):
        torch.manual_seed(cfg.seed)
        model = make().to(device=cfg.device, dtype=train.ys.dtype)
        start = time.perf_counter()
        hist = fit(model, train.to(cfg.device), steps=steps, lr=1e-3, weight_decay=1e-5, val_data=test.to(cfg.device),
                   eval_every=max(steps // 10, 1), seed=cfg.seed, progress=False)
        seconds = time.perf_counter() - start
        with torch.no_grad():
            roll = physwm.solve(model, truth[0].to(cfg.device), t_roll.to(cfg.device), method="rk4", dt=rollout_dt).ys.cpu()
        rows.append({"task": task, "model": label, "train_steps": hist.steps, "train_loss": hist.train_loss[-1],
                     "test_loss": hist.val_loss[-1], "energy_mse": float(((energy(truth) - energy(roll)) ** 2).mean()),
                     "rollout_state_mse": float(((roll - truth) ** 2).mean()), "rollout_horizon": float(t_roll[-1]),
                     "train_seconds": seconds})
        portraits[label] = roll[:, 0].tolist()
    return rows, portraits


def run(cfg: BenchConfig) -> dict[str, Any]:
    """The simulated pendulum (noisy trajectories, held-out trajectories) and the measured one (80/20 split in time)."""
    pend = Pendulum(m=1.0, l=1.0, g=3.0)
    sim = make_trajectories(pend, 50, torch.linspace(0, 3, 31, dtype=torch.float64), noise_std=0.1,
                            generator=torch.Generator().manual_seed(cfg.seed)).to(torch.float32)
    s = cfg.section("pendulum")
    rows, portraits = _case("sim_pendulum", *sim.split_trajectories(25), lambda y: pend.energy(y.double()).float(), cfg, 0.01,
                            s["sim_steps"])
    for r in rows:
        r["note"] = "test loss on 25 held-out noisy trajectories; energy MSE over a 3 s test rollout"
    real = load_schmidt_lipson("real_pend_h_1.txt", derivative="forward", dtype=torch.float32)
    # the measured pendulum at the HNN paper's budget (2000 full-batch Adam steps in quick)
    real_rows, real_portraits = _case("real_pendulum", *real.split_time(0.8), real_pendulum_energy, cfg, 1 / 60, s["steps"])
    return {"rows": rows + real_rows, "portraits": {"sim_pendulum": portraits, "real_pendulum": real_portraits}}


def table(res: dict[str, Any]) -> str:
    lines = ["Learned pendulum models (test split = last 20% in time for the real pendulum)",
             row(["task", "model", "steps", "test loss", "energy MSE", "paper loss", "paper E-MSE"], 13)]
    for r in res["rows"]:
        paper = REAL_PENDULUM[r["model"]] if r["task"] == "real_pendulum" else {}
        lines.append(row([r["task"], r["model"], r["train_steps"], r["test_loss"], r["energy_mse"],
                          paper["test_loss"].value if paper else None, paper["energy_mse"].value if paper else None], 13))
    return "\n".join(lines)


def plots(out: Path, res: dict[str, Any]) -> list[str]:
    plt = pyplot()
    files = []
    for task, pt in res["portraits"].items():
        fig, ax = plt.subplots(figsize=(5, 5))
        for label, pts in pt.items():
            ax.plot([p[0] for p in pts], [p[1] for p in pts], "k." if label == "true" else "-", ms=3, label=label, lw=1)
        ax.set(xlabel="q", ylabel="p", title=f"phase portrait, test rollout: {task}")
        ax.legend()
        files.append(save_figure(fig, out, f"phase_portrait_{task}.png"))
    return files
