import pytest
import torch

import physwm
from physwm.diagnostics import relative_energy_error
from physwm.models import HNN, NeuralODE, SeparableHNN
from physwm.testing import assert_conserves


def test_hnn_vector_field_is_symplectic_gradient():
    torch.manual_seed(0)
    model = HNN(dof=2, hidden=(16, 16)).double()
    y = torch.randn(5, 4, dtype=torch.float64, requires_grad=True)
    dH = torch.autograd.grad(model.energy(y).sum(), y)[0]
    f = model(torch.tensor(0.0), y)
    assert torch.allclose(f, torch.cat([dH[:, 2:], -dH[:, :2]], -1))
    # the flow conserves H pointwise: dH/dt = grad H . f = 0
    assert float((dH * f).sum(-1).abs().max()) < 1e-12


def test_hnn_conserves_its_learned_energy_under_implicit_midpoint():
    """Implicit midpoint is symplectic: the learned H has a bounded O(dt^2) error, no drift.
    (It is exactly conserved only for quadratic H.)"""
    torch.manual_seed(0)
    model = HNN(dof=1, hidden=(32, 32)).double()
    y0 = torch.randn(4, 2, dtype=torch.float64)
    t = torch.linspace(0, 100, 201, dtype=torch.float64)
    errs = []
    for dt in (0.04, 0.02):
        with torch.no_grad():
            ys = physwm.solve(model, y0, t, method="implicit_midpoint", dt=dt).ys
        E = model.energy(ys)
        assert_conserves(E, rtol=1e-3, bounded=True)
        errs.append(float(relative_energy_error(E).max()))
    assert 3.0 < errs[0] / errs[1] < 5.0  # second order in dt


def test_hnn_energy_drifts_under_euler_so_the_check_can_fail():
    torch.manual_seed(0)
    model = HNN(dof=1, hidden=(32, 32)).double()
    y0 = torch.randn(4, 2, dtype=torch.float64)
    t = torch.linspace(0, 100, 201, dtype=torch.float64)
    with torch.no_grad():
        E = model.energy(physwm.solve(model, y0, t, method="euler", dt=0.04).ys)
    with pytest.raises(AssertionError):
        assert_conserves(E, rtol=1e-3, bounded=True)


def test_separable_hnn_runs_with_explicit_symplectic_methods():
    torch.manual_seed(0)
    model = SeparableHNN(dof=2, hidden=(16,)).double()
    y0 = torch.randn(3, 4, dtype=torch.float64) * 0.3
    t = torch.linspace(0, 20, 101, dtype=torch.float64)
    with torch.no_grad():
        ys = physwm.solve(model, y0, t, method="yoshida4", dt=0.01).ys
    assert_conserves(model.energy(ys), rtol=1e-4, bounded=True)


@pytest.mark.parametrize("cls,kw", [(HNN, {"dof": 1}), (SeparableHNN, {"dof": 1}), (NeuralODE, {"dim": 2})])
def test_models_batched_float32_and_errors(cls, kw):
    model = cls(hidden=(8,), **kw)
    out = model(torch.tensor(0.0), torch.zeros(2, 3, 2))
    assert out.shape == (2, 3, 2) and out.dtype == torch.float32
    with pytest.raises(ValueError, match=r"shape \(\*batch, 2\)"):
        model(torch.tensor(0.0), torch.zeros(3))


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="`dof` must be a positive int"):
        HNN(dof=0)
    with pytest.raises(ValueError, match="unknown activation"):
        HNN(dof=1, activation_name="sigmoidish")


def test_gradients_flow_to_parameters_through_rollout():
    torch.manual_seed(0)
    model = HNN(dof=1, hidden=(8,)).double()
    ys = physwm.solve(model, torch.tensor([[0.5, 0.1]], dtype=torch.float64),
                      torch.linspace(0, 1, 3, dtype=torch.float64), method="rk4", dt=0.1).ys
    ys.sum().backward()
    assert model.net.net[0].weight.grad is not None and float(model.net.net[0].weight.grad.abs().sum()) > 0
