"""Systems from a symbolic Lagrangian or Hamiltonian: sympy derives, torch evaluates.

``sympy`` is imported inside the functions, so ``import physwm`` stays light.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from physwm._symbolic import _columns, _compile, _euler_lagrange_terms, _evaluate, _prepare, _symbol_pair
from physwm.systems.base import HamiltonianSystem, System, uniform

__all__ = ["from_lagrangian", "from_hamiltonian", "LagrangianSystem", "SymbolicHamiltonianSystem",
           "SymbolicSeparableHamiltonianSystem"]

class SymbolicHamiltonianSystem(HamiltonianSystem):
    """A Hamiltonian system whose ``H`` and Hamilton's equations come from sympy (see :func:`from_hamiltonian`).

    Attributes:
        expression: the Hamiltonian, parameters substituted (a sympy expression).
        q_symbols: coordinate symbols.
        p_symbols: momentum symbols.
    """

    def __init__(self, expression, q_symbols: list, p_symbols: list, name: str | None = None):
        import sympy as sp

        self.expression, self.q_symbols, self.p_symbols = expression, q_symbols, p_symbols
        self.state_dim = 2 * len(q_symbols)
        self.name = name or "SymbolicHamiltonian"
        coords = [*q_symbols, *p_symbols]
        grads = [sp.diff(expression, s) for s in coords]
        self._h = _compile(coords, [expression])
        self._grad = _compile(coords, grads)

    def hamiltonian(self, q: Tensor, p: Tensor) -> Tensor:
        return _evaluate(self._h, _columns(q) + _columns(p), q)[0]

    def grad_hamiltonian(self, q: Tensor, p: Tensor) -> tuple[Tensor, Tensor]:
        g = torch.stack(_evaluate(self._grad, _columns(q) + _columns(p), q), -1)
        return g[..., : self.dof], g[..., self.dof:]

    def sample_initial_state(self, n, *, generator=None, dtype=torch.float64, device=None):
        """Uniform in ``[-1, 1]`` per coordinate (no natural scale is known symbolically)."""
        return uniform(n, self.state_dim, -1.0, 1.0, generator=generator, dtype=dtype, device=device)

    def __repr__(self) -> str:
        return f"{self.name}(H={self.expression})"


class SymbolicSeparableHamiltonianSystem(SymbolicHamiltonianSystem):
    """A symbolic ``H = T(p) + V(q)``: runs with the explicit symplectic methods too."""

    def __init__(self, expression, q_symbols, p_symbols, kinetic, potential, name=None):
        import sympy as sp

        super().__init__(expression, q_symbols, p_symbols, name)
        self._t = _compile(p_symbols, [kinetic])
        self._v = _compile(q_symbols, [potential])
        self._dt = _compile(p_symbols, [sp.diff(kinetic, s) for s in p_symbols])
        self._dv = _compile(q_symbols, [sp.diff(potential, s) for s in q_symbols])

    def kinetic(self, p: Tensor) -> Tensor:
        return _evaluate(self._t, _columns(p), p)[0]

    def potential(self, q: Tensor) -> Tensor:
        return _evaluate(self._v, _columns(q), q)[0]

    def grad_kinetic(self, p: Tensor) -> Tensor:
        return torch.stack(_evaluate(self._dt, _columns(p), p), -1)

    def grad_potential(self, q: Tensor) -> Tensor:
        return torch.stack(_evaluate(self._dv, _columns(q), q), -1)


def _split_separable(expr, q_symbols: list, p_symbols: list):
    """``(T(p), V(q))`` when every additive term of ``H`` depends on ``q`` only or on ``p`` only."""
    import sympy as sp

    qs, ps = set(q_symbols), set(p_symbols)
    for candidate in (expr, sp.expand(expr)):
        kinetic, potential = sp.Integer(0), sp.Integer(0)
        for term in sp.Add.make_args(candidate):
            free = term.free_symbols
            if free & qs and free & ps:
                break
            if free & ps:
                kinetic += term
            else:
                potential += term
        else:
            return kinetic, potential
    return None


def from_hamiltonian(H: Any, q: Any, p: Any, params: Mapping | None = None, *, name: str | None = None) -> SymbolicHamiltonianSystem:
    r"""A Hamiltonian system from a sympy expression :math:`H(q, p)`.

    Hamilton's equations :math:`\dot q = \partial H/\partial p,\ \dot p = -\partial H/\partial q`
    are derived symbolically and compiled to torch functions (``sympy.lambdify`` with a torch
    namespace), so the system runs batched, on GPU, in float32/float64, and composes with
    ``torch.func`` (the Lyapunov diagnostics need that). When every additive term of ``H``
    depends on ``q`` only or on ``p`` only, the result is separable (``kinetic``/``potential``)
    and runs with ``leapfrog``/``yoshida4`` as well.

    Args:
        H: the Hamiltonian (sympy expression, or a string sympy can parse).
        q: coordinate symbol(s) ``q_1..q_n``.
        p: momentum symbol(s) ``p_1..p_n``, same count as ``q``.
        params: values of the remaining symbols (masses, lengths, ``g``), by Symbol or name.
        name: a name for ``repr``.

    Returns:
        A :class:`SymbolicHamiltonianSystem` (or its separable subclass) with state ``[q, p]``.

    Shapes:
        state ``(*batch, 2n)``.

    Raises:
        TypeError: ``q``/``p`` not sympy Symbols; ``H`` not an expression.
        ValueError: ``len(q) != len(p)``; free symbols left without a value in ``params``; a
            function with no torch translation.

    Example:
        >>> import sympy as sp
        >>> q, p, m, g, l = sp.symbols("q p m g l")
        >>> pend = from_hamiltonian(p**2 / (2*m*l**2) + m*g*l*(1 - sp.cos(q)), q, p, {m: 1.0, g: 9.81, l: 1.0})
        >>> pend(torch.tensor(0.0), torch.tensor([0.5, 0.0], dtype=torch.float64))
        tensor([ 0.0000, -4.7032], dtype=torch.float64)
    """
    qs, ps = _symbol_pair(("q", "p"), q, p)
    expr = _prepare(H, "H", [*qs, *ps], params)
    split = _split_separable(expr, qs, ps)
    if split is not None:
        return SymbolicSeparableHamiltonianSystem(expr, qs, ps, *split, name=name)
    return SymbolicHamiltonianSystem(expr, qs, ps, name=name)


class LagrangianSystem(System):
    r"""A system in velocity coordinates ``y = [q, q̇]`` from a Lagrangian :math:`L(q, \dot q)`.

    ``f(t, y) = [q̇, q̈]`` with :math:`M(q, \dot q)\,\ddot q = \partial_q L - \partial^2_{\dot q q} L\,\dot q`,
    :math:`M = \partial^2 L/\partial\dot q^2`, solved batched by ``torch.linalg.solve``. The
    conserved quantity is the Noether energy :math:`E = \dot q\cdot\partial_{\dot q}L - L`.
    Built by :func:`from_lagrangian`.

    Attributes:
        expression: the Lagrangian, parameters substituted.
        q_symbols: coordinate symbols.
        qdot_symbols: velocity symbols.
    """

    def __init__(self, expression, q_symbols: list, qdot_symbols: list, name: str | None = None):

        self.expression, self.q_symbols, self.qdot_symbols = expression, q_symbols, qdot_symbols
        n = len(q_symbols)
        self.state_dim = 2 * n
        self.name = name or "SymbolicLagrangian"
        coords = [*q_symbols, *qdot_symbols]
        dl_dv, mass, rhs, energy = _euler_lagrange_terms(expression, q_symbols, qdot_symbols)
        self._l = _compile(coords, [expression])
        self._mass = _compile(coords, mass)
        self._rhs = _compile(coords, rhs)
        self._momenta = _compile(coords, dl_dv)
        self._energy = _compile(coords, [energy])

    @property
    def dof(self) -> int:
        return self.state_dim // 2

    def _cols(self, y: Tensor) -> list[Tensor]:
        return _columns(self._check_state(y))

    def lagrangian(self, q: Tensor, qdot: Tensor) -> Tensor:
        """``L(q, q̇)`` -> ``(*batch,)``."""
        return _evaluate(self._l, _columns(q) + _columns(qdot), q)[0]

    def mass_matrix(self, y: Tensor) -> Tensor:
        """``∂²L/∂q̇²`` at states ``(*batch, 2n)`` -> ``(*batch, n, n)``."""
        n = self.dof
        return torch.stack(_evaluate(self._mass, self._cols(y), y), -1).reshape(*y.shape[:-1], n, n)

    def momenta(self, y: Tensor) -> Tensor:
        """Canonical momenta ``p = ∂L/∂q̇``, ``(*batch, n)``."""
        return torch.stack(_evaluate(self._momenta, self._cols(y), y), -1)

    def acceleration(self, y: Tensor) -> Tensor:
        """``q̈`` from the Euler-Lagrange equation, ``(*batch, n)``."""
        rhs = torch.stack(_evaluate(self._rhs, self._cols(y), y), -1)
        return torch.linalg.solve(self.mass_matrix(y), rhs.unsqueeze(-1)).squeeze(-1)

    def energy(self, y: Tensor) -> Tensor:
        """Noether energy ``q̇·∂L/∂q̇ - L`` -> ``(*batch,)``."""
        return _evaluate(self._energy, self._cols(y), y)[0]

    def __call__(self, t: Tensor, y: Tensor) -> Tensor:
        return torch.cat([self._check_state(y)[..., self.dof:], self.acceleration(y)], -1)

    def invariants(self):
        return {"energy": self.energy}

    def sample_initial_state(self, n, *, generator=None, dtype=torch.float64, device=None):
        """Uniform in ``[-1, 1]`` per coordinate and velocity."""
        return uniform(n, self.state_dim, -1.0, 1.0, generator=generator, dtype=dtype, device=device)

    def __repr__(self) -> str:
        return f"{self.name}(L={self.expression})"


def from_lagrangian(L: Any, q: Any, qdot: Any, params: Mapping | None = None, *, name: str | None = None) -> LagrangianSystem:
    r"""A system from a sympy Lagrangian :math:`L(q, \dot q)`, state ``[q, q̇]``.

    The Euler-Lagrange equation :math:`\frac{d}{dt}\partial_{\dot q}L = \partial_q L` is expanded
    symbolically into the mass matrix :math:`\partial^2_{\dot q\dot q}L` and the right-hand side
    :math:`\partial_q L - \partial^2_{\dot q q}L\,\dot q`; both are compiled to torch, and the
    accelerations come from a batched linear solve at run time (no symbolic inverse, so it
    scales past two degrees of freedom).

    Args:
        L: the Lagrangian (sympy expression or parseable string).
        q: coordinate symbol(s).
        qdot: velocity symbol(s), same count.
        params: values of the remaining symbols, by Symbol or name.
        name: a name for ``repr``.

    Returns:
        A :class:`LagrangianSystem`.

    Shapes:
        state ``(*batch, 2n)``.

    Raises:
        TypeError: symbols that are not sympy Symbols.
        ValueError: unequal counts; free symbols without values; functions with no torch translation.

    Example:
        >>> import sympy as sp
        >>> th, w = sp.symbols("theta omega")
        >>> pend = from_lagrangian(w**2 / 2 + 9.81 * sp.cos(th), th, w)
        >>> pend(torch.tensor(0.0), torch.tensor([0.5, 0.0], dtype=torch.float64))
        tensor([ 0.0000, -4.7032], dtype=torch.float64)
    """
    qs, vs = _symbol_pair(("q", "qdot"), q, qdot)
    expr = _prepare(L, "L", [*qs, *vs], params)
    return LagrangianSystem(expr, qs, vs, name=name)
