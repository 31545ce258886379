"""The pseudo-spectral 2-D Navier-Stokes reference solver."""

import math

import pytest
import torch

import physwm
from physwm.pde import divergence
from physwm.systems import NavierStokes2D

F64 = torch.float64


def test_taylor_green_decays_exactly():
    ns = NavierStokes2D(nu=0.05, n=32)
    t = torch.linspace(0.0, 2.0, 5, dtype=F64)
    sol = physwm.solve(ns, ns.taylor_green(t[0], amplitude=0.7, k=2), t, method="rk4", dt=0.02)
    exact = ns.taylor_green(t, amplitude=0.7, k=2)
    assert (sol.ys - exact).abs().max() < 1e-10 * exact.abs().max() + 1e-12
    # kinetic energy decays as exp(-4 nu k^2 t)
    e = ns.kinetic_energy(sol.ys)
    assert torch.allclose(e / e[0], torch.exp(-4 * 0.05 * 4 * t), rtol=1e-9)


def test_velocity_is_divergence_free_and_energy_balance_holds():
    ns = NavierStokes2D(nu=0.02, n=48)
    y0 = ns.sample_initial_state(2, generator=torch.Generator().manual_seed(0))
    t = torch.linspace(0.0, 1.0, 11, dtype=F64)
    ys = physwm.solve(ns, y0, t, method="rk4", dt=0.01).ys
    assert divergence(ns.velocity(ys), dim=2).abs().max() < 1e-12
    assert ns.invariants()["circulation"](ys).abs().max() < 1e-10
    # dE/dt = -2 nu Z for the unforced flow (central difference in time)
    e, z = ns.kinetic_energy(ys), ns.enstrophy(ys)
    dedt = (e[2:] - e[:-2]) / (2 * 0.1)
    assert torch.allclose(dedt, -2 * ns.nu * z[1:-1], rtol=2e-3)


def test_kolmogorov_laminar_state_is_steady_and_turbulence_develops():
    ns = NavierStokes2D(nu=0.05, n=32, forcing="kolmogorov", forcing_wavenumber=2, amplitude=0.5)
    lam = ns.kolmogorov_laminar()
    assert ns(torch.tensor(0.0, dtype=F64), lam).abs().max() < 1e-12
    u = ns.velocity(lam)
    _, yy = ns.grid()
    assert torch.allclose(u[0], 0.5 * torch.sin(2 * yy) / (0.05 * 4), atol=1e-12)
    # at Re = sqrt(chi)/(nu k_f^1.5) well above critical, a small perturbation grows and the flow leaves the laminar state
    fast = NavierStokes2D(nu=1 / 40, n=32, forcing="kolmogorov", forcing_wavenumber=2, amplitude=1.0, drag=0.1)
    y0 = fast.kolmogorov_laminar() + 1e-2 * fast.sample_initial_state(1, generator=torch.Generator().manual_seed(0))[0]
    ys = physwm.solve(fast, y0, torch.tensor([0.0, 30.0], dtype=F64), method="rk4", dt=0.05).ys
    assert (ys[-1] - fast.kolmogorov_laminar()).abs().max() > 0.5


def test_float32_batched_and_errors():
    ns = NavierStokes2D(nu=0.01, n=16)
    y = ns.sample_initial_state(3, dtype=torch.float32)
    assert ns(torch.tensor(0.0), y).shape == (3, 256) and ns(torch.tensor(0.0), y).dtype == torch.float32
    with pytest.raises(ValueError, match="even int"):
        NavierStokes2D(n=15)
    with pytest.raises(ValueError, match="nu"):
        NavierStokes2D(nu=0.0)
    with pytest.raises(ValueError, match="forcing"):
        NavierStokes2D(forcing="shear")
    with pytest.raises(ValueError, match=r"\(\*batch, 256\)"):
        ns(torch.tensor(0.0), torch.zeros(3, 100))
    with pytest.raises(ValueError, match="Taylor-Green"):
        NavierStokes2D(forcing="kolmogorov").taylor_green(torch.tensor(0.0))
    assert math.isclose(ns.length, 2 * math.pi)


@pytest.mark.cuda
def test_navier_stokes_on_cuda():
    ns = NavierStokes2D(nu=0.05, n=32)
    t = torch.tensor([0.0, 0.5], dtype=F64, device="cuda")
    ys = physwm.solve(ns, ns.taylor_green(t[0]), t, method="rk4", dt=0.05).ys
    assert ys.device.type == "cuda" and (ys - ns.taylor_green(t)).abs().max() < 1e-10
