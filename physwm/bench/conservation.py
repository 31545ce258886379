"""The conservation benchmark: integrators x systems, and learned pendulum models on real data."""

from __future__ import annotations

import json
import math
import os
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

import physwm
from physwm.bench._plotting import pyplot, save_figure
from physwm.bench._tables import row
from physwm.bench.double_pendulum import DoublePendulumConfig, chaos_table, plot_double_pendulum, run_double_pendulum
from physwm.bench.nbody import NBodyConfig, nbody_tables, plot_nbody, run_nbody
from physwm.bench.pinn import PINNBenchConfig, pinn_tables, plot_pinn, run_pinn
from physwm.bench.port_hamiltonian import phnn_task, power_balance_rows
from physwm.data import TrajectoryData, load_schmidt_lipson, make_trajectories
from physwm.diagnostics import (
    angular_momentum_error,
    energy_drift,
    momentum_error,
    relative_energy_error,
)
from physwm.models import HNN, NeuralODE
from physwm.systems import FIGURE_EIGHT_PERIOD, HarmonicOscillator, Kepler, Pendulum, figure_eight
from physwm.training import fit

__all__ = ["BenchConfig", "run_benchmark", "METHODS", "PAPER_REAL_PENDULUM"]

METHODS = ("euler", "rk4", "dopri5", "symplectic_euler", "leapfrog", "yoshida4", "implicit_midpoint")

#: Greydanus et al. 2019 (HNN repository README), real pendulum, 80/20 split in time.
PAPER_REAL_PENDULUM = {"NeuralODE": {"test_loss": 2.19e-3, "energy_mse": 3.86e-1},
                       "HNN": {"test_loss": 5.96e-3, "energy_mse": 1.45e-2}}
#: The HNN code's energy for the measured pendulum: H = 2.4 (1 - cos q) + p^2 (q = angle, p = angular velocity).
REAL_PENDULUM_K = 2.4


@dataclass
class BenchConfig:
    """Settings of one benchmark run.

    ``quick`` (default) finishes in minutes on a laptop CPU; ``full`` uses 10x longer horizons
    and 5x more training; ``smoke`` is a tiny budget for the test suite.
    """

    mode: str = "quick"
    device: str = "cpu"
    out: str = "bench-results"
    data: str | None = None
    seed: int = 0
    progress: bool = True

    @property
    def horizon_scale(self) -> float:
        return {"smoke": 0.05, "quick": 1.0, "full": 10.0}[self.mode]

    @property
    def train_steps(self) -> int:
        return {"smoke": 30, "quick": 2000, "full": 10000}[self.mode]


def _problems(cfg: BenchConfig, dtype: torch.dtype, device: torch.device) -> list[dict[str, Any]]:
    s = cfg.horizon_scale
    osc = HarmonicOscillator()
    pend = Pendulum()
    kep = Kepler()
    fig8, y8 = figure_eight(dtype=dtype, device=device)
    y_kep = kep.orbit_state(0.5, dtype=dtype, device=device)
    return [
        dict(name="harmonic_oscillator", system=osc, y0=torch.tensor([1.0, 0.0], dtype=dtype, device=device),
             t_end=100.0 * s, dt=0.05, exact=osc.exact_solution),
        dict(name="pendulum", system=pend, y0=torch.tensor([2.0, 0.0], dtype=dtype, device=device),
             t_end=50.0 * s, dt=0.02, exact=None),
        dict(name="kepler_e0.5", system=kep, y0=y_kep, t_end=20 * math.pi * s, dt=0.01, exact=kep.exact_solution),
        dict(name="figure_eight", system=fig8, y0=y8, t_end=4 * FIGURE_EIGHT_PERIOD * s, dt=0.005, exact=None,
             particles=fig8.split_particles),
    ]


def _conservation_rows(cfg: BenchConfig, bar: tqdm) -> tuple[list[dict], dict[str, dict[str, Any]]]:
    device = torch.device(cfg.device)
    dtype = torch.float64
    rows, curves = [], {}
    for prob in _problems(cfg, dtype, device):
        system, y0, dt = prob["system"], prob["y0"], prob["dt"]
        n_steps = max(10, int(round(prob["t_end"] / dt)))
        t_end = n_steps * dt
        n_out = min(n_steps, 500) + 1
        t = torch.linspace(0.0, t_end, n_out, dtype=dtype, device=device)
        if prob["exact"] is not None:
            ref = prob["exact"](t, y0)
        else:
            ref = physwm.solve(system, y0, t, method="dopri8", rtol=1e-13, atol=1e-13).ys
        curves[prob["name"]] = {"t": t.cpu().tolist()}
        for method in METHODS:
            kwargs = {"rtol": 1e-6, "atol": 1e-9} if method == "dopri5" else {"dt": dt}
            with torch.no_grad():
                if device.type == "cuda":
                    torch.cuda.synchronize()
                start = time.perf_counter()
                sol = physwm.solve(system, y0, t, method=method, **kwargs)
                if device.type == "cuda":
                    torch.cuda.synchronize()
                wall = time.perf_counter() - start
            energies = system.energy(sol.ys)
            rel = relative_energy_error(energies)
            row = {
                "system": prob["name"], "method": method, "dt": kwargs.get("dt", "adaptive"), "t_end": t_end,
                "steps": sol.n_steps, "fevals": sol.n_fevals,
                "max_rel_energy_error": float(rel.max()),
                "energy_drift_per_time": float(energy_drift(energies, t)),
                "max_state_error": float((sol.ys - ref).abs().max()),
                "reference": "exact" if prob["exact"] is not None else "dopri8 rtol=atol=1e-13",
                "us_per_step": 1e6 * wall / max(sol.n_steps, 1),
                "momentum_error": None, "angular_momentum_error": None,
            }
            if "particles" in prob:
                q, p = prob["particles"](sol.ys)
                row["momentum_error"] = float(momentum_error(p).max())
                row["angular_momentum_error"] = float(angular_momentum_error(q, p).max())
            elif prob["name"].startswith("kepler"):
                L = system.angular_momentum(sol.ys)
                row["angular_momentum_error"] = float((L - L[0]).abs().max() / L[0].abs())
            rows.append(row)
            curves[prob["name"]][method] = rel.cpu().tolist()
            bar.update(1)
    return rows, curves


def _energy_real(y: torch.Tensor) -> torch.Tensor:
    q, p = y[..., 0], y[..., 1]
    return REAL_PENDULUM_K * (1 - torch.cos(q)) + p**2


def _learned_case(name: str, train: TrajectoryData, test: TrajectoryData, energy: Callable, cfg: BenchConfig,
                  rollout_dt: float, bar: tqdm) -> tuple[list[dict], dict[str, Any]]:
    rows, portraits = [], {"true": test.ys[:, 0].cpu().tolist()}
    t_roll = test.t - test.t[0]
    for label, make in (("NeuralODE", lambda: NeuralODE(2)), ("HNN", lambda: HNN(1))):
        torch.manual_seed(cfg.seed)
        model = make().to(device=cfg.device, dtype=train.ys.dtype)
        start = time.perf_counter()
        hist = fit(model, train.to(cfg.device), steps=cfg.train_steps, lr=1e-3, weight_decay=1e-5,
                   val_data=test.to(cfg.device), eval_every=max(cfg.train_steps // 10, 1), seed=cfg.seed,
                   progress=False)
        train_time = time.perf_counter() - start
        y0 = test.ys[0].to(cfg.device)
        with torch.no_grad():
            roll = physwm.solve(model, y0, t_roll.to(cfg.device), method="rk4", dt=rollout_dt).ys.cpu()
        e_true, e_model = energy(test.ys), energy(roll)
        rows.append({"task": name, "model": label, "train_steps": hist.steps, "train_loss": hist.train_loss[-1],
                     "test_loss": hist.val_loss[-1], "energy_mse": float(((e_true - e_model) ** 2).mean()),
                     "rollout_state_mse": float(((roll - test.ys) ** 2).mean()), "train_seconds": train_time})
        portraits[label] = roll[:, 0].tolist()
        bar.update(1)
    return rows, portraits


def _data_root(cfg: BenchConfig) -> str | None:
    return cfg.data or os.environ.get("PHYSWM_DATA") or None


def _find_data(cfg: BenchConfig) -> Path | None:
    root = _data_root(cfg)
    if not root:
        return None
    path = Path(root) / "schmidt-lipson" / "real_pend_h_1.txt"
    return path if path.is_file() else None


def _plots(out: Path, curves: dict, portraits: dict) -> list[str]:
    plt = pyplot()

    files = []
    for system, c in curves.items():
        fig, ax = plt.subplots(figsize=(7, 4))
        t = c["t"][1:]
        for method in METHODS:
            ax.plot(t, [max(v, 1e-17) for v in c[method][1:]], label=method, lw=1)
        ax.set_yscale("log")
        ax.set(xlabel="t", ylabel="|E(t) - E(0)| / |E(0)|", title=f"relative energy error: {system}")
        ax.legend(fontsize=7, ncol=2)
        files.append(save_figure(fig, out, f"energy_error_{system}.png"))
    for task, pt in portraits.items():
        fig, ax = plt.subplots(figsize=(5, 5))
        for label, pts in pt.items():
            xs = [p[0] for p in pts]
            ys = [p[1] for p in pts]
            ax.plot(xs, ys, "k." if label == "true" else "-", ms=3, label=label, lw=1)
        ax.set(xlabel="q", ylabel="p", title=f"phase portrait, test rollout: {task}")
        ax.legend()
        files.append(save_figure(fig, out, f"phase_portrait_{task}.png"))
    return files


def format_tables(results: dict) -> str:
    """The benchmark tables as plain text."""
    lines = ["Integrators (float64): max relative energy error, drift slope, state error, cost"]
    head = ["system", "method", "dt", "steps", "max|dE/E|", "drift/t", "max|y-ref|", "dP", "dL", "us/step"]
    lines.append(row(head, 13))
    for r in results["conservation"]:
        vals = [r["system"], r["method"], r["dt"], r["steps"], r["max_rel_energy_error"], r["energy_drift_per_time"],
                r["max_state_error"], r["momentum_error"], r["angular_momentum_error"], round(r["us_per_step"], 1)]
        lines.append(row(vals, 13))
    lines.append("")
    lines.append("Learned pendulum models (test split = last 20% in time for the real pendulum)")
    head = ["task", "model", "steps", "test loss", "energy MSE", "paper loss", "paper E-MSE"]
    lines.append(row(head, 13))
    for r in results["learned"]:
        paper = PAPER_REAL_PENDULUM[r["model"]] if r["task"] == "real_pendulum" else {}
        vals = [r["task"], r["model"], r["train_steps"], r["test_loss"], r["energy_mse"], paper.get("test_loss"),
                paper.get("energy_mse")]
        lines.append(row(vals, 13))
    if results.get("power_balance"):
        lines += ["", "Damped / forced / controlled systems (float64): power-balance error H(t)-H(0)-W(t), relative to max|H|"]
        head = ["system", "method", "dt", "steps", "max|resid|", "max|y-ref|"]
        lines.append(row(head, 18))
        for r in results["power_balance"]:
            vals = [r["system"], r["method"], r["dt"], r["steps"], r["max_power_balance_residual"], r["max_state_error"]]
            lines.append(row(vals, 18))
    if results.get("chaos"):
        lines += ["", chaos_table(results["chaos"])]
    if results.get("nbody"):
        lines += ["", nbody_tables(results["nbody"])]
    if results.get("pinn"):
        lines += ["", pinn_tables(results["pinn"])]
    if results.get("notes"):
        lines += [""] + [f"note: {n}" for n in results["notes"]]
    return "\n".join(lines)


def run_benchmark(cfg: BenchConfig) -> dict:
    """Run the benchmark, write ``results.json`` and PNG plots to ``cfg.out``, return the results.

    Raises:
        ValueError: unknown mode, or a CUDA device asked for where none is available.
    """
    if cfg.mode not in ("smoke", "quick", "full"):
        raise ValueError(f"`mode` must be 'smoke', 'quick' or 'full', got {cfg.mode!r}")
    if torch.device(cfg.device).type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"`device`={cfg.device!r} asked for, but CUDA is not available here")
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    data_path = _find_data(cfg)
    notes = []
    n_tasks = len(METHODS) * 4 + 2 + (2 if data_path else 0) + 5
    bar = tqdm(total=n_tasks, desc="physwm bench", disable=not cfg.progress)
    start = time.perf_counter()
    rows, curves = _conservation_rows(cfg, bar)

    gen = torch.Generator().manual_seed(cfg.seed)
    pend = Pendulum(m=1.0, l=1.0, g=3.0)
    t = torch.linspace(0, 3, 31, dtype=torch.float32)
    sim = make_trajectories(pend, 50, t, noise_std=0.1, generator=gen)
    sim = TrajectoryData(sim.t.float(), sim.ys.float(), sim.dydt.float())
    sim_train, sim_test = sim.split_trajectories(25)
    learned, portraits = [], {}
    r_sim, p_sim = _learned_case("sim_pendulum", sim_train, sim_test, lambda y: pend.energy(y.double()).float(),
                                 cfg, 0.01, bar)
    for r in r_sim:
        r["note"] = "test loss on 25 held-out noisy trajectories; energy MSE over a 3 s test rollout"
    learned += r_sim
    portraits["sim_pendulum"] = p_sim
    if data_path is not None:
        real = load_schmidt_lipson(data_path, derivative="forward", dtype=torch.float32)
        real_train, real_test = real.split_time(0.8)
        r_real, p_real = _learned_case("real_pendulum", real_train, real_test, _energy_real, cfg, 1 / 60, bar)
        learned += r_real
        portraits["real_pendulum"] = p_real
    else:
        notes.append("measured data not found (give --data DIR or set PHYSWM_DATA to a folder holding "
                     "schmidt-lipson/real_pend_h_1.txt); real-pendulum rows skipped")
    power_rows = power_balance_rows(cfg.horizon_scale, cfg.device)
    bar.update(1)
    chaos = phnn_task({"smoke": 20, "quick": 1500, "full": 5000}[cfg.mode], cfg.seed, cfg.device)
    bar.update(1)
    data_root = None if data_path is None else str(data_path.parent.parent)
    dp = run_double_pendulum(DoublePendulumConfig(mode=cfg.mode, device=cfg.device, seed=cfg.seed, data=data_root))
    bar.update(1)
    chaos += dp["simulated"]["rows"] + (dp["measured"]["rows"] if "measured" in dp else [])
    nbody = run_nbody(NBodyConfig(mode=cfg.mode, device=cfg.device, seed=cfg.seed, data=_data_root(cfg)))
    notes += nbody.pop("notes")
    bar.update(1)
    pinn = run_pinn(PINNBenchConfig(mode=cfg.mode, device=cfg.device, seed=cfg.seed))
    bar.update(1)
    bar.close()
    results = {
        "physwm_version": physwm.__version__, "torch_version": torch.__version__, "config": asdict(cfg),
        "machine": {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
                    "cpu_count": os.cpu_count(), "threads": torch.get_num_threads(),
                    "device": torch.cuda.get_device_name(0) if torch.device(cfg.device).type == "cuda" else "cpu"},
        "conservation": rows, "learned": learned, "paper": {"real_pendulum": PAPER_REAL_PENDULUM},
        "power_balance": power_rows, "chaos": chaos, "nbody": nbody, "pinn": pinn, "double_pendulum_rig": dp.get("measured", {}).get("rig"),
        "notes": notes, "wall_seconds": time.perf_counter() - start,
    }
    results["plots"] = (_plots(out, curves, portraits) + plot_double_pendulum(out, dp) + plot_nbody(out, nbody)
                        + plot_pinn(out, pinn))
    (out / "results.json").write_text(json.dumps(results, indent=2))
    return results
