import math

import pytest
import torch

import physwm
from physwm.state import autograd_gradient, particles_to_state, split_qp, state_to_particles
from physwm.systems import (
    FIGURE_EIGHT_PERIOD,
    DoublePendulum,
    HarmonicOscillator,
    HenonHeiles,
    Kepler,
    Lorenz,
    NBody,
    Pendulum,
    figure_eight,
)
from physwm.systems.base import HamiltonianSystem

ALL = [HarmonicOscillator(), Pendulum(), DoublePendulum(), Kepler(), NBody([1.0, 2.0, 3.0]), HenonHeiles(), Lorenz()]


@pytest.mark.parametrize("system", ALL, ids=lambda s: type(s).__name__)
def test_sampling_is_reproducible_and_shaped(system):
    a = system.sample_initial_state(5, generator=torch.Generator().manual_seed(3))
    b = system.sample_initial_state(5, generator=torch.Generator().manual_seed(3))
    assert a.shape == (5, system.state_dim) and torch.equal(a, b) and bool(torch.isfinite(a).all())
    assert system(torch.tensor(0.0), a).shape == a.shape


@pytest.mark.parametrize("system", [s for s in ALL if isinstance(s, HamiltonianSystem)], ids=lambda s: type(s).__name__)
def test_closed_form_vector_field_matches_autograd_of_H(system):
    y = system.sample_initial_state(4, generator=torch.Generator().manual_seed(0))
    dh = autograd_gradient(lambda z: system.hamiltonian(*split_qp(z)), y)
    n = system.dof
    expected = torch.cat([dh[..., n:], -dh[..., :n]], -1)
    assert torch.allclose(system(torch.tensor(0.0), y), expected, atol=1e-12, rtol=1e-12)


def _ode_residual(system, t, y0):
    """max |d/dt exact(t) - f(exact(t))|, the time derivative taken by autograd (exact to round-off)."""
    t = t.clone().requires_grad_(True)
    ys = system.exact_solution(t, y0)
    flat = ys.reshape(len(t), -1)
    dydt = torch.stack([torch.autograd.grad(flat[:, j].sum(), t, retain_graph=True)[0] for j in range(flat.shape[1])], 1)
    f = system(t[0].detach(), ys.detach()).reshape(len(t), -1)
    return float((dydt - f).abs().max() / f.abs().max())


def test_harmonic_oscillator_exact_solution():
    osc = HarmonicOscillator(m=0.5, k=2.0)
    y0 = torch.tensor([[0.3, -0.2], [1.0, 0.0]], dtype=torch.float64)
    t = torch.linspace(0, 7, 8, dtype=torch.float64)
    ref = physwm.solve(osc, y0, t, method="dopri8", rtol=1e-13, atol=1e-13).ys
    assert float((osc.exact_solution(t, y0) - ref).abs().max()) < 1e-8
    assert _ode_residual(osc, t, y0) < 1e-12


def test_kepler_exact_solution_batched():
    kep = Kepler(mu=1.3)
    y0 = kep.sample_initial_state(6, generator=torch.Generator().manual_seed(1))
    t = torch.linspace(0, 10, 11, dtype=torch.float64)
    ref = physwm.solve(kep, y0, t, method="dopri8", rtol=1e-13, atol=1e-13).ys
    assert float((kep.exact_solution(t, y0) - ref).abs().max()) < 1e-7
    assert _ode_residual(kep, t, y0) < 1e-11
    period = kep.period(y0)
    back = kep.exact_solution(period[:1], y0[:1])[0]
    assert float((back - y0[:1]).abs().max()) < 1e-12


def test_kepler_clockwise_orbit_and_invariants():
    kep = Kepler()
    y0 = kep.orbit_state(0.3) * torch.tensor([1.0, 1.0, 1.0, -1.0], dtype=torch.float64)
    t = torch.linspace(0, 5, 6, dtype=torch.float64)
    ex = kep.exact_solution(t, y0)
    ref = physwm.solve(kep, y0, t, method="dopri8", rtol=1e-13, atol=1e-13).ys
    assert float((ex - ref).abs().max()) < 1e-8
    assert _ode_residual(kep, t, y0) < 1e-11
    for name, fn in kep.invariants().items():
        v = fn(ex)
        assert float((v - v[0]).abs().max()) < 1e-12, name


def test_kepler_unbound_state_is_rejected():
    with pytest.raises(ValueError, match="bound orbits"):
        Kepler().exact_solution(torch.tensor([0.0, 1.0]), torch.tensor([1.0, 0.0, 0.0, 2.0], dtype=torch.float64))


def test_nbody_conserves_momentum_to_round_off():
    nb = NBody([1.0, 0.5, 2.0, 1.5], G=1.0, softening=0.05)
    y0 = nb.sample_initial_state(3, generator=torch.Generator().manual_seed(0))
    t = torch.linspace(0, 5, 51, dtype=torch.float64)
    ys = physwm.solve(nb, y0, t, method="leapfrog", dt=0.001).ys
    P = nb.momentum(ys)
    assert float((P - P[0]).abs().max()) < 1e-13
    L = nb.angular_momentum(ys)
    assert float((L - L[0]).abs().max()) < 1e-12
    q, p = state_to_particles(ys, nb.n_bodies)
    assert q.shape == p.shape == (51, 3, 4, 3)
    assert torch.equal(particles_to_state(q, p), ys)
    # total momentum from the particle arrays agrees with the system's own
    assert torch.allclose(p.sum(-2), P, atol=1e-15, rtol=0)


def test_figure_eight_returns_after_one_period():
    system, y0 = figure_eight()
    t = torch.tensor([0.0, FIGURE_EIGHT_PERIOD], dtype=torch.float64)
    y1 = physwm.solve(system, y0, t, method="dopri8", rtol=1e-12, atol=1e-12).ys[-1]
    assert float((y1 - y0).abs().max()) < 1e-6  # the initial condition has 8 digits
    assert float(system.momentum(y0).abs().max()) < 1e-8


def test_double_pendulum_velocity_conversion_round_trip():
    dp = DoublePendulum(m1=1.0, m2=2.0, l1=0.5, l2=1.5)
    y = dp.sample_initial_state(5, generator=torch.Generator().manual_seed(0)) + 0.2
    assert torch.allclose(dp.from_velocities(dp.to_velocities(y)), y, atol=1e-13)


def test_henon_heiles_samples_requested_energy():
    hh = HenonHeiles()
    y = hh.sample_initial_state(20, generator=torch.Generator().manual_seed(0), energy=0.1)
    assert torch.allclose(hh.energy(y), torch.full((20,), 0.1, dtype=torch.float64), atol=1e-12)
    with pytest.raises(ValueError, match="energy"):
        hh.sample_initial_state(2, energy=0.2)


@pytest.mark.parametrize("params", [dict(), dict(sigma=3.0, rho=12.0, beta=0.5)])
def test_lorenz_divergence(params):
    """``divergence`` against two independent computations: the trace of the vector field's Jacobian
    (autograd) at random states, and Liouville's formula det(dy(T)/dy0) = exp(div T) for the flow map."""
    lz = Lorenz(**params)
    y = lz.sample_initial_state(6, generator=torch.Generator().manual_seed(0))
    jac = torch.func.vmap(torch.func.jacrev(lambda z: lz(torch.tensor(0.0), z)))(y)
    assert torch.allclose(torch.diagonal(jac, dim1=-2, dim2=-1).sum(-1),
                          torch.full((6,), lz.divergence, dtype=torch.float64), atol=1e-12, rtol=0)
    t_end = 0.3
    t = torch.tensor([0.0, t_end], dtype=torch.float64)
    flow = torch.autograd.functional.jacobian(
        lambda z: physwm.solve(lz, z, t, method="dopri8", rtol=1e-12, atol=1e-12).ys[-1], y[0])
    assert math.isclose(float(torch.linalg.det(flow).log()), lz.divergence * t_end, rel_tol=1e-7)


@pytest.mark.parametrize("bad", [dict(m=0.0), dict(m=-1.0), dict(l=float("inf"))])
def test_bad_parameters(bad):
    with pytest.raises(physwm.ArgumentValueError, match=r"`(m|l)` must be a finite number > 0, got"):
        Pendulum(**bad)


@pytest.mark.parametrize("bad", [dict(m="1"), dict(g=None), dict(l=True)])
def test_bad_parameter_types(bad):
    with pytest.raises(TypeError, match=r"must be a real number, got"):
        Pendulum(**bad)


def test_wrong_state_shape():
    with pytest.raises(ValueError, match=r"state must have shape \(\*batch, 2\)"):
        Pendulum()(torch.tensor(0.0), torch.zeros(3))
