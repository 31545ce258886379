"""A plain multilayer perceptron with smooth activations."""

from __future__ import annotations

import math
from collections.abc import Sequence

from torch import Tensor, nn

from physwm._errors import ArgumentValueError
from physwm._validate import choice, positive_int

__all__ = ["MLP", "ModifiedMLP", "activation"]

_ACTIVATIONS = {"tanh": nn.Tanh, "softplus": nn.Softplus, "silu": nn.SiLU, "gelu": nn.GELU, "relu": nn.ReLU}


def activation(name: str) -> nn.Module:
    """An activation module by name: ``tanh``, ``softplus``, ``silu``, ``gelu`` or ``relu``.

    Hamiltonian and Lagrangian networks differentiate their output, so their vector field is only
    as smooth as the activation's derivative: prefer ``tanh``/``softplus``/``silu``; ``relu``
    gives a piecewise-constant gradient and a vector field with jumps.

    Raises:
        ValueError: unknown name.
    """
    try:
        return _ACTIVATIONS[name]()
    except KeyError:
        raise ArgumentValueError(f"unknown activation {name!r}; expected one of {sorted(_ACTIVATIONS)}") from None


class MLP(nn.Module):
    r"""``in_dim -> hidden[0] -> ... -> hidden[-1] -> out_dim``, activation between layers.

    Weights are initialised orthogonally (as in the HNN reference code), biases at zero. With
    ``init="lnn"``, the scheme Cranmer et al. derived for Lagrangian networks ("Lagrangian Neural
    Networks", 2020, appendix; softplus, 4 dense layers): weight ``i`` of ``L`` drawn from
    :math:`\mathcal N(0, \sigma_i^2)`, :math:`\sigma_i = c_i / \sqrt{n_i}` with :math:`n_i` the larger
    of its fan-in and fan-out and :math:`c_0 = 2.2`, :math:`c_i = 0.58\,i` for the hidden layers,
    :math:`c_{L-1} = n_{L-1}` for the output layer, which keeps the accelerations and their
    gradients near unit variance at initialisation.

    Args:
        in_dim: input features.
        out_dim: output features.
        hidden: widths of the hidden layers.
        activation_name: see :func:`activation`.
        init: ``"orthogonal"`` or ``"lnn"``.

    Shapes:
        input ``(*batch, in_dim)`` -> output ``(*batch, out_dim)``.

    Example:
        >>> import torch
        >>> MLP(2, 1, hidden=(16, 16))(torch.zeros(5, 2)).shape
        torch.Size([5, 1])
    """

    def __init__(self, in_dim: int, out_dim: int, hidden: Sequence[int] = (200, 200), activation_name: str = "tanh",
                 init: str = "orthogonal"):
        super().__init__()
        positive_int("in_dim", in_dim), positive_int("out_dim", out_dim)
        for k, h in enumerate(hidden):
            positive_int(f"hidden[{k}]", h)
        choice("init", init, ("orthogonal", "lnn"))
        widths = [in_dim, *hidden, out_dim]
        layers: list[nn.Module] = []
        n_linear = len(widths) - 1
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
            linear = nn.Linear(a, b)
            if init == "orthogonal":
                nn.init.orthogonal_(linear.weight)
            else:
                n = max(a, b)
                c = 2.2 if i == 0 else (float(n) if i == n_linear - 1 else 0.58 * i)
                nn.init.normal_(linear.weight, 0.0, c / math.sqrt(n))
            nn.init.zeros_(linear.bias)
            layers.append(linear)
            if i < len(widths) - 2:
                layers.append(activation(activation_name))
        self.net = nn.Sequential(*layers)
        self.in_dim, self.out_dim = in_dim, out_dim

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-1] != self.in_dim:
            raise ArgumentValueError(f"`x` (the MLP input) must have shape (*batch, {self.in_dim}), got {tuple(x.shape)}")
        return self.net(x)


class ModifiedMLP(nn.Module):
    r"""The modified multilayer perceptron of Wang, Teng & Perdikaris for physics-informed networks.

    Two encoders of the input gate every hidden layer ("Understanding and mitigating gradient flow
    pathologies in physics-informed neural networks", *SIAM J. Sci. Comput.* 43, 2021, §4):

    .. math::
        U = \sigma(W_U x + b_U), \quad V = \sigma(W_V x + b_V), \quad H_1 = \sigma(W_1 x + b_1),

        Z_k = \sigma(W_{k+1} H_k + b_{k+1}), \quad H_{k+1} = (1 - Z_k) \odot U + Z_k \odot V
        \quad (k = 1, \dots, L - 1), \qquad f(x) = W_o H_L + b_o.

    The multiplicative gates let the input reach every layer and make the features even as well as odd
    in a centred input (a plain tanh MLP with zero biases is an odd function of it); the SPINN reference
    code (Cho et al., NeurIPS 2023) uses it for its Klein-Gordon and other (2+1)-d benchmarks. Weights are
    Glorot-normal, biases zero, as in both papers' code.

    Args:
        in_dim: input features.
        out_dim: output features.
        hidden: the ``L`` hidden widths, all equal (``H_1`` and the ``L - 1`` gated layers).
        activation_name: see :func:`activation`; ``tanh`` by default.

    Shapes:
        input ``(*batch, in_dim)`` -> output ``(*batch, out_dim)``.

    Raises:
        ValueError: non-positive sizes, unequal or no hidden widths, an unknown activation.

    Example:
        >>> import torch
        >>> ModifiedMLP(2, 1, hidden=(16, 16, 16))(torch.zeros(5, 2)).shape
        torch.Size([5, 1])
    """

    def __init__(self, in_dim: int, out_dim: int, hidden: Sequence[int] = (64, 64, 64, 64), activation_name: str = "tanh"):
        super().__init__()
        positive_int("in_dim", in_dim), positive_int("out_dim", out_dim)
        hidden = tuple(hidden)
        for k, h in enumerate(hidden):
            positive_int(f"hidden[{k}]", h)
        if not hidden or len(set(hidden)) != 1:
            raise ArgumentValueError(f"`hidden` must be one or more equal widths (the gates multiply layers elementwise), "
                                     f"got {hidden!r}")
        width = hidden[0]
        self.act = activation(activation_name)
        self.encoders = nn.ModuleList(nn.Linear(in_dim, width) for _ in range(3))  # U, V, H_1
        self.gates = nn.ModuleList(nn.Linear(width, width) for _ in hidden[1:])
        self.out = nn.Linear(width, out_dim)
        for layer in self.modules():
            if isinstance(layer, nn.Linear):
                nn.init.xavier_normal_(layer.weight)
                nn.init.zeros_(layer.bias)
        self.in_dim, self.out_dim = in_dim, out_dim

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-1] != self.in_dim:
            raise ArgumentValueError(f"`x` (the ModifiedMLP input) must have shape (*batch, {self.in_dim}), got "
                                     f"{tuple(x.shape)}")
        u, v, h = (self.act(e(x)) for e in self.encoders)
        for gate in self.gates:
            z = self.act(gate(h))
            h = u + z * (v - u)
        return self.out(h)
