"""Gradients of Hamiltonian pieces, in closed form when the object offers it, else by autograd."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

__all__ = ["autograd_gradient", "grad_kinetic", "grad_potential", "split_state"]


def autograd_gradient(fn: Callable[[Tensor], Tensor], x: Tensor) -> Tensor:
    """Gradient of the scalar field ``fn`` (shape ``(*batch,)``) at ``x`` (``(*batch, n)``).

    The batch entries are independent, so the gradient of ``fn(x).sum()`` is the per-sample
    gradient. The result keeps its graph (``create_graph``) whenever grad mode is on, so it can
    be differentiated again, e.g. with respect to a network's parameters during training.
    """
    create_graph = torch.is_grad_enabled()
    with torch.enable_grad():
        xg = x if x.requires_grad else x.detach().requires_grad_(True)
        value = fn(xg)
        (grad,) = torch.autograd.grad(value.sum(), xg, create_graph=create_graph)
    return grad


def grad_kinetic(h: Any, p: Tensor) -> Tensor:
    """``dT/dp`` of a separable Hamiltonian ``h`` (uses ``h.grad_kinetic`` if it has one)."""
    fn = getattr(h, "grad_kinetic", None)
    return fn(p) if fn is not None else autograd_gradient(h.kinetic, p)


def grad_potential(h: Any, q: Tensor) -> Tensor:
    """``dV/dq`` of a separable Hamiltonian ``h`` (uses ``h.grad_potential`` if it has one)."""
    fn = getattr(h, "grad_potential", None)
    return fn(q) if fn is not None else autograd_gradient(h.potential, q)


def split_state(y: Tensor) -> tuple[Tensor, Tensor]:
    """Split ``y = [q, p]`` of shape ``(*batch, 2n)`` into ``q, p`` of shape ``(*batch, n)``."""
    n = y.shape[-1] // 2
    return y[..., :n], y[..., n:]
