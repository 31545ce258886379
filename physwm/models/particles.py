r"""Conservative particle models: antisymmetric pair forces and an E(3)-invariant learned Hamiltonian.

Both are built so that the conservation laws hold by construction, not by training:

- :class:`PairForceNet` (Newton's third law at edge level, seed lecture §6.6.2): one force
  ``F_ij = s_ij (x_i - x_j) / |x_i - x_j|`` per unordered pair, added to ``i`` and subtracted from
  ``j``, with ``s_ij`` a symmetric function of invariants. Total force is zero and the pair forces
  are central, so total linear and angular momentum are conserved (to round-off) by any
  Runge-Kutta rollout.
- :class:`HamiltonianGNN`: ``H = sum_i |p_i|²/2m_i + V_theta(q)`` with ``V_theta`` an invariant
  graph energy of pairwise distances. Forces ``-dV/dq`` come from autograd. ``V_theta`` is
  translation- and rotation-invariant, so momentum and angular momentum are conserved (Noether);
  leapfrog/Yoshida rollouts keep them to round-off and the energy error bounded.

Imported on first use (they use torch_geometric's ``scatter``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch_geometric.utils import coalesce, scatter

from physwm._errors import ArgumentTypeError, ArgumentValueError, NotSeparableError
from physwm._validate import integer, model_input, positive, positive_int
from physwm._validate import tensor as check_tensor
from physwm.models._graph_inputs import check_graph, graph_irreps_in
from physwm.nn import MLP
from physwm.nn.graph import fully_connected_graph, knn_graph, radius_graph
from physwm.state import autograd_gradient, merge_qp, split_qp, unflatten_particles

__all__ = ["PairForceNet", "HamiltonianGNN", "NewtonianDynamics", "unordered_pairs"]


def unordered_pairs(edge_index: Tensor, edge_attr: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
    """Each unordered pair ``{a, b}`` of a (possibly directed) graph once, as ``(a, b)`` with ``a < b``.

    A pair present in both directions gets the mean of its two copies' attributes (the same value for
    symmetric attributes such as ``q_i q_j``); self-loops are dropped. Built on
    ``torch_geometric.utils.coalesce``.

    Shapes:
        edge_index ``(2, E)``, edge_attr ``(E, A)`` -> ``(2, P)``, ``(P, A)``.
    """
    lo, hi = edge_index.min(0).values, edge_index.max(0).values
    keep = lo != hi
    pairs = torch.stack([lo[keep], hi[keep]])
    if edge_attr is None:
        return coalesce(pairs), None
    return coalesce(pairs, edge_attr[keep], reduce="mean")

class _GaussianRBF(nn.Module):
    def __init__(self, n: int, r_max: float):
        super().__init__()
        self.register_buffer("centres", torch.linspace(0.0, r_max, n), persistent=False)
        self.gamma = (n / r_max) ** 2 / 2

    def forward(self, r: Tensor) -> Tensor:
        return torch.exp(-self.gamma * (r - self.centres.to(r.dtype)) ** 2)


class PairForceNet(nn.Module):
    r"""Momentum-conserving force network: antisymmetric, central pair forces.

    .. math::
        F_{ij} = s_\theta\big(\rho(r_{ij}),\ h_i + h_j,\ h_i \odot h_j,\ e_{ij}
                 [,\ \|v_i - v_j\|^2,\ (x_i - x_j)\cdot(v_i - v_j)]\big)\ \frac{x_i - x_j}{r_{ij}},
        \qquad F_i = \sum_{j > i} F_{ij} - \sum_{j < i} F_{ji},

    with :math:`r_{ij} = \|x_i - x_j\|` and the radial features
    :math:`\rho(r) = [r,\ \phi_1(r), \dots, \phi_K(r),\ r (r^2 + s_1^2)^{-3/2}, \dots]`: ``n_rbf``
    Gaussian radial basis functions :math:`\phi_k` on ``[0, r_max]`` (as in SchNet, Schütt et al. 2017)
    and softened inverse-square laws :math:`r/(r^2 + s^2)^{3/2}` for each ``s`` in ``softening_scales``
    (the Plummer force law of softening ``s``: bounded, vanishing at ``r = 0``, ``1/r^2`` beyond ``s``).
    A raw ``r`` alone makes a smooth MLP fit a ``1/r^2`` law poorly (it spans orders of magnitude
    over a short range of ``r``); with these features a softened gravitational or Coulomb force is
    close to a linear combination of the inputs.

    Each unordered pair is evaluated once, at edge level, and its force is added to one particle
    and subtracted from the other, so :math:`\sum_i F_i = 0` (Newton's third law) holds to
    round-off for any parameters; the force is central, so the total torque vanishes too. The
    inputs of :math:`s_\theta` are symmetric in ``i, j`` and invariant, so the forces are
    E(3)-equivariant and permutation-equivariant. The graph is symmetrised first (a pair present
    in either direction interacts).

    Args:
        node_dim: invariant node features ``h`` (e.g. charge, mass).
        edge_dim: invariant, symmetric edge attributes ``e_ij`` (0 for none).
        hidden: hidden widths of the MLP :math:`s_\theta`.
        velocity: include the relative-velocity invariants (dissipative or magnetic-like forces).
        n_rbf: number of Gaussian radial basis functions (0: none).
        r_max: range of the radial basis (length units).
        softening_scales: the softening lengths ``s`` (length units) of the ``r/(r^2 + s^2)^{3/2}`` features;
            ``()`` for none. The default spans the softening lengths of common n-body protocols.
            ``n_rbf=0, softening_scales=()`` is the raw-distance input of earlier physwm versions (and
            the input width their checkpoints expect).

    Shapes:
        x ``(n, 3)``, v ``(n, 3)`` (ignored unless ``velocity``; may be ``None``), h ``(n, node_dim)``,
        edge_index ``(2, E)``, edge_attr ``(E, edge_dim)`` -> forces ``(n, 3)``.

    Raises:
        ValueError: inputs of the wrong shape; two particles at the same position.

    Example:
        >>> from physwm.nn.graph import fully_connected_graph
        >>> net = PairForceNet(node_dim=1, hidden=(16,))
        >>> F = net(torch.randn(4, 3), None, torch.ones(4, 1), fully_connected_graph(4))
        >>> bool(F.sum(0).abs().max() < 1e-6)
        True
    """

    def __init__(self, node_dim: int, edge_dim: int = 0, hidden: Sequence[int] = (64, 64), velocity: bool = False,
                 n_rbf: int = 16, r_max: float = 5.0, softening_scales: Sequence[float] = (0.05, 0.1, 0.2, 0.5, 1.0)):
        super().__init__()
        self.node_dim = positive_int("node_dim", node_dim)
        self.edge_dim = integer("edge_dim", edge_dim, minimum=0)
        self.velocity = bool(velocity)
        self.irreps_in, self.irreps_out = graph_irreps_in(node_dim, edge_dim), ["1x1o"]
        n_rbf = integer("n_rbf", n_rbf, minimum=0)
        r_max = positive("r_max", r_max)
        self.rbf = _GaussianRBF(n_rbf, r_max) if n_rbf else None
        if isinstance(softening_scales, (str, bytes)) or not isinstance(softening_scales, Sequence):
            raise ArgumentTypeError(f"`softening_scales` must be a sequence of lengths (e.g. (0.1,) or ()), got "
                                    f"{type(softening_scales).__name__}")
        scales = [positive(f"softening_scales[{k}]", v) for k, v in enumerate(softening_scales)]
        self.register_buffer("softening_scales", torch.tensor(scales, dtype=torch.get_default_dtype()), persistent=False)
        self.net = MLP(1 + n_rbf + len(scales) + 2 * node_dim + edge_dim + 2 * int(self.velocity), 1, hidden, "silu")

    def radial_features(self, r: Tensor) -> Tensor:
        r""":math:`\rho(r)` of distances ``(E, 1)`` -> ``(E, 1 + n_rbf + len(softening_scales))``."""
        feats = [r]
        if self.rbf is not None:
            feats.append(self.rbf(r))
        if self.softening_scales.numel():
            s2 = self.softening_scales.to(r.dtype) ** 2
            feats.append(r / (r**2 + s2) ** 1.5)
        return torch.cat(feats, -1)

    def forward(self, x: Tensor, v: Tensor | None, h: Tensor, edge_index: Tensor, edge_attr: Tensor | None = None) -> Tensor:
        if self.velocity and v is None:
            raise ArgumentValueError("PairForceNet: `v` is required (the model was built with velocity=True)")
        edge_attr = check_graph("PairForceNet", x, v, h, edge_index, edge_attr, self.node_dim, self.edge_dim, self)
        pairs, attr = unordered_pairs(edge_index, edge_attr)
        a, b = pairs
        diff = x[a] - x[b]
        r = diff.norm(dim=-1, keepdim=True)
        if bool((r == 0).any()):
            raise ArgumentValueError("PairForceNet: two particles sit at the same position (the pair direction is "
                                     "undefined)")
        feats = [self.radial_features(r), h[a] + h[b], h[a] * h[b], attr]
        if self.velocity:
            dv = v[a] - v[b]
            feats += [(dv**2).sum(-1, keepdim=True), (diff * dv).sum(-1, keepdim=True)]
        f_ab = self.net(torch.cat(feats, -1)) * diff / r
        n = x.shape[0]
        return scatter(f_ab, a, dim=0, dim_size=n, reduce="sum") - scatter(f_ab, b, dim=0, dim_size=n, reduce="sum")


def _masses(masses: Sequence[float] | Tensor) -> Tensor:
    m = torch.as_tensor(masses, dtype=torch.get_default_dtype()).flatten()
    if m.numel() < 2 or not bool((m > 0).all()) or not bool(torch.isfinite(m).all()):
        raise ArgumentValueError(f"`masses` must hold at least 2 finite positive values, got {m.tolist()}")
    return m


def _state_irreps(n_bodies: int) -> tuple[list, list]:
    """e3nn declaration of dynamics ``f(t, y)`` on the flat particle state ``y = [q, p]`` ``(*batch, 6N)``:
    ``t`` does not transform, and the ``2N`` flattened 3-vectors rotate (and flip under inversion)."""
    return [None, f"{2 * n_bodies}x1o"], [f"{2 * n_bodies}x1o"]




def _cosine_envelope(r: Tensor, cutoff: float) -> Tensor:
    """``(1 + cos(pi r / r_c)) / 2`` inside the cutoff, 0 beyond: value and slope vanish at ``r_c``."""
    return torch.where(r < cutoff, 0.5 * (1.0 + torch.cos(math.pi * r / cutoff)), torch.zeros_like(r))


class HamiltonianGNN(nn.Module):
    r"""E(3)-invariant learned Hamiltonian for ``N`` particles in 3-D.

    .. math::
        H(q, p) &= \sum_i \frac{|p_i|^2}{2 m_i} + V_\theta(q), \\
        V_\theta(q) &= \sum_{i<j} \phi_\theta\big(\rho(r_{ij}), h_i + h_j, h_i \odot h_j\big)\, w(r_{ij})
                       + \sum_i \psi_\theta(g_i^{L}),

    with :math:`r_{ij} = |q_i - q_j|`, :math:`\rho` a Gaussian radial basis, :math:`w` a smooth
    cosine cutoff envelope (1 without a cutoff), and :math:`g^L` node embeddings after ``layers``
    rounds of invariant message passing (:math:`g_i \leftarrow g_i + \mathrm{MLP}(g_i, \sum_j
    \mathrm{MLP}(g_j, \rho(r_{ij}))\, w(r_{ij}))`), so ``layers > 0`` adds many-body terms to the
    pair potential. :math:`V_\theta` depends on distances only: it is invariant under rotations,
    reflections, translations and permutations of identical particles, and smooth, so the
    dynamics conserve energy, linear and angular momentum; as a
    :class:`~physwm._typing.SeparableHamiltonian` it rolls out with ``leapfrog``/``yoshida4``.
    Forces are ``-dV/dq`` by autograd; the pair graph is complete, or a radius graph within
    ``cutoff`` (no neighbour cap: the envelope keeps ``V`` smooth as neighbours change).

    The state follows :class:`physwm.systems.NBody`: ``y = [q.flatten(-2), p.flatten(-2)]``
    (:func:`physwm.state.particles_to_state`); ``irreps_in = [None, "2Nx1o"]`` declares it for e3nn
    (rotations and reflections; translation invariance is checked by
    :func:`physwm.testing.particle_equivariance_error`).

    Args:
        masses: particle masses ``(N,)`` (mass units), fixed (not learned).
        node_features: invariant per-particle features ``(N, F)`` (e.g. charges), or ``None``.
        hidden: width of the MLPs.
        layers: rounds of invariant message passing for the many-body term (0: pair potential only).
        n_rbf: number of radial basis functions.
        r_max: range of the radial basis (length units); distances beyond it see the last basis
            function's tail.
        cutoff: interaction cutoff radius, or ``None`` for all pairs.

    Shapes:
        forward: ``t`` scalar or ``(*batch,)`` (unused), ``y`` ``(*batch, 6N)`` -> ``(*batch, 6N)``; kinetic/potential:
        ``(*batch, 3N)`` -> ``(*batch,)``.

    Raises:
        ValueError: fewer than 2 or non-positive masses, node features of the wrong shape, a bad
            ``cutoff``; states of the wrong size.

    Example:
        >>> import physwm
        >>> model = HamiltonianGNN(torch.ones(4), hidden=16, layers=1)
        >>> y0 = torch.cat([torch.randn(12), torch.zeros(12)])
        >>> physwm.solve(model, y0, torch.linspace(0, 0.1, 3), method="leapfrog", dt=0.01).ys.shape
        torch.Size([3, 24])
    """

    def __init__(self, masses: Sequence[float] | Tensor, node_features: Tensor | None = None, hidden: int = 64,
                 layers: int = 1, n_rbf: int = 32, r_max: float = 5.0, cutoff: float | None = None):
        super().__init__()
        m = _masses(masses)
        self.n_bodies = m.numel()
        self.irreps_in, self.irreps_out = _state_irreps(self.n_bodies)
        self.register_buffer("masses", m)
        if node_features is None:
            node_features = torch.ones(self.n_bodies, 1)
        check_tensor("node_features", node_features, shape=(self.n_bodies, -1))
        self.register_buffer("node_features", node_features.to(m.dtype))
        positive_int("hidden", hidden), integer("layers", layers, minimum=0)
        self.cutoff = None if cutoff is None else positive("cutoff", cutoff)
        nf = node_features.shape[1]
        self.rbf = _GaussianRBF(positive_int("n_rbf", n_rbf), positive("r_max", r_max))
        self.pair = MLP(n_rbf + 2 * nf, 1, (hidden, hidden), "silu")
        self.embed = nn.Linear(nf, hidden)
        self.filters = nn.ModuleList([MLP(hidden + n_rbf, hidden, (hidden,), "silu") for _ in range(layers)])
        self.updates = nn.ModuleList([MLP(2 * hidden, hidden, (hidden,), "silu") for _ in range(layers)])
        self.readout = MLP(hidden, 1, (hidden,), "silu") if layers else None

    def kinetic(self, p: Tensor) -> Tensor:
        p = unflatten_particles(model_input("p", p, self), self.n_bodies)
        return ((p**2).sum(-1) / (2 * self.masses.to(p.dtype))).sum(-1)

    def grad_kinetic(self, p: Tensor) -> Tensor:
        p = unflatten_particles(model_input("p", p, self), self.n_bodies)
        return (p / self.masses.to(p.dtype).unsqueeze(-1)).flatten(-2)

    def potential(self, q: Tensor) -> Tensor:
        q = model_input("q", q, self, last=3 * self.n_bodies)
        batch_shape = q.shape[:-1]
        pos = q.reshape(-1, self.n_bodies, 3)
        bsz, n = pos.shape[:2]
        if self.cutoff is None:
            edge_index = fully_connected_graph(n, bsz, device=q.device)
        else:
            edge_index = radius_graph(pos.detach(), self.cutoff)
        nodes = pos.reshape(-1, 3)
        j, i = edge_index
        r = (nodes[i] - nodes[j]).norm(dim=-1, keepdim=True)
        rho = self.rbf(r)
        w = torch.ones_like(r) if self.cutoff is None else _cosine_envelope(r, self.cutoff)
        h = self.node_features.to(q.dtype).repeat(bsz, 1)
        graph_of_edge = i // n
        # Pair term: each ordered edge carries half of its unordered pair's energy.
        e_pair = 0.5 * self.pair(torch.cat([rho, h[i] + h[j], h[i] * h[j]], -1)) * w
        energy = scatter(e_pair.squeeze(-1), graph_of_edge, dim=0, dim_size=bsz, reduce="sum")
        if self.readout is not None:
            g = self.embed(h)
            for filt, upd in zip(self.filters, self.updates):
                msg = filt(torch.cat([g[j], rho], -1)) * w
                g = g + upd(torch.cat([g, scatter(msg, i, dim=0, dim_size=g.shape[0], reduce="sum")], -1))
            node_e = self.readout(g).squeeze(-1) - self.readout(self.embed(h)).squeeze(-1)  # isolated particle: 0
            energy = energy + node_e.reshape(bsz, n).sum(-1)
        return energy.reshape(batch_shape)

    def hamiltonian(self, q: Tensor, p: Tensor) -> Tensor:
        return self.kinetic(p) + self.potential(q)

    def energy(self, y: Tensor) -> Tensor:
        """``H`` of states ``(*batch, 6N)`` -> ``(*batch,)``."""
        return self.hamiltonian(*split_qp(model_input("y", y, self, last=6 * self.n_bodies), 3 * self.n_bodies))

    def forces(self, q: Tensor) -> Tensor:
        """``-dV/dq``, ``(*batch, 3N)``."""
        return -autograd_gradient(self.potential, q)

    def forward(self, t: Tensor, y: Tensor) -> Tensor:
        q, p = split_qp(model_input("y", y, self, last=6 * self.n_bodies), 3 * self.n_bodies)
        return merge_qp(self.grad_kinetic(p), self.forces(q))


class NewtonianDynamics(nn.Module):
    r"""Newton's equations :math:`\dot q_i = p_i / m_i,\ \dot p_i = F_i` for a particle force model,
    as dynamics ``f(t, y)`` on the :class:`physwm.systems.NBody` state ``y = [q, p]``.

    The force model is a :class:`~physwm._typing.ParticleModel` with vector output (e.g.
    :class:`PairForceNet`), called as ``force_model(x, v, h, edge_index)`` on the batch flattened into
    one disconnected graph; the graph is rebuilt from the positions at every evaluation: complete
    (``graph="full"``) or the ``k`` nearest neighbours (``graph=k``). Like :class:`HamiltonianGNN` it
    declares ``irreps_in = [None, "2Nx1o"]`` on the flat state.
    Runge-Kutta rollouts conserve every linear invariant of the dynamics, so with a force model whose
    forces sum to zero the total momentum is conserved to round-off.

    **Symplectic rollouts.** With forces that depend on positions only (a :class:`PairForceNet` built
    with ``velocity=False``, or ``conservative=True`` for another force model) the dynamics also offer
    ``grad_kinetic(p) = p / m`` and ``grad_potential(q) = -F(q)``
    (:class:`~physwm._typing.SeparableGradients`), so ``leapfrog`` and the Yoshida compositions
    integrate them. A central pair force :math:`s(r_{ij})\,\hat r_{ij}` is the gradient of the pair
    potential :math:`\sum_{i<j}\Phi(r_{ij})`, :math:`\Phi' = -s`, so these rollouts are symplectic:
    they keep a learned energy that is never written down bounded over long horizons, and angular
    momentum to round-off, where RK4 lets both drift through close encounters. (With a k-nearest-neighbour
    ``graph`` the pair set changes with the positions, so the force is a gradient only piecewise and the
    rollout is symplectic only between changes of the graph.)

    Args:
        force_model: callable ``(x, v, h, edge_index) -> F``, shapes ``(n, 3)``.
        masses: particle masses ``(N,)``.
        node_features: invariant node features ``(N, F)`` passed as ``h``; default the masses.
        graph: ``"full"`` or an int ``k`` for a k-nearest-neighbour graph.
        conservative: whether the forces depend on positions only (``None``: read from the force
            model's ``velocity`` flag, ``False`` for a model without one).

    Shapes:
        ``y`` ``(*batch, 6N)`` -> ``(*batch, 6N)``; ``grad_kinetic``/``grad_potential``: ``(*batch, 3N)`` ->
        ``(*batch, 3N)``.

    Raises:
        ValueError: bad masses or ``graph``; states of the wrong size.
        NotSeparableError: ``grad_potential`` (a splitting method) for forces that depend on velocities.

    Example:
        >>> import physwm
        >>> f = NewtonianDynamics(PairForceNet(node_dim=1, hidden=(16,)), torch.ones(4))
        >>> physwm.solve(f, torch.randn(24), torch.linspace(0, 0.1, 3), method="rk4", dt=0.01).ys.shape
        torch.Size([3, 24])
        >>> physwm.solve(f, torch.randn(24), torch.linspace(0, 0.1, 3), method="leapfrog", dt=0.01).ys.shape
        torch.Size([3, 24])
    """

    def __init__(self, force_model: nn.Module, masses: Sequence[float] | Tensor, node_features: Tensor | None = None,
                 graph: str | int = "full", conservative: bool | None = None):
        super().__init__()
        m = _masses(masses)
        if graph != "full":
            integer("graph", graph, minimum=1, maximum=m.numel() - 1)
        if conservative is not None and not isinstance(conservative, bool):
            raise ArgumentTypeError(f"`conservative` must be a bool or None, got {type(conservative).__name__}")
        if conservative and getattr(force_model, "velocity", False) is True:
            raise ArgumentValueError("`conservative=True` contradicts the force model's velocity=True: its forces "
                                     "depend on velocities")
        self.conservative = (getattr(force_model, "velocity", True) is False) if conservative is None else conservative
        self.force_model, self.graph, self.n_bodies = force_model, graph, m.numel()
        self.irreps_in, self.irreps_out = _state_irreps(self.n_bodies)
        self.register_buffer("masses", m)
        self.register_buffer("node_features", m.unsqueeze(-1) if node_features is None else node_features.to(m.dtype))

    def _forces(self, q: Tensor, v: Tensor | None) -> Tensor:
        """Forces ``(B, n, 3)`` at positions ``(B, n, 3)`` (velocities ``(B, n, 3)`` or ``None``)."""
        n, bsz = self.n_bodies, q.shape[0]
        edge_index = fully_connected_graph(n, bsz, device=q.device) if self.graph == "full" else knn_graph(q.detach(), self.graph)
        h = self.node_features.to(q.dtype).repeat(bsz, 1)
        flat_v = None if v is None else v.reshape(-1, 3)
        return self.force_model(q.reshape(-1, 3), flat_v, h, edge_index).reshape(bsz, n, 3)

    def forward(self, t: Tensor, y: Tensor) -> Tensor:
        n = self.n_bodies
        batch_shape = model_input("y", y, self, last=6 * n).shape[:-1]
        q, p = (unflatten_particles(a, n).reshape(-1, n, 3) for a in split_qp(y, 3 * n))
        v = p / self.masses.to(y.dtype).unsqueeze(-1)
        force = self._forces(q, v)
        return merge_qp(v.flatten(-2), force.flatten(-2)).reshape(*batch_shape, 6 * n)

    def grad_kinetic(self, p: Tensor) -> Tensor:
        """``dT/dp = p / m`` of flat momenta ``(*batch, 3N)``."""
        p = model_input("p", p, self, last=3 * self.n_bodies)
        return (unflatten_particles(p, self.n_bodies) / self.masses.to(p.dtype).unsqueeze(-1)).flatten(-2)

    def grad_potential(self, q: Tensor) -> Tensor:
        """``dV/dq = -F(q)`` of flat positions ``(*batch, 3N)``, for position-only (conservative) forces."""
        if not self.conservative:
            raise NotSeparableError("NewtonianDynamics: the force model's forces may depend on velocities "
                                    "(conservative=False), so the dynamics are not separable; use 'rk4' or 'dopri5', or "
                                    "build it with conservative=True if the forces depend on positions only")
        q = model_input("q", q, self, last=3 * self.n_bodies)
        pos = unflatten_particles(q, self.n_bodies).reshape(-1, self.n_bodies, 3)
        return -self._forces(pos, None).reshape(q.shape)
