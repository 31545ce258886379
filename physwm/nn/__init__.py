"""Neural building blocks (layer L2)."""

from physwm.nn.mlp import MLP, activation

__all__ = ["MLP", "activation"]
