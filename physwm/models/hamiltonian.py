"""Hamiltonian neural networks and the unstructured neural-ODE baseline."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from physwm._errors import ArgumentValueError
from physwm._validate import integer, model_input, positive_int
from physwm.nn import MLP
from physwm.state import angle_feature_width, angle_features, angle_indices, autograd_gradient, expand_time, merge_qp, split_qp

__all__ = ["HNN", "SeparableHNN", "NeuralODE"]


class HNN(nn.Module):
    r"""Hamiltonian neural network (Greydanus, Dzamba, Yosinski, NeurIPS 2019).

    A scalar :math:`H_\theta(q, p)` by an MLP; the vector field is the symplectic gradient
    :math:`\dot q = \partial H_\theta/\partial p,\ \dot p = -\partial H_\theta/\partial q`, taken by
    autograd (with ``create_graph`` in grad mode, so it trains). The exact flow of the model
    conserves :math:`H_\theta`; integrate it with ``implicit_midpoint`` (symplectic for any
    :math:`H`) to keep that property numerically.

    Args:
        dof: number of coordinates ``n``; the state is ``y = [q, p]`` of size ``2n``.
        hidden: hidden widths of the MLP.
        activation_name: a smooth activation (see :func:`physwm.nn.activation`).
        angles: indices of the coordinates ``q`` that are angles, seen through ``angle_embedding``.
        angle_embedding: ``"wrap"`` (into ``[-π, π)``) or ``"cos_sin"`` (smooth across ``±π``; use it
            where trajectories turn over), see :func:`physwm.state.angle_features`.

    Shapes:
        forward: ``t`` scalar or ``(*batch,)`` (unused: H is autonomous), ``y`` ``(*batch, 2n)`` -> ``(*batch, 2n)``.
        hamiltonian: ``q, p`` ``(*batch, n)`` -> ``(*batch,)``.

    Example:
        >>> model = HNN(dof=1, hidden=(32, 32))
        >>> model(torch.tensor(0.0), torch.zeros(8, 2)).shape
        torch.Size([8, 2])
    """

    def __init__(self, dof: int, hidden: Sequence[int] = (200, 200), activation_name: str = "tanh",
                 angles: Sequence[int] = (), angle_embedding: str = "wrap"):
        super().__init__()
        self.dof = positive_int("dof", dof)
        self.angles = angle_indices("angles", angles, dof)
        self.angle_embedding = angle_embedding
        self.net = MLP(angle_feature_width(dof, self.angles, angle_embedding) + dof, 1, hidden, activation_name)

    def hamiltonian(self, q: Tensor, p: Tensor) -> Tensor:
        return self.net(torch.cat([angle_features(q, self.angles, self.angle_embedding), p], -1)).squeeze(-1)

    def energy(self, y: Tensor) -> Tensor:
        """The learned Hamiltonian of states ``(*batch, 2n)`` -> ``(*batch,)``."""
        return self.hamiltonian(*split_qp(model_input("y", y, self, last=2 * self.dof), self.dof))

    def forward(self, t: Tensor, y: Tensor) -> Tensor:
        y = model_input("y", y, self, last=2 * self.dof)
        dh_dq, dh_dp = split_qp(autograd_gradient(lambda z: self.hamiltonian(*split_qp(z, self.dof)), y))
        return merge_qp(dh_dp, -dh_dq)


class SeparableHNN(nn.Module):
    r"""HNN with separable structure :math:`H_\theta = T_\theta(p) + V_\theta(q)`.

    Two MLPs give the kinetic and potential energy, so the explicit symplectic integrators
    (``leapfrog``, ``yoshida4``, ...) can roll the model out cheaply (Zhong et al. 2020 and
    Chen et al. 2020, "Symplectic recurrent neural networks", use this split).

    Args:
        dof: number of coordinates ``n``.
        hidden: hidden widths of each MLP.
        activation_name: a smooth activation.

    Shapes:
        forward: ``y`` ``(*batch, 2n)`` -> ``(*batch, 2n)``; ``kinetic(p)``, ``potential(q)``:
        ``(*batch, n)`` -> ``(*batch,)``.

    Example:
        >>> import physwm
        >>> model = SeparableHNN(dof=1, hidden=(16,))
        >>> physwm.solve(model, torch.zeros(2), torch.linspace(0, 1, 3), method="leapfrog", dt=0.1).ys.shape
        torch.Size([3, 2])
    """

    def __init__(self, dof: int, hidden: Sequence[int] = (200, 200), activation_name: str = "tanh"):
        super().__init__()
        self.dof = positive_int("dof", dof)
        self.kinetic_net = MLP(dof, 1, hidden, activation_name)
        self.potential_net = MLP(dof, 1, hidden, activation_name)

    def kinetic(self, p: Tensor) -> Tensor:
        return self.kinetic_net(model_input("p", p, self, last=self.dof)).squeeze(-1)

    def potential(self, q: Tensor) -> Tensor:
        return self.potential_net(model_input("q", q, self, last=self.dof)).squeeze(-1)

    def hamiltonian(self, q: Tensor, p: Tensor) -> Tensor:
        return self.kinetic(p) + self.potential(q)

    def energy(self, y: Tensor) -> Tensor:
        """The learned Hamiltonian of states ``(*batch, 2n)`` -> ``(*batch,)``."""
        return self.hamiltonian(*split_qp(model_input("y", y, self, last=2 * self.dof), self.dof))

    def forward(self, t: Tensor, y: Tensor) -> Tensor:
        q, p = split_qp(model_input("y", y, self, last=2 * self.dof), self.dof)
        return merge_qp(autograd_gradient(self.kinetic, p), -autograd_gradient(self.potential, q))


class NeuralODE(nn.Module):
    r"""Unstructured baseline: :math:`\dot y = f_\theta(y[, t][, u])` by an MLP (Chen et al., NeurIPS 2018).

    The "baseline" of the HNN paper: it fits derivatives as well as an HNN but conserves nothing.
    With ``time_dependent`` the field sees the time (non-autonomous dynamics); with
    ``action_dim = m > 0`` it takes an action ``u`` and is the unstructured action-conditioned world
    model :math:`\dot y = f_\theta(y, u)` (roll it out with ``physwm.solve(..., action=...)``).

    Args:
        dim: state dimension ``d``.
        hidden: hidden widths.
        activation_name: activation.
        time_dependent: feed ``t`` as an extra input.
        action_dim: size ``m`` of the action input (0: none).
        angles: indices of the state entries that are angles, seen through ``angle_embedding``.
        angle_embedding: ``"wrap"`` (into ``[-π, π)``) or ``"cos_sin"`` (smooth across ``±π``), see
            :func:`physwm.state.angle_features`.

    Shapes:
        forward: ``t`` scalar or ``(*batch,)``, ``y`` ``(*batch, d)``, ``u`` ``(*batch, m)`` -> ``(*batch, d)``.

    Raises:
        ValueError: a state or action of the wrong size, or an action given to a model without action input.

    Example:
        >>> NeuralODE(dim=2, hidden=(16,))(torch.tensor(0.0), torch.zeros(4, 2)).shape
        torch.Size([4, 2])
        >>> NeuralODE(dim=2, hidden=(16,), action_dim=1)(torch.tensor(0.0), torch.zeros(4, 2), torch.ones(4, 1)).shape
        torch.Size([4, 2])
    """

    def __init__(self, dim: int, hidden: Sequence[int] = (200, 200), activation_name: str = "tanh",
                 time_dependent: bool = False, action_dim: int = 0, angles: Sequence[int] = (),
                 angle_embedding: str = "wrap"):
        super().__init__()
        self.dim = positive_int("dim", dim)
        self.angles = angle_indices("angles", angles, dim)
        self.angle_embedding = angle_embedding
        self.action_dim = integer("action_dim", action_dim, minimum=0)
        self.time_dependent = bool(time_dependent)
        width = angle_feature_width(dim, self.angles, angle_embedding)
        self.net = MLP(width + int(self.time_dependent) + self.action_dim, dim, hidden, activation_name)

    def forward(self, t: Tensor, y: Tensor, u: Tensor | None = None) -> Tensor:
        inputs = [angle_features(model_input("y", y, self, last=self.dim), self.angles, self.angle_embedding)]
        if self.time_dependent:
            inputs.append(expand_time(t, y).unsqueeze(-1))
        if (u is None) != (self.action_dim == 0):
            raise ArgumentValueError(f"NeuralODE was built with action_dim={self.action_dim}: "
                                     + ("pass an action `u`" if u is None else "it takes no action `u`"))
        if u is not None:
            inputs.append(model_input("u", u, self, last=self.action_dim, convert=True).to(y).expand(*y.shape[:-1], self.action_dim))
        return self.net(torch.cat(inputs, -1))
