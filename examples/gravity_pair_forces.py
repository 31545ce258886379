"""Which inputs let a pair-force network learn softened gravity: the raw distance, or radial features.

The gravity protocol of physwm's benchmark (SEGNN's physics): unit masses, G = 1, Plummer softening 0.1,
positions and velocities standard normal with the centre of mass at rest, leapfrog at dt = 0.001. A
``PairForceNet`` is trained on the derivatives of 20-body trajectories (t in [0, 1], 21 snapshots) and rolled
out on a held-out 100-body state with the same weights, with ``leapfrog`` (its forces depend on positions
only) and ``rk4``. Two variants: the raw distance only (``n_rbf=0, softening_scales=()``) and the default
radial features (a Gaussian basis and Plummer laws ``r/(r^2 + s^2)^{3/2}``). Printed: the training loss, the
learned force of one pair against the true softened force at distances from 0.005 to 2, and the maximal
relative error of the true energy along each rollout.

    python examples/gravity_pair_forces.py [--mode smoke|quick|full] [--device cuda] [--out DIR]

quick: 200 steps, 16 trajectories, rollouts of 200 steps (the benchmark's quick setting, about a minute);
full: 5000 steps, 64 trajectories, 5000 steps (t = 5), about 10 minutes on a 2-core CPU.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

import physwm
from physwm.data import make_trajectories
from physwm.diagnostics import relative_energy_error
from physwm.models import NewtonianDynamics, PairForceNet
from physwm.state import particles_to_state
from physwm.systems import NBody
from physwm.training import DerivativeMatching, fit

BUDGET = {"smoke": dict(steps=5, sims=2, roll_steps=20), "quick": dict(steps=200, sims=16, roll_steps=200),
          "full": dict(steps=5000, sims=64, roll_steps=5000)}
SOFTENING = 0.1
VARIANTS = {"raw distance": dict(n_rbf=0, softening_scales=()), "radial features": {}}


def gravity_states(n: int, bodies: int, generator: torch.Generator, device) -> torch.Tensor:
    """Positions and velocities standard normal, the centre of mass at rest (unit masses)."""
    q = torch.randn(n, bodies, 3, generator=generator, dtype=torch.float64).to(device)
    v = torch.randn(n, bodies, 3, generator=generator, dtype=torch.float64).to(device)
    return particles_to_state(q - q.mean(-2, keepdim=True), v - v.mean(-2, keepdim=True))


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", default="quick", choices=list(BUDGET))
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--out", default="gravity-pair-forces-example")
    args = ap.parse_args(argv)
    b, dev, out = BUDGET[args.mode], torch.device(args.device), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    gen = torch.Generator().manual_seed(0)
    t_train = torch.linspace(0.0, 1.0, 21, dtype=torch.float64, device=dev)
    small = NBody(torch.ones(20), G=1.0, softening=SOFTENING)
    train = make_trajectories(small, b["sims"], t_train, y0=gravity_states(b["sims"], 20, gen, dev), method="leapfrog",
                              dt=1e-3).to(torch.float32)
    system = NBody(torch.ones(100), G=1.0, softening=SOFTENING)
    y0 = gravity_states(1, 100, gen, dev)
    t = torch.linspace(0.0, b["roll_steps"] * 1e-3, 11, dtype=torch.float64, device=dev)
    r = torch.tensor([0.005, 0.02, 0.05, 0.07, 0.1, 0.2, 0.5, 1.0, 2.0], dtype=torch.float64, device=dev)
    true_force = r / (r**2 + SOFTENING**2) ** 1.5  # attraction of one unit mass by another at distance r
    report = {"r": r.tolist(), "true_force": true_force.tolist()}
    print(f"pair-force net on softened gravity: {b['steps']} Adam steps on {b['sims']} 20-body trajectories, "
          f"rollouts of {b['roll_steps']} steps on 100 bodies")
    for name, features in VARIANTS.items():
        torch.manual_seed(0)
        model = NewtonianDynamics(PairForceNet(node_dim=1, hidden=(64, 64), **features), torch.ones(20)).to(dev)
        start = time.perf_counter()
        hist = fit(model, DerivativeMatching(train, batch_size=32), steps=b["steps"], lr=3e-3, seed=0, progress=False)
        train_s = time.perf_counter() - start
        rollout_model = NewtonianDynamics(model.force_model, torch.ones(100)).to(device=dev, dtype=torch.float64)
        with torch.no_grad():
            pair = torch.stack([torch.zeros_like(r), r], -1).unsqueeze(-1) * torch.tensor([1.0, 0.0, 0.0], device=dev,
                                                                                           dtype=torch.float64)
            learned = torch.stack([-rollout_model.force_model(x, None, torch.ones(2, 1, dtype=torch.float64, device=dev),
                                                              torch.tensor([[0, 1], [1, 0]], device=dev))[1, 0]
                                   for x in pair])
        entry = {"train_loss": sum(hist.train_loss[-20:]) / len(hist.train_loss[-20:]), "train_seconds": train_s,
                 "learned_force": learned.tolist()}
        print(f"\n{name}: training loss (mean of the last 20 steps) {entry['train_loss']:.3g}, {train_s:.0f} s")
        print("  r        " + " ".join(f"{v:8.3g}" for v in r.tolist()))
        print("  learned  " + " ".join(f"{v:8.3g}" for v in learned.tolist()))
        print("  true     " + " ".join(f"{v:8.3g}" for v in true_force.tolist()))
        for method in ("leapfrog", "rk4"):
            start = time.perf_counter()
            with torch.no_grad():
                ys = physwm.solve(rollout_model, y0, t, method=method, dt=1e-3).ys
            err = float(relative_energy_error(system.energy(ys))[:, 0].abs().max())
            entry[f"energy_error_{method}"] = err
            entry[f"rollout_seconds_{method}"] = time.perf_counter() - start
            print(f"  {method:8s} rollout: max relative error of the true energy {err:.3g} "
                  f"({entry[f'rollout_seconds_{method}']:.0f} s)", flush=True)
        report[name] = entry
    (out / "gravity_pair_forces.json").write_text(json.dumps(report, indent=1))
    print("wrote", out / "gravity_pair_forces.json")
    return report


if __name__ == "__main__":
    main()
