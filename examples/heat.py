"""PINN vs separable PINN (SPINN) on the 2-D heat equation, against the exact Fourier solution.

    u_t = alpha (u_xx + u_yy)   on [0, 1]^2 x [0, 1],   u = 0 on the walls,
    u(x, y, 0) = sin(pi x) sin(pi y) + 0.5 sin(2 pi x) sin(pi y)

Both networks get the same width and depth and the same N^3 collocation points per iteration (the
PINN at scattered Sobol points, the SPINN on the grid of N sampled coordinates per axis). Printed:
relative L2 error against the exact solution, seconds per iteration and the peak memory of one
iteration. Plots: error over training, and the fields at t = 1.

    python examples/heat.py [--mode smoke|quick|full] [--boundary dirichlet|periodic] [--device cuda] [--out DIR]

quick takes about a minute on a 2-core CPU. Training is resumable (--checkpoint-dir, default
OUT/checkpoints): run the same command again to continue.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib
import torch

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from physwm.diagnostics import field_relative_l2, peak_memory  # noqa: E402
from physwm.models import PINN, SeparablePINN  # noqa: E402
from physwm.pde import Box, PDEProblem  # noqa: E402
from physwm.pde import autodiff as ad  # noqa: E402
from physwm.systems import HeatEquation  # noqa: E402
from physwm.training import PINNResidual, fit, pinn_loss_terms  # noqa: E402

BUDGET = {"smoke": dict(n=6, steps=10, eval_every=5), "quick": dict(n=16, steps=1000, eval_every=100),
          "full": dict(n=32, steps=10000, eval_every=500)}


def heat_problem(heat: HeatEquation) -> PDEProblem:
    """The PDE as a user writes it: the residual is a plain function of u, x and t."""

    def residual(u, x, t):
        return ad.partial(u, t) - heat.alpha * ad.laplacian(u, x)

    return PDEProblem(
        residual=residual, domain=Box([0.0, 0.0], list(heat.lengths)), time=(0.0, 1.0),
        initial=lambda x: heat.initial_condition(x[..., 0], x[..., 1]),
        boundary=(lambda x, t: torch.zeros_like(t)) if heat.boundary == "dirichlet" else None,
        exact=lambda x, t: heat(x[..., 0], x[..., 1], t))


def one_iteration(model, problem, n: int) -> None:
    loss = sum(pinn_loss_terms(model, problem, n, generator=torch.Generator().manual_seed(0)).values())
    loss.backward()
    model.zero_grad(set_to_none=True)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", default="quick", choices=list(BUDGET))
    ap.add_argument("--boundary", default="dirichlet", choices=["dirichlet", "periodic"])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--out", default="heat-example")
    ap.add_argument("--checkpoint-dir", default=None, help="default OUT/checkpoints")
    args = ap.parse_args(argv)
    out = Path(args.out)
    ckpt = Path(args.checkpoint_dir) if args.checkpoint_dir else out / "checkpoints"
    ckpt.mkdir(parents=True, exist_ok=True)
    device = torch.device(args.device)
    b = BUDGET[args.mode]

    if args.boundary == "dirichlet":
        heat = HeatEquation(alpha=0.05, lengths=(1.0, 1.0), boundary="dirichlet", modes=((1, 1), (2, 1)), amplitudes=(1.0, 0.5))
    else:
        heat = HeatEquation(alpha=0.01, lengths=(1.0, 1.0), boundary="periodic", modes=((1, 1), (0, 2)), amplitudes=(1.0, 0.5),
                            mean=0.2)
    problem = heat_problem(heat)
    periodic = args.boundary == "periodic"
    torch.manual_seed(0)
    models = {"PINN": PINN(problem.domain, problem.time, hidden=(64, 64, 64), periodic=periodic),
              "SPINN": SeparablePINN(problem.domain, problem.time, hidden=(64, 64, 64), rank=64, periodic=periodic)}
    rows, histories = [], {}
    for name, model in models.items():
        model.to(device)
        _, mem = peak_memory(one_iteration, model, problem, b["n"], device=device)
        initial = field_relative_l2(model, problem)
        r = fit(model, PINNResidual(problem, points_per_axis=b["n"]), steps=b["steps"], lr=1e-3, eval_every=b["eval_every"],
                checkpoint=ckpt / f"heat_{args.boundary}_{name}_{args.mode}.pt", progress=False)
        histories[name] = list(zip(r.val_step, r.metrics["rel_l2"]))
        rows.append(dict(model=name, points=f"{b['n']}^3", iterations=r.steps, rel_l2_initial=initial, rel_l2=r.metrics["rel_l2"][-1],
                         s_per_iteration=r.seconds_per_step, peak_mib=mem))
    print(f"heat equation ({args.boundary}), {b['n']}^3 collocation points per iteration, device {device}")
    print(f"{'model':>8} {'iterations':>10} {'rel. L2':>10} {'s/iter':>10} {'peak MiB':>10}")
    for r in rows:
        s = "-" if r["s_per_iteration"] is None else f"{r['s_per_iteration']:.4f}"
        m = "-" if r["peak_mib"] is None else f"{r['peak_mib']:.1f}"
        print(f"{r['model']:>8} {r['iterations']:>10} {r['rel_l2']:>10.3e} {s:>10} {m:>10}")

    fig, ax = plt.subplots(1, 4, figsize=(16, 3.6))
    for name, h in histories.items():
        ax[0].semilogy([i for i, _ in h], [e for _, e in h], "o-", label=name)
    ax[0].set(xlabel="iteration", ylabel="relative L2 error", title="training")
    ax[0].legend()
    xs = torch.linspace(0, 1, 64, dtype=torch.float64)
    x = torch.stack(torch.meshgrid(xs, xs, indexing="ij"), -1)
    t = torch.ones(64, 64, dtype=torch.float64)
    exact = problem.exact(x, t)
    panels = [("exact u(x, y, 1)", exact)]
    with torch.no_grad():
        for name, model in models.items():
            pred = model.double().cpu().predict(x, t)
            panels.append((f"{name} error", pred - exact))
    for a, (title, f) in zip(ax[1:], panels):
        im = a.imshow(f.T.numpy(), origin="lower", extent=(0, 1, 0, 1), cmap="RdBu_r")
        a.set_title(title)
        fig.colorbar(im, ax=a, shrink=0.8)
    plot = f"heat_{args.boundary}.png"
    fig.tight_layout()
    fig.savefig(out / plot, dpi=110)
    plt.close(fig)
    res = {"rows": rows, "history": histories, "mode": args.mode, "boundary": args.boundary, "device": str(device)}
    (out / f"heat_{args.boundary}.json").write_text(json.dumps(res, indent=1))
    print("wrote", out / plot, out / f"heat_{args.boundary}.json")
    return res


if __name__ == "__main__":
    main()
