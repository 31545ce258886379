"""LNN vs HNN vs NeuralODE on the chaotic double pendulum: how many Lyapunov times they predict.

The models learn the unit double pendulum (g = 9.8) from noisy simulated trajectories at energies above
zero, where it is chaotic (λmax about 1-1.6 1/s), by derivative matching; the HNN and the NeuralODE then
also by rollout matching over windows of observations with fitted initial states (symplectic recurrent
training, Chen et al. 2020: the HNN through the implicit midpoint rule). Held-out states are rolled out
against the truth; printed are each model's median valid prediction time (normalised error 0.4, angles
compared on the circle), in seconds and in Lyapunov times (each state's λmax by Benettin's method), and
the energy error. The protocol and the budgets of each mode are
``physwm.bench.double_pendulum.chaotic`` and ``physwm.bench.config.SETTINGS[mode]["double_pendulum"]``.
With ``--measured`` the models are also trained on trial 0 of the measured rig of Schmidt & Lipson
(shipped with physwm) and tested on trial 1. Plots: the normalised error of each model over time (median
over the states) with the ``e^{λt}`` slope, and the energy error.

    python examples/double_pendulum.py [--mode smoke|quick|full] [--models LNN,HNN,NeuralODE] [--measured]
                                       [--device cuda] [--out DIR]

quick takes about three minutes on a 2-core CPU (the section of ``physwm bench`` took 248 s with another job
on the other core). full trains each model for at most 30 CPU-minutes (measured: HNN 26 min with its
rollout stage, NeuralODE 9, LNN 21): run ``--models HNN,NeuralODE`` and ``--models LNN`` as two jobs
with ``OMP_NUM_THREADS=1`` (the first took 37 minutes of wall time on a 2-core CPU).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import matplotlib
import torch

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from physwm.bench.config import SETTINGS, BenchConfig  # noqa: E402
from physwm.bench.double_pendulum import chaotic  # noqa: E402
from physwm.data import TrajectoryData, load_schmidt_lipson  # noqa: E402
from physwm.diagnostics import valid_prediction_time  # noqa: E402
from physwm.integrate import rollout  # noqa: E402
from physwm.models import LNN, NeuralODE  # noqa: E402
from physwm.systems import DoublePendulum  # noqa: E402
from physwm.training import DerivativeMatching, fit  # noqa: E402

DT = 0.01


def learn(models, data: TrajectoryData, steps: int, val: TrajectoryData) -> None:
    """Derivative matching in float32, mini-batches of 256, validated on ``val``."""
    for name, model in models.items():
        result = fit(model.float(), DerivativeMatching(data.to(torch.float32), batch_size=256), steps=steps,
                     val_data=val.to(torch.float32), progress=False)
        print(f"  {name:10s} validation derivative MSE {result.val_loss[-1]:.3g}")


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", default="quick", choices=list(SETTINGS))
    ap.add_argument("--models", default="LNN,HNN,NeuralODE", help="comma-separated subset of LNN, HNN, NeuralODE")
    ap.add_argument("--measured", action="store_true", help="also learn the measured rig (trial 0 -> trial 1)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--out", default="double-pendulum-example")
    args = ap.parse_args(argv)
    dev, out = torch.device(args.device), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cfg = BenchConfig(mode=args.mode, device=args.device, out=str(out), progress=False, threads=torch.get_num_threads())
    budget = cfg.section("double_pendulum")
    c = budget["chaotic"]
    print(f"chaotic double pendulum: {c['n_train']} noisy trajectories of {c['t_train']:g} s, derivative matching "
          f"({c['dm_steps']} steps), then rollout matching ({c['rollout_steps']} steps)")
    res = chaotic(cfg, models=tuple(args.models.split(",")))
    report = {"lambda_max": res["curves"]["lambda_max"], "lambda_max_per_state": res["lambda_max_per_state"]}
    print(f"\n{res['rows'][0]['states']} held-out states rolled out for {res['rows'][0]['horizon']:g} s; lambda_max "
          f"{min(res['lambda_max_per_state']):.2f}-{max(res['lambda_max_per_state']):.2f} 1/s")
    print(f"{'model':>20} {'rollout':>24} {'VPT s':>7} {'VPT in Lyapunov times (median, mean)':>37} {'dE % end':>9} "
          f"{'train s':>8}")
    for r in res["rows"]:
        report[r["model"]] = r
        print(f"{r['model']:>20} {r['rollout']:>24} {r['vpt']:7.3f} {r['vpt_lyapunov_times']:18.2f} "
              f"{r['vpt_lyapunov_times_mean']:18.2f} {r['energy_error_pct_median_end']:9.3g} {r['train_seconds']:8.1f}")

    if args.measured:
        trials = [load_schmidt_lipson("real_double_pend_h_1.txt", trial=k, derivative="measured") for k in (0, 1)]
        rig = DoublePendulum.fit(trials[0].ys[:, 0], trials[0].dydt[:, 0, 2:])
        print(f"\nmeasured rig fitted as a point-mass double pendulum: m2/m1 = {rig.m2:.3f}, l1 = {rig.l1:.3f} m, "
              f"l2 = {rig.l2:.3f} m")
        torch.manual_seed(0)
        h = budget["hidden"]
        measured = {"LNN": LNN(2, hidden=h, regularization=1.0).to(dev), "NeuralODE": NeuralODE(4, hidden=h).to(dev)}
        learn(measured, trials[0].to(dev), budget["steps"], val=trials[1].to(dev))
        # each recorded angle starts after some whole turns: shift them into (-pi, pi], which changes no physics
        x = trials[1].ys.clone().to(dev)
        x[..., :2] -= 2 * math.pi * torch.round(x[0, :, :2] / (2 * math.pi))
        t_test = (trials[1].t - trials[1].t[0]).to(dev)
        if budget["measured_horizon"] is not None:  # the smoke budget rolls out only the start of the trial
            keep = int((t_test <= budget["measured_horizon"]).sum())
            x, t_test = x[:keep], t_test[:keep]
        for name, model in measured.items():
            ys = rollout(model.double(), x[0], t_test, method="rk4", dt=DT)
            vpt = float(valid_prediction_time(ys, x, t_test, scale=x.reshape(-1, 4).std(0)).mean())
            report[f"measured {name}"] = {"vpt": vpt}
            print(f"  {name:10s} valid prediction time on trial 1: {vpt:.3f} s")

    curves, lam = res["curves"], res["curves"]["lambda_max"]
    fig, (a, c) = plt.subplots(1, 2, figsize=(12, 4))
    for name in curves["error"]:
        t = curves.get("t_" + name, curves["t"])
        a.semilogy(t, [max(v, 1e-10) for v in curves["energy"][name]], label=name, lw=1)
        c.semilogy(t, curves["error"][name], label=name, lw=1)
    c.semilogy(curves["t"], [1e-3 * math.exp(lam * t) for t in curves["t"]], "k--", lw=1, label=f"e^(λt), λ = {lam:.2f}")
    c.axhline(0.4, color="gray", ls=":", lw=0.8)
    c.set_ylim(1e-6, 1e2)
    a.set(xlabel="t (s)", ylabel="|E(t) - E(0)|, % of the potential range (median)", title="energy error")
    c.set(xlabel="t (s)", ylabel="normalised error (median over states)", title="error growth")
    a.legend(fontsize=8)
    c.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "double_pendulum.png", dpi=110)
    (out / "double_pendulum.json").write_text(json.dumps(report, indent=1))
    print("wrote", out / "double_pendulum.png", out / "double_pendulum.json")
    return report


if __name__ == "__main__":
    main()
