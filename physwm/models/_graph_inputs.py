"""What the particle-graph models share: input checks and the e3nn declaration of their inputs."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from physwm._errors import ArgumentValueError
from physwm._validate import in_checked_call, model_input
from physwm._validate import tensor as check_tensor


def graph_irreps_in(node_dim: int, edge_dim: int) -> list:
    """``irreps_in`` of a model called as ``model(x, v, h, edge_index, edge_attr)`` (e3nn's convention):
    positions translate and rotate, velocities rotate, node and edge features are invariant scalars."""
    return ["cartesian_points", "1x1o", f"{node_dim}x0e", None, f"{edge_dim}x0e" if edge_dim else None]


def check_graph(who: str, x: Tensor, v: Tensor | None, h: Tensor, edge_index: Tensor, edge_attr: Tensor | None,
                node_dim: int, edge_dim: int, module: nn.Module | None = None) -> Tensor:
    """Validate ``x (n, 3)``, ``v (n, 3)``, ``h (n, node_dim)``, ``edge_index (2, E)``,
    ``edge_attr (E, edge_dim)`` (floating inputs finite and in ``module``'s dtype and device); returns
    ``edge_attr`` (an empty ``(E, 0)`` tensor when ``edge_dim == 0`` and none was given)."""
    n = model_input("x", x, module, shape=(-1, 3)).shape[0]
    if v is not None:
        model_input("v", v, module, shape=(n, 3))
    model_input("h", h, module, shape=(n, node_dim))
    check_tensor("edge_index", edge_index, floating=False, shape=(2, -1))
    if edge_index.dtype != torch.long:
        raise ArgumentValueError(f"{who}: `edge_index` must be a (2, E) long tensor, got dtype {edge_index.dtype}")
    if edge_index.numel() and not in_checked_call() and (int(edge_index.min()) < 0 or int(edge_index.max()) >= n):
        raise ArgumentValueError(f"{who}: `edge_index` refers to nodes outside 0..{n - 1}")
    n_edges = edge_index.shape[1]
    if edge_attr is None:
        if edge_dim:
            raise ArgumentValueError(f"{who}: `edge_attr` of shape (E, {edge_dim}) is required (the model was built "
                                     f"with edge_dim={edge_dim})")
        return x.new_zeros(n_edges, 0)
    return model_input("edge_attr", edge_attr, module, shape=(n_edges, edge_dim))
