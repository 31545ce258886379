"""PINN benchmark rows: SPINN vs PINN cost and accuracy, and the cost and effect of conservation projections."""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import torch

from physwm.bench._plotting import pyplot, save_figure
from physwm.bench._tables import row
from physwm.bench.config import BenchConfig
from physwm.diagnostics import peak_memory, velocity_field_errors
from physwm.models import PINN, IntegralPINN, LerayPINN, SeparablePINN
from physwm.pde import leray_project
from physwm.references import SPINN_SPEEDUP
from physwm.systems import HeatEquation, NavierStokes2D
from physwm.training import PINNResidual, fit, pinn_loss_terms

__all__ = ["run", "table", "plots", "HIDDEN", "RANK"]

HIDDEN = (64, 64, 64)
RANK = 64


def _heat() -> HeatEquation:
    """The benchmark's heat problem: Dirichlet unit square, two modes, alpha = 0.05, t in [0, 1]."""
    return HeatEquation(alpha=0.05, lengths=(1.0, 1.0), boundary="dirichlet", modes=((1, 1), (2, 1)), amplitudes=(1.0, 0.5))


def _models(problem, device: torch.device) -> dict[str, torch.nn.Module]:
    return {"PINN": PINN(problem.domain, problem.time, hidden=HIDDEN).to(device),
            "SPINN": SeparablePINN(problem.domain, problem.time, hidden=HIDDEN, rank=RANK).to(device)}


def _iteration(model, problem, n: int, opt, gen) -> None:
    loss = sum(pinn_loss_terms(model, problem, n, sampler="uniform", generator=gen).values())
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def scaling_rows(cfg: BenchConfig) -> list[dict[str, Any]]:
    """Seconds per training iteration and peak tensor memory of PINN and SPINN on N^3 heat-equation points.

    Per model: the mean of as many iterations as fill ``min_seconds`` after a warm-up (``_time``), then one
    more iteration under
    :func:`physwm.diagnostics.peak_memory` (the profiler slows the iterations that follow it, so it runs last).
    """
    device, s = cfg.torch_device, cfg.section("pinn")
    problem = _heat().pde_problem()
    rows = []
    for n in (k for k in s["sizes"] if k < 128 or device.type == "cuda"):
        torch.manual_seed(cfg.seed)
        found = {}
        for name, model in _models(problem, device).items():
            opt = torch.optim.Adam(model.parameters(), lr=1e-3)
            gen = torch.Generator().manual_seed(cfg.seed)
            seconds = _time(_iteration, model, problem, n, opt, gen, min_seconds=s["min_seconds"], device=device)
            _, mem = peak_memory(_iteration, model, problem, n, opt, gen, device=device)
            found[name] = dict(seconds=seconds, memory=mem)
        p, sp = found["PINN"], found["SPINN"]
        rows.append(dict(points=f"{n}^3", n=n, pinn_s_per_it=p["seconds"], spinn_s_per_it=sp["seconds"],
                         speedup=p["seconds"] / sp["seconds"], pinn_peak_mib=p["memory"], spinn_peak_mib=sp["memory"],
                         memory_ratio=p["memory"] / sp["memory"] if sp["memory"] else None, device=str(device)))
    return rows


def accuracy_rows(cfg: BenchConfig) -> list[dict[str, Any]]:
    """Relative L2 error against the exact heat solution after the same number of iterations."""
    device, a = cfg.torch_device, cfg.section("pinn")["accuracy"]
    problem = _heat().pde_problem()
    torch.manual_seed(cfg.seed)
    rows = []
    for name, model in _models(problem, device).items():
        r = fit(model, PINNResidual(problem, points_per_axis=a["n"]), steps=a["steps"], lr=1e-3, seed=cfg.seed,
                progress=False)
        rows.append(dict(model=name, points=f"{a['n']}^3", iterations=a["steps"], rel_l2=r.metrics["rel_l2"][-1],
                         seconds=r.seconds, final_loss=r.train_loss[-1]))
    return rows


def _time(fn, *args: Any, min_seconds: float, device: torch.device, max_repeats: int = 100) -> float:
    """Mean wall time of ``fn(*args)``: after one warm-up call, repeated until ``min_seconds`` have passed (at
    least once). A warm-up call that alone lasts ``min_seconds`` is the measurement (first-call overheads are
    milliseconds, nothing at that scale)."""
    start = time.perf_counter()
    fn(*args)
    _sync(device)
    first = time.perf_counter() - start
    if first >= min_seconds:
        return first
    start, repeats = time.perf_counter(), 0
    while repeats < max_repeats and (repeats == 0 or time.perf_counter() - start < min_seconds):
        fn(*args)
        _sync(device)
        repeats += 1
    return (time.perf_counter() - start) / repeats


def projection_rows(cfg: BenchConfig) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A Taylor-Green PINN before and after the Leray projection, and the integral projection on heat.

    Returns rows and curves over time (divergence, kinetic-energy error, relative L2) for the plot.
    """
    device, f = cfg.torch_device, cfg.section("pinn")["flow"]
    ns = NavierStokes2D(nu=0.05, n=32)
    problem = ns.taylor_green_problem((0.0, 2.0))
    torch.manual_seed(cfg.seed)
    model = PINN(problem.domain, problem.time, out_dim=3, hidden=HIDDEN, periodic=True).to(device)
    fit(model, PINNResidual(problem, points_per_axis=f["n"]), steps=f["steps"], lr=2e-3, seed=cfg.seed, progress=False)
    n = f["grid"]
    t = torch.linspace(0.0, 2.0, 21, dtype=torch.float64, device=device)
    flow = LerayPINN(copy.deepcopy(model).double(), grid=n)
    grid_ns = NavierStokes2D(nu=ns.nu, n=n, length=ns.length)
    lengths = problem.domain.lengths
    with torch.no_grad():
        x, tt, _ = flow.grid_points(t, n)
        raw = flow.model.predict(x, tt)[..., :2].movedim(-1, 1)
        exact = grid_ns.velocity(grid_ns.taylor_green(t))
        curves: dict[str, Any] = {"t": t.tolist()}
        for name, u in (("PINN", raw), ("LerayPINN", flow.field(t))):
            curves[name] = {k: v.tolist() for k, v in velocity_field_errors(u, exact, lengths=lengths).items()}
    rows = [dict(case="Taylor-Green", model=name, grid=f"{n}^2", max_divergence=max(c["divergence"]),
                 max_energy_error=max(c["energy_error"]), max_rel_l2=max(c["rel_l2"]))
            for name, c in curves.items() if name != "t"]
    with torch.no_grad():
        # cost of the projection against one forward pass of the network on the same grid (float32, one time)
        x1, t1, _ = flow.grid_points(t[:1].float(), n)
        fwd = _time(model.predict, x1, t1, min_seconds=0.2, device=device)
        u1 = model.predict(x1, t1)[..., :2].movedim(-1, 1).contiguous()
        proj_s = _time(lambda: leray_project(u1, dim=2, lengths=lengths), min_seconds=0.2, device=device)
    for r in rows:
        r["forward_ms"] = fwd * 1e3
        r["projection_ms"] = proj_s * 1e3 if r["model"] == "LerayPINN" else None
        r["projection_over_forward"] = proj_s / fwd if r["model"] == "LerayPINN" else None

    # integral invariant: total heat of a periodic heat PINN (trained briefly) before and after projection
    heat = HeatEquation(alpha=0.05, mean=0.3)
    hp = heat.pde_problem((0.0, 1.0))
    torch.manual_seed(cfg.seed)
    hm = PINN(hp.domain, hp.time, hidden=HIDDEN, periodic=True).to(device)
    fit(hm, PINNResidual(hp, points_per_axis=f["n"]), steps=f["steps"], lr=2e-3, seed=cfg.seed, progress=False)
    cons = IntegralPINN(copy.deepcopy(hm).double(), total=heat.total_heat, grid=n)
    th = t / 2
    with torch.no_grad():
        x, tt, _ = cons.grid_points(th, n)
        cell = heat.lengths[0] * heat.lengths[1] / (n * n)
        total = heat.total_heat(th)
        before = (cons.model.predict(x, tt).sum((-2, -1)) * cell - total).abs() / total.abs()
        after = (cons.field(th).sum((-2, -1)) * cell - total).abs() / total.abs()
    rows.append(dict(case="heat (periodic)", model="PINN", grid=f"{n}^2", max_invariant_error=float(before.max())))
    rows.append(dict(case="heat (periodic)", model="IntegralPINN", grid=f"{n}^2", max_invariant_error=float(after.max())))
    return rows, curves


def run(cfg: BenchConfig) -> dict[str, Any]:
    """All PINN rows: ``scaling``, ``accuracy``, ``projection`` and the curves for :func:`plots`."""
    proj, curves = projection_rows(cfg)
    return {"scaling": scaling_rows(cfg), "accuracy": accuracy_rows(cfg), "projection": proj, "curves": curves}


def table(results: dict[str, Any]) -> str:
    lines = ["SPINN vs PINN, heat equation (2+1)-d, same width/depth: one training iteration",
             row(["points", "PINN s/it", "SPINN s/it", "speedup", "PINN MiB", "SPINN MiB", "memory ratio", "device"], 13)]
    for r in results["scaling"]:
        lines.append(row([r["points"], r["pinn_s_per_it"], r["spinn_s_per_it"], r["speedup"], r["pinn_peak_mib"],
                          r["spinn_peak_mib"], r["memory_ratio"], r["device"]], 13, style="auto"))
    lines.append(f"(SPINN paper, {SPINN_SPEEDUP.source}: {SPINN_SPEEDUP.value:g}x, {SPINN_SPEEDUP.metric})")
    lines += ["", "Fixed budget, heat equation: relative L2 error against the exact solution",
              row(["model", "points", "iterations", "rel. L2", "seconds"], 13)]
    for r in results["accuracy"]:
        lines.append(row([r[k] for k in ("model", "points", "iterations", "rel_l2", "seconds")], 13, style="auto"))
    lines += ["", "Conservation projections (float64 evaluation, t in [0, 2] / [0, 1])",
              row(["case", "model", "grid", "max|div u|", "max dE/E", "rel. L2", "invariant err", "proj/forward"], 16)]
    for r in results["projection"]:
        lines.append(row([r["case"], r["model"], r["grid"], r.get("max_divergence"), r.get("max_energy_error"),
                          r.get("max_rel_l2"), r.get("max_invariant_error"), r.get("projection_over_forward")], 16,
                         style="auto"))
    return "\n".join(lines)


def plots(out: Path, results: dict[str, Any]) -> list[str]:
    """Divergence and kinetic-energy error of the Taylor-Green PINN over time, raw and projected."""
    plt = pyplot()
    c = results["curves"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for name, style in (("PINN", "-"), ("LerayPINN", "--")):
        axes[0].semilogy(c["t"], [max(v, 1e-17) for v in c[name]["divergence"]], style, label=name)
        axes[1].semilogy(c["t"], [max(v, 1e-17) for v in c[name]["energy_error"]], style, label=name)
    axes[0].set(xlabel="t", ylabel="max |div u|", title="Taylor-Green: divergence")
    axes[1].set(xlabel="t", ylabel="|E - E_exact| / E_exact", title="Taylor-Green: kinetic energy error")
    axes[0].legend()
    return [save_figure(fig, out, "pinn_taylor_green.png")]
