"""Observed order of every registered method: log-log fit over halving step sizes."""

import pytest
import torch

import physwm
from physwm.diagnostics import observed_order
from physwm.integrate import get_method
from physwm.systems import HarmonicOscillator, Kepler
from physwm.testing import assert_convergence_order, convergence_errors

OSC = HarmonicOscillator(m=1.0, k=1.0)
Y_OSC = torch.tensor([1.0, 0.3], dtype=torch.float64)

# step sizes in each method's asymptotic range on the oscillator (errors well above round-off)
CASES = {
    "euler": [0.02, 0.01, 0.005],
    "symplectic_euler": [0.02, 0.01, 0.005],
    "leapfrog": [0.1, 0.05, 0.025],
    "implicit_midpoint": [0.1, 0.05, 0.025],
    "bosh3": [0.1, 0.05, 0.025],
    "rk4": [0.2, 0.1, 0.05],
    "yoshida4": [0.2, 0.1, 0.05],
    "dopri5": [0.2, 0.1, 0.05],
    "yoshida6": [0.2, 0.1, 0.05],
}


def test_every_registered_method_is_covered():
    assert set(physwm.integrate.methods()) == set(CASES) | {"dopri8"}


@pytest.mark.parametrize("method", sorted(CASES))
def test_order_on_harmonic_oscillator(method):
    # the helper raises AssertionError unless the observed order is within tol of the method's declared one
    assert_convergence_order(OSC, Y_OSC, 5.0, CASES[method], method, get_method(method).order, tol=0.15,
                             exact=OSC.exact_solution)


@pytest.mark.parametrize("method,steps", [("leapfrog", [0.02, 0.01, 0.005]), ("yoshida4", [0.04, 0.02, 0.01]),
                                          ("yoshida6", [0.04, 0.02, 0.01])])
def test_order_on_kepler(method, steps):
    kep = Kepler()
    y0 = kep.orbit_state(0.5)
    assert_convergence_order(kep, y0, 6.0, steps, method, get_method(method).order, exact=kep.exact_solution)


def test_dopri8_order():
    """DOP853 is order 8, but its order-8 error coefficients are so small (and its quadrature rule
    of order >= 9) that in float64 the observable slope before round-off is about 9 on every
    problem tried (Kepler, y' = y^2, quadrature). We check it is at least 8 and at most 9."""
    f = lambda t, y: y**2  # noqa: E731  exact: y = 1/(1 - t)
    y0 = torch.tensor([1.0], dtype=torch.float64)
    steps = [0.05, 0.025, 0.0125]
    errs = convergence_errors(f, y0, 0.8, steps, "dopri8", exact=torch.tensor([5.0], dtype=torch.float64))
    p = observed_order(steps, errs)
    assert 8 - 0.15 <= p <= 9 + 0.15, (p, errs)


def test_fit_detects_wrong_order():
    with pytest.raises(AssertionError, match="observed order"):
        assert_convergence_order(OSC, Y_OSC, 5.0, CASES["rk4"], "rk4", 2, exact=OSC.exact_solution)
