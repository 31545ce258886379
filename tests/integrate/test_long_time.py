"""Symplectic methods keep the energy error bounded over 1e5 steps; rk4's drifts (linearly, seen within 1e4)."""

import pytest
import torch

import physwm
from physwm.diagnostics import energy_drift, energy_growth, relative_energy_error
from physwm.systems import Kepler, Pendulum
from physwm.testing import assert_conserves

N_STEPS = 100_000


def _energy_series(method, system, y0, dt, n_steps=N_STEPS):
    t = torch.linspace(0, n_steps * dt, 1001, dtype=torch.float64)
    with torch.no_grad():
        ys = physwm.solve(system, y0, t, method=method, dt=dt).ys
    return t, system.energy(ys)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["leapfrog", "yoshida4"])
def test_symplectic_energy_bounded_over_1e5_steps(method):
    pend = Pendulum()
    y0 = torch.tensor([[2.0, 0.0], [1.0, 1.5]], dtype=torch.float64)
    t, E = _energy_series(method, pend, y0, 0.05)
    assert_conserves(E, rtol=5e-3, bounded=True)
    assert float(energy_growth(E).max()) < 1.5


@pytest.mark.slow
def test_rk4_energy_drifts_and_fails_the_same_check():
    pend = Pendulum()
    y0 = torch.tensor([[2.0, 0.0], [1.0, 1.5]], dtype=torch.float64)
    # rk4's drift is linear from the start: 1e4 steps show it as clearly as 1e5 (growth 2.00 either way)
    t, E = _energy_series("rk4", pend, y0, 0.05, n_steps=10_000)
    assert float(energy_growth(E).min()) > 1.8  # linear secular drift
    with pytest.raises(AssertionError, match="secular drift"):
        assert_conserves(E, rtol=1.0, bounded=True)


def test_kepler_leapfrog_no_drift_but_rk4_drifts():
    kep = Kepler()
    y0 = kep.orbit_state(0.5)
    t = torch.linspace(0, 200.0, 401, dtype=torch.float64)
    with torch.no_grad():
        e_lf = kep.energy(physwm.solve(kep, y0, t, method="leapfrog", dt=0.02).ys)
        e_rk = kep.energy(physwm.solve(kep, y0, t, method="rk4", dt=0.02).ys)
    assert float(energy_growth(e_lf)) < 1.5 < float(energy_growth(e_rk))
    horizon = float(t[-1])
    assert abs(float(energy_drift(e_lf, t))) * horizon < float(relative_energy_error(e_lf).max())
