"""Integrators x systems: energy error and drift, state error, momentum, cost per step (float64)."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import torch

import physwm
from physwm.bench._plotting import pyplot, save_figure
from physwm.bench._tables import row
from physwm.bench.config import BenchConfig
from physwm.diagnostics import angular_momentum_error, energy_drift, momentum_error, relative_energy_error
from physwm.state import state_to_particles
from physwm.systems import FIGURE_EIGHT_PERIOD, HarmonicOscillator, Kepler, Pendulum, figure_eight

__all__ = ["METHODS", "run", "table", "plots"]

METHODS = ("euler", "rk4", "dopri5", "symplectic_euler", "leapfrog", "yoshida4", "implicit_midpoint")


def _problems(scale: float, dtype: torch.dtype, device: torch.device) -> list[dict[str, Any]]:
    osc, pend, kep = HarmonicOscillator(), Pendulum(), Kepler()
    fig8, y8 = figure_eight(dtype=dtype, device=device)
    return [
        dict(name="harmonic_oscillator", system=osc, y0=torch.tensor([1.0, 0.0], dtype=dtype, device=device),
             t_end=100.0 * scale, dt=0.05, exact=osc.exact_solution),
        dict(name="pendulum", system=pend, y0=torch.tensor([2.0, 0.0], dtype=dtype, device=device),
             t_end=50.0 * scale, dt=0.02, exact=None),
        dict(name="kepler_e0.5", system=kep, y0=kep.orbit_state(0.5, dtype=dtype, device=device),
             t_end=20 * math.pi * scale, dt=0.01, exact=kep.exact_solution),
        dict(name="figure_eight", system=fig8, y0=y8, t_end=4 * FIGURE_EIGHT_PERIOD * scale, dt=0.005, exact=None,
             n_bodies=fig8.n_bodies),
    ]


def _timed_solve(device: torch.device, *args: Any, **kwargs: Any) -> tuple[physwm.Solution, float]:
    with torch.no_grad():
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        sol = physwm.solve(*args, **kwargs)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
    return sol, time.perf_counter() - start


def run(cfg: BenchConfig) -> dict[str, Any]:
    """Every method of :data:`METHODS` on the oscillator, the pendulum, Kepler and the figure-eight."""
    device, dtype = cfg.torch_device, torch.float64
    rows, curves = [], {}
    for prob in _problems(cfg.section("integrators")["horizon_scale"], dtype, device):
        system, y0, dt = prob["system"], prob["y0"], prob["dt"]
        n_steps = max(10, int(round(prob["t_end"] / dt)))
        t_end = n_steps * dt
        t = torch.linspace(0.0, t_end, min(n_steps, 500) + 1, dtype=dtype, device=device)
        if prob["exact"] is not None:
            ref = prob["exact"](t, y0)
        else:
            ref = physwm.solve(system, y0, t, method="dopri8", rtol=1e-13, atol=1e-13).ys
        curves[prob["name"]] = {"t": t.cpu().tolist()}
        for method in METHODS:
            kwargs = {"rtol": 1e-6, "atol": 1e-9} if method == "dopri5" else {"dt": dt}
            sol, wall = _timed_solve(device, system, y0, t, method=method, **kwargs)
            energies = system.energy(sol.ys)
            rel = relative_energy_error(energies)
            r = {"system": prob["name"], "method": method, "dt": kwargs.get("dt", "adaptive"), "t_end": t_end,
                 "steps": sol.n_steps, "fevals": sol.n_fevals, "max_rel_energy_error": float(rel.max()),
                 "energy_drift_per_time": float(energy_drift(energies, t)),
                 "max_state_error": float((sol.ys - ref).abs().max()),
                 "reference": "exact" if prob["exact"] is not None else "dopri8 rtol=atol=1e-13",
                 "us_per_step": 1e6 * wall / max(sol.n_steps, 1), "momentum_error": None, "angular_momentum_error": None}
            if "n_bodies" in prob:
                q, p = state_to_particles(sol.ys, prob["n_bodies"])
                r["momentum_error"] = float(momentum_error(p).max())
                r["angular_momentum_error"] = float(angular_momentum_error(q, p).max())
            elif prob["name"].startswith("kepler"):
                L = system.angular_momentum(sol.ys)
                r["angular_momentum_error"] = float((L - L[0]).abs().max() / L[0].abs())
            rows.append(r)
            curves[prob["name"]][method] = rel.cpu().tolist()
    return {"rows": rows, "curves": curves}


def table(res: dict[str, Any]) -> str:
    lines = ["Integrators (float64): max relative energy error, drift slope, state error, cost",
             row(["system", "method", "dt", "steps", "max|dE/E|", "drift/t", "max|y-ref|", "dP", "dL", "us/step"], 13)]
    for r in res["rows"]:
        lines.append(row([r["system"], r["method"], r["dt"], r["steps"], r["max_rel_energy_error"], r["energy_drift_per_time"],
                          r["max_state_error"], r["momentum_error"], r["angular_momentum_error"], round(r["us_per_step"], 1)], 13))
    return "\n".join(lines)


def plots(out: Path, res: dict[str, Any]) -> list[str]:
    plt = pyplot()
    files = []
    for system, c in res["curves"].items():
        fig, ax = plt.subplots(figsize=(7, 4))
        for method in METHODS:
            ax.plot(c["t"][1:], [max(v, 1e-17) for v in c[method][1:]], label=method, lw=1)
        ax.set_yscale("log")
        ax.set(xlabel="t", ylabel="|E(t) - E(0)| / |E(0)|", title=f"relative energy error: {system}")
        ax.legend(fontsize=7, ncol=2)
        files.append(save_figure(fig, out, f"energy_error_{system}.png"))
    return files
