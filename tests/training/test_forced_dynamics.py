"""Time travels with every sample: labels, derivative matching and rollout windows of a forced system.

The forced Duffing oscillator q'' + δq' + αq + βq³ = γ cos ωt is the check: its field depends on the
time, so every step of the data path that drops the time (labels taken at t[0], models called at t = 0,
rollout windows all starting at t = 0) makes it unlearnable, and each test below has a case that shows
the check fails when the time is dropped.
"""

import torch

from physwm.data import TrajectoryData, make_trajectories
from physwm.models import PHNN
from physwm.systems import Duffing
from physwm.training import RolloutMatching, fit, rollout_loss

DUFFING = Duffing.regular()  # δ = 0.3, γ = 0.2, ω = 1.2 (Desai et al. 2021)
T = torch.linspace(0, 10, 101, dtype=torch.float64)


def _data() -> TrajectoryData:
    return make_trajectories(DUFFING, 16, T, generator=torch.Generator().manual_seed(0))


def test_labels_are_the_field_at_each_samples_own_time():
    data = _data()
    k = 37
    assert torch.allclose(data.dydt[k], DUFFING(T[k], data.ys[k]), atol=1e-14)
    # the forcing term differs between t[k] and t[0]: labels taken at t[0] would be wrong by gamma (cos wt_k - 1)
    wrong = DUFFING(T[0], data.ys[k])
    assert float((data.dydt[k] - wrong)[..., 1].abs().max()) > 0.1


def _fitted_forcing(model: PHNN) -> tuple[float, float]:
    """Angular frequency and amplitude of the learned forcing F_p(t) on the training interval: the least-squares
    fit of A cos(w t + phi) + c (the offset c is not identifiable from H's linear terms) over a grid of w."""
    with torch.no_grad():
        f = model.forcing(T, torch.zeros(len(T), 2, dtype=torch.float64))[:, 1]
    best = (float("inf"), 0.0, 0.0)
    for w in torch.linspace(0.5, 3.0, 501, dtype=torch.float64):
        design = torch.stack([torch.cos(w * T), torch.sin(w * T), torch.ones_like(T)], -1)
        coef = torch.linalg.lstsq(design, f.unsqueeze(-1)).solution.squeeze(-1)
        residual = float(((design @ coef - f) ** 2).sum())
        if residual < best[0]:
            best = (residual, float(w), float(coef[0].hypot(coef[1])))
    return best[1], best[2]


class _TimeDropped(torch.nn.Module):
    """The model called at t = 0 for every sample: what the data path did before time travelled with samples."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, t, y):
        return self.model(torch.zeros_like(t), y)


def _recovered(drop_time: bool) -> tuple[float, float]:
    torch.manual_seed(0)
    model = PHNN(1, hidden=(32, 32), dissipation="constant", forcing=True, forcing_hidden=(32, 32)).double()
    fit(_TimeDropped(model) if drop_time else model, _data(), steps=1500, lr=3e-3, progress=False)
    return _fitted_forcing(model)


def test_phnn_recovers_the_forcing_amplitude_and_frequency():
    omega, amplitude = _recovered(drop_time=False)
    # measured: omega 1.195, amplitude 0.198 (true 1.2, 0.2)
    assert abs(omega - DUFFING.omega) / DUFFING.omega < 0.05, omega
    assert abs(amplitude - DUFFING.gamma) / DUFFING.gamma < 0.05, amplitude


def test_with_time_dropped_the_forcing_is_not_recovered():
    omega, amplitude = _recovered(drop_time=True)
    recovered = abs(omega - DUFFING.omega) / DUFFING.omega < 0.05 and abs(amplitude - DUFFING.gamma) / DUFFING.gamma < 0.05
    assert not recovered, (omega, amplitude)


def test_rollout_windows_keep_their_absolute_start_time():
    """The true field rolled out over windows starting at t = 3.0: exact up to RK4's error with t0, wrong without."""
    data = _data()
    start, h = 30, 5
    ys = data.ys[start: start + h + 1]
    tau = T[start: start + h + 1] - T[start]
    t0 = torch.full((ys.shape[1],), float(T[start]), dtype=torch.float64)
    with_time = float(rollout_loss(DUFFING, tau, ys, t0=t0, method="rk4", dt=0.01))
    without = float(rollout_loss(DUFFING, tau, ys, method="rk4", dt=0.01))
    assert with_time < 1e-14 and without > 1e-6, (with_time, without)


def test_rollout_objective_trains_a_forced_model_at_the_right_times():
    """The objective itself: with the true system as the 'model', every training window's loss is round-off."""
    objective = RolloutMatching(_data(), horizon=4, method="rk4", dt=0.02)
    loss = objective.terms(DUFFING, step=0, seed=0)["rollout"]
    assert float(loss) < 1e-12
