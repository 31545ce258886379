"""Equivariant particle models: E(3) x permutation equivariance, momentum conservation, gradients."""

import pytest
import torch
from torch import nn

import physwm
from physwm.models import EGNN, SEGNN, HamiltonianGNN, NewtonianDynamics, PairForceNet
from physwm.models.egnn import EGNNLayer
from physwm.nn import MLP, fully_connected_graph, knn_graph
from physwm.testing import assert_particle_equivariant, particle_equivariance_error

DTYPES = [torch.float32, torch.float64]


def _graph(dtype, n=6, batch=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch * n, 3, generator=g, dtype=torch.float64).to(dtype)
    v = torch.randn(batch * n, 3, generator=g, dtype=torch.float64).to(dtype)
    q = torch.randint(0, 2, (batch * n, 1), generator=g).to(dtype) * 2 - 1
    ei = fully_connected_graph(n, batch)
    return x, v, v.norm(dim=-1, keepdim=True), ei, q[ei[0]] * q[ei[1]], q


def _models():
    torch.manual_seed(0)
    return {
        "EGNN": (EGNN(node_dim=1, edge_dim=1, hidden=32, layers=3), "position"),
        "SEGNN": (SEGNN(node_dim=1, edge_dim=1, hidden_irreps="16x0e+8x1o+4x2e", layers=2), "position"),
        "PairForceNet": (PairForceNet(node_dim=1, edge_dim=1, hidden=(32, 32), velocity=True), "vector"),
    }


class _HamiltonianForces(nn.Module):
    """The Hamiltonian GNN's forces -dV/dq in the particle-graph call convention (one system)."""

    def __init__(self, n):
        super().__init__()
        torch.manual_seed(0)
        self.h = HamiltonianGNN(torch.ones(n), hidden=32, layers=2)

    def forward(self, x, v, h, edge_index, edge_attr):
        return self.h.forces(x.reshape(-1)).reshape(-1, 3)


class _PerNodeMLP(nn.Module):
    """Deliberately not equivariant: an MLP of raw coordinates."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.net = MLP(7, 3, (32,))

    def forward(self, x, v, h, edge_index, edge_attr):
        return x + self.net(torch.cat([x, v, h], -1))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["EGNN", "SEGNN", "PairForceNet"])
def test_graph_models_are_e3_and_permutation_equivariant(name, dtype):
    model, output = _models()[name]
    model = model.to(dtype)
    x, v, h, ei, ea, _ = _graph(dtype)
    err = assert_particle_equivariant(model, x, v, h, ei, ea, output=output)
    assert err < (1e-5 if dtype == torch.float32 else 1e-10)


@pytest.mark.parametrize("dtype", DTYPES)
def test_hamiltonian_gnn_forces_are_equivariant(dtype):
    model = _HamiltonianForces(7).to(dtype)
    x, v, h, ei, ea, _ = _graph(dtype, n=7, batch=1)
    assert_particle_equivariant(model, x, v, h, ei, ea, output="vector")
    # and its energy is invariant
    q = x.reshape(-1)
    rot = physwm.testing.random_orthogonal(reflection=True, dtype=dtype)
    q2 = ((x @ rot.T + 0.3)[torch.randperm(7)]).reshape(-1)
    V1, V2 = model.h.potential(q), model.h.potential(q2)
    assert float((V1 - V2).abs().detach() / V1.abs().detach()) < (1e-5 if dtype == torch.float32 else 1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_non_equivariant_mlp_fails_the_same_check(dtype):
    model = _PerNodeMLP().to(dtype)
    x, v, h, ei, ea, _ = _graph(dtype)
    assert particle_equivariance_error(model, x, v, h, ei, ea, generator=torch.Generator().manual_seed(1)) > 1e-2
    with pytest.raises(AssertionError, match="equivariance error"):
        assert_particle_equivariant(model, x, v, h, ei, ea)


def test_segnn_passes_e3nn_assert_equivariant_in_one_line():
    from e3nn.util.test import assert_equivariant

    torch.manual_seed(0)
    model = SEGNN(node_dim=1, edge_dim=1, hidden_irreps="8x0e+4x1o", layers=1).double()
    x, v, h, ei, ea, _ = _graph(torch.float64)
    assert_equivariant(model, args_in=[x, v, h, ei, ea])


def test_pair_forces_sum_to_zero_on_a_directed_knn_graph():
    torch.manual_seed(0)
    net = PairForceNet(node_dim=1, hidden=(16,)).double()
    x = torch.randn(20, 3, dtype=torch.float64)
    with torch.no_grad():
        F = net(x, None, torch.rand(20, 1, dtype=torch.float64), knn_graph(x, 3))
    assert float(F.sum(0).abs().max()) < 1e-13 * float(F.abs().max())
    torque = torch.linalg.cross(x, F).sum(0)
    assert float(torque.abs().max()) < 1e-13 * float(x.abs().max() * F.abs().max())


@pytest.mark.parametrize("kind", ["force_net", "hamiltonian_gnn"])
def test_rollouts_conserve_total_momentum_to_round_off(kind):
    n = 8
    g = torch.Generator().manual_seed(3)
    q = torch.randn(3, n, 3, generator=g, dtype=torch.float64)
    p = 0.3 * torch.randn(3, n, 3, generator=g, dtype=torch.float64)
    y0 = torch.cat([q.flatten(-2), p.flatten(-2)], -1)
    torch.manual_seed(0)
    if kind == "force_net":
        f, method = NewtonianDynamics(PairForceNet(node_dim=1, hidden=(32,)), torch.ones(n)).double(), "rk4"
    else:
        f, method = HamiltonianGNN(torch.ones(n), hidden=32, layers=1).double(), "leapfrog"
    with torch.no_grad():
        ys = physwm.solve(f, y0, torch.linspace(0, 2, 21, dtype=torch.float64), method=method, dt=0.01).ys
    qs, ps = ys[..., : 3 * n].unflatten(-1, (n, 3)), ys[..., 3 * n:].unflatten(-1, (n, 3))
    P = ps.sum(-2)
    L = torch.linalg.cross(qs, ps).sum(-2)
    assert float((P - P[0]).abs().max()) < 1e-12
    # Angular momentum is quadratic: leapfrog keeps it to round-off (central forces), rk4 only to its
    # truncation error.
    assert float((L - L[0]).abs().max()) < (1e-11 if method == "leapfrog" else 1e-6)
    assert float((ps[-1] - ps[0]).abs().max()) > 1e-3  # the particles did interact


def test_hamiltonian_gnn_leapfrog_energy_error_is_bounded_and_second_order():
    n = 5
    torch.manual_seed(0)
    model = HamiltonianGNN(torch.ones(n), hidden=32, layers=1).double()
    g = torch.Generator().manual_seed(1)
    y0 = torch.cat([torch.randn(n * 3, generator=g, dtype=torch.float64),
                    0.5 * torch.randn(n * 3, generator=g, dtype=torch.float64)])
    t = torch.linspace(0, 20, 201, dtype=torch.float64)
    errs = []
    with torch.no_grad():
        for dt in (0.02, 0.01):
            E = model.energy(physwm.solve(model, y0, t, method="leapfrog", dt=dt).ys)
            errs.append(float((E - E[0]).abs().max()))
            physwm.testing.assert_conserves(E, rtol=1e-2)
    assert 3.0 < errs[0] / errs[1] < 5.0  # energy error ~ dt^2


def test_hamiltonian_gnn_cutoff_ignores_particles_beyond_it():
    torch.manual_seed(0)
    model = HamiltonianGNN(torch.ones(4), hidden=16, layers=1, cutoff=2.5).double()
    x = 0.5 * torch.randn(2, 12, dtype=torch.float64)
    far1, far2 = x.clone(), x.clone()
    far1[:, 9:] += 10.0
    far2[:, 9:] += torch.tensor([-7.0, 20.0, 3.0], dtype=torch.float64)
    V1, V2 = model.potential(far1), model.potential(far2)
    assert torch.allclose(V1, V2, rtol=0, atol=1e-14)
    F = model.forces(far1).detach().unflatten(-1, (4, 3))
    assert float(F[:, 3].abs().max()) == 0.0  # no force on the isolated particle
    assert float(F[:, :3].abs().max()) > 1e-6
    assert not torch.allclose(V1, model.potential(x))  # inside the cutoff it does interact


def test_one_layer_gradcheck_float64():
    torch.manual_seed(0)
    x, v, h, ei, ea, _ = _graph(torch.float64, n=4, batch=1)
    layer = EGNNLayer(hidden=4, edge_dim=1).double()
    f = torch.randn(4, 4, dtype=torch.float64, requires_grad=True)
    xr = x.clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda f_, x_: layer(f_, x_, v, ei, ea), (f, xr))
    seg = SEGNN(node_dim=1, edge_dim=1, hidden_irreps="4x0e+2x1o", layers=1).double()
    assert torch.autograd.gradcheck(lambda x_: seg(x_, v, h, ei, ea), (xr,))
    net = PairForceNet(node_dim=1, edge_dim=1, hidden=(8,)).double()
    assert torch.autograd.gradcheck(lambda x_: net(x_, None, h, ei, ea), (xr,))
    ham = HamiltonianGNN(torch.ones(4), hidden=8, layers=1, n_rbf=4).double()
    assert torch.autograd.gradcheck(lambda q_: ham.forces(q_), (xr.detach().reshape(-1).requires_grad_(True),))


@pytest.mark.parametrize("name", ["EGNN", "SEGNN", "PairForceNet"])
def test_bad_inputs_are_named(name):
    model, _ = _models()[name]
    x, v, h, ei, ea, _ = _graph(torch.float32)
    with pytest.raises(ValueError, match="`x` must have shape"):
        model(x[:, :2], v, h, ei, ea)
    with pytest.raises(ValueError, match="`h` must have shape"):
        model(x, v, torch.cat([h, h], -1), ei, ea)
    with pytest.raises(ValueError, match="`edge_index`"):
        model(x, v, h, ei + 100, ea)
    with pytest.raises(ValueError, match="`edge_attr`"):
        model(x, v, h, ei, ea[:3])


def test_constructor_errors():
    with pytest.raises(ValueError, match="`node_dim`"):
        EGNN(node_dim=0)
    with pytest.raises(ValueError, match="`hidden_irreps` must contain even scalars"):
        SEGNN(node_dim=1, hidden_irreps="4x1o")
    with pytest.raises(ValueError, match="`masses`"):
        HamiltonianGNN([1.0])
    with pytest.raises(ValueError, match="`graph`"):
        NewtonianDynamics(PairForceNet(1), torch.ones(3), graph=5)
    with pytest.raises(ValueError, match="same position"):
        PairForceNet(1)(torch.zeros(3, 3), None, torch.ones(3, 1), fully_connected_graph(3))


@pytest.mark.cuda
@pytest.mark.parametrize("name", ["EGNN", "SEGNN", "PairForceNet"])
def test_graph_models_on_cuda(name):
    model, output = _models()[name]
    model = model.cuda()
    x, v, h, ei, ea, _ = (a.cuda() for a in _graph(torch.float32))
    assert_particle_equivariant(model, x, v, h, ei, ea, output=output)


@pytest.mark.cuda
def test_hamiltonian_gnn_and_force_net_rollouts_on_cuda():
    n = 6
    y0 = torch.cat([torch.randn(2, 3 * n), 0.3 * torch.randn(2, 3 * n)], -1).cuda()
    t = torch.linspace(0, 0.5, 6, device="cuda")
    for f, method in ((HamiltonianGNN(torch.ones(n), hidden=16).cuda(), "leapfrog"),
                      (NewtonianDynamics(PairForceNet(1, hidden=(16,)), torch.ones(n), graph=3).cuda(), "rk4")):
        with torch.no_grad():
            ys = physwm.solve(f, y0, t, method=method, dt=0.01).ys
        P = ys[..., 3 * n:].unflatten(-1, (n, 3)).sum(-2)
        assert ys.device.type == "cuda" and float((P - P[0]).abs().max()) < 1e-5


def test_egnn_deep_stack_stays_finite_on_spread_out_particles():
    # With the raw difference (x_i - x_j) phi_x(m_ij) the coordinate update grows with the distances, and
    # this 8-layer stack at default initialisation returns NaN for particles spread over ~100 units; the
    # normalised difference (x_i - x_j) / (|x_i - x_j| + 1) keeps every update bounded by |phi_x|.
    torch.manual_seed(0)
    model = EGNN(node_dim=1, hidden=32, layers=8).double()
    x = 100 * torch.randn(20, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    v, h = torch.zeros_like(x), torch.ones(20, 1, dtype=torch.float64)
    with torch.no_grad():
        out = model(x, v, h, fully_connected_graph(20))
    assert torch.isfinite(out).all()
    assert float((out - x).norm(dim=-1).max()) < 100.0  # moves less than the spread of the system
