"""Lyapunov exponents (Benettin/QR), Lyapunov time and valid prediction time."""

import math

import pytest
import torch

import physwm
from physwm.diagnostics import (
    lyapunov_spectrum,
    lyapunov_time,
    max_lyapunov_exponent,
    normalized_error,
    predictability_horizon,
    valid_prediction_time,
)
from physwm.models import HNN
from physwm.systems import HenonHeiles, Lorenz


@pytest.mark.slow
def test_lorenz_spectrum():
    lorenz = Lorenz()
    gen = torch.Generator().manual_seed(0)
    y0 = torch.tensor([1.0, 1.0, 20.0], dtype=torch.float64) + torch.randn(64, 3, generator=gen, dtype=torch.float64)
    # QR every 25 steps (0.25 time units: growth e^0.23, decay e^-3.6) keeps the solve overhead low; central-difference
    # tangents (checked against autograd in test_difference_tangents_agree_with_autograd) are 2x cheaper than reverse
    res = lyapunov_spectrum(lorenz, y0, t_total=100.0, dt=0.01, transient=20.0, renormalize_every=25, generator=gen,
                            jvp="difference")
    lam = res.exponents.mean(0)
    assert float(lam[0]) == pytest.approx(0.9056, rel=0.01)
    assert abs(float(lam[1])) < 0.01
    trace = -(lorenz.sigma + 1 + lorenz.beta)
    assert float((res.exponents.sum(-1) - trace).abs().max()) < 1e-3
    assert bool((res.exponents.diff(dim=-1) < 0).all())
    assert res.history.shape == (400, 64, 3) and torch.equal(res.history[-1], res.exponents)


@pytest.mark.slow
def test_regular_henon_heiles_orbit_has_vanishing_exponent():
    hh = HenonHeiles()
    e = 1 / 12
    y0 = torch.tensor([[0.0, 0.0, 0.0, math.sqrt(2 * e)]], dtype=torch.float64)  # a regular (KAM-torus) orbit
    res = lyapunov_spectrum(hh, y0, t_total=400.0, dt=0.1, renormalize_every=20, jvp="difference",
                            generator=torch.Generator().manual_seed(0))
    lam1 = res.history[:, 0, 0]
    assert float(lam1[-1]) < 0.01
    assert float(lam1[-1]) < 0.5 * float(lam1[len(lam1) // 4 - 1])  # decays like log(T)/T: -> 0


@pytest.mark.slow
def test_symplectic_spectrum_is_symmetric():
    hh = HenonHeiles()
    gen = torch.Generator().manual_seed(0)
    y0 = hh.sample_initial_state(8, energy=0.16, generator=gen)
    lam = lyapunov_spectrum(hh, y0, t_total=200.0, dt=0.1, jvp="difference", generator=gen).exponents
    mean = lam.mean(0)
    assert float(mean[0]) > 0.05  # chaotic sea
    assert float((mean + mean.flip(0)).abs().max()) < 0.1 * float(mean[0])  # λ_i = -λ_{2n+1-i}
    assert float(lam.sum(-1).abs().max()) < 1e-3  # Liouville: phase-space volume is preserved


def test_forward_and_reverse_tangent_maps_agree():
    hh = HenonHeiles()
    y0 = hh.sample_initial_state(3, energy=0.16, generator=torch.Generator().manual_seed(0))
    kw = dict(t_total=2.0, dt=0.05, generator=None)
    a = lyapunov_spectrum(hh, y0, jvp="forward", **{**kw, "generator": torch.Generator().manual_seed(1)})
    b = lyapunov_spectrum(hh, y0, jvp="reverse", **{**kw, "generator": torch.Generator().manual_seed(1)})
    assert a.jvp == "forward" and b.jvp == "reverse"
    assert torch.allclose(a.exponents, b.exponents, atol=1e-12)


def test_learned_model_falls_back_to_reverse_mode_and_runs_float32():
    torch.manual_seed(0)
    model = HNN(dof=1, hidden=(16,))
    res = lyapunov_spectrum(model, torch.randn(4, 2), t_total=1.0, dt=0.05, n_exponents=1)
    assert res.jvp == "reverse" and res.exponents.shape == (4, 1) and res.exponents.dtype == torch.float32
    assert bool(torch.isfinite(res.exponents).all())


def test_max_exponent_matches_first_of_spectrum():
    y0 = torch.tensor([[1.0, 1.0, 20.0], [2.0, -1.0, 25.0]], dtype=torch.float64)
    kw = dict(t_total=5.0, dt=0.01, transient=2.0, jvp="reverse")
    lam = max_lyapunov_exponent(Lorenz(), y0, generator=torch.Generator().manual_seed(3), **kw)
    one = lyapunov_spectrum(Lorenz(), y0, n_exponents=1, generator=torch.Generator().manual_seed(3), **kw)
    assert lam.shape == (2,) and torch.equal(lam, one.exponents[:, 0])
    assert bool(((lam > 0.3) & (lam < 2.0)).all())


def test_valid_prediction_time_and_lyapunov_units():
    # Two Lorenz trajectories 1e-8 apart separate like e^{λt}: the valid time is about ln(ε/δ0)/λ.
    lorenz = Lorenz()
    gen = torch.Generator().manual_seed(0)
    y0 = physwm.solve(lorenz, torch.tensor([[1.0, 1.0, 20.0]], dtype=torch.float64), torch.tensor([0.0, 20.0], dtype=torch.float64)).ys[-1]
    y0 = y0 + torch.randn(32, 3, generator=gen, dtype=torch.float64)
    t = torch.linspace(0, 40, 4001, dtype=torch.float64)
    ref = physwm.solve(lorenz, y0, t, method="rk4", dt=0.01).ys
    pred = physwm.solve(lorenz, y0 + 1e-8, t, method="rk4", dt=0.01).ys
    scale = ref.reshape(-1, 3).std(0)
    vpt = valid_prediction_time(pred, ref, t, scale=scale)
    delta0 = float(normalized_error(pred[:1], ref[:1], scale).mean())
    horizon = float(predictability_horizon(0.9056, delta0, 0.4))
    assert float(vpt.median()) == pytest.approx(horizon, rel=0.3)
    assert float((vpt * 0.9056).median()) == pytest.approx(horizon * 0.9056, rel=0.3)  # in Lyapunov times
    assert torch.equal(valid_prediction_time(ref, ref, t), torch.full((32,), 40.0, dtype=torch.float64))


def test_lyapunov_time_and_errors():
    assert torch.equal(lyapunov_time(torch.tensor([2.0, -1.0])), torch.tensor([0.5, math.inf]))
    y0 = torch.zeros(2, 3, dtype=torch.float64)
    with pytest.raises(ValueError, match="`n_exponents`"):
        lyapunov_spectrum(Lorenz(), y0, t_total=1.0, dt=0.01, n_exponents=4)
    with pytest.raises(ValueError, match="`t_total`"):
        lyapunov_spectrum(Lorenz(), y0, t_total=-1.0, dt=0.01)
    with pytest.raises(ValueError, match="`jvp`"):
        lyapunov_spectrum(Lorenz(), y0, t_total=1.0, dt=0.01, jvp="sideways")
    with pytest.raises(ValueError, match="same shape|shape \\(T"):
        valid_prediction_time(torch.zeros(5, 3), torch.zeros(4, 3), torch.zeros(5))
    with pytest.raises(ValueError, match="initial_error"):
        predictability_horizon(1.0, 1.0, 0.1)


def test_difference_tangents_agree_with_autograd():
    """The central-difference tangent map gives the exponents of the exact (double-backward) one to ~1e-9."""
    y0 = torch.tensor([[1.0, 1.0, 20.0]], dtype=torch.float64)
    kw = dict(t_total=2.0, dt=0.01, transient=0.5, generator=torch.Generator().manual_seed(0))
    exact = lyapunov_spectrum(Lorenz(), y0, jvp="reverse", **kw)
    diff = lyapunov_spectrum(Lorenz(), y0, jvp="difference", **dict(kw, generator=torch.Generator().manual_seed(0)))
    assert diff.jvp == "difference"
    assert torch.allclose(diff.exponents, exact.exponents, rtol=0, atol=1e-7)
    assert not torch.allclose(diff.exponents, exact.exponents, rtol=0, atol=1e-14)  # a different computation
