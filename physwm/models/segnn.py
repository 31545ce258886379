r"""Steerable E(3)-equivariant graph neural network (Brandstetter et al., ICLR 2022) on e3nn.

Imported on first use of :class:`physwm.models.SEGNN`, so ``import physwm`` loads neither e3nn nor
torch_geometric.
"""

from __future__ import annotations

import re

import torch
from e3nn import o3
from e3nn.nn import Gate
from torch import Tensor, nn
from torch_geometric.utils import scatter

from physwm._errors import ArgumentValueError
from physwm._validate import integer, positive_int
from physwm.models._graph_inputs import check_graph, graph_irreps_in

__all__ = ["SEGNN", "SteerableLinear", "SteerableGatedLinear", "balanced_irreps"]

_W3J = re.compile(r"^_w3j_(\d+)_(\d+)_(\d+)$")


def balanced_irreps(dim: int, lmax: int) -> o3.Irreps:
    """Irreps ``0e + 1o + 2e + ...`` up to ``lmax`` sharing about ``dim`` dimensions equally per ``l``.

    The parities are those of spherical harmonics of a polar vector, the only ones that the
    tensor products of position-derived features can reach.

    Example:
        >>> balanced_irreps(64, 1)
        32x0e+11x1o
    """
    positive_int("dim", dim), integer("lmax", lmax, minimum=0)
    share = dim / (lmax + 1)
    return o3.Irreps([(max(1, round(share / (2 * l + 1))), (l, (-1) ** l)) for l in range(lmax + 1)])


class SteerableLinear(nn.Module):
    r"""Steerable linear layer ``W_a f``: a learnable Clebsch-Gordan tensor product of features
    ``f`` with steerable attributes ``a`` (``o3.FullyConnectedTensorProduct``), plus a bias on the
    even scalar outputs (the only bias that keeps equivariance).

    Shapes:
        f ``(n, irreps_in.dim)``, a ``(n, irreps_attr.dim)`` -> ``(n, irreps_out.dim)``.
    """

    def __init__(self, irreps_in: o3.Irreps, irreps_attr: o3.Irreps, irreps_out: o3.Irreps):
        super().__init__()
        self.irreps_in, self.irreps_attr, self.irreps_out = o3.Irreps(irreps_in), o3.Irreps(irreps_attr), o3.Irreps(irreps_out)
        self.tp = o3.FullyConnectedTensorProduct(self.irreps_in, self.irreps_attr, self.irreps_out)
        scalar_index = [k for (mul, ir), sl in zip(self.irreps_out, self.irreps_out.slices()) if ir == o3.Irrep("0e")
                        for k in range(sl.start, sl.stop)]
        self.register_buffer("bias_index", torch.tensor(scalar_index, dtype=torch.long), persistent=False)
        self.bias = nn.Parameter(torch.zeros(len(scalar_index)))

    def forward(self, f: Tensor, a: Tensor) -> Tensor:
        out = self.tp(f, a)
        if self.bias.numel():
            out = out + self.bias.new_zeros(self.irreps_out.dim).index_copy(0, self.bias_index, self.bias)
        return out

    def _apply(self, fn, recurse=True):
        # e3nn's compiled tensor products keep their Wigner-3j (Clebsch-Gordan) constants as buffers in
        # the dtype the module was built in; a float32-built model moved to float64 would keep them
        # at float32 precision (equivariance error ~1e-9 instead of ~1e-16). Recompute them in float64
        # and round once to the new dtype.
        super()._apply(fn, recurse)
        for module in self.tp.modules():
            for name, buf in module._buffers.items():
                m = _W3J.search(name)
                if m is not None and buf is not None:
                    exact = o3.wigner_3j(*map(int, m.groups()), dtype=torch.float64)
                    module._buffers[name] = exact.to(device=buf.device, dtype=buf.dtype)
        return self


class SteerableGatedLinear(nn.Module):
    r""":class:`SteerableLinear` followed by a gated nonlinearity (Weiler et al. 2018): SiLU on the
    even scalars, and every ``l > 0`` irrep multiplied by the sigmoid of its own extra scalar gate.

    Shapes:
        f ``(n, irreps_in.dim)``, a ``(n, irreps_attr.dim)`` -> ``(n, irreps_out.dim)``.
    """

    def __init__(self, irreps_in: o3.Irreps, irreps_attr: o3.Irreps, irreps_out: o3.Irreps):
        super().__init__()
        irreps_out = o3.Irreps(irreps_out)
        scalars = o3.Irreps([(mul, ir) for mul, ir in irreps_out if ir.l == 0])
        gated = o3.Irreps([(mul, ir) for mul, ir in irreps_out if ir.l > 0])
        if any(ir.p != 1 for _, ir in scalars):
            raise ArgumentValueError(f"`irreps_out` may hold only even scalars (0e) besides l > 0 irreps, got {irreps_out}")
        gates = o3.Irreps(f"{gated.num_irreps}x0e") if gated.num_irreps else o3.Irreps("")
        self.gate = Gate(scalars, [nn.functional.silu], gates, [torch.sigmoid], gated)
        self.linear = SteerableLinear(irreps_in, irreps_attr, self.gate.irreps_in)
        self.irreps_out = self.gate.irreps_out

    def forward(self, f: Tensor, a: Tensor) -> Tensor:
        return self.gate(self.linear(f, a))


class _SEGNNLayer(nn.Module):
    """Message ``m_ij = phi_m(f_i, f_j, s_ij; a_ij)``, aggregate (mean), update
    ``f_i' = f_i + phi_f(f_i, m_i; a_i)``."""

    def __init__(self, hidden: o3.Irreps, attr: o3.Irreps, n_edge_scalars: int):
        super().__init__()
        msg_in = hidden + hidden + o3.Irreps(f"{n_edge_scalars}x0e")
        self.message1 = SteerableGatedLinear(msg_in, attr, hidden)
        self.message2 = SteerableGatedLinear(hidden, attr, hidden)
        self.update1 = SteerableGatedLinear(hidden + hidden, attr, hidden)
        self.update2 = SteerableLinear(hidden, attr, hidden)

    def forward(self, f: Tensor, edge_index: Tensor, edge_scalars: Tensor, edge_sh: Tensor, node_attr: Tensor) -> Tensor:
        j, i = edge_index
        m = self.message1(torch.cat([f[i], f[j], edge_scalars], -1), edge_sh)
        m = self.message2(m, edge_sh)
        agg = scatter(m, i, dim=0, dim_size=f.shape[0], reduce="mean")
        return f + self.update2(self.update1(torch.cat([f, agg], -1), node_attr), node_attr)


class SEGNN(nn.Module):
    r"""Steerable E(3)-equivariant GNN for particle systems (Brandstetter, Hesselink, van der Pol,
    Bekkers, Welling, "Geometric and physical quantities improve E(3) equivariant message
    passing", ICLR 2022).

    Steerable features are direct sums of irreps (``hidden_irreps``, e.g. ``32x0e+11x1o``) and
    every linear map is a Clebsch-Gordan tensor product with *steerable attributes*: spherical
    harmonics up to ``lmax_attr`` of the relative position on each edge,
    :math:`a_{ij} = Y(x_i - x_j)`, and on each node the mean of its edges' plus those of its
    velocity, :math:`a_i = \overline{a_{ij}} + Y(v_i)`.

    .. math::
        f_i^0 &= W_{a_i}[v_i \oplus h_i] \\
        m_{ij} &= \sigma(W_{a_{ij}}\, \sigma(W_{a_{ij}}[f_i \oplus f_j \oplus \|x_i - x_j\| \oplus e_{ij}])) \\
        f_i &\leftarrow f_i + W_{a_i}\, \sigma(W_{a_i}[f_i \oplus \mathrm{mean}_j\, m_{ij}]) \\
        \hat x_i &= x_i + W_{a_i}\, \sigma(W_{a_i} f_i) \quad (\text{one } 1o \text{ vector})

    with :math:`\sigma` the gated nonlinearity. Inputs are only relative positions, velocities
    and invariants, so the output positions are E(3)- and permutation-equivariant.

    ``irreps_in`` / ``irreps_out`` follow e3nn's testing convention, so
    ``e3nn.util.test.assert_equivariant(model, args_in=[x, v, h, edge_index, edge_attr])`` checks
    rotations, reflections and translations in one line.

    Args:
        node_dim: number of invariant node features ``h`` (e.g. the speed ``|v_i|``).
        edge_dim: number of invariant edge attributes ``e_ij`` (e.g. ``q_i q_j``; 0 for none).
        hidden_irreps: steerable hidden features (default :func:`balanced_irreps` ``(64, 1)``).
        lmax_attr: maximum degree of the spherical-harmonic attributes.
        layers: number of message-passing layers.

    Shapes:
        x, v ``(n, 3)``, h ``(n, node_dim)``, edge_index ``(2, E)``, edge_attr ``(E, edge_dim)``
        -> predicted positions ``(n, 3)``.

    Raises:
        ValueError: inputs of the wrong shape, or edges referring to missing nodes.

    Example:
        >>> from physwm.nn.graph import fully_connected_graph
        >>> model = SEGNN(node_dim=1, edge_dim=1, hidden_irreps="8x0e+4x1o", layers=1)
        >>> model(torch.randn(5, 3), torch.randn(5, 3), torch.ones(5, 1), fully_connected_graph(5),
        ...       torch.ones(20, 1)).shape
        torch.Size([5, 3])
    """

    def __init__(self, node_dim: int, edge_dim: int = 0, hidden_irreps: str | o3.Irreps | None = None,
                 lmax_attr: int = 1, layers: int = 4):
        super().__init__()
        self.node_dim = positive_int("node_dim", node_dim)
        self.edge_dim = integer("edge_dim", edge_dim, minimum=0)
        positive_int("layers", layers)
        self.lmax_attr = positive_int("lmax_attr", lmax_attr)
        hidden = balanced_irreps(64, 1) if hidden_irreps is None else o3.Irreps(hidden_irreps)
        if not any(ir == o3.Irrep("0e") for _, ir in hidden):
            raise ArgumentValueError(f"`hidden_irreps` must contain even scalars (0e), got {hidden}")
        self.hidden_irreps = hidden
        self.attr_irreps = o3.Irreps.spherical_harmonics(lmax_attr)
        node_in = o3.Irreps(f"1x1o + {node_dim}x0e")
        self.embed1 = SteerableGatedLinear(node_in, self.attr_irreps, hidden)
        self.embed2 = SteerableLinear(hidden, self.attr_irreps, hidden)
        self.layers = nn.ModuleList([_SEGNNLayer(hidden, self.attr_irreps, 1 + edge_dim) for _ in range(layers)])
        self.readout1 = SteerableGatedLinear(hidden, self.attr_irreps, hidden)
        self.readout2 = SteerableLinear(hidden, self.attr_irreps, o3.Irreps("1x1o"))
        self.irreps_in, self.irreps_out = graph_irreps_in(node_dim, edge_dim), ["cartesian_points"]

    def forward(self, x: Tensor, v: Tensor, h: Tensor, edge_index: Tensor, edge_attr: Tensor | None = None) -> Tensor:
        edge_attr = check_graph("SEGNN", x, v, h, edge_index, edge_attr, self.node_dim, self.edge_dim, self)
        j, i = edge_index
        rel = x[i] - x[j]
        edge_sh = o3.spherical_harmonics(self.attr_irreps, rel, normalize=True, normalization="integral")
        node_attr = scatter(edge_sh, i, dim=0, dim_size=x.shape[0], reduce="mean") + \
            o3.spherical_harmonics(self.attr_irreps, v, normalize=True, normalization="integral")
        edge_scalars = torch.cat([rel.norm(dim=-1, keepdim=True), edge_attr], -1)
        f = self.embed2(self.embed1(torch.cat([v, h], -1), node_attr), node_attr)
        for layer in self.layers:
            f = layer(f, edge_index, edge_scalars, edge_sh, node_attr)
        return x + self.readout2(self.readout1(f, node_attr), node_attr)
