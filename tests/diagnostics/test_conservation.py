import pytest
import torch

from physwm.diagnostics import (
    angular_momentum_error,
    energy_drift,
    energy_growth,
    momentum_error,
    observed_order,
    relative_energy_error,
    total_angular_momentum,
)


def test_relative_energy_error_and_drift_separate_oscillation_from_drift():
    t = torch.linspace(0, 100, 1001, dtype=torch.float64)
    bounded = 1.0 + 1e-3 * torch.sin(3 * t)
    drifting = 1.0 + 1e-4 * t
    assert float(relative_energy_error(bounded).max()) == pytest.approx(1e-3, rel=1e-3)
    assert abs(float(energy_drift(bounded, t))) < 1e-5
    assert float(energy_drift(drifting, t)) == pytest.approx(1e-4, rel=1e-9)
    assert float(energy_growth(bounded)) < 1.1 and float(energy_growth(drifting)) > 1.9


def test_batched_shapes():
    E = torch.rand(50, 3, 4, dtype=torch.float64) + 1
    t = torch.linspace(0, 1, 50, dtype=torch.float64)
    assert relative_energy_error(E).shape == (50, 3, 4)
    assert energy_drift(E, t).shape == (3, 4) and energy_growth(E).shape == (3, 4)


def test_momentum_and_angular_momentum_errors():
    T, N = 10, 4
    q = torch.randn(T, 2, N, 3, dtype=torch.float64)
    p = torch.randn(1, 2, N, 3, dtype=torch.float64).expand(T, 2, N, 3).clone()
    assert float(momentum_error(p).max()) == 0.0
    p[5:, :, 0, 0] += 0.5
    err = momentum_error(p)
    assert err.shape == (T, 2) and float(err[4].max()) == 0.0 and float(err[5].min()) == pytest.approx(0.5)
    q0 = q[:1].expand(T, 2, N, 3)
    L = angular_momentum_error(q0, p)
    assert float(L[:5].max()) == 0.0 and float(L[5:].min()) > 0
    assert total_angular_momentum(q[..., :2], p[..., :2]).shape == (T, 2, 1)


def test_observed_order_and_errors():
    h = [0.1, 0.05, 0.025]
    assert observed_order(h, [3 * x**4 for x in h]) == pytest.approx(4.0)
    with pytest.raises(ValueError, match=r"`errors` must be finite and > 0"):
        observed_order(h, [1.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="at least 2"):
        observed_order([0.1], [0.1])
    with pytest.raises(TypeError, match="`energies` must be a torch.Tensor"):
        relative_energy_error([1.0, 2.0])
    with pytest.raises(ValueError, match="`t` must have shape"):
        energy_drift(torch.ones(5), torch.ones(4))


def test_runs_on_input_device_and_dtype():
    E = torch.ones(8, dtype=torch.float32)
    assert relative_energy_error(E).dtype == torch.float32
