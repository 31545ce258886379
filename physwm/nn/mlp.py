"""A plain multilayer perceptron with smooth activations."""

from __future__ import annotations

import math
from collections.abc import Sequence

from torch import Tensor, nn

from physwm._errors import ArgumentValueError
from physwm._validate import choice, positive_int

__all__ = ["MLP", "activation"]

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
