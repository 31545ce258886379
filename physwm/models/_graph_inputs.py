"""Input checks shared by the particle-graph models (EGNN, SEGNN, PairForceNet)."""

from __future__ import annotations

import torch
from torch import Tensor


def check_graph(who: str, x: Tensor, v: Tensor | None, h: Tensor, edge_index: Tensor, edge_attr: Tensor | None,
                node_dim: int, edge_dim: int) -> Tensor | None:
    """Validate ``x (n, 3)``, ``v (n, 3)``, ``h (n, node_dim)``, ``edge_index (2, E)``,
    ``edge_attr (E, edge_dim)``; returns ``edge_attr`` (an empty ``(E, 0)`` tensor when ``edge_dim == 0``
    and none was given)."""
    for name, a in (("x", x), ("h", h), ("edge_index", edge_index)) + ((("v", v),) if v is not None else ()):
        if not isinstance(a, Tensor):
            raise TypeError(f"{who}: `{name}` must be a torch.Tensor, got {type(a).__name__}")
    n = x.shape[0] if x.dim() == 2 else -1
    if x.dim() != 2 or x.shape[1] != 3:
        raise ValueError(f"{who}: `x` must have shape (num_nodes, 3), got {tuple(x.shape)}")
    if v is not None and v.shape != x.shape:
        raise ValueError(f"{who}: `v` must have the shape of `x` {tuple(x.shape)}, got {tuple(v.shape)}")
    if h.shape != (n, node_dim):
        raise ValueError(f"{who}: `h` must have shape (num_nodes, node_dim) = ({n}, {node_dim}), got {tuple(h.shape)}")
    if edge_index.dim() != 2 or edge_index.shape[0] != 2 or edge_index.dtype != torch.long:
        raise ValueError(f"{who}: `edge_index` must be a (2, E) long tensor, got {tuple(edge_index.shape)} "
                         f"{edge_index.dtype}")
    if edge_index.numel() and (int(edge_index.min()) < 0 or int(edge_index.max()) >= n):
        raise ValueError(f"{who}: `edge_index` refers to nodes outside 0..{n - 1}")
    n_edges = edge_index.shape[1]
    if edge_attr is None:
        if edge_dim:
            raise ValueError(f"{who}: `edge_attr` of shape (E, {edge_dim}) is required (the model was built with "
                             f"edge_dim={edge_dim})")
        return x.new_zeros(n_edges, 0)
    if not isinstance(edge_attr, Tensor) or edge_attr.shape != (n_edges, edge_dim):
        got = tuple(edge_attr.shape) if isinstance(edge_attr, Tensor) else type(edge_attr).__name__
        raise ValueError(f"{who}: `edge_attr` must have shape (E, edge_dim) = ({n_edges}, {edge_dim}), got {got}")
    return edge_attr


def check_positive_int(name: str, value: int, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"`{name}` must be an int >= {minimum}, got {value!r}")
    return value
