"""The training engine: one loop for every model family, objectives plugged into it."""

from __future__ import annotations

import copy
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from physwm._errors import ArgumentTypeError, ArgumentValueError, CheckpointError, TrainingError
from physwm._validate import describe, inside_checked_call, integer, nonnegative, positive, positive_int
from physwm.data.particles import ParticleData
from physwm.data.trajectories import TrajectoryData
from physwm.pde import PDEProblem
from physwm.training.checkpoint import load_checkpoint, save_checkpoint
from physwm.training.objectives import DerivativeMatching, Objective, ParticlePrediction, PINNResidual

__all__ = ["fit", "FitResult"]

_FORMAT = "physwm.fit/1"


@dataclass
class FitResult:
    """History of a :func:`fit` run (resumed runs include the steps before the resume).

    Attributes:
        steps: optimiser steps done in all.
        train_loss: the weighted total loss of each step.
        terms: each unweighted loss term per step (one term for most objectives; residual, initial and
            boundary for a PINN).
        weights: each term's weight per step (changing only for adaptive weights).
        val_step: the steps after which validation ran.
        val_loss: the validation loss at those steps.
        metrics: further validation metrics at those steps (e.g. ``rel_l2`` for a PINN).
        best_step: the step of the lowest validation loss (``None`` before any validation).
        best_val_loss: that loss.
        seconds: wall time of this call's training steps (validation and checkpoints excluded).
        val_seconds: that training wall time at each validation this call ran (the last
            ``len(val_seconds)`` entries of ``val_step``): error against training time, as in accuracy-per-
            second comparisons.
        steps_run: steps done by this call (fewer than ``steps`` after a resume).
    """

    steps: int = 0
    train_loss: list[float] = field(default_factory=list)
    terms: dict[str, list[float]] = field(default_factory=dict)
    weights: dict[str, list[float]] = field(default_factory=dict)
    val_step: list[int] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    best_step: int | None = None
    best_val_loss: float = math.inf
    seconds: float = 0.0
    steps_run: int = 0
    val_seconds: list[float] = field(default_factory=list)

    @property
    def seconds_per_step(self) -> float | None:
        """Wall time per training step of this call (``None`` if it ran none)."""
        return self.seconds / self.steps_run if self.steps_run else None

    def history(self) -> dict[str, Any]:
        """The saved part (everything but this call's timing)."""
        keep = ("steps", "train_loss", "terms", "weights", "val_step", "val_loss", "metrics", "best_step", "best_val_loss")
        return {k: getattr(self, k) for k in keep}


def _objective(data: Any) -> Objective:
    if isinstance(data, Objective):
        return data
    if isinstance(data, TrajectoryData):
        return DerivativeMatching(data)
    if isinstance(data, ParticleData):
        return ParticlePrediction(data)
    if isinstance(data, PDEProblem):
        return PINNResidual(data)
    raise ArgumentTypeError(f"`objective` must be a physwm.training.Objective, or data to build the default one from "
                            f"(TrajectoryData, ParticleData, PDEProblem), got {describe(data)}")


def _check_state(state: Any, path: Path, model: nn.Module, optimizer: torch.optim.Optimizer, scheduler: Any) -> dict:
    """The whole checkpoint is checked against this run before anything is loaded from it."""
    need = {"format", "model", "optimizer", "scheduler", "objective", "best_model", "history"}
    if not isinstance(state, dict) or state.get("format") != _FORMAT or not need <= set(state):
        raise CheckpointError(f"{str(path)!r} is not a physwm training checkpoint ({_FORMAT}); it holds "
                              f"{sorted(state) if isinstance(state, dict) else type(state).__name__}")
    own = model.state_dict()
    for key in ("model", "best_model"):
        sd = state[key]
        if sd is None and key == "best_model":
            continue
        if not isinstance(sd, dict) or set(sd) != set(own) or any(
                not isinstance(sd[k], torch.Tensor) or sd[k].shape != own[k].shape for k in own):
            raise CheckpointError(f"{str(path)!r}: the saved {key.replace('_', ' ')} does not fit this model "
                                  "(different parameter names or shapes)")
    if (state["scheduler"] is None) != (scheduler is None):
        raise CheckpointError(f"{str(path)!r}: saved {'with' if state['scheduler'] is not None else 'without'} a "
                              "learning-rate schedule, resumed " + ("without" if scheduler is None else "with") + " one")
    _check_optimizer_state(state["optimizer"], path, optimizer)
    _check_history(state["history"], path)
    return state


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_optimizer_state(saved: Any, path: Path, optimizer: torch.optim.Optimizer) -> None:
    """The saved Adam state fits ``optimizer``: the same groups of parameters with the same settings, and for
    every parameter with state its step and moment tensors of the parameter's shape (so neither loading it nor
    the next step can fail half way)."""
    def bad(why: str) -> CheckpointError:
        return CheckpointError(f"{str(path)!r}: the saved optimiser state does not fit this model's parameters ({why})")

    if not isinstance(saved, dict) or not isinstance(saved.get("param_groups"), list) or \
            not isinstance(saved.get("state"), dict):
        raise bad("not an optimiser state_dict")
    own = optimizer.param_groups
    if len(saved["param_groups"]) != len(own):
        raise bad(f"{len(saved['param_groups'])} parameter groups, this run has {len(own)}")
    for i, (group, mine) in enumerate(zip(saved["param_groups"], own)):
        if not isinstance(group, dict) or not isinstance(group.get("params"), list) or \
                len(group["params"]) != len(mine["params"]):
            raise bad(f"group {i} holds another number of parameters")
        missing = sorted(set(mine) - set(group))
        if missing:
            raise bad(f"group {i} lacks the settings {missing}")
    params = [p for g in own for p in g["params"]]
    amsgrad = any(g.get("amsgrad") for g in own)
    need = {"step", "exp_avg", "exp_avg_sq"} | ({"max_exp_avg_sq"} if amsgrad else set())
    for index, entry in saved["state"].items():
        if not isinstance(index, int) or not 0 <= index < len(params) or not isinstance(entry, dict):
            raise bad(f"an entry for parameter {index!r}")
        if not entry:
            continue
        if not need <= set(entry):
            raise bad(f"parameter {index} lacks {sorted(need - set(entry))}")
        for name in need - {"step"}:
            value = entry[name]
            if not isinstance(value, torch.Tensor) or value.shape != params[index].shape:
                raise bad(f"{name} of parameter {index} has shape "
                          f"{tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__}, the "
                          f"parameter {tuple(params[index].shape)}")
        if not (isinstance(entry["step"], torch.Tensor) and entry["step"].numel() == 1) and not _number(entry["step"]):
            raise bad(f"the step of parameter {index} is not a number")


def _check_history(history: Any, path: Path) -> None:
    """The saved history is a :meth:`FitResult.history` of consistent lengths and types."""
    keys = set(FitResult().history())

    def lists_of_numbers(v: Any, length: int | None = None) -> bool:
        return isinstance(v, list) and all(_number(x) for x in v) and (length is None or len(v) == length)

    ok = isinstance(history, dict) and set(history) == keys
    if ok:
        n = history["steps"]
        ok = (isinstance(n, int) and not isinstance(n, bool) and n >= 0
              and lists_of_numbers(history["train_loss"], n)
              and all(isinstance(d, dict) and all(isinstance(k, str) and lists_of_numbers(v, n) for k, v in d.items())
                      for d in (history["terms"], history["weights"]))
              and isinstance(history["val_step"], list) and all(isinstance(x, int) for x in history["val_step"])
              and lists_of_numbers(history["val_loss"], len(history["val_step"]))
              and isinstance(history["metrics"], dict)
              and all(isinstance(k, str) and lists_of_numbers(v) for k, v in history["metrics"].items())
              and (history["best_step"] is None or isinstance(history["best_step"], int))
              and _number(history["best_val_loss"]))
    if not ok:
        raise CheckpointError(f"{str(path)!r}: the saved training history is not that of a physwm.fit run (expected "
                              f"the keys {sorted(keys)}, with a loss per step)")


def fit(model: nn.Module, objective: Objective | TrajectoryData | ParticleData | PDEProblem, *, steps: int = 2000,
        lr: float = 1e-3, weight_decay: float = 0.0,
        schedule: Callable[[torch.optim.Optimizer], Any] | None = None, val_data: Any = None,
        eval_every: int | None = None, keep_best: bool = False, seed: int = 0,
        checkpoint: str | os.PathLike | None = None, checkpoint_every: int | None = None, resume: bool = True,
        progress: bool = True) -> FitResult:
    r"""Train ``model`` on ``objective`` with Adam: the one training loop of physwm.

    Each step draws the objective's batch for that step (a function of ``seed`` and the step alone),
    computes its loss terms, checks them, takes an Adam step (weight decay ``weight_decay``) and
    advances the learning-rate ``schedule``. The model is in ``train()`` mode for the steps and in
    ``eval()`` mode for validation, and ends in the mode it came in.

    - **Objectives**: :class:`DerivativeMatching`, :class:`RolloutMatching`,
      :class:`ParticlePrediction`, :class:`PINNResidual`; passing data instead builds the default one
      (``TrajectoryData`` -> derivative matching, full batch; ``ParticleData`` -> one-shot prediction;
      ``PDEProblem`` -> PINN residual).
    - **Validation** every ``eval_every`` steps and after the last (``None``: after the last only), on
      ``val_data`` (data of the objective's kind; ``None``: the training data, or ``problem.exact``
      for a PINN) by the objective's own measure: a rollout objective validates on rollouts.
    - **Best-validation selection**: with ``keep_best`` the model ends with the weights of its lowest
      validation loss (the EGNN protocol), else with its last.
    - **Non-finite guard**: a loss term that is NaN or inf raises :class:`~physwm.TrainingError` naming
      the step and the term, before the update; non-finite weights after an update raise it before any
      checkpoint is written, so no checkpoint ever holds them.
    - **Checkpoints**: with ``checkpoint``, the model, optimiser, schedule, objective state (adaptive
      weights), best weights and history are written atomically every ``checkpoint_every`` steps
      (default: 20 times per run) and at the end; with ``resume`` an existing checkpoint is checked
      whole against this run, then loaded (``weights_only=True``), and training continues from its step
      with the same batches an uninterrupted run would have seen, so the result is the same to the bit.

    Args:
        model: the model (its parameters and their dtype and device are the run's).
        objective: an :class:`Objective`, or data to build the default objective from.
        steps: total optimiser steps (counting those of a resumed checkpoint).
        lr: Adam learning rate (> 0, finite).
        weight_decay: Adam's L2 weight decay (>= 0).
        schedule: ``schedule(optimizer) -> torch.optim.lr_scheduler.LRScheduler``, stepped after every step.
        val_data: validation data (see above).
        eval_every: validate every this many steps (and after the last).
        keep_best: end with the best validation weights.
        seed: seed of the batch order and of the collocation points, in ``[0, 2**32 - 1]``.
        checkpoint: file of the resumable checkpoint, or ``None``.
        checkpoint_every: steps between checkpoints.
        resume: load ``checkpoint`` if it exists.
        progress: show a tqdm progress bar.

    Returns:
        :class:`FitResult`.

    Raises:
        ValueError: non-positive ``steps``, ``lr`` or intervals, negative ``weight_decay``, a ``seed``
            outside ``[0, 2**32 - 1]``, a ``checkpoint`` that is a folder or in a missing one.
        TypeError: an objective (or data) of an unknown kind; a model without trainable parameters.
        TrainingError: a non-finite loss term or non-finite weights (with the step and the term).
        CheckpointError: a checkpoint that is corrupt or does not fit this run (model keys and shapes,
            optimiser groups and moment shapes, schedule, objective state and history are all checked
            before anything is loaded; the model is left as it came).
        ValueError: a checkpoint that has done more than ``steps`` steps.

    Example:
        >>> from physwm.data import make_trajectories
        >>> from physwm.models import HNN
        >>> from physwm.systems import HarmonicOscillator
        >>> data = make_trajectories(HarmonicOscillator(), 8, torch.linspace(0, 3, 16, dtype=torch.float64))
        >>> result = fit(HNN(1, hidden=(16,)).double(), data, steps=50, lr=1e-2, progress=False)
        >>> result.steps, len(result.train_loss)
        (50, 50)
    """
    steps, seed = positive_int("steps", steps), integer("seed", seed, minimum=0, maximum=2**32 - 1)
    lr, weight_decay = positive("lr", lr), nonnegative("weight_decay", weight_decay)
    eval_every = steps if eval_every is None else positive_int("eval_every", eval_every)
    checkpoint_every = max(1, steps // 20) if checkpoint_every is None else positive_int("checkpoint_every", checkpoint_every)
    objective = _objective(objective)
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ArgumentTypeError("`model` has no trainable parameters")
    objective.bind(model)
    opt = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    scheduler = None if schedule is None else schedule(opt)
    result = FitResult()
    best_state: dict | None = None
    if checkpoint is not None and not isinstance(checkpoint, (str, os.PathLike)):
        raise ArgumentTypeError(f"`checkpoint` must be a file path or None, got {describe(checkpoint)}")
    path = None if checkpoint is None else Path(checkpoint)
    if path is not None and (path.is_dir() or not (path.parent if str(path.parent) else Path(".")).is_dir()):
        raise ArgumentValueError(f"`checkpoint` {str(path)!r} must be a file in an existing folder" +
                                 (": it is a folder" if path.is_dir() else f": no folder {str(path.parent)!r}"))
    if path is not None and resume and path.exists():
        state = _check_state(load_checkpoint(path, map_location="cpu"), path, model, opt, scheduler)
        if state["history"]["steps"] > steps:
            raise ArgumentValueError(f"`steps`={steps} is fewer than the {state['history']['steps']} steps the checkpoint "
                                     f"{str(path)!r} has done; ask for at least that many, or pass resume=False to start "
                                     "over")
        # everything is checked above; should a load still fail, the model and objective are put back
        before_model = {k: v.detach().clone() for k, v in model.state_dict().items()}
        before_objective = objective.state_dict()
        try:
            objective.load_state_dict(state["objective"])
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["optimizer"])
            if scheduler is not None:
                scheduler.load_state_dict(state["scheduler"])
        except (RuntimeError, ValueError, KeyError, TypeError) as exc:
            model.load_state_dict(before_model)
            objective.load_state_dict(before_objective)
            opt.state.clear()
            raise CheckpointError(f"{str(path)!r} does not fit this run: {exc}") from exc
        best_state = state["best_model"]
        result = FitResult(**{**state["history"], "terms": {k: list(v) for k, v in state["history"]["terms"].items()}})

    def params_finite(step: int) -> None:
        if not all(bool(torch.isfinite(p).all()) for p in params):
            raise TrainingError("the optimiser step left non-finite weights; lower `lr`", step=step, term="parameters",
                                value=math.nan)

    def save() -> None:
        params_finite(result.steps - 1)
        save_checkpoint({"format": _FORMAT, "model": model.state_dict(), "optimizer": opt.state_dict(),
                         "scheduler": None if scheduler is None else scheduler.state_dict(),
                         "objective": objective.state_dict(), "best_model": best_state,
                         "history": result.history()}, path)

    def validate() -> None:
        nonlocal best_state
        model.eval()
        with torch.set_grad_enabled(objective.validate_with_grad):
            measured = objective.validate(model, val_data)
        model.train()
        loss = float(measured["loss"])
        result.val_step.append(result.steps)
        result.val_loss.append(loss)
        for k, v in measured.items():
            if k != "loss":
                result.metrics.setdefault(k, []).append(float(v))
        if keep_best and loss < result.best_val_loss:
            best_state = copy.deepcopy(model.state_dict())
        if loss < result.best_val_loss:
            result.best_val_loss, result.best_step = loss, result.steps

    was_training = model.training
    model.train()
    bar = tqdm(total=steps, initial=min(result.steps, steps), disable=not progress, desc=f"fit ({objective.name})",
               leave=False)
    start, excluded = time.perf_counter(), 0.0
    try:
        with inside_checked_call():  # the data were checked when built; every loss term is checked below
            while result.steps < steps:
                step = result.steps
                terms = objective.terms(model, step, seed)
                objective.adapt(model, step, terms, params)
                weights = objective.weights()
                values = dict(zip(terms, torch.stack([v.detach().to(torch.float64) for v in terms.values()]).tolist()))
                for k, v in values.items():
                    if not math.isfinite(v):
                        raise TrainingError("a loss term is not finite; check the data for NaN/inf and lower `lr`",
                                            step=step, term=k, value=v)
                loss = sum(weights.get(k, 1.0) * v for k, v in terms.items())
                total = sum(weights.get(k, 1.0) * v for k, v in values.items())
                if not math.isfinite(total):
                    raise TrainingError("the weighted loss is not finite", step=step, term="total", value=total)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                if scheduler is not None:
                    scheduler.step()
                result.steps += 1
                result.steps_run += 1
                result.train_loss.append(total)
                for k, v in values.items():
                    result.terms.setdefault(k, []).append(v)
                    result.weights.setdefault(k, []).append(weights.get(k, 1.0))
                bar.update(1)
                done = result.steps == steps
                if result.steps % eval_every == 0 or done:
                    tic = time.perf_counter()
                    result.val_seconds.append(tic - start - excluded)
                    validate()
                    excluded += time.perf_counter() - tic
                    bar.set_postfix(loss=f"{total:.3e}", val=f"{result.val_loss[-1]:.3e}")
                if path is not None and (result.steps % checkpoint_every == 0 or done):
                    tic = time.perf_counter()
                    save()
                    excluded += time.perf_counter() - tic
        if result.steps_run:
            params_finite(result.steps - 1)
        result.seconds = time.perf_counter() - start - excluded
        if keep_best and best_state is not None:
            model.load_state_dict(best_state)
    finally:
        bar.close()
        model.train(was_training)
    return result
