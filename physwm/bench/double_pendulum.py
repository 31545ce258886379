"""Double pendulum, simulated and measured: LNN vs HNN vs NeuralODE, energy and Lyapunov horizons.

Used by ``physwm bench``, ``examples/double_pendulum.py`` and ``notebooks/02_double_pendulum.ipynb``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

import physwm
from physwm.bench._plotting import pyplot, save_figure
from physwm.bench._tables import row
from physwm.data import TrajectoryData, load_schmidt_lipson
from physwm.diagnostics import max_lyapunov_exponent, normalized_error, valid_prediction_time
from physwm.models import HNN, LNN, NeuralODE
from physwm.systems import DoublePendulum
from physwm.training import fit

__all__ = ["DoublePendulumConfig", "run_double_pendulum", "fit_rig", "velocity_derivative", "rollout",
           "PAPER_LNN", "chaos_table", "plot_double_pendulum"]

#: Cranmer et al. 2020, double pendulum: energy error at t = 100 in % of the maximal potential energy.
PAPER_LNN = {"t": 100.0, "LNN": 0.4, "baseline": 8.0}

_SETTINGS = {  # train steps, hidden widths, simulated rollout horizon, Lyapunov averaging time, training trajectories
    "smoke": dict(steps=10, hidden=(16, 16), horizon=1.0, lyap_time=1.0, n_train=4),
    "quick": dict(steps=600, hidden=(128, 128), horizon=10.0, lyap_time=20.0, n_train=40),
    "full": dict(steps=5000, hidden=(256, 256), horizon=100.0, lyap_time=200.0, n_train=200),
}


@dataclass
class DoublePendulumConfig:
    """Settings of the double-pendulum experiment (``mode``: ``smoke``, ``quick`` or ``full``)."""

    mode: str = "quick"
    device: str = "cpu"
    seed: int = 0
    data: str | None = None
    rollout_dt: float = 0.01

    def __post_init__(self) -> None:
        if self.mode not in _SETTINGS:
            raise ValueError(f"`mode` must be one of {sorted(_SETTINGS)}, got {self.mode!r}")

    def __getattr__(self, name: str) -> Any:
        settings = _SETTINGS.get(self.__dict__.get("mode", ""), {})
        if name in settings:
            return settings[name]
        raise AttributeError(name)


def velocity_derivative(dp: DoublePendulum, y: Tensor) -> Tensor:
    """``d/dt [θ, θ̇]`` at canonical states ``y = [θ, p]``, exactly (forward-mode AD of ``to_velocities``)."""
    _, dx = torch.func.jvp(dp.to_velocities, (y,), (dp(0.0, y),))
    return dx


def fit_rig(data: TrajectoryData, g: float = 9.81) -> DoublePendulum:
    """Point-mass double pendulum fitted to measured accelerations by least squares (scipy).

    ``m1 = 1`` fixes the mass scale; ``m2``, ``l1``, ``l2`` (effective point-mass lengths of a rig
    with massive rods) minimise the squared error of the predicted ``θ̈`` against the measured one.
    """
    from scipy.optimize import least_squares

    x = data.ys[:, 0].double()
    acc = data.dydt[:, 0, 2:].double()

    def residual(log_params: np.ndarray) -> np.ndarray:
        m2, l1, l2 = (float(v) for v in np.exp(log_params))
        dp = DoublePendulum(1.0, m2, l1, l2, g)
        pred = velocity_derivative(dp, dp.from_velocities(x))[:, 2:]
        return (pred - acc).flatten().numpy()

    sol = least_squares(residual, np.zeros(3))
    m2, l1, l2 = (float(v) for v in np.exp(sol.x))
    return DoublePendulum(1.0, m2, l1, l2, g)


def rollout(model: Any, y0: Tensor, t: Tensor, dt: float, method: str = "rk4", chunk: int = 50) -> Tensor:
    """Roll a model out chunk by chunk; after a blow-up (non-finite state, singular learned mass matrix)
    the remaining states are NaN instead of an exception."""
    out = [y0.unsqueeze(0)]
    y = y0
    for start in range(0, len(t) - 1, chunk):
        tt = t[start: start + chunk + 1]
        try:
            with torch.no_grad():
                ys = physwm.solve(model, y, tt, method=method, dt=dt).ys
        except (physwm.IntegrationError, physwm.SingularMassMatrixError):
            out.append(torch.full((len(t) - 1 - start, *y0.shape), math.nan, dtype=y0.dtype, device=y0.device))
            break
        out.append(ys[1:])
        y = ys[-1]
    return torch.cat(out)


def _models(cfg: DoublePendulumConfig) -> dict[str, Callable[[], torch.nn.Module]]:
    """Model factories: each is built after seeding, so its initialisation does not depend on what ran before."""
    h = cfg.hidden
    # ε = 1 (Tikhonov on the mass matrix): without it the LNN's loss spikes on near-singular learned
    # mass matrices; L -> cL leaves the dynamics unchanged, so training scales L up and the bias away.
    return {"LNN": lambda: LNN(2, hidden=h, regularization=1.0), "HNN": lambda: HNN(2, hidden=h),
            "NeuralODE": lambda: NeuralODE(4, hidden=h)}


def _train(model, train: TrajectoryData, test: TrajectoryData, cfg: DoublePendulumConfig) -> tuple[float, float]:
    start = time.perf_counter()
    hist = fit(model, train, steps=cfg.steps, lr=1e-3, batch_size=256, val_data=test, eval_every=max(cfg.steps, 1),
               seed=cfg.seed, progress=False)
    return hist.val_loss[-1], time.perf_counter() - start


def _potential_range(dp: DoublePendulum) -> float:
    return 2 * dp.g * ((dp.m1 + dp.m2) * dp.l1 + dp.m2 * dp.l2)


def simulated(cfg: DoublePendulumConfig) -> dict[str, Any]:
    """Train on simulated trajectories of the unit double pendulum, roll out from held-out states."""
    dev = torch.device(cfg.device)
    dp = DoublePendulum()
    gen = torch.Generator().manual_seed(cfg.seed)
    y_all = dp.sample_initial_state(cfg.n_train + 4, generator=gen, dtype=torch.float64, device=dev)
    t_train = torch.linspace(0, 5, 101, dtype=torch.float64, device=dev)
    with torch.no_grad():
        canon = physwm.solve(dp, y_all[: cfg.n_train], t_train, method="dopri8", rtol=1e-10, atol=1e-10).ys
    d_canon = dp(0.0, canon)
    vel, d_vel = dp.to_velocities(canon), velocity_derivative(dp, canon)
    n_val = max(1, cfg.n_train // 5)
    coords = {"LNN": "velocity", "NeuralODE": "velocity", "HNN": "canonical"}
    sets = {"velocity": TrajectoryData(t_train, vel.float(), d_vel.float()),
            "canonical": TrajectoryData(t_train, canon.float(), d_canon.float())}
    y0_test = y_all[cfg.n_train:]
    t_roll = torch.arange(0, round(cfg.horizon / cfg.rollout_dt) + 1, dtype=torch.float64, device=dev) * cfg.rollout_dt
    with torch.no_grad():
        truth = physwm.solve(dp, y0_test, t_roll, method="dopri8", rtol=1e-11, atol=1e-11).ys
    truth_vel = dp.to_velocities(truth)
    scale = truth_vel.reshape(-1, 4).std(0)
    lam = max_lyapunov_exponent(dp, y0_test, t_total=cfg.lyap_time, dt=0.01, transient=0.1 * cfg.lyap_time,
                                jvp="reverse", generator=torch.Generator().manual_seed(cfg.seed))
    lam_mean = float(lam.mean())
    v_range = _potential_range(dp)
    e0 = dp.energy(y0_test)
    rows, curves = [], {"t": t_roll.cpu().tolist(), "energy": {}, "error": {}, "lambda_max": lam_mean}
    for label, make in _models(cfg).items():
        torch.manual_seed(cfg.seed)
        model = make().to(dev)
        train, val = sets[coords[label]].split_trajectories(cfg.n_train - n_val)
        test_loss, seconds = _train(model.float(), train, val, cfg)
        model = model.double()
        y0 = dp.to_velocities(y0_test) if coords[label] == "velocity" else y0_test
        roll = rollout(model, y0, t_roll, cfg.rollout_dt)
        roll_vel = roll if coords[label] == "velocity" else dp.to_velocities(roll)
        roll_can = dp.from_velocities(roll) if coords[label] == "velocity" else roll
        e_err = (dp.energy(roll_can) - e0).abs() / v_range  # (T, B), fraction of the potential-energy range
        vpt = valid_prediction_time(roll_vel, truth_vel, t_roll, scale=scale)
        rows.append({"task": "sim_double_pendulum", "model": label, "coordinates": coords[label], "train_steps": cfg.steps,
                     "test_loss": test_loss, "train_seconds": seconds, "horizon": float(t_roll[-1]),
                     "energy_error_pct_end": 100 * float(e_err[-1].mean()),
                     "energy_error_pct_max": 100 * float(e_err.max()),
                     "lambda_max": lam_mean, "vpt": float(vpt.mean()), "vpt_lyapunov_times": float(vpt.mean()) * lam_mean})
        curves["energy"][label] = (100 * e_err.mean(1)).cpu().tolist()
        curves["error"][label] = normalized_error(roll_vel, truth_vel, scale).mean(1).cpu().tolist()
    return {"rows": rows, "curves": curves, "lambda_max_per_state": lam.cpu().tolist(),
            "energy_per_state": e0.cpu().tolist()}


def _shift_angles(data: TrajectoryData) -> TrajectoryData:
    """Shift each recorded (unwrapped) angle by a constant multiple of 2π so it starts in (-π, π].

    The dynamics are 2π-periodic in the angles, so this changes no physics; the recording of trial 1
    starts after many turns (θ ≈ -12, -46 rad), far outside what a network trained on trial 0 saw.
    """
    ys = data.ys.clone()
    turns = torch.round(ys[0, :, :2] / (2 * math.pi))
    ys[..., :2] = ys[..., :2] - 2 * math.pi * turns
    return TrajectoryData(data.t, ys, data.dydt)


def measured(cfg: DoublePendulumConfig, path: Path) -> dict[str, Any]:
    """Train on trial 0 of the measured double pendulum, test on trial 1."""
    dev = torch.device(cfg.device)
    train = _shift_angles(load_schmidt_lipson(path, trial=0, derivative="measured"))
    test = _shift_angles(load_schmidt_lipson(path, trial=1, derivative="measured"))
    rig = fit_rig(train)
    x0 = test.ys[0].to(dev)
    y0_rig = rig.from_velocities(torch.cat([train.ys[0], test.ys[0]]).to(dev))
    lam = max_lyapunov_exponent(rig, y0_rig, t_total=cfg.lyap_time, dt=0.005, transient=0.1 * cfg.lyap_time,
                                jvp="reverse", generator=torch.Generator().manual_seed(cfg.seed))
    lam_test = float(lam[1])
    t_test = (test.t - test.t[0]).to(dev)
    truth = test.ys.to(dev)
    scale = truth.reshape(-1, 4).std(0)
    e_true = rig.energy(rig.from_velocities(truth))
    rows, curves = [], {"t": t_test.cpu().tolist(), "error": {}, "lambda_max": lam_test}
    for label, make in _models(cfg).items():
        torch.manual_seed(cfg.seed)
        model = make().to(dev)
        test_loss, seconds = _train(model.float(), TrajectoryData(train.t, train.ys.float(), train.dydt.float()).to(dev),
                                    TrajectoryData(test.t, test.ys.float(), test.dydt.float()).to(dev), cfg)
        model = model.double()
        roll = rollout(model, x0, t_test, cfg.rollout_dt)
        vpt = float(valid_prediction_time(roll, truth, t_test, scale=scale).mean())
        e_roll = rig.energy(rig.from_velocities(roll))
        rows.append({"task": "real_double_pendulum", "model": label, "coordinates": "velocity", "train_steps": cfg.steps,
                     "test_loss": test_loss, "train_seconds": seconds, "horizon": float(t_test[-1]),
                     "energy_error_pct_end": 100 * float((e_roll[-1] - e_true[-1]).abs().mean()) / _potential_range(rig),
                     "energy_error_pct_max": 100 * float((e_roll - e_true).abs().max()) / _potential_range(rig),
                     "lambda_max": lam_test, "vpt": vpt, "vpt_lyapunov_times": vpt * lam_test})
        curves["error"][label] = normalized_error(roll, truth, scale).mean(1).cpu().tolist()
    rig_info = {"m1": rig.m1, "m2": rig.m2, "l1": rig.l1, "l2": rig.l2, "g": rig.g,
                "lambda_max_trial0": float(lam[0]), "lambda_max_trial1": lam_test,
                "energy_trial0": float(rig.energy(y0_rig[0])), "energy_trial1": float(rig.energy(y0_rig[1]))}
    return {"rows": rows, "curves": curves, "rig": rig_info}


def run_double_pendulum(cfg: DoublePendulumConfig) -> dict[str, Any]:
    """Both tasks (the measured one only when ``cfg.data`` holds ``schmidt-lipson/real_double_pend_h_1.txt``)."""
    out = {"simulated": simulated(cfg), "paper": PAPER_LNN}
    if cfg.data:
        path = Path(cfg.data) / "schmidt-lipson" / "real_double_pend_h_1.txt"
        if path.is_file():
            out["measured"] = measured(cfg, path)
    return out


def chaos_table(rows: list[dict]) -> str:
    """The learned-model rows (energy error, λmax, valid prediction time) as a plain-text table."""
    lines = ["Double pendulum and controlled systems: energy error, Lyapunov exponent of the true system, valid "
              "prediction time (VPT, threshold 0.4)"]
    head = ["task", "model", "test loss", "dE % (end)", "dE % (max)", "lambda_max", "VPT", "VPT [1/lambda]"]
    lines.append(row(head, 20))
    for r in rows:
        vals = [r["task"], r["model"], r["test_loss"], r.get("energy_error_pct_end"), r.get("energy_error_pct_max"),
                r.get("lambda_max"), r.get("vpt"), r.get("vpt_lyapunov_times")]
        lines.append(row(vals, 20, style="g"))
    lines.append(f"LNN paper (t = {PAPER_LNN['t']:.0f}): energy error {PAPER_LNN['LNN']}% of the max potential energy "
                 f"(LNN) vs {PAPER_LNN['baseline']}% (baseline)")
    return "\n".join(lines)


def plot_double_pendulum(out: Path, dp: dict) -> list[str]:
    """PNG plots of :func:`run_double_pendulum` results into ``out``.

    Energy error vs time (simulated double pendulum) and error growth on a log scale with the
    ``e^{λt}`` slope drawn; returns the file names.
    """
    plt = pyplot()

    files = []
    sim = dp["simulated"]["curves"]
    fig, ax = plt.subplots(figsize=(7, 4))
    for label, e in sim["energy"].items():
        ax.plot(sim["t"], [max(v, 1e-10) for v in e], label=label, lw=1)
    ax.set_yscale("log")
    ax.set(xlabel="t (s)", ylabel="|E(t) - E(0)|, % of max potential energy", title="double pendulum: energy error")
    ax.legend()
    files.append(save_figure(fig, out, "double_pendulum_energy.png"))
    for task, block in (("sim", dp["simulated"]), ("real", dp.get("measured"))):
        if block is None:
            continue
        c = block["curves"]
        fig, ax = plt.subplots(figsize=(7, 4))
        for label, e in c["error"].items():
            ax.plot(c["t"], e, label=label, lw=1)
        lam = c["lambda_max"]
        finite = [v for e in c["error"].values() for v in e[1:] if v == v and v > 0]
        if lam > 0 and finite:
            e0 = min(finite)
            ax.plot(c["t"], [e0 * math.exp(lam * t) for t in c["t"]], "k--", lw=1, label=f"e^(λt), λ = {lam:.2f}")
        ax.axhline(0.4, color="gray", lw=0.8, ls=":")
        ax.set_yscale("log")
        ax.set_ylim(1e-6, 1e2)
        ax.set(xlabel="t (s)", ylabel="normalised error", title=f"double pendulum ({task}): error growth")
        ax.legend(fontsize=8)
        files.append(save_figure(fig, out, f"double_pendulum_error_{task}.png"))
    return files


