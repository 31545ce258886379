"""Gradients of separable Hamiltonian pieces: in closed form when the object offers them, else by autograd."""

from __future__ import annotations

from typing import Any

from torch import Tensor

from physwm._errors import ArgumentValueError
from physwm.state import autograd_gradient

__all__ = ["grad_kinetic", "grad_potential"]


def _checked(name: str, out: Tensor, x: Tensor) -> Tensor:
    if not isinstance(out, Tensor) or out.shape != x.shape:
        got = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
        raise ArgumentValueError(f"`{name}` must return the shape of its argument {tuple(x.shape)}, got {got}")
    return out


def grad_kinetic(h: Any, p: Tensor) -> Tensor:
    """``dT/dp`` of a separable Hamiltonian ``h`` (uses ``h.grad_kinetic`` if it has one)."""
    fn = getattr(h, "grad_kinetic", None)
    return _checked("grad_kinetic(p)", fn(p), p) if fn is not None else autograd_gradient(h.kinetic, p)


def grad_potential(h: Any, q: Tensor) -> Tensor:
    """``dV/dq`` of a separable Hamiltonian ``h`` (uses ``h.grad_potential`` if it has one)."""
    fn = getattr(h, "grad_potential", None)
    return _checked("grad_potential(q)", fn(q), q) if fn is not None else autograd_gradient(h.potential, q)
