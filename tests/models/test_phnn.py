"""Port-Hamiltonian NN: structure by construction, HNN limit, power balance, actions."""

import pytest
import torch

import physwm
from physwm.diagnostics import power_balance_residual
from physwm.models import HNN, PHNN


@pytest.mark.parametrize("kind", ["constant", "state"])
@pytest.mark.parametrize("on", ["p", "full"])
def test_dissipation_is_psd_and_structure_skew(kind, on):
    torch.manual_seed(0)
    model = PHNN(dof=2, action_dim=1, hidden=(16,), dissipation=kind, dissipation_on=on, structure="learned").double()
    for p in model.parameters():
        torch.nn.init.normal_(p)  # random parameters, not just the initialisation
    y = torch.randn(32, 4, dtype=torch.float64)
    r = model.dissipation_matrix(y)
    assert torch.allclose(r, r.transpose(-1, -2))
    assert float(torch.linalg.eigvalsh(r).min()) > -1e-10
    j = model.structure_matrix()
    assert torch.equal(j, -j.T)


def test_reduces_exactly_to_hnn():
    torch.manual_seed(0)
    hnn = HNN(dof=2, hidden=(16, 16)).double()
    phnn = PHNN(dof=2, hidden=(16, 16), dissipation=None).double()
    phnn.hnn.load_state_dict(hnn.state_dict())
    y = torch.randn(8, 4, dtype=torch.float64)
    assert torch.equal(phnn(0.0, y), hnn(0.0, y))
    damped = PHNN(dof=2, action_dim=2, hidden=(16, 16), dissipation="constant", forcing=True).double()
    damped.hnn.load_state_dict(hnn.state_dict())
    with torch.no_grad():
        damped.dissipation_factor.zero_()
        for p in damped.forcing_net.parameters():
            p.zero_()
    assert torch.equal(damped(0.0, y, torch.zeros(8, 2, dtype=torch.float64)), hnn(0.0, y))


def test_power_balance_pointwise_and_along_solutions():
    torch.manual_seed(0)
    model = PHNN(dof=1, action_dim=1, hidden=(16,), dissipation="state", input_matrix="state", forcing=True).double()
    y = torch.randn(16, 2, dtype=torch.float64, requires_grad=True)
    u = torch.randn(16, 1, dtype=torch.float64)
    t = torch.tensor(0.3, dtype=torch.float64)
    (g,) = torch.autograd.grad(model.energy(y).sum(), y)
    pb = model.power_balance(t, y, u)
    assert torch.allclose((g * model(t, y, u)).sum(-1), pb["supplied"] - pb["dissipated"], atol=1e-12)
    assert bool((pb["dissipated"] >= -1e-14).all())
    res = []
    for n in (101, 201):
        ts = torch.linspace(0, 2, n, dtype=torch.float64)
        a = torch.sin(3 * ts[:-1]).reshape(-1, 1, 1).expand(-1, 4, 1)
        sol = physwm.solve(model, y[:4].detach(), ts, method="rk4", dt=0.0025, action=a)
        res.append(float(power_balance_residual(model, ts, sol.ys, sol.actions).abs().max()))
    assert res[1] < 1e-4 and res[0] / res[1] == pytest.approx(4.0, rel=0.25)


def test_gradcheck_through_dynamics_and_parameters():
    torch.manual_seed(0)
    model = PHNN(dof=1, action_dim=1, hidden=(8,), dissipation="state", forcing=True, forcing_hidden=(4,)).double()
    y = torch.randn(3, 2, dtype=torch.float64, requires_grad=True)
    u = torch.randn(3, 1, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: model(0.5, a, b), (y, u))
    w = model.dissipation_net.net[0].weight.detach().clone().requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda w_: torch.func.functional_call(model, {"dissipation_net.net.0.weight": w_}, (0.5, y.detach(), u.detach())),
        (w,))


def test_action_shape_errors():
    model = PHNN(dof=1, action_dim=2, hidden=(8,))
    with pytest.raises(ValueError, match="action_dim=2"):
        model(0.0, torch.zeros(3, 2), torch.zeros(3, 1))
    with pytest.raises(ValueError, match="action_dim=0"):
        PHNN(dof=1, hidden=(8,))(0.0, torch.zeros(3, 2), torch.zeros(3, 1))
    with pytest.raises(ValueError, match="dissipation"):
        PHNN(dof=1, dissipation="quadratic")
    t = torch.linspace(0, 1, 4)
    with pytest.raises(ValueError, match="action_dim=2"):
        physwm.solve(model, torch.zeros(3, 2), t, action=torch.zeros(3, 3, 1))
