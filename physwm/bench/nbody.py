"""N-body rows of the benchmark: EGNN and SEGNN on the charged 5-body set, and conservative
particle models (Hamiltonian GNN, pair-force net) against an MLP on gravity rollouts."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

import physwm
from physwm.bench._tables import cell, row
from physwm.data import (
    PUBLISHED_CHARGED_MSE,
    ParticleData,
    TrajectoryData,
    load_nbody_charged,
)
from physwm.diagnostics import angular_momentum_error, momentum_error, relative_energy_error
from physwm.models import EGNN, SEGNN, HamiltonianGNN, NeuralODE, NewtonianDynamics, PairForceNet
from physwm.systems import NBody
from physwm.testing import particle_equivariance_error
from physwm.training import fit, fit_particles, particle_mse

__all__ = ["NBodyConfig", "run_nbody", "charged_rows", "gravity_rows", "nbody_tables", "plot_nbody"]


@dataclass
class NBodyConfig:
    """Budget of the n-body benchmark.

    ``smoke`` runs in seconds (tests); ``quick`` in about a minute on a 2-core CPU (the default of
    ``physwm bench``); ``full`` is the longer CPU/GPU setting of ``examples/nbody.py --mode full``.
    Training is resumable: with ``checkpoint_dir`` each model's state is saved after every epoch and
    an interrupted run picks up where it stopped.
    """

    mode: str = "quick"
    device: str = "cpu"
    seed: int = 0
    data: str | None = None
    checkpoint_dir: str | None = None
    progress: bool = False

    def __post_init__(self):
        if self.mode not in ("smoke", "quick", "full"):
            raise ValueError(f"`mode` must be 'smoke', 'quick' or 'full', got {self.mode!r}")

    @property
    def epochs(self) -> dict[str, int]:
        return {"smoke": {"EGNN": 1, "SEGNN": 1}, "quick": {"EGNN": 15, "SEGNN": 6},
                "full": {"EGNN": 1000, "SEGNN": 1000}}[self.mode]

    @property
    def n_train(self) -> int:
        return {"smoke": 100, "quick": 3000, "full": 3000}[self.mode]

    @property
    def gravity(self) -> dict[str, int]:
        return {"smoke": dict(bodies=10, train_bodies=5, sims=2, fit_steps=3, roll_steps=20),
                "quick": dict(bodies=100, train_bodies=20, sims=16, fit_steps=400, roll_steps=500),
                "full": dict(bodies=100, train_bodies=20, sims=64, fit_steps=5000, roll_steps=5000)}[self.mode]


def _timed_forward(model: torch.nn.Module, data: ParticleData, device: torch.device, repeats: int = 5) -> float:
    """Median wall time (ms) of one forward pass on a batch of 100 systems."""
    g = data.graph(slice(0, 100))
    args = [a.to(device) for a in g.inputs()]
    times = []
    with torch.no_grad():
        model(*args)
        for _ in range(repeats):
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            model(*args)
            if device.type == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - start)
    return 1e3 * sorted(times)[len(times) // 2]


def _equivariance(model: torch.nn.Module, data: ParticleData, device: torch.device, seed: int) -> float:
    g = data.graph(slice(0, 10))
    gen = torch.Generator().manual_seed(seed)
    return max(particle_equivariance_error(model, *(a.to(device) for a in g.inputs()), reflection=bool(k % 2),
                                           generator=gen) for k in range(2))


def charged_rows(cfg: NBodyConfig, root: Path) -> list[dict[str, Any]]:
    """EGNN and SEGNN on the charged 5-body set (frame 30 -> 40): test MSE beside the published ones,
    forward time per batch of 100, equivariance error (float32, as trained)."""
    device = torch.device(cfg.device)
    train = load_nbody_charged(root, "train", max_samples=cfg.n_train).to(device)
    val = load_nbody_charged(root, "valid", max_samples=None if cfg.mode == "full" else 500).to(device)
    test = load_nbody_charged(root, "test").to(device)
    rows = []
    baseline = float(((test.x + test.v * 1.0 - test.target) ** 2).mean())  # constant velocity over 1 time unit
    rows.append({"model": "constant velocity", "epochs": 0, "test_mse": baseline, "published_mse": None,
                 "forward_ms_per_100": None, "equivariance_error": None, "parameters": 0})
    makers = {"EGNN": lambda: EGNN(node_dim=1, edge_dim=1, hidden=64, layers=4),
              "SEGNN": lambda: SEGNN(node_dim=1, edge_dim=1, lmax_attr=1, layers=4)}
    for name, make in makers.items():
        torch.manual_seed(cfg.seed)
        model = make().to(device)
        ckpt = None if cfg.checkpoint_dir is None else Path(cfg.checkpoint_dir) / f"charged_{name}_{cfg.mode}.pt"
        start = time.perf_counter()
        hist = fit_particles(model, train, val=val, epochs=cfg.epochs[name], seed=cfg.seed, checkpoint=ckpt,
                             progress=cfg.progress)
        rows.append({"model": name, "epochs": hist.epochs, "best_epoch": hist.best_epoch,
                     "test_mse": particle_mse(model, test), "published_mse": PUBLISHED_CHARGED_MSE[name],
                     "val_mse": hist.best_val_loss, "train_seconds": time.perf_counter() - start,
                     "forward_ms_per_100": _timed_forward(model, test, device),
                     "equivariance_error": _equivariance(model, test, device, cfg.seed),
                     "parameters": sum(p.numel() for p in model.parameters())})
    return rows


def _gravity_states(k: int, n: int, gen: torch.Generator, device: torch.device) -> torch.Tensor:
    """SEGNN-protocol initial states: positions and velocities standard normal, centre of mass at rest."""
    q = torch.randn(k, n, 3, generator=gen, dtype=torch.float64)
    v = torch.randn(k, n, 3, generator=gen, dtype=torch.float64)
    return NBody.merge(q, v - v.mean(1, keepdim=True)).to(device)


def gravity_rows(cfg: NBodyConfig) -> list[dict[str, Any]]:
    """Conservative particle models against an MLP on gravitational N-body rollouts.

    Gravity with G = 1, softening 0.1, unit masses (the SEGNN protocol's physics). The Hamiltonian
    GNN (pair potential) and the pair-force net learn per-pair interactions, so they train on
    ``train_bodies``-body systems and are rolled out on ``bodies``-body ones; the MLP (a neural ODE on
    the flattened state) has a fixed input size and trains on ``bodies``-body systems. All train on
    derivatives of ``sims`` leapfrog trajectories (t in [0, 1], 21 snapshots) in float32 with the same
    number of Adam steps, then roll out in float64 from one held-out state for ``roll_steps`` steps
    of 0.001, where the true energy, momentum and angular momentum errors (relative) and the final
    position RMSE against the true leapfrog trajectory are measured.
    """
    device = torch.device(cfg.device)
    spec = cfg.gravity
    n, n_train = spec["bodies"], spec["train_bodies"]
    gen = torch.Generator().manual_seed(cfg.seed)
    t_train = torch.linspace(0.0, 1.0, 21, dtype=torch.float64, device=device)

    def trajectories(bodies: int) -> TrajectoryData:
        system = NBody(torch.ones(bodies), G=1.0, softening=0.1)
        data = physwm.data.make_trajectories(system, spec["sims"], t_train, y0=_gravity_states(spec["sims"], bodies, gen, device),
                                             method="leapfrog", dt=1e-3)
        return data.to(torch.float32)

    small, large = trajectories(n_train), trajectories(n)
    system = NBody(torch.ones(n), G=1.0, softening=0.1)
    y0 = _gravity_states(1, n, gen, device)
    dt = 1e-3
    t = torch.linspace(0.0, spec["roll_steps"] * dt, 11, dtype=torch.float64, device=device)
    with torch.no_grad():
        ref = physwm.solve(system, y0, t, method="leapfrog", dt=dt).ys
    makers = {
        "HamiltonianGNN": (lambda k: HamiltonianGNN(torch.ones(k), hidden=64, layers=0, r_max=4.0), "leapfrog", small),
        "PairForceNet": (lambda k: NewtonianDynamics(PairForceNet(node_dim=1, hidden=(64, 64)), torch.ones(k)), "rk4",
                         small),
        "MLP (neural ODE)": (lambda k: NeuralODE(6 * k, hidden=(256, 256)), "rk4", large),
    }
    rows = []
    for name, (make, method, data) in makers.items():
        bodies = data.ys.shape[-1] // 6
        torch.manual_seed(cfg.seed)
        model = make(bodies).to(device)
        start = time.perf_counter()
        hist = fit(model, data, steps=spec["fit_steps"], lr=3e-3, batch_size=32, seed=cfg.seed, progress=False,
                   eval_every=spec["fit_steps"])
        train_seconds = time.perf_counter() - start
        if bodies != n:  # same weights, the rollout system's particle count
            state = {k: v for k, v in model.state_dict().items() if k not in ("masses", "node_features")}
            model = make(n).to(device)
            model.load_state_dict(state, strict=False)
        model = model.to(torch.float64)
        with torch.no_grad():
            start = time.perf_counter()
            try:
                ys, failed = physwm.solve(model, y0, t, method=method, dt=dt).ys, None
            except physwm.IntegrationError as exc:
                ys, failed = None, str(exc)
            roll_seconds = time.perf_counter() - start
        row = {"model": name, "method": method, "train_bodies": bodies, "fit_steps": hist.steps,
               "train_loss": hist.train_loss[-1], "train_seconds": train_seconds, "rollout_seconds": roll_seconds,
               "t_end": float(t[-1]), "n_bodies": n}
        if ys is None:
            row.update(energy_error=math.inf, momentum_error=math.inf, angular_momentum_error=math.inf,
                       position_rmse=math.inf, note=failed)
        else:
            q, p = system.split_particles(ys)
            qr, _ = system.split_particles(ref)
            curves = {"t": t.cpu().tolist(), "energy": relative_energy_error(system.energy(ys))[:, 0],
                      "momentum": momentum_error(p, relative=True)[:, 0],
                      "angular_momentum": angular_momentum_error(q, p, relative=True)[:, 0]}
            curves.update({k: v.cpu().tolist() for k, v in curves.items() if k != "t"})
            row.update(energy_error=max(curves["energy"]), momentum_error=max(curves["momentum"]),
                       angular_momentum_error=max(curves["angular_momentum"]),
                       position_rmse=float(((q[-1] - qr[-1]) ** 2).mean().sqrt()),
                       displacement_rms=float(((qr[-1] - qr[0]) ** 2).mean().sqrt()), curves=curves)
        rows.append(row)
    return rows


def run_nbody(cfg: NBodyConfig) -> dict[str, Any]:
    """Both parts; the charged part needs ``cfg.data`` (a folder holding ``nbody-charged/``)."""
    out: dict[str, Any] = {"notes": []}
    root = None if cfg.data is None else Path(cfg.data) / "nbody-charged"
    if root is not None and root.is_dir():
        out["charged"] = charged_rows(cfg, root)
    else:
        out["charged"] = []
        out["notes"].append("nbody-charged data not found (give --data DIR or set PHYSWM_DATA); EGNN/SEGNN rows skipped")
    out["gravity"] = gravity_rows(cfg)
    return out


def plot_nbody(out: Path, results: dict[str, Any]) -> list[str]:
    """PNG plots of :func:`run_nbody` results into ``out``: the invariants' errors along the gravity
    rollouts (log scale) and the charged-set test MSE beside the published numbers."""
    from physwm.bench._plotting import pyplot, save_figure

    plt = pyplot()
    files = []
    rows = [r for r in results.get("gravity", []) if "curves" in r]
    if rows:
        fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
        for ax, key, title in zip(axes, ("energy", "momentum", "angular_momentum"),
                                  ("|E(t) - E(0)| / |E(0)|", "|P(t) - P(0)| / sum|p_i|", "|L(t) - L(0)| / sum|q_i||p_i|")):
            for r in rows:
                c = r["curves"]
                ax.plot(c["t"][1:], [max(v, 1e-17) for v in c[key][1:]], label=r["model"], lw=1.2)
            ax.set(yscale="log", xlabel="t", title=title)
        axes[0].legend(fontsize=7)
        fig.suptitle(f"gravity {rows[0]['n_bodies']}-body rollouts: errors of the true invariants")
        files.append(save_figure(fig, out, "nbody_gravity_invariants.png"))
    charged = [r for r in results.get("charged", []) if r["published_mse"] is not None]
    if charged:
        fig, ax = plt.subplots(figsize=(6, 3.6))
        names = list(PUBLISHED_CHARGED_MSE)
        ax.barh(names, [PUBLISHED_CHARGED_MSE[k] for k in names], color="0.75", label="published")
        ax.barh([f"{r['model']} (physwm, {r['epochs']} ep.)" for r in charged], [r["test_mse"] for r in charged],
                color="C0", label="measured here")
        ax.set(xscale="log", xlabel="test MSE (frame 30 -> 40)", title="charged 5-body")
        ax.xaxis.set_minor_formatter(plt.NullFormatter())
        ax.legend(fontsize=7)
        files.append(save_figure(fig, out, "nbody_charged_mse.png"))
    return files


def nbody_tables(results: dict[str, Any]) -> str:
    """The n-body rows as plain text."""
    lines = []
    if results.get("charged"):
        lines.append("Charged 5-body (EGNN protocol: frame 30 -> 40), test MSE beside the published numbers")
        head = ["model", "epochs", "test MSE", "published", "fwd ms/100", "equiv. err", "params"]
        lines.append(row(head, 17))
        for r in results["charged"]:
            vals = [r["model"], r["epochs"], r["test_mse"], r["published_mse"], r["forward_ms_per_100"],
                    r["equivariance_error"], r["parameters"]]
            lines.append(row(vals, 17))
        lines.append("")
    if results.get("gravity"):
        g = results["gravity"][0]
        lines.append(f"Gravity {g['n_bodies']}-body rollouts to t = {g['t_end']:g} (float64): max relative errors of the "
                     f"true invariants, final position RMSE (particles moved {cell(g.get('displacement_rms'))} RMS)")
        head = ["model", "method", "trained on N", "fit steps", "energy", "momentum", "ang. momentum", "pos. RMSE"]
        lines.append(row(head, 17))
        for r in results["gravity"]:
            vals = [r["model"], r["method"], r["train_bodies"], r["fit_steps"], r["energy_error"], r["momentum_error"],
                    r["angular_momentum_error"], r["position_rmse"]]
            lines.append(row(vals, 17))
    return "\n".join(lines)
