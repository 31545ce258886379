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
    assert float((dH * f).sum(-1).detach().abs().max()) < 1e-12


def test_hnn_conserves_its_learned_energy_under_implicit_midpoint():
    """Implicit midpoint is symplectic: the learned H has a bounded O(dt^2) error, no drift.
    (It is exactly conserved only for quadratic H.)"""
    torch.manual_seed(0)
    model = HNN(dof=1, hidden=(32, 32)).double()
    y0 = torch.randn(4, 2, dtype=torch.float64)
    t = torch.linspace(0, 25, 51, dtype=torch.float64)  # about 4 periods of the largest orbits
    errs = []
    for dt in (0.04, 0.02):
        with torch.no_grad():
            ys = physwm.solve(model, y0, t, method="implicit_midpoint", dt=dt).ys
        E = model.energy(ys).detach()
        assert_conserves(E, rtol=1e-3, bounded=True)
        errs.append(float(relative_energy_error(E).max()))
    assert 3.0 < errs[0] / errs[1] < 5.0  # second order in dt


def test_hnn_energy_drifts_under_euler_so_the_check_can_fail():
    torch.manual_seed(0)
    model = HNN(dof=1, hidden=(32, 32)).double()
    y0 = torch.randn(4, 2, dtype=torch.float64)
    t = torch.linspace(0, 100, 201, dtype=torch.float64)
    with torch.no_grad():
        E = model.energy(physwm.solve(model, y0, t, method="euler", dt=0.04).ys).detach()
    with pytest.raises(AssertionError):
        assert_conserves(E, rtol=1e-3, bounded=True)


def test_separable_hnn_runs_with_explicit_symplectic_methods():
    torch.manual_seed(0)
    model = SeparableHNN(dof=2, hidden=(16,)).double()
    y0 = torch.randn(3, 4, dtype=torch.float64) * 0.3
    t = torch.linspace(0, 20, 101, dtype=torch.float64)
    with torch.no_grad():
        ys = physwm.solve(model, y0, t, method="yoshida4", dt=0.01).ys
    assert_conserves(model.energy(ys).detach(), rtol=1e-4, bounded=True)


@pytest.mark.parametrize("cls,kw", [(HNN, {"dof": 1}), (SeparableHNN, {"dof": 1}), (NeuralODE, {"dim": 2})])
def test_models_batched_float32_and_errors(cls, kw):
    model = cls(hidden=(8,), **kw)
    out = model(torch.tensor(0.0), torch.zeros(2, 3, 2))
    assert out.shape == (2, 3, 2) and out.dtype == torch.float32
    with pytest.raises(ValueError, match=r"`y`.* must have shape \(\*batch, 2"):  # (*batch, 2) or (*batch, 2n)
        model(torch.tensor(0.0), torch.zeros(3))


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match=r"`dof` must be an int >= 1, got 0"):
        HNN(dof=0)
    with pytest.raises(TypeError, match=r"`dof` must be an int >= 1, got 1.5"):
        SeparableHNN(dof=1.5)
    with pytest.raises(ValueError, match=r"`action_dim` must be an int >= 0, got -1"):
        NeuralODE(dim=2, action_dim=-1)
    with pytest.raises(ValueError, match="unknown activation"):
        HNN(dof=1, activation_name="sigmoidish")


def test_gradients_flow_to_parameters_through_rollout():
    torch.manual_seed(0)
    model = HNN(dof=1, hidden=(8,)).double()
    ys = physwm.solve(model, torch.tensor([[0.5, 0.1]], dtype=torch.float64),
                      torch.linspace(0, 1, 3, dtype=torch.float64), method="rk4", dt=0.1).ys
    ys.sum().backward()
    assert model.net.net[0].weight.grad is not None and float(model.net.net[0].weight.grad.abs().sum()) > 0


def test_neural_ode_time_and_action_inputs():
    torch.manual_seed(0)
    model = NeuralODE(dim=2, hidden=(8,), time_dependent=True, action_dim=1).double()
    y = torch.randn(4, 2, dtype=torch.float64)
    u = torch.randn(4, 1, dtype=torch.float64)
    t = torch.linspace(0, 1, 4, dtype=torch.float64)
    out = model(t, y, u)
    # one time per batch entry is each entry's own time; the action is the last input of the MLP
    rows = torch.cat([model(t[i], y[i:i + 1], u[i:i + 1]) for i in range(4)])
    assert torch.allclose(out, rows, atol=1e-15)
    assert torch.allclose(out, model.net(torch.cat([y, t[:, None], u], -1)), atol=1e-15)
    assert not torch.allclose(model(t[0], y, u), out)  # it does see the time
    # an action-conditioned rollout: the action held over each interval changes the trajectory
    ts = torch.linspace(0, 1, 5, dtype=torch.float64)
    a = torch.ones(4, 4, 1, dtype=torch.float64)
    ys1 = physwm.solve(model, y, ts, method="rk4", dt=0.05, action=a).ys
    ys0 = physwm.solve(model, y, ts, method="rk4", dt=0.05, action=0 * a).ys
    assert ys1.shape == (5, 4, 2) and not torch.allclose(ys1[1:], ys0[1:])
    with pytest.raises(ValueError, match="action_dim=1: pass an action"):
        model(t, y)
    with pytest.raises(ValueError, match="action_dim=0: it takes no action"):
        NeuralODE(dim=2, hidden=(8,)).double()(t, y, u)
    with pytest.raises(ValueError, match=r"`u` must have shape \(\*batch, 1\)"):
        model(t, y, torch.zeros(4, 2, dtype=torch.float64))
