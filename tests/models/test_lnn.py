"""Lagrangian neural network: exact Euler-Lagrange machinery, energy, gradients, singular guard."""

import math

import pytest
import torch

import physwm
from physwm import SingularMassMatrixError
from physwm.models import LNN, NeuralODE, euler_lagrange
from physwm.systems import DoublePendulum, Pendulum


def test_true_pendulum_lagrangian_gives_exact_accelerations():
    m, l, g = 0.7, 1.3, 9.81
    pend = Pendulum(m=m, l=l, g=g)

    def lagrangian(q, v):
        return 0.5 * m * l**2 * (v**2).sum() + m * g * l * torch.cos(q).sum()

    y = pend.sample_initial_state(64, generator=torch.Generator().manual_seed(0))
    q, qdot = y[:, :1], y[:, 1:] / (m * l**2)
    acc = euler_lagrange(lagrangian, q, qdot)
    assert torch.allclose(acc, pend(0.0, y)[:, 1:] / (m * l**2), atol=1e-13)


def test_true_double_pendulum_lagrangian_gives_exact_accelerations():
    dp = DoublePendulum(1.0, 2.0, 1.5, 0.7)

    def lagrangian(q, v):
        return (0.5 * 3.0 * 1.5**2 * v[0] ** 2 + 0.5 * 2.0 * 0.7**2 * v[1] ** 2
                + 2.0 * 1.5 * 0.7 * v[0] * v[1] * torch.cos(q[0] - q[1])
                + 3.0 * 9.81 * 1.5 * torch.cos(q[0]) + 2.0 * 9.81 * 0.7 * torch.cos(q[1]))

    y = dp.sample_initial_state(16, generator=torch.Generator().manual_seed(0))
    y[:, 2:] = torch.randn(16, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    x = dp.to_velocities(y)
    _, dx = torch.func.jvp(dp.to_velocities, (y,), (dp(0.0, y),))
    assert torch.allclose(euler_lagrange(lagrangian, x[:, :2], x[:, 2:]), dx[:, 2:], atol=1e-12)


def test_lnn_energy_is_conserved_by_its_own_flow():
    """With ``regularization=ε`` the model is the Lagrangian ``N + ½ε|q̇|²``: its energy is conserved."""
    torch.manual_seed(0)
    model = LNN(dof=2, hidden=(32, 32), regularization=2.0).double()  # ε keeps the mass matrix definite
    y0 = 0.3 * torch.randn(4, 4, dtype=torch.float64)
    t = torch.linspace(0, 2, 21, dtype=torch.float64)
    ys = physwm.solve(model, y0, t, rtol=1e-11, atol=1e-12).ys
    e = model.energy(ys).detach()
    assert float((e - e[0]).abs().max()) < 1e-8 * float(e.abs().max())
    assert float(e.std(0).max()) < float(e.abs().max())  # non-trivial energies
    # the network's own energy q̇·∂N/∂q̇ - N, without the ε term, is not what this flow conserves
    q, v = ys[..., :2], ys[..., 2:]
    e_net = (e - 0.5 * 2.0 * (v * v).sum(-1)).detach()
    assert float((e_net - e_net[0]).abs().max()) > 1e-3 * float(e.abs().max())
    # the pieces agree: L = N + ½ε|q̇|², p = ∂L/∂q̇, M = ∂²L/∂q̇² includes εI
    assert torch.allclose(model.lagrangian(q, v) - model.network_lagrangian(q, v), (v * v).sum(-1))
    eye = torch.eye(2, dtype=torch.float64)
    net_mass = torch.func.vmap(torch.func.hessian(model.network_lagrangian, argnums=1))(q.reshape(-1, 2), v.reshape(-1, 2))
    assert torch.allclose(model.mass_matrix(ys).reshape(-1, 2, 2), net_mass + 2.0 * eye)


def test_lnn_shapes_dtypes_and_gradcheck():
    torch.manual_seed(0)
    model = LNN(dof=2, hidden=(8,)).double()
    y = torch.randn(3, 5, 4, dtype=torch.float64)
    assert model(0.0, y).shape == (3, 5, 4) and model.mass_matrix(y).shape == (3, 5, 2, 2)
    assert model.float()(0.0, y.float()).dtype == torch.float32
    model.double()
    yg = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda z: model(0.0, z), (yg,))
    w = model.net.net[0].weight
    assert torch.autograd.gradcheck(lambda w_: torch.func.functional_call(model, {"net.net.0.weight": w_}, (0.0, yg.detach())),
                                    (w.detach().clone().requires_grad_(True),))


def test_singular_mass_matrix_is_a_clear_error():
    def degenerate(q, v):  # L independent of v[1]: d2L/dv2 has a zero row
        return 0.5 * v[0] ** 2 - q.pow(2).sum()

    q = torch.zeros(3, 2, dtype=torch.float64)
    with pytest.raises(SingularMassMatrixError, match="singular at 3 of 3") as info:
        euler_lagrange(degenerate, q, q)
    assert info.value.index == [0, 1, 2] and isinstance(info.value, ValueError)
    acc = euler_lagrange(degenerate, q, q, regularization=1e-3)  # documented Tikhonov escape hatch
    assert bool(torch.isfinite(acc).all())
    # the LNN paper's pseudo-inverse: the minimum-norm solution where M is singular (v[1]'s row dropped)
    qs = torch.tensor([[0.3, -0.2], [1.0, 0.5]], dtype=torch.float64)
    acc = euler_lagrange(degenerate, qs, torch.zeros_like(qs), singular="pinv")
    assert torch.allclose(acc, torch.stack([-2 * qs[:, 0], torch.zeros(2, dtype=torch.float64)], -1))
    with pytest.raises(ValueError, match="`singular` must be one of"):
        euler_lagrange(degenerate, q, q, singular="lstsq")
    with pytest.raises(ValueError, match="`singular` must be one of"):
        LNN(dof=2, singular="ignore")
    with pytest.raises(ValueError, match="smooth activation"):
        LNN(dof=1, activation_name="relu")
    with pytest.raises(ValueError, match="same shape"):
        euler_lagrange(degenerate, q, q[:, :1])


def test_batched_euler_lagrange_equals_the_vmapped_one_with_gradients():
    """LNN's batched reverse-mode path and the generic vmapped forward-over-reverse path: same accelerations
    and the same parameter gradients, to round-off."""
    from physwm.models import euler_lagrange

    torch.manual_seed(0)
    model = LNN(dof=2, hidden=(16, 16)).double()
    y = torch.randn(6, 4, dtype=torch.float64)
    q, qdot = y[:, :2], y[:, 2:]
    grads = []
    for batched in (True, False):
        acc = euler_lagrange(model.lagrangian, q, qdot, batched=batched)
        g = torch.autograd.grad(acc.pow(2).sum(), list(model.parameters()), allow_unused=True)  # L's offset: unused
        grads.append((acc, [torch.zeros_like(p) if d is None else d for d, p in zip(g, model.parameters())]))
    (a1, g1), (a2, g2) = grads
    assert torch.allclose(a1, a2, atol=1e-12)
    assert all(torch.allclose(x, z, atol=1e-10) for x, z in zip(g1, g2))
    assert max(float(x.abs().max()) for x in g1) > 1e-3  # the gradients compared are not all zero


def test_paper_initialisation_scales_each_layer_as_derived_for_lnns():
    """Cranmer et al. 2020: std 2.2/sqrt(n) first, 0.58 i/sqrt(n) hidden, n/sqrt(n) = sqrt(n) last (n = max fan)."""
    from physwm.nn import MLP

    torch.manual_seed(0)
    net = MLP(4, 1, (600, 600, 600), "softplus", init="lnn")
    stds = [float(m.weight.std()) for m in net.net if isinstance(m, torch.nn.Linear)]
    expected = [2.2 / 600**0.5, 0.58 / 600**0.5, 1.16 / 600**0.5, 600**0.5]
    assert stds == pytest.approx(expected, rel=0.05)
    assert float(MLP(4, 1, (600,), "softplus").net[0].weight.std()) != pytest.approx(expected[0], rel=0.05)
    with pytest.raises(ValueError, match="init"):
        MLP(4, 1, (8,), init="xavier")


def test_wrapped_angles_make_the_learned_lagrangian_periodic():
    torch.manual_seed(0)
    wrapped, plain = LNN(2, hidden=(16,), angles=(0, 1)).double(), LNN(2, hidden=(16,)).double()
    plain.load_state_dict(wrapped.state_dict())
    y = torch.randn(8, 4, dtype=torch.float64)
    turned = y + torch.tensor([2 * math.pi, -4 * math.pi, 0.0, 0.0], dtype=torch.float64)
    assert torch.allclose(wrapped(0.0, y), wrapped(0.0, turned), atol=1e-9)
    assert not torch.allclose(plain(0.0, y), plain(0.0, turned), atol=1e-3)  # the check can fail
    inside = (torch.rand(8, 4, dtype=torch.float64) - 0.5) * 6  # within (-pi, pi): wrapping changes nothing
    assert torch.allclose(wrapped(0.0, inside), plain(0.0, inside), atol=1e-12)
    with pytest.raises(ValueError, match="angles"):
        LNN(2, angles=(2,))
    from physwm.state import wrap_angles

    with pytest.raises(ValueError, match="angles"):
        wrap_angles(torch.zeros(3, 2), (2,))
    with pytest.raises(TypeError, match="`q`"):
        wrap_angles([0.0, 1.0], (0,))


def test_l1_derivative_matching_is_the_mean_absolute_error():
    from physwm.data import TrajectoryData
    from physwm.training import DerivativeMatching

    model = NeuralODE(2, hidden=(4,)).double()
    t = torch.linspace(0, 1, 5, dtype=torch.float64)
    ys = torch.randn(5, 3, 2, dtype=torch.float64)
    data = TrajectoryData(t, ys, torch.randn(5, 3, 2, dtype=torch.float64))
    err = model(0.0, ys) - data.dydt
    assert DerivativeMatching(data, norm="l1").validate(model, None)["loss"] == pytest.approx(float(err.abs().mean()))
    assert DerivativeMatching(data).validate(model, None)["loss"] == pytest.approx(float((err**2).mean()))
    with pytest.raises(ValueError, match="norm"):
        DerivativeMatching(data, norm="huber")
    from physwm.training import derivative_loss

    with pytest.raises(ValueError, match="norm"):
        derivative_loss(model, data.samples(), "L1")


def test_derivative_validation_in_chunks_is_the_mean_over_all_samples():
    """Validation runs in chunks (bounded memory for autograd fields); the result is the mean over every sample."""
    from physwm.data import TrajectoryData
    from physwm.training import DerivativeMatching, objectives

    model = NeuralODE(2, hidden=(4,)).double()
    t = torch.linspace(0, 1, 3, dtype=torch.float64)
    ys = torch.randn(3, 7000, 2, dtype=torch.float64)
    data = TrajectoryData(t, ys, torch.randn(3, 7000, 2, dtype=torch.float64))
    assert len(data.samples()) > objectives._VALIDATION_CHUNK  # several chunks, the last one partial
    err = model(0.0, ys) - data.dydt
    for norm, value in (("l2", (err**2).mean()), ("l1", err.abs().mean())):
        assert DerivativeMatching(data, batch_size=64, norm=norm).validate(model, None)["loss"] == pytest.approx(float(value), rel=1e-12)


def test_pseudo_inverse_equals_the_solve_where_the_mass_matrix_is_regular():
    torch.manual_seed(0)
    model = LNN(dof=2, hidden=(16, 16), regularization=1.0).double()
    y = 0.5 * torch.randn(6, 4, dtype=torch.float64)
    pinv_model = LNN(dof=2, hidden=(16, 16), regularization=1.0, singular="pinv").double()
    pinv_model.load_state_dict(model.state_dict())
    assert torch.allclose(pinv_model(0.0, y), model(0.0, y), rtol=1e-10, atol=1e-12)
    yg = y[:2].clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda z: pinv_model(0.0, z), (yg,))
