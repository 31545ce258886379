"""DoublePendulum.velocity_derivative and DoublePendulum.fit: exact labels in [θ, θ̇] and system identification."""

import pytest
import torch

from physwm.systems import DoublePendulum


def test_velocity_derivative_is_the_time_derivative_of_the_velocities():
    """Against a central difference of to_velocities along a dopri8 trajectory."""
    import physwm

    dp = DoublePendulum(1.0, 0.7, 1.2, 0.9)
    y0 = dp.sample_initial_state(3, generator=torch.Generator().manual_seed(1))
    h = 1e-4
    ys = physwm.solve(dp, y0, torch.tensor([0.0, h, 2 * h], dtype=torch.float64), method="dopri8", rtol=1e-13, atol=1e-13).ys
    central = (dp.to_velocities(ys[2]) - dp.to_velocities(ys[0])) / (2 * h)
    assert torch.allclose(dp.velocity_derivative(ys[1]), central, atol=1e-6)


def test_fit_recovers_simulated_parameters():
    true = DoublePendulum(1.0, 0.8, 0.15, 0.12)
    y = true.sample_initial_state(200, generator=torch.Generator().manual_seed(0))
    rig = DoublePendulum.fit(true.to_velocities(y), true.velocity_derivative(y)[:, 2:])
    assert (rig.m2, rig.l1, rig.l2) == pytest.approx((0.8, 0.15, 0.12), rel=1e-6)
    wrong = DoublePendulum.fit(true.to_velocities(y), 1.1 * true.velocity_derivative(y)[:, 2:])
    assert (wrong.m2, wrong.l1, wrong.l2) != pytest.approx((0.8, 0.15, 0.12), rel=1e-3)


def test_fit_checks_shapes():
    with pytest.raises(ValueError, match="acceleration"):
        DoublePendulum.fit(torch.zeros(5, 4), torch.zeros(5, 3))
