"""LNN vs HNN vs NeuralODE on the simulated double pendulum, and the Lyapunov limit of their predictions.

The three models learn the unit double pendulum from simulated trajectories: the LNN and the neural
ODE on angles and angular velocities ``[θ, θ̇]``, the HNN on canonical ``[θ, p]``. Held-out states are
rolled out with RK4; printed are the energy error (% of the maximal potential energy), the true
system's maximal Lyapunov exponent (Benettin's method) and each model's valid prediction time, in
seconds and in Lyapunov times. With ``--measured`` the models are also trained on trial 0 of the
measured rig of Schmidt & Lipson (shipped with physwm) and tested on trial 1, against a point-mass
double pendulum fitted to the rig's accelerations. Plots: energy error over time, and error growth
with the ``e^{λt}`` slope.

    python examples/double_pendulum.py [--mode smoke|quick|full] [--measured] [--device cuda] [--out DIR]

quick takes about a minute on a 2-core CPU.
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

import physwm  # noqa: E402
from physwm.data import TrajectoryData, load_schmidt_lipson  # noqa: E402
from physwm.diagnostics import max_lyapunov_exponent, normalized_error, valid_prediction_time  # noqa: E402
from physwm.integrate import rollout  # noqa: E402
from physwm.models import HNN, LNN, NeuralODE  # noqa: E402
from physwm.systems import DoublePendulum  # noqa: E402
from physwm.training import DerivativeMatching, fit  # noqa: E402

BUDGET = {"smoke": dict(steps=10, hidden=(16, 16), trajectories=4, horizon=1.0, measured_horizon=0.5),
          "quick": dict(steps=600, hidden=(128, 128), trajectories=40, horizon=10.0, measured_horizon=None),
          "full": dict(steps=5000, hidden=(256, 256), trajectories=200, horizon=100.0, measured_horizon=None)}
DT = 0.01


def make_models(hidden) -> dict[str, tuple[torch.nn.Module, str]]:
    """Each model and the coordinates it learns in. The LNN's mass matrix gets a Tikhonov term (see its docs)."""
    return {"LNN": (LNN(2, hidden=hidden, regularization=1.0), "velocity"), "HNN": (HNN(2, hidden=hidden), "canonical"),
            "NeuralODE": (NeuralODE(4, hidden=hidden), "velocity")}


def learn(models, data: dict[str, TrajectoryData], steps: int, val: TrajectoryData | None = None) -> None:
    """Derivative matching in float32, mini-batches of 256, on the data in each model's own coordinates;
    validated on ``val`` or, without it, on the last fifth of the trajectories."""
    for name, (model, coords) in models.items():
        train = data[coords]
        if val is None:
            train, held_out = train.split_trajectories(max(1, train.n_trajectories * 4 // 5))
        result = fit(model.float(), DerivativeMatching(train.to(torch.float32), batch_size=256), steps=steps,
                     val_data=(held_out if val is None else val).to(torch.float32), progress=False)
        print(f"  {name:10s} validation derivative MSE {result.val_loss[-1]:.3g}")


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", default="quick", choices=list(BUDGET))
    ap.add_argument("--measured", action="store_true", help="also learn the measured rig (trial 0 -> trial 1)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--out", default="double-pendulum-example")
    args = ap.parse_args(argv)
    b, dev, out = BUDGET[args.mode], torch.device(args.device), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    system = DoublePendulum()
    y0 = system.sample_initial_state(b["trajectories"] + 4, generator=torch.Generator().manual_seed(0), device=dev)
    t = torch.linspace(0, 5, 101, dtype=torch.float64, device=dev)
    with torch.no_grad():
        canonical = physwm.solve(system, y0[:-4], t, method="dopri8", rtol=1e-10, atol=1e-10).ys
    data = {"canonical": TrajectoryData(t, canonical, system(t.unsqueeze(-1), canonical)),
            "velocity": TrajectoryData(t, system.to_velocities(canonical), system.velocity_derivative(canonical))}
    torch.manual_seed(0)
    models = make_models(b["hidden"])
    for model, _ in models.values():
        model.to(dev)
    print(f"simulated double pendulum: {b['trajectories']} trajectories of 5 s, {b['steps']} Adam steps")
    learn(models, data, b["steps"])

    test = y0[-4:]
    t_roll = torch.arange(round(b["horizon"] / DT) + 1, dtype=torch.float64, device=dev) * DT
    with torch.no_grad():
        truth = physwm.solve(system, test, t_roll, method="dopri8", rtol=1e-11, atol=1e-11).ys
    lam = float(max_lyapunov_exponent(system, test, t_total=2 * b["horizon"], dt=DT, transient=0.2 * b["horizon"],
                                      jvp="difference").mean())
    truth_v = system.to_velocities(truth)
    scale = truth_v.reshape(-1, 4).std(0)
    potential_range = 2 * system.g * ((system.m1 + system.m2) * system.l1 + system.m2 * system.l2)
    report, curves = {"lambda_max": lam}, {}
    print(f"\nrollouts of {t_roll[-1]:.0f} s from 4 held-out states; lambda_max = {lam:.3f} 1/s "
          f"(Lyapunov time {1 / lam:.2f} s)")
    print(f"{'model':>10} {'dE % end':>9} {'dE % max':>9} {'VPT s':>7} {'VPT in Lyapunov times':>22}")
    for name, (model, coords) in models.items():
        start = system.to_velocities(test) if coords == "velocity" else test
        ys = rollout(model.double(), start, t_roll, method="rk4", dt=DT)
        ys_v = ys if coords == "velocity" else system.to_velocities(ys)
        ys_c = system.from_velocities(ys) if coords == "velocity" else ys
        de = 100 * (system.energy(ys_c) - system.energy(test)).abs() / potential_range
        vpt = float(valid_prediction_time(ys_v, truth_v, t_roll, scale=scale).mean())
        report[name] = {"energy_error_pct_end": float(de[-1].mean()), "energy_error_pct_max": float(de.max()),
                        "vpt": vpt, "vpt_lyapunov_times": vpt * lam}
        curves[name] = (de.mean(1), normalized_error(ys_v, truth_v, scale).mean(1))
        r = report[name]
        print(f"{name:>10} {r['energy_error_pct_end']:9.3g} {r['energy_error_pct_max']:9.3g} {vpt:7.3f} {vpt * lam:8.3f}")

    if args.measured:
        trials = [load_schmidt_lipson("real_double_pend_h_1.txt", trial=k, derivative="measured") for k in (0, 1)]
        rig = DoublePendulum.fit(trials[0].ys[:, 0], trials[0].dydt[:, 0, 2:])
        print(f"\nmeasured rig fitted as a point-mass double pendulum: m2/m1 = {rig.m2:.3f}, l1 = {rig.l1:.3f} m, "
              f"l2 = {rig.l2:.3f} m")
        real = {"velocity": trials[0].to(dev)}
        torch.manual_seed(0)
        measured = {k: v for k, v in make_models(b["hidden"]).items() if v[1] == "velocity"}
        for model, _ in measured.values():
            model.to(dev)
        learn(measured, real, b["steps"], val=trials[1].to(dev))
        # each recorded angle starts after some whole turns: shift them into (-pi, pi], which changes no physics
        x = trials[1].ys.clone().to(dev)
        x[..., :2] -= 2 * math.pi * torch.round(x[0, :, :2] / (2 * math.pi))
        t_test = (trials[1].t - trials[1].t[0]).to(dev)
        if b["measured_horizon"] is not None:  # the smoke budget rolls out only the start of the trial
            keep = int((t_test <= b["measured_horizon"]).sum())
            x, t_test = x[:keep], t_test[:keep]
        for name, (model, _) in measured.items():
            ys = rollout(model.double(), x[0], t_test, method="rk4", dt=DT)
            vpt = float(valid_prediction_time(ys, x, t_test, scale=x.reshape(-1, 4).std(0)).mean())
            report[f"measured {name}"] = {"vpt": vpt}
            print(f"  {name:10s} valid prediction time on trial 1: {vpt:.3f} s")

    fig, (a, c) = plt.subplots(1, 2, figsize=(12, 4))
    for name, (de, err) in curves.items():
        a.semilogy(t_roll.cpu(), de.clamp_min(1e-10).cpu(), label=name, lw=1)
        c.semilogy(t_roll.cpu(), err.cpu(), label=name, lw=1)
    c.semilogy(t_roll.cpu(), 1e-3 * torch.exp(lam * t_roll.cpu()), "k--", lw=1, label=f"e^(λt), λ = {lam:.2f}")
    c.axhline(0.4, color="gray", ls=":", lw=0.8)
    c.set_ylim(1e-6, 1e2)
    a.set(xlabel="t (s)", ylabel="|E(t) - E(0)|, % of max potential energy", title="energy error")
    c.set(xlabel="t (s)", ylabel="normalised error", title="error growth")
    a.legend(fontsize=8)
    c.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "double_pendulum.png", dpi=110)
    (out / "double_pendulum.json").write_text(json.dumps(report, indent=1))
    print("wrote", out / "double_pendulum.png", out / "double_pendulum.json")
    return report


if __name__ == "__main__":
    main()
