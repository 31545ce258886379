"""Structural types of physwm (layer L0: torch + stdlib only).

These are :class:`typing.Protocol` classes: an object qualifies by having the methods, not by
inheriting from anything. ``isinstance`` works on them (they are ``runtime_checkable``).
"""

from __future__ import annotations

from typing import Protocol, Union, runtime_checkable

import torch
from torch import Tensor

__all__ = ["Dynamics", "Hamiltonian", "SeparableHamiltonian", "TensorLike", "DTypeLike"]

TensorLike = Union[Tensor, float, int]
DTypeLike = Union[torch.dtype, None]


@runtime_checkable
class Dynamics(Protocol):
    """Any vector field ``f(t, y) -> dy/dt`` (the torchdiffeq convention).

    Shapes:
        t: scalar tensor; y: ``(*batch, d)``; returns ``(*batch, d)``.
    """

    def __call__(self, t: Tensor, y: Tensor) -> Tensor: ...


@runtime_checkable
class Hamiltonian(Protocol):
    """Dynamics that come from a scalar Hamiltonian ``H(q, p)`` on the state ``y = [q, p]``.

    Shapes:
        q, p: ``(*batch, n)``; returns ``(*batch,)``.
    """

    def hamiltonian(self, q: Tensor, p: Tensor) -> Tensor: ...


@runtime_checkable
class SeparableHamiltonian(Protocol):
    """A Hamiltonian of the form ``H(q, p) = T(p) + V(q)``.

    Explicit symplectic integrators (symplectic Euler, leapfrog, Yoshida compositions) need
    exactly this: they alternate ``p <- p - h dV/dq`` (kick) and ``q <- q + h dT/dp`` (drift).
    An object may also provide ``grad_kinetic(p)`` and ``grad_potential(q)`` in closed form;
    otherwise the integrators take the gradients by autograd.

    Shapes:
        q, p: ``(*batch, n)``; ``kinetic``/``potential`` return ``(*batch,)``.
    """

    def kinetic(self, p: Tensor) -> Tensor: ...

    def potential(self, q: Tensor) -> Tensor: ...
