"""A plain, seeded, resumable training loop for dynamics models."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from physwm.data.trajectories import TrajectoryData
from physwm.integrate import solve
from physwm.training.checkpoint import resume_training_state, save_training_state

__all__ = ["fit", "FitResult", "derivative_loss", "rollout_loss"]


def derivative_loss(model: nn.Module, states: Tensor, derivatives: Tensor, actions: Tensor | None = None) -> Tensor:
    """Mean squared error between ``model(0, states)`` (``model(0, states, actions)`` for a controlled
    model) and the target derivatives (HNN paper's L2 loss).

    Shapes:
        states, derivatives: ``(N, d)``; actions: ``(N, m)`` -> scalar.
    """
    t0 = torch.zeros((), dtype=states.dtype, device=states.device)
    pred = model(t0, states) if actions is None else model(t0, states, actions)
    return ((pred - derivatives) ** 2).mean()


def rollout_loss(model: nn.Module, ys: Tensor, t: Tensor, *, method: str = "rk4", dt: float | None = None) -> Tensor:
    """Mean squared error of a rollout from ``ys[0]`` against the whole window ``ys``.

    Shapes:
        ys: ``(H+1, B, d)``, t: ``(H+1,)`` -> scalar.
    """
    pred = solve(model, ys[0], t, method=method, dt=dt).ys
    return ((pred[1:] - ys[1:]) ** 2).mean()


@dataclass
class FitResult:
    """History of a :func:`fit` run: one entry per step (``train_loss``) and per evaluation
    (``val_loss`` with its ``val_step``)."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_step: list[int] = field(default_factory=list)
    steps: int = 0


def _windows(data: TrajectoryData, horizon: int) -> Tensor:
    """Start indices of length-``horizon`` windows on the nominal grid (windows over gaps skipped)."""
    dt = data.t.diff()
    nominal = dt.median()
    ok = ((dt - nominal).abs() <= 1e-6 * nominal.abs()).to(torch.int64)
    run = torch.cat([torch.zeros(1, dtype=torch.int64), ok.cumsum(0)])
    starts = torch.arange(len(data) - horizon)
    return starts[(run[starts + horizon] - run[starts]) == horizon]


def fit(model: nn.Module, data: TrajectoryData, *, loss: str = "derivative", steps: int = 2000, lr: float = 1e-3,
        weight_decay: float = 0.0, batch_size: int | None = None, horizon: int = 10, method: str = "rk4",
        val_data: TrajectoryData | None = None, eval_every: int = 100, seed: int = 0,
        checkpoint: str | os.PathLike | None = None, checkpoint_every: int = 500, resume: bool = True,
        progress: bool = True) -> FitResult:
    """Train ``model`` on ``data`` with Adam.

    Losses:
        - ``"derivative"``: match ``model(0, y)`` to ``dy/dt`` (:func:`derivative_loss`), the HNN
          paper's objective; mini-batches of ``batch_size`` samples (full batch by default). With
          ``data.actions`` the model is called as ``model(0, y, u)`` (controlled models, e.g. PHNN).
        - ``"rollout"``: integrate the model with ``method`` over windows of ``horizon`` samples
          and match the states (:func:`rollout_loss`); windows crossing missing frames are skipped.

    Seeded: ``seed`` fixes the mini-batch order through a private generator (parameter
    initialisation is the caller's, before ``fit``). With ``checkpoint``, the model, optimiser,
    generator state and history are saved atomically every ``checkpoint_every`` steps and at the
    end; with ``resume`` an existing checkpoint is loaded (``weights_only=True``) and training
    continues from its step, giving the same result as an uninterrupted run.

    Returns:
        :class:`FitResult`.

    Raises:
        ValueError: unknown ``loss``, non-positive ``steps``/``lr``, too short data for ``horizon``.
    """
    if loss not in ("derivative", "rollout"):
        raise ValueError(f"`loss` must be 'derivative' or 'rollout', got {loss!r}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"`steps` must be a positive int, got {steps!r}")
    if not lr > 0:
        raise ValueError(f"`lr` must be positive, got {lr}")
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("`model` has no trainable parameters")
    opt = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    gen = torch.Generator().manual_seed(seed)
    result = FitResult()
    if loss == "derivative":
        xs, dxs = data.pairs()
        us = data.flat_actions()
        n_samples = xs.shape[0]
    else:
        if data.actions is not None:
            raise ValueError("loss='rollout' does not take action data yet; use loss='derivative'")
        if not isinstance(horizon, int) or horizon < 1:
            raise ValueError(f"`horizon` must be a positive int, got {horizon!r}")
        starts = _windows(data, horizon)
        if len(starts) == 0:
            raise ValueError(f"no gap-free window of {horizon + 1} samples in the data ({len(data)} samples)")
        n_samples = len(starts)
    bs = n_samples if batch_size is None else min(int(batch_size), n_samples)

    state = resume_training_state(checkpoint, model, opt, gen, resume)
    if state is not None:
        h = state["history"]
        result = FitResult(list(h["train_loss"]), list(h["val_loss"]), [int(s) for s in h["val_step"]], int(state["step"]))

    def save() -> None:
        if checkpoint is not None:
            save_training_state(checkpoint, model, opt, gen, step=result.steps,
                                history={"train_loss": result.train_loss, "val_loss": result.val_loss,
                                         "val_step": result.val_step})

    def evaluate() -> float:
        ref = val_data if val_data is not None else data
        x, dx = ref.pairs()
        with torch.enable_grad():  # HNN-type models need autograd to evaluate at all
            return float(derivative_loss(model, x, dx, ref.flat_actions()).detach())

    bar = tqdm(total=steps, initial=result.steps, disable=not progress, desc=f"fit ({loss})", leave=False)
    while result.steps < steps:
        idx = torch.randperm(n_samples, generator=gen)[:bs]
        if loss == "derivative":
            value = derivative_loss(model, xs[idx], dxs[idx], None if us is None else us[idx])
        else:
            s = starts[idx]
            window = torch.stack([data.ys[i : i + horizon + 1] for i in s.tolist()], 1)  # (H+1, bs*B, d) after flatten
            window = window.flatten(1, 2)
            value = rollout_loss(model, window, data.t[: horizon + 1] - data.t[0], method=method)
        opt.zero_grad(set_to_none=True)
        value.backward()
        opt.step()
        result.train_loss.append(float(value.detach()))
        result.steps += 1
        bar.update(1)
        if result.steps % eval_every == 0 or result.steps == steps:
            result.val_loss.append(evaluate())
            result.val_step.append(result.steps)
            bar.set_postfix(train=f"{result.train_loss[-1]:.3e}", val=f"{result.val_loss[-1]:.3e}")
        if checkpoint is not None and (result.steps % checkpoint_every == 0 or result.steps == steps):
            save()
    bar.close()
    return result
