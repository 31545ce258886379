"""Separable PINN (SPINN) against PINN at equal training wall time, on two (2+1)-d problems.

The claim of Cho et al. (*Separable Physics-Informed Neural Networks*, NeurIPS 2023) is accuracy per
second: a SPINN's N^3 collocation grid costs 3N network evaluations, so it can afford far more points than
a PINN in the same time. This example trains both on

- the heat equation of `physwm bench`: u_t = 0.05 (u_xx + u_yy) on [0, 1]^2 x [0, 1], zero walls,
  two sine modes (`HeatEquation(...).pde_problem()`);
- the Klein-Gordon manufactured solution of the SPINN paper: u_tt - (u_xx + u_yy) + u^3 = f on
  [-1, 1]^2 x [0, 10], u = (x + y) cos 2t + x y sin 2t, with the initial value and initial velocity
  (`KleinGordon().pde_problem()`),

each at several collocation point counts N^3, with the sizes of the paper's scripts (PINN: 4 hidden layers
of 128, tanh; SPINN: one network of 4 layers of 64 per axis, rank 32) and Adam at learning rate 1e-3,
for the same wall time. --setting picks the networks:

- modified (default): both use the modified MLP of Wang, Teng & Perdikaris (2021) on coordinates in
  their own units, the best setting measured for each (docs/benchmarks.md);
- reference: as the SPINN reference code, the PINN a plain MLP, the SPINN the modified MLP, both on
  coordinates in their own units;
- plain: physwm's defaults, plain MLPs on coordinates scaled to [-1, 1].

Every run records its relative L2 error against the exact solution on an E^3 grid at ~25 points of its
training time (validation time excluded). For each budget the table gives, per model, the error at that
budget of its best point count, and whether SPINN's is the lower. Plot: error against training seconds.

    python examples/spinn_vs_pinn.py [--mode smoke|quick|full] [--setting modified|reference|plain]
                                     [--problems heat klein_gordon] [--out DIR]

quick (30 s per run, 8 runs) takes about 5 minutes on a 2-core CPU, full (180 s per run, 12 runs) about
40 minutes. Runs are sequential and use every core (time nothing else alongside). Finished runs are kept in
OUT/spinn_vs_pinn_MODE_SETTING.json: run the same command again to continue after an interruption.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import time
from pathlib import Path

import matplotlib
import torch

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from physwm.models import PINN, SeparablePINN  # noqa: E402
from physwm.systems import HeatEquation, KleinGordon  # noqa: E402
from physwm.training import PINNResidual, fit  # noqa: E402

# point counts per axis: the PINN sees N^3 scattered (Sobol) points, the SPINN the grid of N sampled
# coordinates per axis; budgets are training seconds per run
BUDGET = {
    "smoke": dict(seconds=1.0, pinn=(4,), spinn=(8,), eval_points=8, budgets=(0.5, 1.0), evals=4),
    "quick": dict(seconds=30.0, pinn=(8, 16), spinn=(32, 64), eval_points=32, budgets=(10, 20, 30), evals=25),
    "full": dict(seconds=180.0, pinn=(8, 12, 16), spinn=(32, 64, 128), eval_points=32,
                 budgets=(10, 20, 30, 60, 120, 180), evals=25),
}
LR = 1e-3
# per setting: (PINN architecture, SPINN architecture, coordinates scaled to [-1, 1])
SETTINGS = {"modified": ("modified", "modified", False), "reference": ("mlp", "modified", False),
            "plain": ("mlp", "mlp", True)}


def problems() -> dict:
    heat = HeatEquation(alpha=0.05, lengths=(1.0, 1.0), boundary="dirichlet", modes=((1, 1), (2, 1)), amplitudes=(1.0, 0.5))
    return {"heat": heat.pde_problem((0.0, 1.0)), "klein_gordon": KleinGordon().pde_problem()}


def build(kind: str, problem, setting: str, device: torch.device, seed: int) -> torch.nn.Module:
    """The sizes of the SPINN paper's Klein-Gordon scripts (Cho et al. 2023), the networks of ``setting``."""
    pinn_arch, spinn_arch, normalize = SETTINGS[setting]
    torch.manual_seed(seed)
    if kind == "PINN":
        return PINN(problem.domain, problem.time, hidden=(128,) * 4, architecture=pinn_arch,
                    normalize_inputs=normalize).to(device)
    return SeparablePINN(problem.domain, problem.time, hidden=(64,) * 4, rank=32, architecture=spinn_arch,
                         normalize_inputs=normalize).to(device)


def seconds_per_step(model, objective, device: torch.device) -> float:
    """Training seconds per step of a throwaway copy: the mean of the steps that fill 1 s after one warm-up."""
    probe = copy.deepcopy(model)
    fit(probe, objective, steps=1, lr=LR, progress=False)
    r = fit(probe, objective, steps=3, lr=LR, progress=False)
    steps = max(3, math.ceil(1.0 / max(r.seconds_per_step, 1e-4)))
    if steps > 3:
        r = fit(copy.deepcopy(model), objective, steps=steps, lr=LR, progress=False)
    return r.seconds_per_step


def one_run(kind: str, problem, n: int, b: dict, setting: str, device: torch.device, seed: int, scratch: Path) -> dict:
    """Train for ``b["seconds"]`` of training time: steps from a timed probe, continued from a checkpoint (its
    writes and the validations are not training time) until the budget is spent."""
    model = build(kind, problem, setting, device, seed)
    objective = PINNResidual(problem, points_per_axis=n, eval_points=b["eval_points"])
    spi = seconds_per_step(model, objective, device)
    first = max(2, math.ceil(b["seconds"] / spi))
    every = max(1, first // b["evals"])
    ckpt = scratch / f"{kind}_{n}.pt"
    ckpt.unlink(missing_ok=True)
    steps, spent, curve = 0, 0.0, []
    while spent < 0.98 * b["seconds"]:
        steps += first if not steps else max(1, math.ceil((b["seconds"] - spent) / spi))
        r = fit(model, objective, steps=steps, lr=LR, eval_every=every, seed=seed, checkpoint=ckpt,
                checkpoint_every=steps, progress=False)
        mine = r.metrics["rel_l2"][len(r.metrics["rel_l2"]) - len(r.val_seconds):]
        curve += [[spent + s, e] for s, e in zip(r.val_seconds, mine)]
        spent += r.seconds
        spi = r.seconds_per_step
    ckpt.unlink()
    return dict(model=kind, n=n, points=n**3, steps=r.steps, seconds=spent, s_per_step=spent / r.steps, curve=curve)


def error_at(run: dict, budget: float) -> float | None:
    """The error of the last validation within ``budget`` training seconds (``None`` before the first)."""
    within = [e for s, e in run["curve"] if s <= budget * 1.02]
    return within[-1] if within else None


def summary(runs: list[dict], budgets) -> list[dict]:
    rows = []
    for budget in budgets:
        best = {}
        for kind in ("PINN", "SPINN"):
            found = [(error_at(r, budget), r["n"]) for r in runs if r["model"] == kind]
            found = [f for f in found if f[0] is not None]
            best[kind] = min(found) if found else (None, None)
        (ep, np_), (es, ns) = best["PINN"], best["SPINN"]
        rows.append(dict(budget_s=budget, pinn_rel_l2=ep, pinn_n=np_, spinn_rel_l2=es, spinn_n=ns,
                         spinn_better=None if ep is None or es is None else es < ep,
                         ratio=None if ep is None or es is None else ep / es))
    return rows


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", default="quick", choices=list(BUDGET))
    ap.add_argument("--setting", default="modified", choices=list(SETTINGS))
    ap.add_argument("--problems", nargs="+", default=["heat", "klein_gordon"], choices=["heat", "klein_gordon"])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="spinn-vs-pinn")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    device, b = torch.device(args.device), BUDGET[args.mode]
    stem = f"spinn_vs_pinn_{args.mode}_{args.setting}"
    path = out / f"{stem}.json"
    settings = json.loads(json.dumps(dict(b, lr=LR, seed=args.seed, device=str(device), setting=args.setting,
                                          networks=SETTINGS[args.setting])))
    res = json.loads(path.read_text()) if path.exists() else {}
    if res.get("settings") != settings:
        res = {}
    res.update(settings=settings, machine=f"{os.cpu_count()} CPUs, torch "
               f"{torch.__version__}, {torch.get_num_threads()} threads")
    res.setdefault("runs", {})
    all_problems = problems()
    started = time.perf_counter()
    for name in args.problems:
        problem = all_problems[name]
        for kind in ("PINN", "SPINN"):
            for n in b["pinn" if kind == "PINN" else "spinn"]:
                key = f"{name}/{kind}/{n}"
                if key in res["runs"]:
                    continue
                run = one_run(kind, problem, n, b, args.setting, device, args.seed, out)
                res["runs"][key] = run
                print(f"{name:>12} {kind:>5} N={n:<3} {run['steps']:>6} steps {run['seconds']:7.1f} s "
                      f"rel. L2 {run['curve'][-1][1]:.3e}", flush=True)
                tmp = path.with_suffix(".tmp")
                tmp.write_text(json.dumps(res, indent=1))
                os.replace(tmp, path)
    res["summary"] = {}
    for name in args.problems:
        runs = [r for k, r in res["runs"].items() if k.startswith(name + "/")]
        rows = res["summary"][name] = summary(runs, b["budgets"])
        print(f"\n{name}: relative L2 at each training budget, best point count per model")
        print(f"{'budget s':>9} {'PINN':>10} {'N':>4} {'SPINN':>10} {'N':>4} {'PINN/SPINN':>11}")
        for r in rows:
            ratio = "-" if r["ratio"] is None else f"{r['ratio']:.2f}"
            print(f"{r['budget_s']:>9g} {r['pinn_rel_l2'] or float('nan'):>10.3e} {r['pinn_n'] or '-':>4} "
                  f"{r['spinn_rel_l2'] or float('nan'):>10.3e} {r['spinn_n'] or '-':>4} {ratio:>11}")
    floor = min(10.0, max(b["budgets"]))
    judged = [r["spinn_better"] for rows in res["summary"].values() for r in rows if r["budget_s"] >= floor]
    res["spinn_better_at_every_budget"] = bool(judged) and all(judged)
    print(f"\nSPINN below PINN at every budget >= {floor:g} s: {res['spinn_better_at_every_budget']} "
          f"({time.perf_counter() - started:.0f} s this call)")

    fig, axes = plt.subplots(1, len(args.problems), figsize=(6 * len(args.problems), 4), squeeze=False)
    for ax, name in zip(axes[0], args.problems):
        for key, run in res["runs"].items():
            if key.startswith(name + "/"):
                s, e = zip(*run["curve"])
                ax.loglog(s, e, "-" if run["model"] == "SPINN" else "--", marker=".",
                          label=f"{run['model']} {run['n']}^3")
        ax.set(xlabel="training wall time (s)", ylabel="relative L2 error",
               title=f"{name.replace('_', '-')} ({args.setting} networks)")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / f"{stem}.png", dpi=110)
    plt.close(fig)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(res, indent=1))
    os.replace(tmp, path)
    print("wrote", path, out / f"{stem}.png")
    return res


if __name__ == "__main__":
    main()
