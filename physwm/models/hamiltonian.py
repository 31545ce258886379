"""Hamiltonian neural networks and the unstructured neural-ODE baseline."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from physwm.state import autograd_gradient
from physwm.nn import MLP

__all__ = ["HNN", "SeparableHNN", "NeuralODE"]


def _check_y(y: Tensor, dim: int, who: str) -> Tensor:
    if not isinstance(y, Tensor):
        raise TypeError(f"{who}: `y` must be a torch.Tensor, got {type(y).__name__}")
    if y.shape[-1:] != (dim,):
        raise ValueError(f"{who}: `y` must have shape (*batch, {dim}), got {tuple(y.shape)}")
    return y


def _check_dof(dof: int) -> int:
    if isinstance(dof, bool) or not isinstance(dof, int) or dof < 1:
        raise ValueError(f"`dof` must be a positive int (number of coordinates q), got {dof!r}")
    return dof


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

    Shapes:
        forward: ``t`` scalar, ``y`` ``(*batch, 2n)`` -> ``(*batch, 2n)``.
        hamiltonian: ``q, p`` ``(*batch, n)`` -> ``(*batch,)``.

    Example:
        >>> model = HNN(dof=1, hidden=(32, 32))
        >>> model(torch.tensor(0.0), torch.zeros(8, 2)).shape
        torch.Size([8, 2])
    """

    def __init__(self, dof: int, hidden: Sequence[int] = (200, 200), activation_name: str = "tanh"):
        super().__init__()
        self.dof = _check_dof(dof)
        self.net = MLP(2 * dof, 1, hidden, activation_name)

    def hamiltonian(self, q: Tensor, p: Tensor) -> Tensor:
        return self.net(torch.cat([q, p], -1)).squeeze(-1)

    def energy(self, y: Tensor) -> Tensor:
        """The learned Hamiltonian of states ``(*batch, 2n)`` -> ``(*batch,)``."""
        y = _check_y(y, 2 * self.dof, "HNN")
        return self.hamiltonian(y[..., : self.dof], y[..., self.dof:])

    def forward(self, t: Tensor, y: Tensor) -> Tensor:
        y = _check_y(y, 2 * self.dof, "HNN")
        g = autograd_gradient(self.energy, y)
        return torch.cat([g[..., self.dof:], -g[..., : self.dof]], -1)


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
        self.dof = _check_dof(dof)
        self.kinetic_net = MLP(dof, 1, hidden, activation_name)
        self.potential_net = MLP(dof, 1, hidden, activation_name)

    def kinetic(self, p: Tensor) -> Tensor:
        return self.kinetic_net(p).squeeze(-1)

    def potential(self, q: Tensor) -> Tensor:
        return self.potential_net(q).squeeze(-1)

    def hamiltonian(self, q: Tensor, p: Tensor) -> Tensor:
        return self.kinetic(p) + self.potential(q)

    def energy(self, y: Tensor) -> Tensor:
        y = _check_y(y, 2 * self.dof, "SeparableHNN")
        return self.hamiltonian(y[..., : self.dof], y[..., self.dof:])

    def forward(self, t: Tensor, y: Tensor) -> Tensor:
        y = _check_y(y, 2 * self.dof, "SeparableHNN")
        q, p = y[..., : self.dof], y[..., self.dof:]
        return torch.cat([autograd_gradient(self.kinetic, p), -autograd_gradient(self.potential, q)], -1)


class NeuralODE(nn.Module):
    r"""Unstructured baseline: :math:`\dot y = f_\theta(y)` by an MLP (Chen et al., NeurIPS 2018).

    The "baseline" of the HNN paper: it fits derivatives as well as an HNN but conserves nothing.

    Args:
        dim: state dimension ``d``.
        hidden: hidden widths.
        activation_name: activation.
        time_dependent: feed ``t`` as an extra input (non-autonomous field).

    Shapes:
        forward: ``t`` scalar, ``y`` ``(*batch, d)`` -> ``(*batch, d)``.

    Example:
        >>> NeuralODE(dim=2, hidden=(16,))(torch.tensor(0.0), torch.zeros(4, 2)).shape
        torch.Size([4, 2])
    """

    def __init__(self, dim: int, hidden: Sequence[int] = (200, 200), activation_name: str = "tanh",
                 time_dependent: bool = False):
        super().__init__()
        self.dim = _check_dof(dim)
        self.time_dependent = bool(time_dependent)
        self.net = MLP(dim + int(self.time_dependent), dim, hidden, activation_name)

    def forward(self, t: Tensor, y: Tensor) -> Tensor:
        y = _check_y(y, self.dim, "NeuralODE")
        if self.time_dependent:
            tt = torch.as_tensor(t, dtype=y.dtype, device=y.device).expand(*y.shape[:-1], 1)
            y = torch.cat([y, tt], -1)
        return self.net(y)
