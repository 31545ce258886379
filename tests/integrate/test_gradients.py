"""gradcheck through solve for every method; adjoint agrees with backprop."""

import pytest
import torch

import physwm
from physwm.models import HNN
from physwm.systems import Kepler, Pendulum
from physwm.testing import assert_adjoint_matches_backprop, assert_gradcheck

T = torch.tensor([0.0, 0.3, 0.6], dtype=torch.float64)


@pytest.mark.parametrize("method", physwm.integrate.methods())
def test_gradcheck_every_method(method):
    pend = Pendulum()
    y0 = torch.tensor([[0.7, 0.1], [-0.4, 0.5]], dtype=torch.float64)
    # constant steps (adaptive methods too): the derivative of a fixed discrete map; adaptive step
    # selection itself is not differentiable, its gradients are checked against the adjoint below
    assert_gradcheck(pend, y0, T, method, dt=0.1)


@pytest.mark.parametrize("method", physwm.integrate.methods())
def test_gradcheck_with_respect_to_t_every_method(method):
    """Derivative with respect to the output times. Fixed steps: dt does not divide the spans, so a small
    perturbation of t keeps the number of steps and stretches them (the discrete map is smooth in t).
    Adaptive methods under error control, as torchdiffeq's own gradcheck of t."""
    pend = Pendulum()
    y0 = torch.tensor([[0.7, 0.1], [-0.4, 0.5]], dtype=torch.float64)
    kwargs = {"rtol": 1e-8, "atol": 1e-8} if physwm.integrate.get_method(method).adaptive else {"dt": 0.07}
    assert_gradcheck(pend, y0, T, method, wrt=("y0", "t"), **kwargs)


def test_gradcheck_with_respect_to_t_can_fail():
    """With dt dividing the spans a perturbation of t adds a step: the check catches the jump."""
    with pytest.raises(AssertionError, match="with respect to \\['t'\\]"):
        assert_gradcheck(Pendulum(), torch.tensor([0.7, 0.1], dtype=torch.float64), T, "rk4", wrt=("t",), dt=0.1)


@pytest.mark.parametrize("method", ["dopri5", "bosh3", "rk4"])
def test_adjoint_matches_backprop(method):
    kep = Kepler()
    kwargs = {"rtol": 1e-10, "atol": 1e-10} if method != "rk4" else {"dt": 0.05}
    assert_adjoint_matches_backprop(kep, kep.orbit_state(0.3), T, method, **kwargs)


def test_adjoint_parameter_gradients_match_backprop():
    torch.manual_seed(0)
    model = HNN(dof=1, hidden=(16,)).double()
    y0 = torch.tensor([[0.5, 0.2], [-0.3, 0.1]], dtype=torch.float64)
    assert_adjoint_matches_backprop(model, y0, T, "dopri5", tol=1e-5, rtol=1e-10, atol=1e-10)
    with pytest.raises(AssertionError, match="differ"):  # the check can fail: loose tolerances
        assert_adjoint_matches_backprop(model, y0, T, "dopri5", tol=1e-8, rtol=1e-2, atol=1e-2)


def test_implicit_midpoint_parameter_gradients_are_exact():
    """The implicit-function-theorem backward gives the exact derivative of the discrete map."""
    torch.manual_seed(0)
    model = HNN(dof=1, hidden=(8,)).double()
    y0 = torch.tensor([[0.5, 0.2]], dtype=torch.float64)
    w0 = model.net.net[0].weight.detach().clone()

    def rollout(w):
        class F(torch.nn.Module):
            def forward(self, t, y):
                return torch.func.functional_call(model, {"net.net.0.weight": w}, (t, y))

        return physwm.solve(F(), y0, T, method="implicit_midpoint", dt=0.15).ys

    assert torch.autograd.gradcheck(rollout, (w0.requires_grad_(True),))
