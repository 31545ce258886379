"""Graph construction for particle systems: fully connected, k-nearest-neighbour and radius graphs.

Conventions follow PyTorch Geometric: ``edge_index`` is a ``(2, E)`` long tensor, messages flow
from ``edge_index[0]`` (source ``j``) to ``edge_index[1]`` (target ``i``), and a batch of ``B``
graphs of ``N`` nodes each is one disconnected graph of ``B * N`` nodes, node ``b * N + n``.

Positions come in the dense layout ``(B, N, 3)`` (or ``(N, 3)`` for one graph). Distances are
computed per graph, ``O(B N²)`` memory, which is what particle benchmarks of up to a few hundred
bodies need; no compiled extension (``torch_cluster``) is required.

Unlike ``torch_cluster.radius_graph``, whose ``max_num_neighbors=32`` silently drops the
neighbours beyond the cap, :func:`radius_graph` never drops an edge: a node with more
neighbours than an explicit cap is an error.
"""

from __future__ import annotations

import torch
from torch import Tensor

from physwm._errors import ArgumentTypeError, ArgumentValueError
from physwm._validate import integer, positive, positive_int

__all__ = ["fully_connected_graph", "knn_graph", "radius_graph", "batch_positions"]


def batch_positions(pos: Tensor, name: str = "pos") -> Tensor:
    """``pos`` ``(N, 3)`` or ``(B, N, 3)`` -> ``(B, N, 3)``, checked."""
    if not isinstance(pos, Tensor):
        raise ArgumentTypeError(f"`{name}` must be a torch.Tensor, got {type(pos).__name__}")
    if pos.dim() == 2:
        pos = pos.unsqueeze(0)
    if pos.dim() != 3 or pos.shape[-1] != 3 or pos.shape[1] < 2:
        raise ArgumentValueError(f"`{name}` must have shape (N, 3) or (B, N, 3) with N >= 2, got {tuple(pos.shape)}")
    if not bool(torch.isfinite(pos).all()):
        raise ArgumentValueError(f"`{name}` must be finite")
    return pos


def _flatten(mask: Tensor) -> Tensor:
    """Boolean adjacency ``(B, N, N)`` with ``mask[b, i, j]`` = edge j -> i, to ``edge_index``."""
    b, i, j = mask.nonzero(as_tuple=True)
    n = mask.shape[-1]
    return torch.stack([b * n + j, b * n + i])


def fully_connected_graph(n_nodes: int, batch_size: int = 1, *, device: torch.device | str | None = None) -> Tensor:
    """Every ordered pair ``j -> i``, ``i != j``, in each of ``batch_size`` graphs of ``n_nodes``.

    Shapes:
        returns ``(2, batch_size * n_nodes * (n_nodes - 1))``.

    Raises:
        ValueError: ``n_nodes < 2`` or ``batch_size < 1``.

    Example:
        >>> fully_connected_graph(3).shape
        torch.Size([2, 6])
    """
    integer("n_nodes", n_nodes, minimum=2), positive_int("batch_size", batch_size)
    eye = torch.eye(n_nodes, dtype=torch.bool, device=device)
    return _flatten((~eye).expand(batch_size, n_nodes, n_nodes))


def knn_graph(pos: Tensor, k: int) -> Tensor:
    """Edges ``j -> i`` from each node's ``k`` nearest other nodes (Euclidean), per graph.

    Ties at the ``k``-th distance are broken by index (``torch.topk``). The graph is directed: ``j``
    may be among ``i``'s neighbours and not the reverse; symmetrise with
    ``torch_geometric.utils.to_undirected`` where a model needs it.

    Args:
        pos: positions ``(N, 3)`` or ``(B, N, 3)``.
        k: neighbours per node, ``1 <= k < N``.

    Shapes:
        returns ``(2, B * N * k)``, sorted by target node.

    Raises:
        ValueError: bad ``pos`` or ``k``.

    Example:
        >>> knn_graph(torch.randn(10, 3), k=6).shape
        torch.Size([2, 60])
    """
    pos = batch_positions(pos)
    bsz, n, _ = pos.shape
    integer("k", k, minimum=1, maximum=n - 1)
    d2 = (pos.unsqueeze(2) - pos.unsqueeze(1)).pow(2).sum(-1)  # (B, N, N): |x_i - x_j|²
    d2 = d2 + torch.diag(torch.full((n,), float("inf"), dtype=d2.dtype, device=d2.device))
    nbr = d2.topk(k, dim=-1, largest=False).indices  # (B, N, k): sources j of target i
    offset = (torch.arange(bsz, device=pos.device) * n).view(bsz, 1, 1)
    target = torch.arange(n, device=pos.device).view(1, n, 1).expand(bsz, n, k)
    return torch.stack([(nbr + offset).reshape(-1), (target + offset).reshape(-1)])


def radius_graph(pos: Tensor, r: float, *, max_num_neighbors: int | None = None) -> Tensor:
    """Edges ``j -> i`` for every pair closer than ``r`` (``|x_i - x_j| < r``, ``i != j``), per graph.

    Args:
        pos: positions ``(N, 3)`` or ``(B, N, 3)``.
        r: cutoff radius (length units), > 0.
        max_num_neighbors: an explicit cap on the neighbours of any node, or ``None`` for no cap.
            A node over the cap raises instead of losing edges: no neighbour is ever dropped.

    Shapes:
        returns ``(2, E)``, sorted by graph, then target node.

    Raises:
        ValueError: bad ``pos`` or ``r``; a node with more than ``max_num_neighbors`` neighbours.

    Example:
        >>> radius_graph(torch.tensor([[0.0, 0, 0], [0.5, 0, 0], [3.0, 0, 0]]), r=1.0)
        tensor([[1, 0],
                [0, 1]])
    """
    pos = batch_positions(pos)
    r = positive("r", r)
    n = pos.shape[1]
    d2 = (pos.unsqueeze(2) - pos.unsqueeze(1)).pow(2).sum(-1)
    eye = torch.eye(n, dtype=torch.bool, device=pos.device)
    mask = (d2 < float(r) ** 2) & ~eye
    if max_num_neighbors is not None:
        positive_int("max_num_neighbors", max_num_neighbors)
        most = int(mask.sum(-1).max())
        if most > max_num_neighbors:
            raise ArgumentValueError(f"a node has {most} neighbours within r={r}, more than `max_num_neighbors`="
                             f"{max_num_neighbors}; raise the cap (or pass None) rather than drop neighbours")
    return _flatten(mask)
