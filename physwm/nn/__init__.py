"""Neural building blocks (layer L2)."""

from physwm.nn.graph import fully_connected_graph, knn_graph, radius_graph
from physwm.nn.mlp import MLP, ModifiedMLP, activation

__all__ = ["MLP", "ModifiedMLP", "activation", "fully_connected_graph", "knn_graph", "radius_graph"]
