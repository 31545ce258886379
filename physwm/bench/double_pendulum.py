"""Double pendulum, simulated and measured: LNN vs HNN vs NeuralODE, energy and Lyapunov horizons."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

import physwm
from physwm.bench._plotting import pyplot, save_figure
from physwm.bench._tables import row
from physwm.bench.config import BenchConfig
from physwm.data import TrajectoryData, load_schmidt_lipson
from physwm.diagnostics import max_lyapunov_exponent, normalized_error, valid_prediction_time
from physwm.integrate import rollout
from physwm.models import HNN, LNN, NeuralODE, SymbolicLagrangian
from physwm.references import LNN_DOUBLE_PENDULUM_ENERGY
from physwm.systems import DoublePendulum
from physwm.training import DerivativeMatching, RolloutMatching, fit

__all__ = ["run", "table", "plots"]

ROLLOUT_DT = 0.01


def _models(s: dict[str, Any], angles: tuple[int, ...] = ()) -> dict[str, Callable[[], torch.nn.Module]]:
    """Model factories: each is built after seeding, so its initialisation does not depend on what ran before.
    ``angles``: the coordinates the networks see wrapped into [-π, π)."""
    h = s["hidden"]
    # ε = 1 (Tikhonov on the mass matrix): without it the LNN's loss spikes on near-singular learned
    # mass matrices; L -> cL leaves the dynamics unchanged, so training scales L up and the bias away.
    return {"LNN": lambda: LNN(2, hidden=h, regularization=1.0, angles=angles), "HNN": lambda: HNN(2, hidden=h, angles=angles),
            "NeuralODE": lambda: NeuralODE(4, hidden=h, angles=angles)}


def _train(model, train: TrajectoryData, test: TrajectoryData, steps: int, seed: int) -> tuple[float, float]:
    start = time.perf_counter()
    hist = fit(model, DerivativeMatching(train, batch_size=256), steps=steps, lr=1e-3, val_data=test, seed=seed,
               progress=False)
    return hist.val_loss[-1], time.perf_counter() - start


def _potential_range(dp: DoublePendulum) -> float:
    return 2 * dp.g * ((dp.m1 + dp.m2) * dp.l1 + dp.m2 * dp.l2)


def chaotic_states(dp: DoublePendulum, n: int, generator: torch.Generator, *, min_energy: float = 0.0,
                   device: torch.device | None = None) -> torch.Tensor:
    """``n`` canonical states at rest, angles uniform on the torus, kept where the energy exceeds ``min_energy``.

    Above ``E = 0`` (zero: both bobs level with the pivot, the potential ranges over ``±29.4`` for the unit
    pendulum at g = 9.8) the unit double pendulum is chaotic almost everywhere: Benettin's method gives
    λmax of about 0.8 to 1.8 1/s for such states (docs/benchmarks.md, "Chaotic double pendulum").
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise physwm.ArgumentValueError(f"`n` must be an int >= 1, got {n!r}")
    if not min_energy < _potential_range(dp) / 2:
        raise physwm.ArgumentValueError(f"`min_energy` must be below the highest energy at rest, {_potential_range(dp) / 2:g}, "
                                        f"got {min_energy}")
    out: list[torch.Tensor] = []
    while sum(len(o) for o in out) < n:
        q = (2 * torch.rand(4 * n, 2, generator=generator, dtype=torch.float64) - 1) * math.pi
        y = torch.cat([q, torch.zeros_like(q)], -1)
        out.append(y[dp.energy(y) > min_energy])
    return torch.cat(out)[:n].to(device)


def _one_cycle(steps: int, peak: float):
    return lambda opt: torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=peak, total_steps=steps)


def chaotic(cfg: BenchConfig, models: tuple[str, ...] = ("LNN", "HNN", "NeuralODE")) -> dict[str, Any]:
    """Valid prediction time in Lyapunov times on the chaotic double pendulum, derivative matching and
    multi-step (SRNN-style) rollout training.

    Protocol (:data:`~physwm.bench.config.SETTINGS` ``[mode]["double_pendulum"]["chaotic"]``): the unit double
    pendulum at g = 9.8; ``n_train`` trajectories of ``t_train`` s from :func:`chaotic_states` (energy above 0),
    observed every ``obs_dt`` s with Gaussian noise ``noise`` on the canonical state ``[θ, p]``, and the exact
    time derivatives at the true states as derivative labels (the HNN paper's convention). A fifth of the
    trajectories validate. The models see their angles through ``(cos θ, sin θ)``:

    - derivative matching (``dm_steps`` Adam steps, one-cycle to 3e-3, ``lnn_peak_lr`` for the LNN, whose loss
      spikes on near-singular learned mass matrices at 3e-3; batch 512, float32): LNN on ``[θ, θ̇]``, HNN and
      NeuralODE on ``[θ, p]``; rolled out with RK4 at dt = 0.01;
    - then, from those weights, rollout matching over windows of ``window`` intervals with fitted initial
      states (``rollout_steps`` steps, cosine decay from ``rollout_lr``, ``rollout_batch`` start indices of the
      first ``rollout_trajectories`` training trajectories per step; :class:`~physwm.training.RolloutMatching`):
      the HNN through the symplectic implicit midpoint rule (Chen et al. 2020 train through leapfrog; the double
      pendulum's Hamiltonian is not separable), the NeuralODE through RK4, each at ``substeps`` steps per
      observation interval and rolled out with the same method and step it was trained with (the trained map
      is that method's), compared with the truth at the observation times.

    ``n_test`` held-out states from the same distribution are rolled out for ``horizon`` s against dopri8
    (rtol = atol = 1e-11). The valid prediction time (normalised error 0.4, angles compared on the circle,
    scale: π/√3 for the angles, the held-out truth's spread for the velocities) of each state times that
    state's λmax (Benettin over ``lyap_time`` s) gives its VPT in Lyapunov times; the median over states is
    reported. ``models`` picks which of LNN, HNN and NeuralODE run (the data and states do not depend on it).
    """
    unknown = set(models) - {"LNN", "HNN", "NeuralODE"}
    if unknown:
        raise physwm.ArgumentValueError(f"`models` must be among 'LNN', 'HNN', 'NeuralODE', got {sorted(unknown)}")
    dev, s = cfg.torch_device, cfg.section("double_pendulum")["chaotic"]
    dp = DoublePendulum(g=9.8)
    gen = torch.Generator().manual_seed(cfg.seed)
    y_test = chaotic_states(dp, s["n_test"], gen, device=dev)  # first: the same held-out states for any n_train
    y_train = chaotic_states(dp, s["n_train"], gen, device=dev)
    obs_dt = s["obs_dt"]
    obs_every = round(obs_dt / ROLLOUT_DT)  # rollout-trained models are compared at the observation times
    if abs(obs_every * ROLLOUT_DT - obs_dt) > 1e-12 * obs_dt:
        raise physwm.ArgumentValueError(f"`obs_dt` must be a multiple of {ROLLOUT_DT}, got {obs_dt}")
    t_obs = torch.arange(0, round(s["t_train"] / obs_dt) + 1, dtype=torch.float64, device=dev) * obs_dt
    with torch.no_grad():
        canon = physwm.solve(dp, y_train, t_obs, method="dopri8", rtol=1e-10, atol=1e-10).ys
    d_canon, d_vel = dp(0.0, canon), dp.velocity_derivative(canon)
    noise = s["noise"] * torch.randn(canon.shape, generator=gen, dtype=canon.dtype).to(dev)
    observed = canon + noise
    n_fit = s["n_train"] - max(1, s["n_train"] // 5)
    sets = {"canonical": TrajectoryData(t_obs, observed, d_canon),
            # the LNN's states are the noisy canonical observations converted to velocities
            "velocity": TrajectoryData(t_obs, dp.to_velocities(observed), d_vel)}
    t_roll = torch.arange(0, round(s["horizon"] / ROLLOUT_DT) + 1, dtype=torch.float64, device=dev) * ROLLOUT_DT
    with torch.no_grad():
        truth = physwm.solve(dp, y_test, t_roll, method="dopri8", rtol=1e-11, atol=1e-11).ys
    truth_vel = dp.to_velocities(truth)
    scale = torch.cat([torch.full((2,), math.pi / math.sqrt(3), dtype=torch.float64, device=dev),
                       truth_vel[..., 2:].reshape(-1, 2).std(0)])
    lam = max_lyapunov_exponent(dp, y_test, t_total=s["lyap_time"], dt=0.01, transient=0.1 * s["lyap_time"],
                                jvp="difference", generator=torch.Generator().manual_seed(cfg.seed))
    e0, v_range = dp.energy(y_test), _potential_range(dp)
    h, emb = s["hidden"], dict(angles=(0, 1), angle_embedding="cos_sin")
    makers = {"LNN": (lambda: LNN(2, hidden=h, regularization=s["lnn_regularization"], **emb), "velocity"),
              "HNN": (lambda: HNN(2, hidden=h, **emb), "canonical"),
              "NeuralODE": (lambda: NeuralODE(4, hidden=h, **emb), "canonical")}
    rollout_method = {"HNN": "implicit_midpoint", "NeuralODE": "rk4"}
    rows, curves = [], {"t": t_roll.cpu().tolist(), "energy": {}, "error": {}, "lambda_max": float(lam.mean())}

    def evaluate(label: str, model, coords: str, method: str, dt: float, seconds: float, training: str, every: int = 1,
                 **extra) -> None:
        """Roll out with ``method`` at step ``dt``, compared with the truth every ``every`` samples (a multiple of dt)."""
        y0 = dp.to_velocities(y_test) if coords == "velocity" else y_test
        ref_vel, tt = truth_vel[::every], t_roll[::every]
        roll = rollout(model, y0, tt, method=method, dt=dt)
        roll_vel = roll if coords == "velocity" else dp.to_velocities(roll)
        roll_can = dp.from_velocities(roll) if coords == "velocity" else roll
        vpt = valid_prediction_time(roll_vel, ref_vel, tt, scale=scale, angles=(0, 1))
        lt = vpt * lam
        e_err = (dp.energy(roll_can) - e0).abs() / v_range
        rows.append({"task": "chaotic_double_pendulum", "model": label, "training": training, "coordinates": coords,
                     "rollout": f"{method} dt={dt:g}", "train_seconds": seconds, "horizon": float(tt[-1]),
                     "vpt": float(vpt.median()), "vpt_mean": float(vpt.mean()),
                     "vpt_lyapunov_times": float(lt.median()), "vpt_lyapunov_times_mean": float(lt.mean()),
                     "vpt_lyapunov_times_per_state": lt.cpu().tolist(),
                     "energy_error_pct_median_end": 100 * float(torch.nan_to_num(e_err[-1], nan=math.inf).median()),
                     "lambda_max": float(lam.mean()), "states": len(y_test), **extra})
        curves["energy"][label] = (100 * e_err.median(1).values).cpu().tolist()
        curves["error"][label] = normalized_error(roll_vel, ref_vel, scale, angles=(0, 1)).median(1).values.cpu().tolist()
        if len(tt) != len(t_roll):
            curves.setdefault("t_" + label, tt.cpu().tolist())

    for label, (make, coords) in makers.items():
        if label not in models:
            continue
        torch.manual_seed(cfg.seed)
        model = make().to(dev).float()
        train, val = sets[coords].split_trajectories(n_fit)
        peak = s["lnn_peak_lr"] if label == "LNN" else 3e-3
        hist = fit(model, DerivativeMatching(train.to(torch.float32), batch_size=512), steps=s["dm_steps"], lr=1e-3,
                   schedule=_one_cycle(s["dm_steps"], peak), val_data=val.to(torch.float32), seed=cfg.seed, progress=False)
        dm_seconds = hist.seconds
        evaluate(label, model.double(), coords, "rk4", ROLLOUT_DT, dm_seconds, "derivative",
                 test_loss=hist.val_loss[-1])
        if label not in rollout_method or not s["rollout_steps"]:
            continue
        method = rollout_method[label]
        model = model.float()
        step = obs_dt / s["substeps"]
        # a step rolls out every trajectory from each of its start indices: the first rollout_trajectories keep it small
        k = s["rollout_trajectories"]
        windows, few_val = (d.split_trajectories(k)[0] if d.n_trajectories > k else d for d in (train, val))
        objective = RolloutMatching(windows.to(torch.float32), horizon=s["window"], method=method, dt=step,
                                    batch_size=s["rollout_batch"], fit_initial_states=True, refine_iters=s["refine_iters"])
        hist = fit(model, objective, steps=s["rollout_steps"], lr=s["rollout_lr"], seed=cfg.seed, progress=False,
                   val_data=few_val.to(torch.float32),
                   schedule=lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, s["rollout_steps"]))
        evaluate(f"{label} + rollout", model.double(), coords, method, step, dm_seconds + hist.seconds,
                 f"derivative, then rollout ({s['window']} intervals, fitted initial states)", every=obs_every,
                 rollout_loss=hist.train_loss[-1])
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


def measured(cfg: BenchConfig) -> dict[str, Any]:
    """Train on trial 0 of the measured double pendulum, test on trial 1."""
    dev, s = cfg.torch_device, cfg.section("double_pendulum")
    train = _shift_angles(load_schmidt_lipson("real_double_pend_h_1.txt", trial=0, derivative="measured"))
    test = _shift_angles(load_schmidt_lipson("real_double_pend_h_1.txt", trial=1, derivative="measured"))
    rig = DoublePendulum.fit(train.ys[:, 0], train.dydt[:, 0, 2:])
    x0 = test.ys[0].to(dev)
    y0_rig = rig.from_velocities(torch.cat([train.ys[0], test.ys[0]]).to(dev))
    lam = max_lyapunov_exponent(rig, y0_rig, t_total=s["lyap_time"], dt=0.005, transient=0.1 * s["lyap_time"],
                                jvp="difference", generator=torch.Generator().manual_seed(cfg.seed))
    lam_test = float(lam[1])
    t_test = (test.t - test.t[0]).to(dev)
    truth = test.ys.to(dev)
    scale = truth.reshape(-1, 4).std(0)
    if s["measured_horizon"] is not None:  # roll out only the start of the trial
        keep = int((t_test <= s["measured_horizon"]).sum())
        t_test, truth = t_test[:keep], truth[:keep]
    e_true = rig.energy(rig.from_velocities(truth))
    rows, curves = [], {"t": t_test.cpu().tolist(), "error": {}, "lambda_max": lam_test}
    for label, make in _models(s).items():
        torch.manual_seed(cfg.seed)
        model = make().to(dev)
        test_loss, seconds = _train(model.float(), train.to(device=dev, dtype=torch.float32),
                                    test.to(device=dev, dtype=torch.float32), s["steps"], cfg.seed)
        model = model.double()
        roll = rollout(model, x0, t_test, method="rk4", dt=ROLLOUT_DT)
        vpt = float(valid_prediction_time(roll, truth, t_test, scale=scale).mean())
        e_roll = rig.energy(rig.from_velocities(roll))
        rows.append({"task": "real_double_pendulum", "model": label, "coordinates": "velocity", "train_steps": s["steps"],
                     "test_loss": test_loss, "train_seconds": seconds, "horizon": float(t_test[-1]),
                     "energy_error_pct_end": 100 * float((e_roll[-1] - e_true[-1]).abs().mean()) / _potential_range(rig),
                     "energy_error_pct_max": 100 * float((e_roll - e_true).abs().max()) / _potential_range(rig),
                     "lambda_max": lam_test, "vpt": vpt, "vpt_lyapunov_times": vpt * lam_test})
        curves["error"][label] = normalized_error(roll, truth, scale).mean(1).cpu().tolist()
    rig_info = {"m1": rig.m1, "m2": rig.m2, "l1": rig.l1, "l2": rig.l2, "g": rig.g,
                "lambda_max_trial0": float(lam[0]), "lambda_max_trial1": lam_test,
                "energy_trial0": float(rig.energy(y0_rig[0])), "energy_trial1": float(rig.energy(y0_rig[1]))}
    return {"rows": rows, "curves": curves, "rig": rig_info}


def _join_trials(parts: list[TrajectoryData]) -> TrajectoryData:
    """The recordings of several trials as one time series, each after a gap of 1 s.

    The models are autonomous, so shifting a trial in time changes nothing they learn; the gap keeps
    every rollout window inside one trial (a window over a gap is never formed).
    """
    ts, offset = [], 0.0
    for d in parts:
        ts.append(d.t - d.t[0] + offset)
        offset = float(ts[-1][-1]) + 1.0
    return TrajectoryData(torch.cat(ts), torch.cat([d.ys for d in parts]), torch.cat([d.dydt for d in parts]))


def grey_box_rig(rig: DoublePendulum, dissipation: str | None = "state") -> SymbolicLagrangian:
    """The compound double pendulum with encoder offsets and learned friction, initialised at a point-mass fit.

    ``L = θ̇1²/2 + b θ̇2²/2 + c θ̇1 θ̇2 cos(θ1 - θ2 - o1 + o2) + d cos(θ1 - o1) + e cos(θ2 - o2)``: the Lagrangian
    of a planar double pendulum of two rigid bodies whose centres of mass lie on the lines through their
    joints, divided by its first inertia (the accelerations fix ``L`` only up to a factor), written in the
    measured angles ``θ = θ_true + o`` (``o1, o2``: the encoders' zero offsets), plus a learned
    state-dependent friction ``-R(θ, θ̇) θ̇``.
    """
    import sympy as sp

    t1, t2, w1, w2, b, c, d, e, o1, o2 = sp.symbols("theta1 theta2 omega1 omega2 b c d e o1 o2")
    lagrangian = (w1**2 / 2 + b * w2**2 / 2 + c * w1 * w2 * sp.cos(t1 - t2 - o1 + o2) + d * sp.cos(t1 - o1)
                  + e * sp.cos(t2 - o2))
    inertia = (rig.m1 + rig.m2) * rig.l1**2
    init = {"b": rig.m2 * rig.l2**2 / inertia, "c": rig.m2 * rig.l1 * rig.l2 / inertia,
            "d": (rig.m1 + rig.m2) * rig.g * rig.l1 / inertia, "e": rig.m2 * rig.g * rig.l2 / inertia, "o1": 0.0, "o2": 0.0}
    model = SymbolicLagrangian(lagrangian, [t1, t2], [w1, w2], params=init, dissipation=dissipation, angles=(0, 1),
                               hidden=(32, 32)).double()
    with torch.no_grad():  # the exact float64 starting values, not their float32 roundings
        for k, v in init.items():
            model.physical[k].fill_(v)
    return model


class _RigDynamics(torch.nn.Module):
    """A fitted point-mass double pendulum as dynamics on ``[θ, θ̇]``."""

    def __init__(self, rig: DoublePendulum):
        super().__init__()
        self.rig = rig

    def forward(self, t, y):
        return self.rig.velocity_derivative(self.rig.from_velocities(y))


def measured_split(cfg: BenchConfig) -> dict[str, Any]:
    """Train on the first 70% of both measured trials, roll out from states in the last 30% of each.

    Rollouts start every 0.1 s in the first half of each held-out segment and run to its end (1.3 s or
    more); the VPT is their median (``torch.median``: the lower of the two middle values). The grey box is
    :func:`grey_box_rig`: its physical parameters and friction fitted to the measured accelerations, then to 0.1 s rollout windows.
    """
    dev, s = cfg.torch_device, cfg.section("double_pendulum")
    split = s["split"]
    trials = [_shift_angles(load_schmidt_lipson("real_double_pend_h_1.txt", trial=k, derivative="measured")) for k in (0, 1)]
    parts = [d.split_time(0.7) for d in trials]
    train = _join_trials([p[0] for p in parts]).to(dev)
    # each held-out segment's angles shifted by whole turns to start in (-π, π], like the trials': the error
    # scale (the held-out data's spread) is then not inflated by the turns trial 1 made before the segment
    tests = [_shift_angles(p[1]).to(dev) for p in parts]
    rig = DoublePendulum.fit(train.ys[:, 0], train.dydt[:, 0, 2:])
    starts = []
    for k, d in enumerate(tests):
        tt = d.t - d.t[0]
        for s0 in torch.arange(0.0, float(tt[-1]) / 2, 0.1).tolist():
            starts.append((k, int((tt >= s0 - 1e-9).nonzero()[0])))
    starts = starts[: split["starts"]] if split["starts"] else starts
    scale = torch.cat([d.ys[:, 0] for d in tests]).std(0)
    y0_rig = rig.from_velocities(torch.stack([tests[k].ys[i, 0] for k, i in starts]))
    lam = max_lyapunov_exponent(rig, y0_rig, t_total=s["lyap_time"], dt=0.005, transient=0.1 * s["lyap_time"],
                                jvp="difference", generator=torch.Generator().manual_seed(cfg.seed))
    lam_mean, v_range = float(lam.mean()), _potential_range(rig)

    # All rollouts in one batched solve on a uniform grid of half the frame spacing; each is compared with
    # its own recording at the grid points nearest its time stamps (the stamps jitter by ~1e-4 s).
    horizons = [float(tests[k].t[-1] - tests[k].t[i]) for k, i in starts]
    if split["horizon"] is not None:  # the smoke setting rolls out only the start
        horizons = [min(h, split["horizon"]) for h in horizons]
    step = ROLLOUT_DT / 2
    grid = torch.arange(0, round(max(horizons) / step) + 1, dtype=torch.float64, device=dev) * step
    x0 = torch.stack([tests[k].ys[i, 0] for k, i in starts])

    def evaluate(model) -> dict[str, float]:
        try:
            ys = rollout(model, x0, grid, method="rk4", dt=step)
        except physwm.PhyswmError:  # a rollout that left the model's domain predicts nothing
            return {"vpt": 0.0, "vpt_mean": 0.0, "vpt_lyapunov_times": 0.0, "energy_error_pct_max_1s": math.inf}
        vpts, e_errs = [], []
        for b, ((k, i), h) in enumerate(zip(starts, horizons)):
            tt = tests[k].t[i:] - tests[k].t[i]
            keep = tt <= h + 1e-9
            tt, truth = tt[keep], tests[k].ys[i:, 0][keep]
            pred = ys[torch.round(tt / step).long(), b]
            vpts.append(float(valid_prediction_time(pred, truth, tt, scale=scale)))
            first = tt <= 1.0
            e_err = (rig.energy(rig.from_velocities(pred[first])) - rig.energy(rig.from_velocities(truth[first]))).abs()
            e_errs.append(100 * float(torch.nan_to_num(e_err, nan=math.inf).max()) / v_range)  # NaN: a failed rollout
        v = torch.tensor(vpts)
        return {"vpt": float(v.median()), "vpt_mean": float(v.mean()), "vpt_lyapunov_times": float(v.median()) * lam_mean,
                "energy_error_pct_max_1s": float(torch.tensor(e_errs).median())}

    rows = []

    def add(label: str, model, seconds: float, loss: float | None, **extra) -> None:
        rows.append({"task": "real_double_pendulum_split", "model": label, "train_seconds": seconds, "test_loss": loss,
                     "lambda_max": lam_mean, "rollouts": len(starts), **evaluate(model), **extra})

    add("point-mass fit", _RigDynamics(rig), 0.0, None)
    for label, make in _models(s, angles=(0, 1)).items():  # trial 1 spins over the top: periodic networks
        torch.manual_seed(cfg.seed)
        model = make().to(dev)
        loss, seconds = _train(model.float(), train.to(torch.float32), tests[0].to(torch.float32), s["steps"], cfg.seed)
        add(label, model.double(), seconds, loss)
    torch.manual_seed(cfg.seed)
    grey = grey_box_rig(rig).to(dev)
    start = time.perf_counter()
    fit(grey, DerivativeMatching(train, batch_size=256), steps=split["grey_box_steps"], lr=3e-3, seed=cfg.seed,
        progress=False)
    fit(grey, RolloutMatching(train, horizon=10, method="rk4", batch_size=64),
        steps=split["rollout_steps"], lr=1e-3, seed=cfg.seed, progress=False)
    add("grey box (L + R)", grey, time.perf_counter() - start, None, parameters=grey.physical_parameters())
    return {"rows": rows, "lambda_max_per_start": lam.cpu().tolist(),
            "split": {"train_fraction": 0.7, "test_seconds": [float(d.t[-1] - d.t[0]) for d in tests]}}


def run(cfg: BenchConfig) -> dict[str, Any]:
    """The chaotic simulated task (:func:`chaotic`) and the measured one (the rig's recordings ship with physwm): trial 0 -> trial 1,
    and the first 70% of both trials -> their last 30%."""
    return {"chaotic": chaotic(cfg), "measured": measured(cfg), "measured_split": measured_split(cfg)}


def table(res: dict[str, Any]) -> str:
    """The learned-model rows (energy error, λmax, valid prediction time) as a plain-text table."""
    chaos = res["chaotic"]["rows"]
    paper = LNN_DOUBLE_PENDULUM_ENERGY
    lines = []
    if chaos:
        lines.append(f"Chaotic double pendulum (E > 0, g = 9.8): valid prediction time (threshold 0.4) over {chaos[0]['states']} "
                     "held-out states, median in s and in Lyapunov times (each state's lambda_max), energy error at the "
                     "end (median, % of the potential range)")
        head = ["model", "rollout", "VPT median", "VPT [1/lambda]", "mean [1/lambda]", "dE % (end)", "train s"]
        lines.append(row(head, 18))
        for r in chaos:
            lines.append(row([r["model"], r["rollout"], r["vpt"], r["vpt_lyapunov_times"], r["vpt_lyapunov_times_mean"],
                              r["energy_error_pct_median_end"], r["train_seconds"]], 18, style="g"))
    rows = res["measured"]["rows"]
    lines.append("Measured rig, trial 0 -> trial 1: energy error, Lyapunov exponent of the fitted rig, valid prediction "
                 "time (VPT, threshold 0.4)")
    head = ["task", "model", "test loss", "horizon", "dE % (end)", "dE % (max)", "lambda_max", "VPT", "VPT [1/lambda]"]
    lines.append(row(head, 20))
    for r in rows:
        vals = [r["task"], r["model"], r["test_loss"], r["horizon"], r.get("energy_error_pct_end"), r.get("energy_error_pct_max"),
                r.get("lambda_max"), r.get("vpt"), r.get("vpt_lyapunov_times")]
        lines.append(row(vals, 20, style="g"))
    split = res.get("measured_split")
    if split:
        lines.append("Measured rig, first 70% of both trials -> last 30% of each: median VPT over "
                     f"{split['rows'][0]['rollouts']} rollouts (s and Lyapunov times), energy error over the first 1 s")
        head = ["model", "VPT median", "VPT mean", "VPT [1/lambda]", "dE % (1 s)", "lambda_max", "train s"]
        lines.append(row(head, 18))
        for r in split["rows"]:
            lines.append(row([r["model"], r["vpt"], r["vpt_mean"], r["vpt_lyapunov_times"], r["energy_error_pct_max_1s"],
                              r["lambda_max"], r["train_seconds"]], 18, style="g"))
    rig = res["measured"]["rig"]
    lines.append(f"measured rig fitted as a point-mass double pendulum: m2/m1 = {rig['m2']:.3f}, l1 = {rig['l1']:.3f} m, "
                 f"l2 = {rig['l2']:.3f} m")
    lines.append(f"LNN paper (t = {paper['t']:.0f}): energy error {paper['LNN'].value}% of the max potential energy "
                 f"(LNN) vs {paper['baseline'].value}% (baseline)")
    return "\n".join(lines)


def plots(out: Path, dp: dict) -> list[str]:
    """Energy error vs time (simulated double pendulum) and error growth on a log scale with the ``e^{λt}``
    slope drawn; returns the file names."""
    plt = pyplot()

    files = []
    sim = dp["chaotic"]["curves"]
    fig, ax = plt.subplots(figsize=(7, 4))
    for label, e in sim["energy"].items():
        ax.plot(sim.get("t_" + label, sim["t"]), [max(v, 1e-10) for v in e], label=label, lw=1)
    ax.set_yscale("log")
    ax.set(xlabel="t (s)", ylabel="|E(t) - E(0)|, % of potential range (median)",
           title="chaotic double pendulum: energy error")
    ax.legend(fontsize=8)
    files.append(save_figure(fig, out, "double_pendulum_energy.png"))
    for task, block in (("sim", dp["chaotic"]), ("real", dp.get("measured"))):
        if block is None:
            continue
        c = block["curves"]
        fig, ax = plt.subplots(figsize=(7, 4))
        for label, e in c["error"].items():
            ax.plot(c.get("t_" + label, c["t"]), e, label=label, lw=1)
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


