"""Port-Hamiltonian neural network: learned energy, dissipation, control input and forcing."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from physwm._errors import ArgumentValueError
from physwm._validate import choice, integer, model_input, positive_int
from physwm.models.hamiltonian import HNN
from physwm.nn import MLP
from physwm.state import autograd_gradient, expand_time, merge_qp, split_qp

__all__ = ["PHNN"]


class PHNN(nn.Module):
    r"""Port-Hamiltonian neural network (Desai, Mattheakis, Sondak, Protopapas, Roberts,
    "Port-Hamiltonian neural networks for learning explicit time-dependent dynamical systems",
    Phys. Rev. E 104, 034312, 2021; van der Schaft & Jeltsema 2014).

    .. math::
        \dot x = \big(J - R_\theta(x)\big)\,\nabla H_\theta(x) + G_\theta(x)\,u + F_\theta(t),
        \qquad x = [q, p],

    - :math:`H_\theta` is an :class:`~physwm.models.HNN` (``self.hnn``);
    - :math:`R_\theta = L_\theta L_\theta^\top` is positive semidefinite by construction, with
      :math:`L_\theta` a learned constant (``dissipation="constant"``) or an MLP of the state
      (``"state"``); it acts on ``p`` only (``dissipation_on="p"``: friction is a generalised
      force) or on the whole state (``"full"``);
    - :math:`J` is the canonical :math:`[[0, I], [-I, 0]]` or, with ``structure="learned"``, a
      learned skew-symmetric :math:`S - S^\top` initialised at the canonical one;
    - :math:`G_\theta` (``2n × m``) maps an action ``u`` of size ``m = action_dim`` into the
      state space (a learned constant or an MLP of the state);
    - :math:`F_\theta(t)` is an optional learned forcing on ``p`` (an MLP of ``t``).

    Energy is not conserved but balanced: :math:`dH/dt = -\nabla H^\top R \nabla H + \nabla H^\top(G u + F)`
    (:meth:`power_balance`). With ``R = 0``, ``u = 0``, ``F = 0`` and canonical ``J`` the field is
    exactly the HNN's. Pass ``action=`` to :func:`physwm.solve` to roll it out as an
    action-conditioned world model.

    Args:
        dof: number of coordinates ``n``; state ``y = [q, p]`` of size ``2n``.
        action_dim: size ``m`` of the control input (0: no input).
        hidden: hidden widths of the Hamiltonian MLP (and the state-dependent ``L``, ``G``).
        activation_name: smooth activation.
        dissipation: ``None`` (no damping), ``"constant"`` or ``"state"``.
        dissipation_on: ``"p"`` or ``"full"``.
        structure: ``"canonical"`` or ``"learned"``.
        input_matrix: ``"constant"`` or ``"state"`` (ignored when ``action_dim == 0``).
        forcing: learn a time-dependent forcing ``F(t)``.
        forcing_hidden: hidden widths of the forcing MLP.

    Shapes:
        forward: ``t`` scalar or ``(*batch,)``, ``y`` ``(*batch, 2n)``, ``u`` ``(*batch, m)`` or ``None`` -> ``(*batch, 2n)``.

    Raises:
        ValueError: unknown option values; at call time an action of the wrong shape, or an
            action given to a model with ``action_dim=0``.

    Example:
        >>> import physwm
        >>> model = PHNN(dof=1, action_dim=1, hidden=(16,), dissipation="constant")
        >>> y0, t = torch.zeros(4, 2), torch.linspace(0, 1, 6)
        >>> physwm.solve(model, y0, t, method="rk4", action=torch.ones(5, 4, 1)).ys.shape
        torch.Size([6, 4, 2])
    """

    def __init__(self, dof: int, action_dim: int = 0, hidden: Sequence[int] = (200, 200), activation_name: str = "tanh",
                 dissipation: str | None = "state", dissipation_on: str = "p", structure: str = "canonical",
                 input_matrix: str = "constant", forcing: bool = False, forcing_hidden: Sequence[int] = (64, 64)):
        super().__init__()
        self.dof = positive_int("dof", dof)
        integer("action_dim", action_dim, minimum=0)
        choice("dissipation", dissipation, (None, "constant", "state"))
        choice("dissipation_on", dissipation_on, ("p", "full"))
        choice("structure", structure, ("canonical", "learned"))
        choice("input_matrix", input_matrix, ("constant", "state"))
        self.action_dim, self.dissipation, self.dissipation_on = action_dim, dissipation, dissipation_on
        self.structure, self.input_matrix_kind = structure, input_matrix
        n, d = dof, 2 * dof
        self.hnn = HNN(dof, hidden, activation_name)
        r = n if dissipation_on == "p" else d
        self._r = r
        if dissipation == "constant":
            self.dissipation_factor = nn.Parameter(0.1 * torch.eye(r))
        elif dissipation == "state":
            self.dissipation_net = MLP(d, r * r, hidden, activation_name)
        j0 = torch.zeros(d, d)
        j0[:n, n:] = torch.eye(n)
        j0[n:, :n] = -torch.eye(n)
        if structure == "learned":
            self.structure_param = nn.Parameter(0.5 * j0)
        else:
            self.register_buffer("canonical_j", j0)
        if action_dim:
            if input_matrix == "constant":
                g0 = torch.zeros(d, action_dim)
                g0[n:, :] = torch.eye(n, action_dim)
                self.input_param = nn.Parameter(g0)
            else:
                self.input_net = MLP(d, d * action_dim, hidden, activation_name)
        self.forcing_net = MLP(1, n, forcing_hidden, activation_name) if forcing else None

    # --- structure -----------------------------------------------------------------------------
    def hamiltonian(self, q: Tensor, p: Tensor) -> Tensor:
        """Learned energy ``H_θ(q, p)`` -> ``(*batch,)``."""
        return self.hnn.hamiltonian(q, p)

    def energy(self, y: Tensor) -> Tensor:
        """Learned energy of states ``(*batch, 2n)`` -> ``(*batch,)``."""
        return self.hnn.energy(y)

    def structure_matrix(self) -> Tensor:
        """``J`` (``2n × 2n``), skew-symmetric."""
        if self.structure == "learned":
            return self.structure_param - self.structure_param.T
        return self.canonical_j

    def _factor(self, y: Tensor) -> Tensor | None:
        if self.dissipation is None:
            return None
        if self.dissipation == "constant":
            return self.dissipation_factor.to(y).expand(*y.shape[:-1], self._r, self._r)
        return self.dissipation_net(y).reshape(*y.shape[:-1], self._r, self._r)

    def dissipation_matrix(self, y: Tensor) -> Tensor:
        """``R(y) = L Lᵀ`` embedded in the ``2n × 2n`` state space, shape ``(*batch, 2n, 2n)``; PSD."""
        y = model_input("y", y, self, last=2 * self.dof)
        d = 2 * self.dof
        out = torch.zeros(*y.shape[:-1], d, d, dtype=y.dtype, device=y.device)
        lf = self._factor(y)
        if lf is not None:
            out[..., d - self._r:, d - self._r:] = lf @ lf.transpose(-1, -2)
        return out

    def input_matrix(self, y: Tensor) -> Tensor:
        """``G(y)``, shape ``(*batch, 2n, m)``."""
        y = model_input("y", y, self, last=2 * self.dof)
        d, m = 2 * self.dof, self.action_dim
        if m == 0:
            return y.new_zeros(*y.shape[:-1], d, 0)
        if self.input_matrix_kind == "constant":
            return self.input_param.to(y).expand(*y.shape[:-1], d, m)
        return self.input_net(y).reshape(*y.shape[:-1], d, m)

    def forcing(self, t: Tensor, like: Tensor) -> Tensor:
        """``F(t) = [0, F_p(t)]`` at ``like``'s batch, shape ``(*batch, 2n)`` (zeros without a forcing network).

        ``t`` is a scalar or one time per batch entry ``(*batch,)``.
        """
        if self.forcing_net is None:
            return torch.zeros_like(like)
        fp = self.forcing_net(expand_time(t, like).unsqueeze(-1))
        return merge_qp(torch.zeros_like(fp), fp)

    # --- dynamics ------------------------------------------------------------------------------
    def _check_u(self, y: Tensor, u: Tensor | None) -> Tensor | None:
        if u is None:
            return None
        if self.action_dim == 0:
            raise ArgumentValueError("PHNN was built with action_dim=0 but got an action `u`; build it with action_dim=m")
        return model_input("u", u, self, last=self.action_dim, convert=True).to(y)

    def _terms(self, t: Tensor, y: Tensor, u: Tensor | None) -> tuple[Tensor, Tensor, Tensor]:
        """``∇H``, ``R ∇H`` and the external input ``G u + F`` at ``y``."""
        y = model_input("y", y, self, last=2 * self.dof)
        u = self._check_u(y, u)
        g = autograd_gradient(self.hnn.energy, y)
        d = 2 * self.dof
        lf = self._factor(y)
        rg = torch.zeros_like(g)
        if lf is not None:
            gr = g[..., d - self._r:].unsqueeze(-1)
            part = (lf @ (lf.transpose(-1, -2) @ gr)).squeeze(-1)
            rg = torch.cat([torch.zeros_like(g[..., : d - self._r]), part], -1)
        external = self.forcing(t, y)
        if u is not None:
            external = external + (self.input_matrix(y) @ u.unsqueeze(-1)).squeeze(-1)
        return g, rg, external

    def forward(self, t: Tensor, y: Tensor, u: Tensor | None = None) -> Tensor:
        g, rg, external = self._terms(t, y, u)
        if self.structure == "canonical":
            dh_dq, dh_dp = split_qp(g)
            jg = merge_qp(dh_dp, -dh_dq)
        else:
            jg = g @ self.structure_matrix().to(g).T
        return jg - rg + external

    def power_balance(self, t: Tensor, y: Tensor, u: Tensor | None = None) -> dict[str, Tensor]:
        """Both sides of ``dH/dt = supplied - dissipated`` for the learned energy.

        Returns:
            ``{"dissipated": ∇Hᵀ R ∇H >= 0, "supplied": ∇Hᵀ (G u + F)}``, each ``(*batch,)``.
        """
        g, rg, external = self._terms(t, y, u)
        return {"dissipated": (g * rg).sum(-1), "supplied": (g * external).sum(-1)}
