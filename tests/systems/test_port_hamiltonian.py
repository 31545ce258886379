"""Damped / forced / controlled systems: structure, exact solution, power balance."""

import pytest
import torch

import physwm
from physwm.diagnostics import power_balance_residual
from physwm.systems import DampedPendulum, Duffing, MassSpringDamper, Pendulum

SYSTEMS = [DampedPendulum(b=0.4), MassSpringDamper(m=2.0, k=3.0, c=0.5), Duffing.regular(), Duffing.chaotic()]


@pytest.mark.parametrize("sys", SYSTEMS, ids=lambda s: type(s).__name__)
def test_power_balance_is_the_chain_rule(sys):
    # dH/dt along the vector field (autograd) equals supplied - dissipated, pointwise, to round-off.
    y = sys.sample_initial_state(16, generator=torch.Generator().manual_seed(0)).requires_grad_(True)
    u = torch.randn(16, 1, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    t = torch.tensor(0.7, dtype=torch.float64)
    (grad_h,) = torch.autograd.grad(sys.energy(y).sum(), y)
    dhdt = (grad_h * sys(t, y, u)).sum(-1)
    pb = sys.power_balance(t, y, u)
    assert torch.allclose(dhdt, pb["supplied"] - pb["dissipated"], atol=1e-12)
    assert bool((pb["dissipated"] >= 0).all())
    r = sys.dissipation_matrix(y.detach())
    assert bool((torch.linalg.eigvalsh(r) >= 0).all())


@pytest.mark.parametrize("sys", SYSTEMS, ids=lambda s: type(s).__name__)
def test_power_balance_holds_along_solutions(sys):
    y0 = sys.sample_initial_state(4, generator=torch.Generator().manual_seed(2))
    res = []
    for n in (101, 201):  # each action interval is its own adaptive solve: keep the horizon short
        t = torch.linspace(0, 5, n, dtype=torch.float64)
        u = 0.3 * torch.sin(t[:-1]).reshape(-1, 1, 1).expand(-1, 4, 1)
        sol = physwm.solve(sys, y0, t, rtol=1e-11, atol=1e-12, action=u)
        res.append(float(power_balance_residual(sys, t, sol.ys, sol.actions).abs().max()))
        change = float((sys.energy(sol.ys) - sys.energy(y0)).abs().max())
    assert res[1] < 1e-3 * max(change, 1.0)
    assert res[0] / res[1] == pytest.approx(4.0, rel=0.25)  # trapezoidal rule: second order in the output spacing


@pytest.mark.parametrize("sys", SYSTEMS, ids=lambda s: type(s).__name__)
def test_one_time_per_batch_entry(sys):
    """``t`` of shape (*batch,) evaluates each entry at its own time (the forcing of Duffing depends on it)."""
    y = sys.sample_initial_state(5, generator=torch.Generator().manual_seed(0))
    u = torch.randn(5, 1, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    t = torch.linspace(0.0, 2.0, 5, dtype=torch.float64)
    rows = torch.cat([sys(t[i], y[i:i + 1], u[i:i + 1]) for i in range(5)])
    assert torch.allclose(sys(t, y, u), rows, atol=1e-15, rtol=0)
    pb, pb_rows = sys.power_balance(t, y, u), [sys.power_balance(t[i], y[i:i + 1], u[i:i + 1]) for i in range(5)]
    for key in ("supplied", "dissipated"):
        assert torch.allclose(pb[key], torch.cat([r[key] for r in pb_rows]), atol=1e-15, rtol=0)
    if isinstance(sys, Duffing):  # a forced system: the time really matters, and must fit the batch
        assert not torch.allclose(sys(t, y, u), sys(t[0], y, u))
        with pytest.raises(ValueError, match="`t` must be a scalar or have the batch shape"):
            sys(t[:3], y, u)


def test_damped_pendulum_without_damping_is_the_pendulum():
    y = Pendulum().sample_initial_state(8, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(DampedPendulum(b=0.0)(0.0, y), Pendulum()(0.0, y), atol=1e-15)


def test_mass_spring_damper_exact_solution():
    sys = MassSpringDamper(m=2.0, k=3.0, c=0.5)
    y0 = sys.sample_initial_state(5, generator=torch.Generator().manual_seed(0))
    t = torch.linspace(0, 8, 9, dtype=torch.float64)
    sol = physwm.solve(sys, y0, t, method="dopri8", rtol=1e-13, atol=1e-14)
    assert torch.allclose(sol.ys, sys.exact_solution(t, y0), atol=1e-11)
    assert not MassSpringDamper(c=5.0).has_exact_solution


def test_energy_decays_without_input():
    sys = DampedPendulum(b=0.5)
    y0 = sys.sample_initial_state(6, generator=torch.Generator().manual_seed(0))
    e = sys.energy(physwm.solve(sys, y0, torch.linspace(0, 10, 101, dtype=torch.float64)).ys)
    assert bool((e.diff(dim=0) <= 1e-12).all())


def test_bad_parameters_and_actions():
    with pytest.raises(ValueError, match="`b`"):
        DampedPendulum(b=-1.0)
    with pytest.raises(ValueError, match="`u` must have shape"):
        DampedPendulum()(0.0, torch.zeros(3, 2), torch.zeros(3, 2))
    with pytest.raises(ValueError, match="state must have shape"):
        Duffing()(0.0, torch.zeros(3, 3))
