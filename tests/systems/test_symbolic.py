"""Systems derived by sympy match the hand-written ones to round-off."""

import pytest
import sympy as sp
import torch

import physwm
from physwm.systems import (
    DoublePendulum,
    Pendulum,
    SymbolicSeparableHamiltonianSystem,
    from_hamiltonian,
    from_lagrangian,
)

t1, t2, w1, w2, p1, p2 = sp.symbols("theta1 theta2 omega1 omega2 p1 p2")
m1, m2, l1, l2, g = sp.symbols("m1 m2 l1 l2 g")
PARAMS = {m1: 1.0, m2: 2.0, l1: 1.5, l2: 0.7, g: 9.81}
L_DP = (sp.Rational(1, 2) * (m1 + m2) * l1**2 * w1**2 + sp.Rational(1, 2) * m2 * l2**2 * w2**2
        + m2 * l1 * l2 * w1 * w2 * sp.cos(t1 - t2) + (m1 + m2) * g * l1 * sp.cos(t1) + m2 * g * l2 * sp.cos(t2))


def _dp_states(n=16):
    dp = DoublePendulum(1.0, 2.0, 1.5, 0.7)
    y = dp.sample_initial_state(n, generator=torch.Generator().manual_seed(0))
    y[:, 2:] = torch.randn(n, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    return dp, y


def test_lagrangian_double_pendulum_matches_hand_written():
    dp, y = _dp_states()
    sym = from_lagrangian(L_DP, [t1, t2], [w1, w2], PARAMS)
    x = dp.to_velocities(y)
    # d/dt [θ, θ̇] along the hand-written Hamiltonian flow, exactly (forward-mode AD through to_velocities).
    _, dx = torch.func.jvp(dp.to_velocities, (y,), (dp(0.0, y),))
    assert torch.allclose(sym(0.0, x), dx, atol=1e-12)
    # the system's own velocity_derivative agrees with the independent symbolic Lagrangian derivation
    assert torch.allclose(dp.velocity_derivative(y), sym(0.0, x), atol=1e-12)
    assert torch.allclose(sym.energy(x), dp.energy(y), atol=1e-12)
    assert torch.allclose(sym.momenta(x), y[:, 2:], atol=1e-13)
    assert torch.allclose(sym.mass_matrix(x), dp.mass_matrix(y[:, :2]), atol=1e-14)


def test_hamiltonian_double_pendulum_matches_hand_written():
    dp, y = _dp_states()
    mass = sp.Matrix([[(m1 + m2) * l1**2, m2 * l1 * l2 * sp.cos(t1 - t2)], [m2 * l1 * l2 * sp.cos(t1 - t2), m2 * l2**2]])
    p = sp.Matrix([p1, p2])
    H = (p.T * mass.inv() * p)[0] / 2 - (m1 + m2) * g * l1 * sp.cos(t1) - m2 * g * l2 * sp.cos(t2)
    sym = from_hamiltonian(H, [t1, t2], [p1, p2], PARAMS)
    assert not isinstance(sym, SymbolicSeparableHamiltonianSystem)
    assert torch.allclose(sym(0.0, y), dp(0.0, y), atol=1e-12)
    assert torch.allclose(sym.energy(y), dp.energy(y), atol=1e-12)


def test_pendulum_both_ways_and_separable_detection():
    q, p, qd, m, l, gg = sp.symbols("q p qdot m l g")
    par = {"m": 0.5, "l": 2.0, "g": 9.81}
    ham = from_hamiltonian(p**2 / (2 * m * l**2) + m * gg * l * (1 - sp.cos(q)), q, p, par)
    lag = from_lagrangian(m * l**2 * qd**2 / 2 + m * gg * l * sp.cos(q), q, qd, par)
    pend = Pendulum(m=0.5, l=2.0)
    y = pend.sample_initial_state(32, generator=torch.Generator().manual_seed(0))
    assert isinstance(ham, SymbolicSeparableHamiltonianSystem)
    assert torch.allclose(ham(0.0, y), pend(0.0, y), atol=1e-13)
    x = torch.stack([y[:, 0], y[:, 1] / (0.5 * 4.0)], -1)
    assert torch.allclose(lag(0.0, x)[:, 1], pend(0.0, y)[:, 1] / (0.5 * 4.0), atol=1e-13)
    t = torch.linspace(0, 5, 11, dtype=torch.float64)
    a = physwm.solve(ham, y, t, method="yoshida4", dt=0.01).ys
    b = physwm.solve(pend, y, t, method="yoshida4", dt=0.01).ys
    assert torch.allclose(a, b, atol=1e-13)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_batched_dtypes_and_constant_derivatives(dtype):
    x, v = sp.symbols("x v")
    sys = from_lagrangian(v**2 / 2 - 3 * x, x, v)  # constant force: q'' = -3 for every state
    y = torch.zeros(2, 5, 2, dtype=dtype)
    out = sys(0.0, y)
    assert out.shape == (2, 5, 2) and out.dtype == dtype
    assert torch.equal(out[..., 1], torch.full((2, 5), -3.0, dtype=dtype))


def test_symbolic_input_errors():
    q, p, k = sp.symbols("q p k")
    with pytest.raises(ValueError, match="\\['k'\\]"):
        from_hamiltonian(p**2 / 2 + k * q**2 / 2, q, p)
    with pytest.raises(TypeError, match="Symbol"):
        from_hamiltonian(p**2 / 2, "q", p)
    with pytest.raises(ValueError, match="same number"):
        from_hamiltonian(p**2 / 2, [q, k], p)
    with pytest.raises(ValueError, match="torch translation"):
        from_hamiltonian(p**2 / 2 + sp.besselj(0, q), q, p)
    with pytest.raises(ValueError, match="must not set the coordinates"):
        from_hamiltonian(p**2 / 2, q, p, {q: 1.0})
