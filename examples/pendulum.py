"""Train an HNN and a NeuralODE on the real measured pendulum; roll out with RK4 and
with implicit midpoint (symplectic for the learned, non-separable H); plot energy and phase space.

The measurement (Schmidt & Lipson, Science 2009) ships with physwm; ``--data FILE`` reads another
file of the same layout.

    python examples/pendulum.py [--smoke] [--out pendulum-example] [--data FILE]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

import physwm
from physwm.data import load_schmidt_lipson
from physwm.models import HNN, NeuralODE
from physwm.training import fit


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", default="real_pend_h_1.txt", help="a shipped file name or a path")
    ap.add_argument("--out", default="pendulum-example")
    ap.add_argument("--smoke", action="store_true", help="tiny budget, for tests")
    args = ap.parse_args(argv)
    steps = 20 if args.smoke else 2000

    data = load_schmidt_lipson(args.data, derivative="forward", dtype=torch.float32)
    train, test = data.split_time(0.8)  # the HNN paper's split: last 20% in time is the test set
    energy = lambda y: 2.4 * (1 - torch.cos(y[..., 0])) + y[..., 1] ** 2  # noqa: E731  (HNN code's constant)
    t = test.t - test.t[0]
    report = {}
    rollouts = {}
    for name, model in (("NeuralODE", NeuralODE(2)), ("HNN", HNN(1))):
        torch.manual_seed(0)
        hist = fit(model, train, steps=steps, weight_decay=1e-5, val_data=test, progress=not args.smoke)
        with torch.no_grad():
            ys = physwm.solve(model, test.ys[0], t, method="rk4", dt=1 / 60).ys
        report[name] = {"test_loss": hist.val_loss[-1], "energy_mse": float(((energy(ys) - energy(test.ys)) ** 2).mean())}
        rollouts[name] = ys
        if name == "HNN":
            with torch.no_grad():
                rollouts["HNN (implicit midpoint)"] = physwm.solve(model, test.ys[0], t, method="implicit_midpoint",
                                                                   dt=1 / 60).ys
    for name, r in report.items():
        print(f"{name:10s} test loss {r['test_loss']:.3e}   energy MSE {r['energy_mse']:.3e}")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    a.plot(test.ys[:, 0, 0], test.ys[:, 0, 1], "k.", ms=3, label="measured")
    for name, ys in rollouts.items():
        a.plot(ys[:, 0, 0], ys[:, 0, 1], label=name)
        b.plot(t, energy(ys[:, 0]), label=name)
    b.plot(t, energy(test.ys[:, 0]), "k.", ms=3, label="measured")
    a.set(xlabel="angle q (rad)", ylabel="angular velocity p (rad/s)", title="test rollouts")
    b.set(xlabel="t (s)", ylabel="energy 2.4(1 - cos q) + p^2", title="energy along the rollouts")
    a.legend(fontsize=8)
    b.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "pendulum.png", dpi=110)
    print(f"wrote {out / 'pendulum.png'}")
    return report


if __name__ == "__main__":
    main()
