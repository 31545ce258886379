"""PINN benchmark rows: SPINN vs PINN cost and accuracy, and the cost and effect of conservation projections."""

from __future__ import annotations

import copy
import ctypes
import gc
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from physwm.bench._plotting import pyplot, save_figure
from physwm.bench._tables import row
from physwm.models import PINN, ConservativePINN, SeparablePINN
from physwm.pde import divergence, leray_project
from physwm.systems import HeatEquation, NavierStokes2D
from physwm.training import fit_pinn, pinn_loss_terms

__all__ = ["PINNBenchConfig", "run_pinn", "pinn_tables", "plot_pinn", "heat_benchmark", "PAPER_SPINN", "peak_memory",
           "taylor_green_diagnostics"]

#: Cho et al., NeurIPS 2023 (SPINN), reported on one GPU: (2+1)-d Klein-Gordon at 64^3 collocation
#: points, SPINN against PINN with the same width and depth.
PAPER_SPINN = {"speedup_gpu": 62.0, "note": "SPINN paper: 62x faster per iteration than a PINN on GPU"}


@dataclass
class PINNBenchConfig:
    """Budget of the PINN rows.

    ``quick``: SPINN/PINN cost at 32^3 and 64^3 collocation points (2 timed iterations each), accuracy
    after 500 iterations at 16^3, a Taylor-Green PINN trained for 300 iterations. ``full``: 128^3 added
    on CUDA, accuracy after 5000 iterations at 32^3, 3000 Taylor-Green iterations. ``smoke``: seconds.
    """

    mode: str = "quick"
    device: str = "cpu"
    seed: int = 0

    def __post_init__(self):
        if self.mode not in ("smoke", "quick", "full"):
            raise ValueError(f"`mode` must be 'smoke', 'quick' or 'full', got {self.mode!r}")

    @property
    def sizes(self) -> tuple[int, ...]:
        if self.mode == "smoke":
            return (8,)
        return (32, 64, 128) if self.mode == "full" and torch.device(self.device).type == "cuda" else (32, 64)

    @property
    def timed(self) -> int:
        return {"smoke": 1, "quick": 2, "full": 10}[self.mode]

    @property
    def accuracy(self) -> dict[str, int]:
        return {"smoke": dict(n=6, iterations=5), "quick": dict(n=16, iterations=500),
                "full": dict(n=32, iterations=5000)}[self.mode]

    @property
    def flow(self) -> dict[str, int]:
        return {"smoke": dict(n=6, iterations=5, grid=32), "quick": dict(n=12, iterations=300, grid=64),
                "full": dict(n=16, iterations=3000, grid=128)}[self.mode]


HIDDEN = (64, 64, 64)
RANK = 64


def heat_benchmark() -> HeatEquation:
    """The benchmark's heat problem: Dirichlet unit square, two modes, alpha = 0.05, t in [0, 1]."""
    return HeatEquation(alpha=0.05, lengths=(1.0, 1.0), boundary="dirichlet", modes=((1, 1), (2, 1)), amplitudes=(1.0, 0.5))


def _models(problem, device: torch.device) -> dict[str, torch.nn.Module]:
    return {"PINN": PINN(problem.domain, problem.time, hidden=HIDDEN).to(device),
            "SPINN": SeparablePINN(problem.domain, problem.time, hidden=HIDDEN, rank=RANK).to(device)}


def _kib(field: str) -> int | None:
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return None
    m = re.search(rf"{field}:\s+(\d+)", text)
    return int(m.group(1)) if m else None


def peak_memory(fn, device: torch.device, *args: Any) -> tuple[Any, float | None]:
    """Run ``fn(*args)`` and return its result and the peak memory it added, in MiB.

    CUDA: ``torch.cuda.max_memory_allocated`` above the allocation before. CPU (Linux, glibc): freed
    heap pages are first returned to the system (``malloc_trim``), so that new allocations show in the
    resident set; then the resident set's high-water mark (``VmHWM``, reset through
    ``/proc/self/clear_refs``) above the resident size before. ``None`` where those interfaces are missing.
    """
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
        out = fn(*args)
        torch.cuda.synchronize(device)
        return out, (torch.cuda.max_memory_allocated(device) - base) / 2**20
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    base = _kib("VmRSS")
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        base = None
    out = fn(*args)
    peak = _kib("VmHWM")
    return out, None if base is None or peak is None else (peak - base) / 1024


def _iteration(model, problem, n: int, opt, gen) -> None:
    terms = pinn_loss_terms(model, problem, n, method="uniform", generator=gen)
    loss = sum(terms.values())
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()


def scaling_rows(cfg: PINNBenchConfig) -> list[dict[str, Any]]:
    """Seconds per training iteration and peak memory of PINN and SPINN on N^3 heat-equation points."""
    device = torch.device(cfg.device)
    problem = heat_benchmark().pde_problem()
    rows = []
    for n in cfg.sizes:
        torch.manual_seed(cfg.seed)
        found = {}
        for name, model in _models(problem, device).items():
            opt = torch.optim.Adam(model.parameters(), lr=1e-3)
            gen = torch.Generator().manual_seed(cfg.seed)
            _, mem = peak_memory(_iteration, device, model, problem, n, opt, gen)  # also the warm-up
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            start = time.perf_counter()
            for _ in range(cfg.timed):
                _iteration(model, problem, n, opt, gen)
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            found[name] = dict(seconds=(time.perf_counter() - start) / cfg.timed, memory=mem)
        p, s = found["PINN"], found["SPINN"]
        rows.append(dict(points=f"{n}^3", n=n, pinn_s_per_it=p["seconds"], spinn_s_per_it=s["seconds"],
                         speedup=p["seconds"] / s["seconds"], pinn_peak_mib=p["memory"], spinn_peak_mib=s["memory"],
                         memory_ratio=(p["memory"] / s["memory"]) if p["memory"] and s["memory"] else None,
                         device=str(device)))
    return rows


def accuracy_rows(cfg: PINNBenchConfig) -> list[dict[str, Any]]:
    """Relative L2 error against the exact heat solution after the same number of iterations."""
    device = torch.device(cfg.device)
    problem = heat_benchmark().pde_problem()
    torch.manual_seed(cfg.seed)
    rows = []
    a = cfg.accuracy
    for name, model in _models(problem, device).items():
        r = fit_pinn(model, problem, iterations=a["iterations"], points_per_axis=a["n"], lr=1e-3, seed=cfg.seed,
                     progress=False, eval_points=32)
        rows.append(dict(model=name, points=f"{a['n']}^3", iterations=a["iterations"], rel_l2=r.rel_l2[-1][1],
                         seconds=r.seconds, final_loss=r.loss[-1]))
    return rows


def _time(fn, repeats: int, device: torch.device) -> float:
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return (time.perf_counter() - start) / repeats


def taylor_green_diagnostics(model: torch.nn.Module, ns: NavierStokes2D, t: torch.Tensor, n: int) -> dict[str, Any]:
    """Divergence, kinetic-energy error and relative L2 error over time of a Taylor-Green velocity PINN,
    raw (``"PINN"``) and Leray-projected (``"ConservativePINN"``), on the periodic ``n x n`` grid in float64.

    Returns:
        ``{"t": [...], "PINN": {"divergence": [...], "energy_error": [...], "rel_l2": [...]}, "ConservativePINN": {...}}``.
    """
    model64 = copy.deepcopy(model).double()
    flow = ConservativePINN(model64, method="leray")
    lengths = model.domain.lengths
    grid_ns = NavierStokes2D(nu=ns.nu, n=n, length=ns.length)
    t = t.to(torch.float64)
    with torch.no_grad():
        x, tt, _ = flow.grid_points(t, n)
        raw = model64.predict(x, tt)[..., :2].movedim(-1, 1)
        exact = grid_ns.velocity(grid_ns.taylor_green(t))
        cell = lengths[0] * lengths[1] / n**2

        def energy(u):
            return 0.5 * (u**2).sum((-3, -2, -1)) * cell

        curves: dict[str, Any] = {"t": t.tolist()}
        for name, u in (("PINN", raw), ("ConservativePINN", leray_project(raw, dim=2, lengths=lengths))):
            l2 = (((u - exact) ** 2).sum((-3, -2, -1)) / (exact**2).sum((-3, -2, -1))).sqrt()
            curves[name] = {"divergence": divergence(u, dim=2, lengths=lengths).abs().amax((-2, -1)).tolist(),
                            "energy_error": ((energy(u) - energy(exact)).abs() / energy(exact)).tolist(),
                            "rel_l2": l2.tolist()}
    return curves


def projection_rows(cfg: PINNBenchConfig) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A Taylor-Green PINN before and after the Leray projection, and the integral projection on heat.

    Returns rows and curves over time (divergence, kinetic-energy error) for the plot.
    """
    device = torch.device(cfg.device)
    ns = NavierStokes2D(nu=0.05, n=32)
    problem = ns.taylor_green_problem((0.0, 2.0))
    torch.manual_seed(cfg.seed)
    f = cfg.flow
    model = PINN(problem.domain, problem.time, out_dim=3, hidden=HIDDEN, periodic=True).to(device)
    fit_pinn(model, problem, iterations=f["iterations"], points_per_axis=f["n"], lr=2e-3, seed=cfg.seed, progress=False)
    n = f["grid"]
    t = torch.linspace(0.0, 2.0, 21, dtype=torch.float64, device=device)
    curves = taylor_green_diagnostics(model, ns, t, n)
    rows = [dict(case="Taylor-Green", model=name, grid=f"{n}^2", max_divergence=max(c["divergence"]),
                 max_energy_error=max(c["energy_error"]), max_rel_l2=max(c["rel_l2"]))
            for name, c in curves.items() if name != "t"]
    flow = ConservativePINN(model, method="leray")
    with torch.no_grad():
        # cost of the projection against one forward pass of the network on the same grid (float32, one time)
        x1, t1, _ = flow.grid_points(t[:1].float(), n)
        fwd = _time(lambda: model.predict(x1, t1), 5, device)
        u1 = model.predict(x1, t1)[..., :2].movedim(-1, 1).contiguous()
        proj_s = _time(lambda: leray_project(u1, dim=2, lengths=problem.domain.lengths), 5, device)
    for r in rows:
        r["forward_ms"] = fwd * 1e3
        r["projection_ms"] = proj_s * 1e3 if r["model"] == "ConservativePINN" else None
        r["projection_over_forward"] = proj_s / fwd if r["model"] == "ConservativePINN" else None

    # integral invariant: total heat of a periodic heat PINN (trained briefly) before and after projection
    heat = HeatEquation(alpha=0.05, mean=0.3)
    hp = heat.pde_problem((0.0, 1.0))
    torch.manual_seed(cfg.seed)
    hm = PINN(hp.domain, hp.time, hidden=HIDDEN, periodic=True).to(device)
    fit_pinn(hm, hp, iterations=f["iterations"], points_per_axis=f["n"], lr=2e-3, seed=cfg.seed, progress=False)
    hm64 = copy.deepcopy(hm).double()
    total = heat.total_heat
    cons = ConservativePINN(hm64, method="integral", total=total)
    with torch.no_grad():
        x, tt, shape = cons.grid_points(t / 2, n)
        cell = heat.lengths[0] * heat.lengths[1] / (n * n)
        before = (hm64.predict(x, tt).sum((-2, -1)) * cell - total(t / 2)).abs() / total(t / 2).abs()
        after = (cons.field(t / 2, n).sum((-2, -1)) * cell - total(t / 2)).abs() / total(t / 2).abs()
    rows.append(dict(case="heat (periodic)", model="PINN", grid=f"{n}^2", max_invariant_error=float(before.max())))
    rows.append(dict(case="heat (periodic)", model="ConservativePINN", grid=f"{n}^2", max_invariant_error=float(after.max())))
    return rows, curves


def run_pinn(cfg: PINNBenchConfig) -> dict[str, Any]:
    """All PINN rows: ``scaling``, ``accuracy``, ``projection`` and the curves for :func:`plot_pinn`."""
    proj, curves = projection_rows(cfg)
    return {"scaling": scaling_rows(cfg), "accuracy": accuracy_rows(cfg), "projection": proj, "curves": curves,
            "paper": PAPER_SPINN}


def pinn_tables(results: dict[str, Any]) -> str:
    """The PINN tables as plain text."""
    lines = ["SPINN vs PINN, heat equation (2+1)-d, same width/depth: one training iteration"]
    head = ["points", "PINN s/it", "SPINN s/it", "speedup", "PINN MiB", "SPINN MiB", "memory ratio", "device"]
    lines.append(row(head, 13))
    for r in results["scaling"]:
        vals = [r["points"], r["pinn_s_per_it"], r["spinn_s_per_it"], r["speedup"], r["pinn_peak_mib"], r["spinn_peak_mib"],
                r["memory_ratio"], r["device"]]
        lines.append(row(vals, 13, style="auto"))
    lines.append(f"({results['paper']['note']})")
    lines += ["", "Fixed budget, heat equation: relative L2 error against the exact solution"]
    head = ["model", "points", "iterations", "rel. L2", "seconds"]
    lines.append(row(head, 13))
    for r in results["accuracy"]:
        lines.append(row([r[k] for k in ("model", "points", "iterations", "rel_l2", "seconds")], 13, style="auto"))
    lines += ["", "Conservation projections (float64 evaluation, t in [0, 2] / [0, 1])"]
    head = ["case", "model", "grid", "max|div u|", "max dE/E", "rel. L2", "invariant err", "proj/forward"]
    lines.append(row(head, 16))
    for r in results["projection"]:
        vals = [r["case"], r["model"], r["grid"], r.get("max_divergence"), r.get("max_energy_error"), r.get("max_rel_l2"),
                r.get("max_invariant_error"), r.get("projection_over_forward")]
        lines.append(row(vals, 16, style="auto"))
    return "\n".join(lines)


def plot_pinn(out: Path, results: dict[str, Any]) -> list[str]:
    """Divergence and kinetic-energy error of the Taylor-Green PINN over time, raw and projected."""
    plt = pyplot()
    c = results["curves"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for name, style in (("PINN", "-"), ("ConservativePINN", "--")):
        axes[0].semilogy(c["t"], [max(v, 1e-17) for v in c[name]["divergence"]], style, label=name)
        axes[1].semilogy(c["t"], [max(v, 1e-17) for v in c[name]["energy_error"]], style, label=name)
    axes[0].set(xlabel="t", ylabel="max |div u|", title="Taylor-Green: divergence")
    axes[1].set(xlabel="t", ylabel="|E - E_exact| / E_exact", title="Taylor-Green: kinetic energy error")
    axes[0].legend()
    return [save_figure(fig, out, "pinn_taylor_green.png")]
