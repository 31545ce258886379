"""Lagrangian neural network: exact Euler-Lagrange machinery, energy, gradients, singular guard."""

import pytest
import torch

import physwm
from physwm import SingularMassMatrixError
from physwm.models import LNN, euler_lagrange
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
    torch.manual_seed(0)
    model = LNN(dof=2, hidden=(32, 32)).double()
    # a well-posed learned L: add a positive kinetic term so the mass matrix is definite
    base = model.lagrangian
    model.lagrangian = lambda q, v: base(q, v) + (v**2).sum(-1)
    y0 = 0.3 * torch.randn(4, 4, dtype=torch.float64)
    t = torch.linspace(0, 2, 21, dtype=torch.float64)
    ys = physwm.solve(model, y0, t, rtol=1e-11, atol=1e-12).ys
    e = model.energy(ys).detach()
    assert float((e - e[0]).abs().max()) < 1e-8 * float(e.abs().max())
    assert float(e.std(0).max()) < float(e.abs().max())  # non-trivial energies


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
