r"""E(n)-equivariant graph neural network (Satorras, Hoogeboom, Welling, ICML 2021), n-body variant.

Built on :class:`torch_geometric.nn.MessagePassing`; imported on first use of
:class:`physwm.models.EGNN`, so ``import physwm`` does not load torch_geometric.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.nn import MessagePassing
from torch_geometric.utils import degree

from physwm._validate import inside_checked_call, integer, positive_int
from physwm.models._graph_inputs import check_graph, graph_irreps_in

__all__ = ["EGNN", "EGNNLayer"]


def _mlp(a: int, b: int, c: int, act_last: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Linear(a, b), nn.SiLU(), nn.Linear(b, c)]
    if act_last:
        layers.append(nn.SiLU())
    return nn.Sequential(*layers)


class EGNNLayer(MessagePassing):
    r"""One equivariant graph convolution layer with the velocity update of the n-body variant.

    .. math::
        m_{ij} &= \phi_e(h_i, h_j, \|x_i - x_j\|^2, a_{ij}) \\
        v_i' &= \phi_v(h_i)\, v_i^{\text{init}} + \frac{1}{|\mathcal N(i)|}\sum_{j \in \mathcal N(i)}
                \frac{x_i - x_j}{\|x_i - x_j\| + 1}\, \phi_x(m_{ij}) \\
        x_i' &= x_i + v_i' \\
        h_i' &= h_i + \phi_h\Big(h_i, \sum_{j} m_{ij}\Big)

    (equations 3-7 of the paper). The velocity term uses the *initial* velocities at every layer,
    as the paper's equation 7 does. The relative position is divided by ``|x_i - x_j| + 1``
    (the "normalised difference" of the authors' later code): without it the coordinate update
    grows with the distance and deep stacks diverge to NaN on spread-out inputs. The last layer of
    ``phi_x`` starts near zero (Xavier gain 0.001), so an untrained stack is close to the identity.

    The arguments come in the order of :class:`EGNN`'s: positions, velocities, features, graph.

    Args:
        node_dim: width ``F`` of the node features (the model's hidden width) and of every MLP.
        edge_dim: number of edge attributes ``a_ij`` (0 for none).

    Shapes:
        x ``(n, 3)``, v_init ``(n, 3)``, h ``(n, F)``, edge_index ``(2, E)``, edge_attr ``(E, edge_dim)``
        -> ``(x', h')`` with the shapes of ``x`` and ``h``.
    """

    def __init__(self, node_dim: int, edge_dim: int = 0):
        super().__init__(aggr="add")
        hidden = self.hidden = positive_int("node_dim", node_dim)
        self.edge_dim = integer("edge_dim", edge_dim, minimum=0)
        self.irreps_in = ["cartesian_points", "1x1o", f"{hidden}x0e", None, f"{edge_dim}x0e" if edge_dim else None]
        self.irreps_out = ["cartesian_points", f"{hidden}x0e"]
        self.phi_e = _mlp(2 * hidden + 1 + edge_dim, hidden, hidden)
        self.phi_h = _mlp(2 * hidden, hidden, hidden, act_last=False)
        last = nn.Linear(hidden, 1, bias=False)
        nn.init.xavier_uniform_(last.weight, gain=0.001)
        self.phi_x = nn.Sequential(nn.Linear(hidden, hidden), nn.SiLU(), last)
        self.phi_v = nn.Sequential(nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, 1))

    def forward(self, x: Tensor, v_init: Tensor, h: Tensor, edge_index: Tensor,
                edge_attr: Tensor | None = None) -> tuple[Tensor, Tensor]:
        edge_attr = check_graph("EGNNLayer", x, v_init, h, edge_index, edge_attr, self.hidden, self.edge_dim, self)
        out = self.propagate(edge_index, h=h, x=x, edge_attr=edge_attr)  # (n, F + 3): [sum m_ij, sum dx_ij]
        agg_h, agg_x = out[:, : self.hidden], out[:, self.hidden:]
        deg = degree(edge_index[1], x.shape[0], dtype=x.dtype).clamp_min(1.0).unsqueeze(-1)
        v = self.phi_v(h) * v_init + agg_x / deg
        return x + v, h + self.phi_h(torch.cat([h, agg_h], -1))

    def message(self, h_i: Tensor, h_j: Tensor, x_i: Tensor, x_j: Tensor, edge_attr: Tensor) -> Tensor:
        diff = x_i - x_j
        r2 = (diff**2).sum(-1, keepdim=True)
        m = self.phi_e(torch.cat([h_i, h_j, r2, edge_attr], -1))
        return torch.cat([m, diff / (r2.sqrt() + 1.0) * self.phi_x(m)], -1)


class EGNN(nn.Module):
    r"""E(n)-equivariant graph neural network for particle systems (Satorras et al., ICML 2021).

    Node features are embedded linearly to width ``F``, then ``layers`` :class:`EGNNLayer`
    update features, positions and velocities. The output positions are E(3)-equivariant
    (rotations, reflections, translations) and permutation-equivariant by construction:
    messages see only invariants (``|x_i - x_j|²``, features, edge attributes) and the
    coordinate update is a combination of relative positions and velocities.

    For the charged n-body task (the paper's section 5.1): ``h`` = speed ``|v_i|``,
    ``edge_attr`` = ``q_i q_j``, 4 layers of width 64; see :mod:`physwm.data` and
    ``examples/nbody.py``. The model is a :class:`~physwm._typing.ParticleModel` with position output
    (``irreps_out = ["cartesian_points"]``), so ``e3nn.util.test.assert_equivariant`` checks it in one
    line, and :meth:`physwm.data.ParticleData.rollout` rolls it forward autoregressively.

    Args:
        node_dim: number of invariant node features in ``h``.
        edge_dim: number of invariant edge attributes (0 for none).
        hidden: width ``F``.
        layers: number of layers.

    Shapes:
        x ``(n, 3)`` positions, v ``(n, 3)`` velocities, h ``(n, node_dim)``, edge_index ``(2, E)``
        (messages ``edge_index[0] -> edge_index[1]``), edge_attr ``(E, edge_dim)`` -> predicted
        positions ``(n, 3)``. A batch of graphs is one disconnected graph (PyG convention).

    Raises:
        ValueError: inputs of the wrong shape, or edges referring to missing nodes.

    Example:
        >>> from physwm.nn.graph import fully_connected_graph
        >>> model = EGNN(node_dim=1, edge_dim=1, hidden=16, layers=2)
        >>> ei = fully_connected_graph(5)
        >>> model(torch.randn(5, 3), torch.randn(5, 3), torch.ones(5, 1), ei, torch.ones(20, 1)).shape
        torch.Size([5, 3])
    """

    def __init__(self, node_dim: int, edge_dim: int = 0, hidden: int = 64, layers: int = 4):
        super().__init__()
        self.node_dim = positive_int("node_dim", node_dim)
        self.edge_dim = integer("edge_dim", edge_dim, minimum=0)
        positive_int("layers", layers), positive_int("hidden", hidden)
        self.irreps_in, self.irreps_out = graph_irreps_in(node_dim, edge_dim), ["cartesian_points"]
        self.embedding = nn.Linear(node_dim, hidden)
        self.layers = nn.ModuleList([EGNNLayer(hidden, edge_dim) for _ in range(layers)])

    def forward(self, x: Tensor, v: Tensor, h: Tensor, edge_index: Tensor, edge_attr: Tensor | None = None) -> Tensor:
        edge_attr = check_graph("EGNN", x, v, h, edge_index, edge_attr, self.node_dim, self.edge_dim, self)
        f = self.embedding(h)
        with inside_checked_call():  # checked above, once for all layers
            for layer in self.layers:
                x, f = layer(x, v, f, edge_index, edge_attr)
        return x
