"""Heat equation and Klein-Gordon ground truth: exact solutions satisfy their PDEs."""

import math

import pytest
import torch

from physwm.pde import grid, laplacian
from physwm.systems import HeatEquation, KleinGordon

F64 = torch.float64


def _derivatives(fn, x, y, t):
    """u, u_t, u_tt, u_xx, u_yy by reverse-mode autograd at scattered points."""
    x, y, t = (a.clone().requires_grad_(True) for a in (x, y, t))
    u = fn(x, y, t)

    def d(v, w):
        return torch.autograd.grad(v.sum(), w, create_graph=True, allow_unused=True, materialize_grads=True)[0]

    u_t, u_x, u_y = d(u, t), d(u, x), d(u, y)
    return tuple(a.detach() for a in (u, u_t, d(u_t, t), d(u_x, x), d(u_y, y)))


@pytest.mark.parametrize("boundary,modes", [("periodic", [(1, 1), (2, 1), (0, 3)]), ("dirichlet", [(1, 1), (2, 3)])])
def test_heat_exact_solution_satisfies_the_pde(boundary, modes):
    heat = HeatEquation(alpha=0.1, lengths=(2.0, 3.0), boundary=boundary, modes=modes, amplitudes=[1.0] * len(modes))
    g = torch.Generator().manual_seed(0)
    x, y, t = 2 * torch.rand(200, generator=g, dtype=F64), 3 * torch.rand(200, generator=g, dtype=F64), \
        torch.rand(200, generator=g, dtype=F64)
    u, u_t, _, u_xx, u_yy = _derivatives(heat, x, y, t)
    assert float(heat.residual(u_t, u_xx, u_yy).abs().max()) < 1e-13
    if boundary == "dirichlet":
        wall = torch.linspace(0, 3, 50, dtype=F64)
        zero = torch.zeros_like(wall)
        assert float(heat(zero, wall, zero + 0.3).abs().max()) < 1e-15
        assert float(heat(zero + 2.0, wall, zero + 0.3).abs().max()) < 1e-14


def test_periodic_heat_spectral_evolution_and_conserved_total_heat():
    heat = HeatEquation(alpha=0.05, mean=0.7)
    x, y = grid((32, 32))
    t = torch.tensor(3.0, dtype=F64)
    u0 = heat.initial_condition(x, y)
    assert float((heat.evolve_spectral(u0, t) - heat(x, y, t)).abs().max()) < 1e-13
    area = (2 * math.pi) ** 2
    assert float(heat(x, y, t).mean() * area - heat.total_heat(t)) < 1e-12
    assert float(heat.total_heat(t) - heat.total_heat(torch.tensor(0.0, dtype=F64))) == 0.0
    assert float(laplacian(u0, dim=2).mean().abs()) < 1e-14


def test_dirichlet_total_heat_decays_as_computed():
    heat = HeatEquation(alpha=0.1, lengths=(1.0, 1.0), boundary="dirichlet", modes=[(1, 1), (3, 1)], amplitudes=[1.0, 0.5])
    n = 400
    xs = (torch.arange(n, dtype=F64) + 0.5) / n  # midpoint rule
    x, y = torch.meshgrid(xs, xs, indexing="ij")
    for tv in (0.0, 0.5):
        t = torch.tensor(tv, dtype=F64)
        assert abs(float(heat(x, y, t).mean()) - float(heat.total_heat(t))) < 1e-5
    assert float(heat.total_heat(torch.tensor(1.0))) < float(heat.total_heat(torch.tensor(0.0)))


def test_klein_gordon_manufactured_solution():
    kg = KleinGordon()
    g = torch.Generator().manual_seed(1)
    x, y = 2 * torch.rand(100, generator=g, dtype=F64) - 1, 2 * torch.rand(100, generator=g, dtype=F64) - 1
    t = 10 * torch.rand(100, generator=g, dtype=F64)
    u, _, u_tt, u_xx, u_yy = _derivatives(kg, x, y, t)
    assert float(kg.residual(u, u_tt, u_xx, u_yy, x, y, t).abs().max()) < 1e-12
    wrong = kg.residual(u + 0.01, u_tt, u_xx, u_yy, x, y, t)
    assert float(wrong.abs().max()) > 1e-3


def test_pde_system_errors():
    with pytest.raises(ValueError, match=r"`alpha` must be a finite number > 0, got 0.0"):
        HeatEquation(alpha=0.0)
    with pytest.raises(ValueError, match="Dirichlet modes need m, n >= 1"):
        HeatEquation(boundary="dirichlet", modes=[(0, 1)], amplitudes=[1.0])
    with pytest.raises(ValueError, match="`boundary` must be"):
        HeatEquation(boundary="neumann")
    with pytest.raises(ValueError, match="same non-zero length"):
        HeatEquation(modes=[(1, 1)], amplitudes=[1.0, 2.0])
    with pytest.raises(ValueError, match="needs boundary='periodic'"):
        HeatEquation(boundary="dirichlet", modes=[(1, 1)], amplitudes=[1.0]).evolve_spectral(torch.zeros(8, 8), 1.0)
