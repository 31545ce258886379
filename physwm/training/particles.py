"""Training loop for particle-graph models on :class:`physwm.data.ParticleData` (the n-body benchmark)."""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field

import torch
from torch import nn
from tqdm.auto import tqdm

from physwm.data.particles import ParticleData
from physwm.training.checkpoint import resume_training_state, save_training_state

__all__ = ["ParticleFitResult", "fit_particles", "particle_mse"]


@dataclass
class ParticleFitResult:
    """History of :func:`fit_particles`: mean training MSE per epoch, validation MSE at each
    evaluation (``val_epoch``), and the best validation epoch (whose weights the model ends with)."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_epoch: list[int] = field(default_factory=list)
    epochs: int = 0
    best_epoch: int = 0
    best_val_loss: float = float("inf")


def particle_mse(model: nn.Module, data: ParticleData, *, batch_size: int = 100, graph: str | int = "full") -> float:
    """Mean squared error of the predicted positions over all particles and coordinates.

    ``model`` is called as ``model(x, v, h, edge_index, edge_attr)`` (see :class:`physwm.data.ParticleGraph`).
    """
    total, count = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(data), batch_size):
            g = data.graph(slice(start, start + batch_size), graph=graph)
            err = model(*g.inputs()) - g.target
            total += float((err**2).sum())
            count += err.numel()
    return total / count


def fit_particles(model: nn.Module, train: ParticleData, *, val: ParticleData | None = None, epochs: int = 100,
                  batch_size: int = 100, lr: float = 5e-4, weight_decay: float = 1e-12, graph: str | int = "full",
                  eval_every: int = 1, seed: int = 0, checkpoint: str | os.PathLike | None = None,
                  resume: bool = True, progress: bool = True) -> ParticleFitResult:
    """Train a particle-graph model to predict target positions, with Adam and an MSE loss.

    The EGNN protocol (Satorras et al. 2021): batches of 100 systems, Adam at ``lr = 5e-4``,
    weight decay ``1e-12``, model selection on the validation MSE (the model ends with the weights of
    its best validation epoch; without ``val``, its last). Seeded: ``seed`` fixes the batch order.
    With ``checkpoint`` the model, optimiser, generator, history and best weights are written
    atomically after every epoch; with ``resume`` an existing checkpoint is loaded
    (``weights_only=True``) and training continues from its epoch, as if never interrupted.

    Args:
        model: a particle-graph model ``model(x, v, h, edge_index, edge_attr) -> positions``.
        train: training systems.
        val: validation systems for model selection (optional).
        epochs: total epochs (counting those of a resumed checkpoint).
        batch_size: systems per batch.
        lr: Adam learning rate.
        weight_decay: Adam weight decay.
        graph: ``"full"`` or ``k`` nearest neighbours (see :meth:`ParticleData.graph`).
        eval_every: validate every this many epochs (and at the last).
        seed: seed of the batch order.
        checkpoint: file for resumable checkpoints, or ``None``.
        resume: load ``checkpoint`` if it exists.
        progress: show a tqdm progress bar.

    Returns:
        :class:`ParticleFitResult`.

    Raises:
        ValueError: non-positive ``epochs``, ``batch_size``, ``lr`` or ``eval_every``.

    Example:
        >>> from physwm.models import EGNN
        >>> data = load_nbody_charged("../shared/data/nbody-charged", "train", max_samples=200)  # doctest: +SKIP
        >>> hist = fit_particles(EGNN(node_dim=1, edge_dim=1), data, epochs=2, progress=False)  # doctest: +SKIP
    """
    for name, v in (("epochs", epochs), ("batch_size", batch_size), ("eval_every", eval_every)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"`{name}` must be a positive int, got {v!r}")
    if not lr > 0:
        raise ValueError(f"`lr` must be positive, got {lr}")
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    gen = torch.Generator().manual_seed(seed)
    result = ParticleFitResult()
    best_state = copy.deepcopy(model.state_dict())
    state = resume_training_state(checkpoint, model, opt, gen, resume)
    if state is not None:
        best_state = state["best_model"]
        h = state["history"]
        result = ParticleFitResult(list(h["train_loss"]), list(h["val_loss"]), [int(e) for e in h["val_epoch"]],
                                   int(state["epoch"]), int(h["best_epoch"]), float(h["best_val_loss"]))
    bar = tqdm(total=epochs, initial=result.epochs, disable=not progress, desc="fit_particles", leave=False)
    while result.epochs < epochs:
        model.train()
        perm = torch.randperm(len(train), generator=gen)
        total, count = 0.0, 0
        for start in range(0, len(train), batch_size):
            g = train.graph(perm[start : start + batch_size].to(train.x.device), graph=graph)
            loss = ((model(*g.inputs()) - g.target) ** 2).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * g.batch_size
            count += g.batch_size
        result.train_loss.append(total / count)
        result.epochs += 1
        if val is not None and (result.epochs % eval_every == 0 or result.epochs == epochs):
            model.eval()
            v = particle_mse(model, val, batch_size=batch_size, graph=graph)
            result.val_loss.append(v)
            result.val_epoch.append(result.epochs)
            if v < result.best_val_loss:
                result.best_val_loss, result.best_epoch = v, result.epochs
                best_state = copy.deepcopy(model.state_dict())
            bar.set_postfix(train=f"{result.train_loss[-1]:.4f}", val=f"{v:.4f}")
        bar.update(1)
        if checkpoint is not None:
            save_training_state(checkpoint, model, opt, gen, epoch=result.epochs, best_model=best_state,
                                history={"train_loss": result.train_loss, "val_loss": result.val_loss,
                                         "val_epoch": result.val_epoch, "best_epoch": result.best_epoch,
                                         "best_val_loss": result.best_val_loss})
    bar.close()
    if val is not None:
        model.load_state_dict(best_state)
    model.eval()
    return result
