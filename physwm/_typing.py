"""Structural types of physwm (layer L0: torch + stdlib only), used in signatures across the package.

These are :class:`typing.Protocol` classes: an object qualifies by having the methods, not by
inheriting from anything, and ``isinstance`` works on them (they are ``runtime_checkable``; it checks
that the methods exist, not their signatures). Integrators declare the protocol they require
(:attr:`physwm.integrate.Integrator.requires`) and :func:`physwm.solve` checks it.
"""

from __future__ import annotations

from typing import Any, Protocol, Union, runtime_checkable

import torch
from torch import Tensor

__all__ = ["Dynamics", "ControlledDynamics", "Hamiltonian", "SeparableHamiltonian", "Equivariant",
           "ParticleModel", "Field", "SeparableField", "TensorLike", "DTypeLike"]

TensorLike = Union[Tensor, float, int]
DTypeLike = Union[torch.dtype, None]


@runtime_checkable
class Dynamics(Protocol):
    """A vector field ``f(t, y) -> dy/dt`` (the torchdiffeq convention).

    Shapes:
        t: a scalar, or one time per batch entry ``(*batch,)`` (training on samples taken at
        different times); y: ``(*batch, d)``; returns ``(*batch, d)``.
    """

    def __call__(self, t: Tensor, y: Tensor) -> Tensor: ...


@runtime_checkable
class ControlledDynamics(Protocol):
    """A vector field with a control input, ``f(t, y, u) -> dy/dt``.

    Shapes:
        t: scalar or ``(*batch,)``; y: ``(*batch, d)``; u: ``(*batch, m)``; returns ``(*batch, d)``.
    """

    def __call__(self, t: Tensor, y: Tensor, u: Tensor) -> Tensor: ...


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
    exactly this: they alternate ``p <- p - h dV/dq(q)`` (kick) and ``q <- q + h dT/dp(p)`` (drift).
    An object may also provide ``grad_kinetic(p)`` and ``grad_potential(q)`` in closed form;
    otherwise the integrators take the gradients by autograd.

    Shapes:
        q, p: ``(*batch, n)``; ``kinetic``/``potential`` return ``(*batch,)``.
    """

    def kinetic(self, p: Tensor) -> Tensor: ...

    def potential(self, q: Tensor) -> Tensor: ...


@runtime_checkable
class SeparableGradients(Protocol):
    r"""Separable dynamics given by their gradients only: ``dq/dt = dT/dp(p)``, ``dp/dt = -dV/dq(q)``.

    What the explicit splitting methods actually evaluate; for a force model whose force is
    conservative but whose potential is not available in closed form (a central pair force
    :math:`s(r)\,\hat r` is :math:`-\nabla \sum \Phi(r)` with :math:`\Phi' = -s`, see
    :class:`physwm.models.NewtonianDynamics`). The splitting methods accept it like a
    :class:`SeparableHamiltonian`; they are symplectic when ``grad_potential`` is a gradient field.

    Shapes:
        q, p: ``(*batch, n)`` -> ``(*batch, n)``.
    """

    def grad_kinetic(self, p: Tensor) -> Tensor: ...

    def grad_potential(self, q: Tensor) -> Tensor: ...


@runtime_checkable
class Equivariant(Protocol):
    """A module that declares how its inputs and outputs transform under E(3), in e3nn's convention.

    ``irreps_in`` has one entry per positional argument and ``irreps_out`` one per output: an e3nn
    ``Irreps`` (or its string, e.g. ``"1x1o"`` for a vector, ``"5x1o"`` for five flattened
    vectors), ``"cartesian_points"`` for positions (rotated and translated), or ``None`` for an
    argument that does not transform (times, graph indices). So
    ``e3nn.util.test.assert_equivariant(module, args_in=[...], tolerance=...)`` checks any of them in one
    line (e3nn 0.6 builds the rotation of a vector irrep to about 1e-6 in float64, so choose the
    tolerance accordingly; :func:`physwm.testing.particle_equivariance_error` is the exact check).
    """

    irreps_in: Any
    irreps_out: Any


@runtime_checkable
class ParticleModel(Equivariant, Protocol):
    """A graph model over particles: ``model(x, v, h, edge_index, edge_attr) -> (n, 3)``.

    The output is a position (``irreps_out == ["cartesian_points"]``: one-shot predictors such as
    EGNN and SEGNN) or a vector (``["1x1o"]``: forces, as from a pair-force network).

    Shapes:
        x, v: ``(n, 3)``; h: ``(n, node_dim)``; edge_index: ``(2, E)``; edge_attr: ``(E, edge_dim)``
        -> ``(n, 3)``. A batch of systems is one disconnected graph (PyTorch Geometric convention).
    """

    def __call__(self, x: Tensor, v: Tensor, h: Tensor, edge_index: Tensor, edge_attr: Tensor | None = None) -> Tensor: ...


@runtime_checkable
class Field(Protocol):
    """A space-time field ``u(x, t)`` on a box, as a physics-informed network is.

    Attributes:
        domain: the spatial box (:class:`physwm.pde.Box`).
        time: ``(t0, t1)``, or ``None`` for a steady field.
        out_dim: number of components ``m``.

    Shapes:
        predict: ``x (*points, d)``, ``t (*points,)`` -> ``(*points,)`` if ``m == 1`` else ``(*points, m)``.
    """

    domain: Any
    time: tuple[float, float] | None
    out_dim: int

    def predict(self, x: Tensor, t: Tensor | None = None) -> Tensor: ...


@runtime_checkable
class SeparableField(Field, Protocol):
    """A field with a grid form: one 1-D coordinate tensor per axis gives the whole tensor-product grid.

    Shapes:
        ``field(axes)``: ``n`` tensors ``(N_a,)`` -> ``(N_1, ..., N_n[, m])``; :meth:`mesh` gives the grid's
        points ``x (N_1, ..., N_n, d)`` and ``t``; :meth:`collocation` returns the grid values and points
        tagged for :mod:`physwm.pde.autodiff`.
    """

    def __call__(self, axes: list[Tensor]) -> Tensor: ...

    def mesh(self, axes: list[Tensor]) -> tuple[Tensor, Tensor | None]: ...

    def collocation(self, axes: list[Tensor]) -> tuple[Tensor, Tensor, Tensor | None]: ...
