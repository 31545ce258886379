r"""Grey-box Lagrangian dynamics: a symbolic Lagrangian with learnable physical parameters and learned dissipation.

``sympy`` is imported when a model is built, so ``import physwm`` stays light.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from physwm._errors import ArgumentTypeError, ArgumentValueError
from physwm._symbolic import _columns, _compile, _euler_lagrange_terms, _evaluate, _prepare, _symbol_pair
from physwm._validate import choice, model_input, nonnegative, real
from physwm.models.lagrangian import solve_mass_matrix
from physwm.nn import MLP
from physwm.state import angle_indices, merge_qp, split_qp

__all__ = ["SymbolicLagrangian"]


class SymbolicLagrangian(nn.Module):
    r"""Lagrangian dynamics from a sympy :math:`L(q, \dot q; \phi)` whose physical parameters :math:`\phi` are learned,
    with an optional learned Rayleigh dissipation: a grey-box world model.

    .. math::
        M(q, \dot q; \phi)\,\ddot q = \partial_q L - \partial^2_{\dot q q} L\,\dot q - R_\theta(q, \dot q)\,\dot q,
        \qquad M = \partial^2_{\dot q\dot q} L, \qquad R_\theta = A_\theta A_\theta^\top \succeq 0 .

    sympy expands the Euler-Lagrange equation once, symbolically, with the parameters as symbols;
    torch evaluates the mass matrix and right-hand side and solves for :math:`\ddot q`, so gradients
    reach :math:`\phi` exactly. The dissipation is the port-Hamiltonian :math:`R` in Lagrangian form, a
    generalised friction force :math:`-R\,\dot q` with :math:`R \succeq 0` (for a constant ``R`` the
    force of the Rayleigh dissipation function :math:`\tfrac12\dot q^\top R\dot q`; van der Schaft &
    Jeltsema 2014): the Noether energy :math:`E = \dot q\cdot\partial_{\dot q}L - L` obeys
    :math:`dE/dt = -\dot q^\top R\,\dot q \le 0` (:meth:`power_balance`), and with ``dissipation=None``
    it is conserved. Fitting the parameters of known physics and learning only what no equation
    gives (friction) is system identification with a learned residual, as in Lutter, Ritter & Peters
    (Deep Lagrangian Networks, 2019) and Zhong, Dey & Chakraborty (Dissipative SymODEN, 2020).

    Args:
        L: the Lagrangian, a sympy expression (or parseable string) in ``q``, ``qdot`` and the
            parameter symbols.
        q: coordinate symbol(s).
        qdot: velocity symbol(s), as many.
        params: learnable parameters, ``{symbol or name: initial value}`` (the units of the expression).
        constants: fixed values of the remaining symbols (e.g. ``g``).
        dissipation: ``None``, ``"constant"`` (a learned constant ``A``) or ``"state"`` (``A`` an MLP of
            the state, angles through ``cos``/``sin``).
        angles: indices of the coordinates that are angles (the dissipation network sees
            ``cos q, sin q`` for them, so it is periodic).
        hidden: hidden widths of the dissipation MLP.
        rcond: the singular-mass-matrix guard: states where :math:`\min|\lambda(M)| \le` ``rcond``
            :math:`\cdot\max|\lambda(M)|` are refused (default ``10 n eps`` of the dtype, as for
            :func:`~physwm.models.euler_lagrange`).

    Shapes:
        forward: ``t`` scalar or ``(*batch,)`` (unused), ``y = [q, q̇]`` ``(*batch, 2n)`` -> ``(*batch, 2n)``.

    Raises:
        TypeError: symbols that are not sympy Symbols; a non-numeric parameter value.
        ValueError: symbols without a value; a symbol both learned and fixed; a learnable parameter
            that ``L`` does not contain; unknown ``dissipation``; ``angles`` out of range; states of the
            wrong size.
        SingularMassMatrixError: at call time, where the mass matrix is singular for the current parameters.

    Example:
        >>> import sympy as sp
        >>> th, w, k = sp.symbols("theta omega k")
        >>> model = SymbolicLagrangian(w**2 / 2 + k * sp.cos(th), th, w, params={"k": 9.0}, dissipation="constant").double()
        >>> model(torch.tensor(0.0), torch.tensor([[0.5, 0.0]], dtype=torch.float64)).shape
        torch.Size([1, 2])
        >>> sorted(model.physical_parameters())
        ['k']
    """

    def __init__(self, L: Any, q: Any, qdot: Any, params: Mapping[Any, float], constants: Mapping | None = None, *,
                 dissipation: str | None = None, angles: Sequence[int] = (), hidden: Sequence[int] = (64, 64),
                 rcond: float | None = None):
        super().__init__()
        import sympy as sp

        qs, vs = _symbol_pair(("q", "qdot"), q, qdot)
        if not isinstance(params, Mapping) or not params:
            raise ArgumentTypeError(f"`params` must be a non-empty mapping {{symbol or name: initial value}}, got {params!r}")
        symbols = [sp.Symbol(k) if isinstance(k, str) else k for k in params]
        if not all(isinstance(s, sp.Symbol) for s in symbols):
            raise ArgumentTypeError(f"`params` keys must be sympy Symbols or names, got {list(params)!r}")
        clash = set(symbols) & set(qs + vs)
        if clash:
            raise ArgumentValueError(f"`params` must not name the coordinates {sorted(map(str, clash))}")
        fixed = {sp.Symbol(k) if isinstance(k, str) else k for k in (constants or {})}
        both = set(symbols) & fixed
        if both:
            raise ArgumentValueError(f"{sorted(map(str, both))} are in both `params` and `constants`: a symbol is "
                                     "either learned or fixed")
        expr = _prepare(L, "L", [*qs, *vs], constants, free_params=symbols, params_name="constants")
        unused = [str(p) for p in symbols if p not in expr.free_symbols]
        if unused:
            raise ArgumentValueError(f"`params` {unused} do not appear in `L` (after substituting `constants`): "
                                     "nothing would learn them")
        n = len(qs)
        self.dof, self.expression = n, expr
        self.param_names = [str(s) for s in symbols]
        self.physical = nn.ParameterDict({name: nn.Parameter(torch.tensor(real(f"params[{name}]", v), dtype=torch.get_default_dtype()))
                                          for name, v in zip(self.param_names, params.values())})
        _, mass, rhs, energy = _euler_lagrange_terms(expr, qs, vs)
        args = [*qs, *vs, *symbols]
        self._mass, self._rhs = _compile(args, mass), _compile(args, rhs)
        self._energy, self._lagrangian = _compile(args, [energy]), _compile(args, [expr])
        self.dissipation = choice("dissipation", dissipation, (None, "constant", "state"))
        self.angles = list(angle_indices("angles", angles, n))
        self.rcond = None if rcond is None else nonnegative("rcond", rcond)
        if dissipation == "constant":
            self.dissipation_factor = nn.Parameter(0.1 * torch.eye(n))
        elif dissipation == "state":
            self.dissipation_net = MLP(2 * n + len(angles), n * n, hidden, "tanh")

    # --- physics -------------------------------------------------------------------------------
    def physical_parameters(self) -> dict[str, float]:
        """The current values of the learnable physical parameters, by name."""
        return {k: float(v.detach()) for k, v in self.physical.items()}

    def _columns(self, y: Tensor) -> list[Tensor]:
        y = model_input("y", y, self, last=2 * self.dof)
        return _columns(y) + [p.to(y.dtype).expand(y.shape[:-1]) for p in self.physical.values()]

    def mass_matrix(self, y: Tensor) -> Tensor:
        """``∂²L/∂q̇²`` at states ``(*batch, 2n)`` -> ``(*batch, n, n)``."""
        n = self.dof
        return torch.stack(_evaluate(self._mass, self._columns(y), y), -1).reshape(*y.shape[:-1], n, n)

    def lagrangian(self, q: Tensor, qdot: Tensor) -> Tensor:
        """``L(q, q̇; φ)`` -> ``(*batch,)``."""
        y = merge_qp(q, qdot)
        return _evaluate(self._lagrangian, self._columns(y), y)[0]

    def energy(self, y: Tensor) -> Tensor:
        """Noether energy ``q̇·∂L/∂q̇ - L`` of states ``(*batch, 2n)`` -> ``(*batch,)``."""
        return _evaluate(self._energy, self._columns(y), y)[0]

    def dissipation_matrix(self, y: Tensor) -> Tensor:
        """``R(q, q̇) = A Aᵀ`` ``(*batch, n, n)``, positive semidefinite (zeros without dissipation)."""
        y = model_input("y", y, self, last=2 * self.dof)
        n = self.dof
        if self.dissipation is None:
            return torch.zeros(*y.shape[:-1], n, n, dtype=y.dtype, device=y.device)
        if self.dissipation == "constant":
            a = self.dissipation_factor.to(y).expand(*y.shape[:-1], n, n)
        else:
            q, qdot = split_qp(y, n)
            keep = [i for i in range(n) if i not in self.angles]
            feats = [torch.cos(q[..., self.angles]), torch.sin(q[..., self.angles]), q[..., keep], qdot]
            a = self.dissipation_net(torch.cat(feats, -1)).reshape(*y.shape[:-1], n, n)
        return a @ a.transpose(-1, -2)

    def acceleration(self, y: Tensor) -> Tensor:
        """``q̈`` from the Euler-Lagrange equation with dissipation, ``(*batch, n)``."""
        cols = self._columns(y)
        n = self.dof
        mass = torch.stack(_evaluate(self._mass, cols, y), -1).reshape(*y.shape[:-1], n, n)
        rhs = torch.stack(_evaluate(self._rhs, cols, y), -1)
        if self.dissipation is not None:
            rhs = rhs - (self.dissipation_matrix(y) @ y[..., n:].unsqueeze(-1)).squeeze(-1)
        return solve_mass_matrix(mass, rhs, self.rcond, hint=f"for the parameters {self.physical_parameters()}")

    def power_balance(self, y: Tensor) -> Tensor:
        """``dE/dt = -q̇ᵀ R q̇`` along the model's own flow, ``(*batch,)`` (``<= 0``)."""
        qdot = model_input("y", y, self, last=2 * self.dof)[..., self.dof:]
        return -(qdot.unsqueeze(-2) @ self.dissipation_matrix(y) @ qdot.unsqueeze(-1)).squeeze(-1).squeeze(-1)

    def forward(self, t: Tensor, y: Tensor) -> Tensor:
        return torch.cat([model_input("y", y, self, last=2 * self.dof)[..., self.dof:], self.acceleration(y)], -1)

    def extra_repr(self) -> str:
        return f"L={self.expression}, params={self.param_names}, dissipation={self.dissipation}"
