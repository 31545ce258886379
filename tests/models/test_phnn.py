"""Port-Hamiltonian NN: structure by construction, HNN limit, power balance, actions."""

import pytest
import torch

import physwm
from physwm.diagnostics import power_balance_residual
from physwm.models import HNN, PHNN


def _canonical_j(n):
    j = torch.zeros(2 * n, 2 * n, dtype=torch.float64)
    j[:n, n:], j[n:, :n] = torch.eye(n), -torch.eye(n)
    return j


def test_learned_structure_starts_at_the_canonical_matrix():
    model = PHNN(dof=2, hidden=(8,), structure="learned").double()
    assert torch.equal(model.structure_matrix(), _canonical_j(2))
    assert torch.equal(PHNN(dof=2, hidden=(8,)).double().structure_matrix(), _canonical_j(2))


@pytest.mark.parametrize("kind", ["constant", "state"])
@pytest.mark.parametrize("on", ["p", "full"])
@pytest.mark.parametrize("structure", ["canonical", "learned"])
def test_field_is_the_port_hamiltonian_form_for_random_parameters(kind, on, structure):
    """``f = (J - R) grad H + G u + F(t)``, rebuilt here from the model's pieces by an independent route
    (grad H per sample by torch.func, R = L L^T from the raw factor), with random parameters; and the
    power balance dH/dt = -grad H^T R grad H + grad H^T (G u + F) that the structure implies."""
    torch.manual_seed(0)
    model = PHNN(dof=2, action_dim=1, hidden=(16,), dissipation=kind, dissipation_on=on, structure=structure,
                 input_matrix="state", forcing=True, forcing_hidden=(8,)).double()
    with torch.no_grad():
        for p in model.parameters():
            p.normal_()  # random parameters, not just the initialisation
    g = torch.Generator().manual_seed(1)
    y = torch.randn(16, 4, generator=g, dtype=torch.float64)
    u = torch.randn(16, 1, generator=g, dtype=torch.float64)
    t = torch.rand(16, generator=g, dtype=torch.float64)
    grad_h = torch.func.vmap(torch.func.grad(lambda z: model.hamiltonian(z[:2], z[2:])))(y)
    r_dim = 2 if on == "p" else 4
    factor = (model.dissipation_factor.expand(16, r_dim, r_dim) if kind == "constant"
              else model.dissipation_net(y).reshape(16, r_dim, r_dim))
    r = torch.zeros(16, 4, 4, dtype=torch.float64)
    r[:, 4 - r_dim:, 4 - r_dim:] = factor @ factor.transpose(-1, -2)
    j = _canonical_j(2) if structure == "canonical" else model.structure_param - model.structure_param.T
    forcing = torch.cat([torch.zeros(16, 2, dtype=torch.float64), model.forcing_net(t[:, None])], -1)
    gu = (model.input_net(y).reshape(16, 4, 1) @ u[:, :, None]).squeeze(-1)
    expected = ((j - r) @ grad_h[:, :, None]).squeeze(-1) + gu + forcing
    f = model(t, y, u)
    assert torch.allclose(f, expected, atol=1e-10, rtol=1e-10)
    # R is symmetric positive semidefinite for any parameters
    rm = model.dissipation_matrix(y).detach()
    assert torch.allclose(rm, r, atol=1e-12) and torch.equal(rm, rm.transpose(-1, -2))
    assert float(torch.linalg.eigvalsh(rm).min()) > -1e-10 * float(rm.abs().max())
    # energy balance: the J part does no work (it fails if J is not skew), R only removes energy
    pb = {k: v.detach() for k, v in model.power_balance(t, y, u).items()}
    dhdt = (grad_h * f).sum(-1).detach()
    assert torch.allclose(dhdt, pb["supplied"] - pb["dissipated"], atol=1e-9 * float(dhdt.abs().max()))
    assert bool((pb["dissipated"] >= -1e-12).all()) and float(pb["dissipated"].max()) > 0


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
    with pytest.raises(ValueError, match=r"`u` must have shape \(\*batch, 2\), got \(3, 1\)"):
        model(0.0, torch.zeros(3, 2), torch.zeros(3, 1))
    with pytest.raises(ValueError, match="action_dim=0"):
        PHNN(dof=1, hidden=(8,))(0.0, torch.zeros(3, 2), torch.zeros(3, 1))
    with pytest.raises(ValueError, match="`dissipation` must be one of None, 'constant', 'state', got 'quadratic'"):
        PHNN(dof=1, dissipation="quadratic")
    t = torch.linspace(0, 1, 4)
    with pytest.raises(ValueError, match=r"`u` must have shape \(\*batch, 2\)"):
        physwm.solve(model, torch.zeros(3, 2), t, action=torch.zeros(3, 3, 1))
