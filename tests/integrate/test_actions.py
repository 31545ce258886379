"""Action-driven dynamics f(t, y, u): zero-order hold, policies, errors."""

import math

import pytest
import torch

import physwm
from physwm.systems import MassSpringDamper


def _forced_osc(t, y, u):
    return torch.cat([y[..., 1:], -y[..., :1] + u], -1)


@pytest.mark.parametrize("method,kw", [("dopri5", {"rtol": 1e-11, "atol": 1e-12}), ("rk4", {"dt": 1e-3}),
                                       ("implicit_midpoint", {"dt": 1e-3})])
def test_zero_order_hold_matches_closed_form(method, kw):
    # x'' + x = u_k on [t_k, t_k+1): x(t) = u_k + (x_k - u_k) cos(s) + v_k sin(s), with s = t - t_k.
    t = torch.linspace(0, 2, 5, dtype=torch.float64)
    u = torch.tensor([1.0, -0.5, 2.0, 0.0], dtype=torch.float64).reshape(4, 1, 1).expand(4, 3, 1)
    y0 = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    sol = physwm.solve(_forced_osc, y0, t, method=method, action=u, **kw)
    x, v = y0[:, 0].clone(), y0[:, 1].clone()
    h = 0.5
    for k in range(4):
        uk = u[k, :, 0]
        x, v = uk + (x - uk) * math.cos(h) + v * math.sin(h), -(x - uk) * math.sin(h) + v * math.cos(h)
        tol = 1e-9 if method == "dopri5" else 1e-6
        assert torch.allclose(sol.ys[k + 1], torch.stack([x, v], -1), atol=tol)
    assert sol.actions.shape == (4, 3, 1) and sol.n_steps > 0


def test_policy_is_sampled_at_output_times_and_closes_the_loop():
    sys = MassSpringDamper(c=0.0)
    t = torch.linspace(0, 10, 201, dtype=torch.float64)
    y0 = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    calls = []

    def damping_policy(tk, y):
        calls.append(float(tk))
        return -2.0 * y[..., 1:]  # viscous feedback removes energy

    sol = physwm.solve(sys, y0, t, method="rk4", dt=0.01, action=damping_policy)
    assert calls == pytest.approx(t[:-1].tolist())
    energy = sys.energy(sol.ys)
    assert float(energy[-1]) < 1e-3 * float(energy[0])
    assert torch.equal(sol.actions[5], -2.0 * sol.ys[5][..., 1:])


def test_action_adjoint_and_gradients_flow():
    u = torch.full((4, 1), 0.3, dtype=torch.float64, requires_grad=True)
    t = torch.linspace(0, 1, 5, dtype=torch.float64)
    sol = physwm.solve(_forced_osc, torch.zeros(2, dtype=torch.float64), t, method="rk4", dt=0.01, action=u)
    sol.ys[-1, 0].backward()
    assert u.grad is not None and bool((u.grad > 0).all())


def test_action_errors():
    t = torch.linspace(0, 1, 5, dtype=torch.float64)
    y0 = torch.zeros(3, 2, dtype=torch.float64)
    with pytest.raises(ValueError, match="len\\(t\\)-1"):
        physwm.solve(_forced_osc, y0, t, action=torch.zeros(5, 3, 1, dtype=torch.float64))
    with pytest.raises(ValueError, match="batch shape"):
        physwm.solve(_forced_osc, y0, t, action=torch.zeros(4, 2, 1, dtype=torch.float64))
    with pytest.raises(TypeError, match="policy"):
        physwm.solve(_forced_osc, y0, t, action=3.0)
    with pytest.raises(ValueError, match="separable"):
        physwm.solve(MassSpringDamper(), y0, t, method="leapfrog", dt=0.1, action=torch.zeros(4, 1, dtype=torch.float64))
    with pytest.raises(ValueError, match="\\(\\*batch, 1\\)"):
        physwm.solve(MassSpringDamper(), y0, t, action=torch.zeros(4, 3, 2, dtype=torch.float64))
    with pytest.raises(ValueError, match="finite"):
        physwm.solve(_forced_osc, y0, t, action=torch.full((4, 1), math.nan, dtype=torch.float64))
