"""The grey-box SymbolicLagrangian: exact physics at the true parameters, identifiable parameters, power balance."""

import math

import pytest
import sympy as sp
import torch

import physwm
from physwm.models import SymbolicLagrangian
from physwm.systems import DoublePendulum

t1, t2, w1, w2 = sp.symbols("theta1 theta2 omega1 omega2")
a, b, c, d, e = sp.symbols("a b c d e")
# The compound double pendulum: two rigid bodies whose centres of mass lie on the lines through their joints.
COMPOUND = (a * w1**2 / 2 + b * w2**2 / 2 + c * w1 * w2 * sp.cos(t1 - t2) + d * sp.cos(t1) + e * sp.cos(t2))


def _point_mass_coefficients(dp: DoublePendulum) -> dict[str, float]:
    return {"a": (dp.m1 + dp.m2) * dp.l1**2, "b": dp.m2 * dp.l2**2, "c": dp.m2 * dp.l1 * dp.l2,
            "d": (dp.m1 + dp.m2) * dp.g * dp.l1, "e": dp.m2 * dp.g * dp.l2}


def _model(params, **kw):
    """A float64 model whose parameters hold the given values exactly (not their float32 roundings)."""
    model = SymbolicLagrangian(COMPOUND, [t1, t2], [w1, w2], params=params, **kw).double()
    with torch.no_grad():
        for k, v in params.items():
            model.physical[k].fill_(v)
    return model


def _states(n, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.cat([(torch.rand(n, 2, generator=g, dtype=torch.float64) - 0.5) * 2 * math.pi,
                      torch.randn(n, 2, generator=g, dtype=torch.float64) * 2], -1)


def test_true_parameters_reproduce_the_double_pendulum_to_round_off():
    dp = DoublePendulum(m1=1.0, m2=0.7, l1=1.2, l2=0.8, g=9.81)
    model = _model(_point_mass_coefficients(dp))
    x = _states(64)
    truth = dp.velocity_derivative(dp.from_velocities(x))
    assert torch.allclose(model(torch.tensor(0.0), x), truth, atol=1e-12, rtol=1e-12)
    # Noether energy = the Hamiltonian
    assert torch.allclose(model.energy(x), dp.energy(dp.from_velocities(x)), atol=1e-12)


def test_a_wrong_parameter_is_a_different_system():
    """The check above can fail: 1% off in one coefficient moves the accelerations far beyond round-off."""
    dp = DoublePendulum()
    coeffs = _point_mass_coefficients(dp)
    coeffs["d"] *= 1.01
    model = _model(coeffs)
    x = _states(64)
    assert (model(0.0, x) - dp.velocity_derivative(dp.from_velocities(x))).abs().max() > 1e-3


def test_parameters_and_dissipation_are_identified_from_accelerations():
    """A damped pendulum: L = w^2/2 + k cos(theta), friction 0.3 w. Fitting from k = 5 and R = 0.01 recovers both."""
    th, w, k = sp.symbols("theta omega k")
    g = torch.Generator().manual_seed(0)
    x = torch.cat([(torch.rand(256, 1, generator=g, dtype=torch.float64) - 0.5) * 6,
                   torch.randn(256, 1, generator=g, dtype=torch.float64)], -1)
    target = -9.0 * torch.sin(x[:, :1]) - 0.3 * x[:, 1:]
    torch.manual_seed(0)
    model = SymbolicLagrangian(w**2 / 2 + k * sp.cos(th), th, w, params={"k": 5.0}, dissipation="constant").double()
    opt = torch.optim.LBFGS(model.parameters(), max_iter=500, tolerance_grad=1e-14, tolerance_change=1e-16,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = ((model(0.0, x)[:, 1:] - target) ** 2).mean()
        loss.backward()
        return loss

    opt.step(closure)
    assert abs(model.physical_parameters()["k"] - 9.0) < 1e-6
    assert abs(float(model.dissipation_matrix(x[:1])[0, 0, 0].detach()) - 0.3) < 1e-6


@pytest.mark.parametrize("dissipation", [None, "constant", "state"])
def test_energy_obeys_the_power_balance(dissipation):
    """dE/dt along the model's flow (autograd) equals -qdot^T R qdot, and is <= 0; zero without dissipation."""
    torch.manual_seed(0)
    model = SymbolicLagrangian(COMPOUND, [t1, t2], [w1, w2], params=_point_mass_coefficients(DoublePendulum()),
                               dissipation=dissipation, angles=(0, 1), hidden=(16,)).double()
    x = _states(32, seed=1).requires_grad_(True)
    (grad_e,) = torch.autograd.grad(model.energy(x).sum(), x)
    de_dt = (grad_e * model(0.0, x)).sum(-1)
    balance = model.power_balance(x)
    assert torch.allclose(de_dt, balance, atol=1e-10)
    assert bool((balance <= 1e-14).all())
    if dissipation is None:
        assert float(balance.abs().max()) == 0.0
    else:
        assert float(balance.abs().max()) > 1e-6


def test_rollout_without_dissipation_conserves_its_energy():
    model = SymbolicLagrangian(COMPOUND, [t1, t2], [w1, w2], params=_point_mass_coefficients(DoublePendulum())).double()
    x0 = _states(4, seed=2)
    ys = physwm.solve(model, x0, torch.linspace(0, 2, 21, dtype=torch.float64), method="dopri8", rtol=1e-11, atol=1e-11).ys
    energy = model.energy(ys)
    assert float((energy - energy[0]).abs().max()) < 1e-8


def test_bad_input_is_refused_with_the_argument_named():
    th, w, k = sp.symbols("theta omega k")
    with pytest.raises(TypeError, match="params"):
        SymbolicLagrangian(w**2 / 2 + k * sp.cos(th), th, w, params={})
    with pytest.raises(ValueError, match=r"\['m'\].*`constants`"):
        SymbolicLagrangian(w**2 / 2 + sp.Symbol("m") * sp.cos(th) + k, th, w, params={"k": 1.0})
    with pytest.raises(ValueError, match="both `params` and `constants`"):
        SymbolicLagrangian(w**2 / 2 + k * sp.cos(th), th, w, params={"k": 1.0}, constants={"k": 2.0})
    with pytest.raises(ValueError, match=r"\['k'\] do not appear in `L`"):
        SymbolicLagrangian(w**2 / 2 + sp.cos(th), th, w, params={"k": 1.0})
    with pytest.raises(ValueError, match="`constants` must not set the coordinates"):
        SymbolicLagrangian(w**2 / 2 + k * sp.cos(th), th, w, params={"k": 1.0}, constants={"theta": 1.0})
    with pytest.raises(ValueError, match="coordinates"):
        SymbolicLagrangian(w**2 / 2 + k * sp.cos(th), th, w, params={"theta": 1.0})
    with pytest.raises(ValueError, match="dissipation"):
        SymbolicLagrangian(w**2 / 2 + k * sp.cos(th), th, w, params={"k": 1.0}, dissipation="viscous")
    with pytest.raises(ValueError, match="angles"):
        SymbolicLagrangian(w**2 / 2 + k * sp.cos(th), th, w, params={"k": 1.0}, angles=(1,))
    with pytest.raises(TypeError, match="params"):
        SymbolicLagrangian(w**2 / 2 + k * sp.cos(th), th, w, params={"k": "nine"})
    model = SymbolicLagrangian(w**2 / 2 + k * sp.cos(th), th, w, params={"k": 1.0}).double()
    with pytest.raises(ValueError, match="`y`"):
        model(0.0, torch.zeros(3, 3, dtype=torch.float64))
    singular = SymbolicLagrangian(k * w**2 / 2 + sp.cos(th), th, w, params={"k": 0.0}).double()
    with pytest.raises(physwm.SingularMassMatrixError, match="singular"):
        singular(0.0, torch.zeros(2, 2, dtype=torch.float64))
    # near-singular (below rcond relative to the largest eigenvalue) is refused too, for n > 1
    near = SymbolicLagrangian(COMPOUND, [t1, t2], [w1, w2], params={"a": 1.0, "b": 1.0, "c": 1.0 - 4e-15, "d": 9.8, "e": 9.8}).double()
    with pytest.raises(physwm.SingularMassMatrixError):
        near(0.0, torch.zeros(1, 4, dtype=torch.float64))
