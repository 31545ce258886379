"""Every symplectic method's one-step map satisfies M^T J M = J to round-off; rk4's does not."""

import pytest
import torch

import physwm
from physwm._typing import SeparableHamiltonian
from physwm.integrate import get_method
from physwm.systems import DoublePendulum, HenonHeiles
from physwm.testing import assert_symplectic, symplecticity_error

SYMPLECTIC = [m for m in physwm.integrate.methods() if get_method(m).symplectic]


def _problem(method):
    """A nonlinear Hamiltonian the method applies to: Henon-Heiles (separable) or the double pendulum (not)."""
    if get_method(method).requires is SeparableHamiltonian:
        return HenonHeiles(), torch.tensor([0.1, -0.2, 0.3, 0.15], dtype=torch.float64)
    return DoublePendulum(), torch.tensor([0.8, -0.4, 0.3, 0.1], dtype=torch.float64)


def test_the_registry_declares_the_symplectic_methods():
    assert set(SYMPLECTIC) == {"symplectic_euler", "leapfrog", "yoshida4", "yoshida6", "implicit_midpoint"}


@pytest.mark.parametrize("method", SYMPLECTIC)
def test_symplectic_methods_preserve_the_symplectic_form(method):
    system, y0 = _problem(method)
    # implicit midpoint's stage is solved to 64 eps, so its map is symplectic to that tolerance
    assert_symplectic(system, y0, method, 0.2, steps=3, tol=1e-13 if method == "implicit_midpoint" else 1e-14)


@pytest.mark.parametrize("method", ["rk4", "dopri5", "euler"])
def test_the_check_fails_for_non_symplectic_methods(method):
    system, y0 = DoublePendulum(), torch.tensor([0.8, -0.4, 0.3, 0.1], dtype=torch.float64)
    with pytest.raises(AssertionError, match="not symplectic"):
        assert_symplectic(system, y0, method, 0.2, steps=3)
    assert symplecticity_error(system, y0, "rk4", 0.2) > 1e-6
