"""Rollout matching with fitted initial states (SRNN's initial state optimisation, Chen et al. 2020)."""

import math

import pytest
import torch
from torch import nn

from physwm.data import make_trajectories
from physwm.models import HNN, SeparableHNN
from physwm.systems import HarmonicOscillator
from physwm.training import RolloutMatching, fit


class _Oscillator(nn.Module):
    """The true oscillator as a module with a (frozen-by-the-test) frequency parameter."""

    def __init__(self, omega: float = 1.0):
        super().__init__()
        self.omega = nn.Parameter(torch.tensor(omega, dtype=torch.float64))

    def forward(self, t, y):
        return torch.stack([self.omega * y[..., 1], -self.omega * y[..., 0]], -1)


def _noisy(noise: float = 0.05, n: int = 6):
    t = torch.linspace(0, 2, 21, dtype=torch.float64)
    clean = make_trajectories(HarmonicOscillator(), n, t, generator=torch.Generator().manual_seed(0))
    noisy = make_trajectories(HarmonicOscillator(), n, t, y0=clean.ys[0], noise_std=noise,
                              generator=torch.Generator().manual_seed(1))
    return clean, noisy


def _start_error(objective, clean, estimates):
    return float((estimates - clean.ys[objective.starts]).pow(2).mean().sqrt())


def test_fitted_initial_states_approach_the_true_ones():
    """With the true dynamics, the fitted start of each window is the least-squares estimate from its 11
    noisy observations: its error is well below the observation noise; the observed starts' is not."""
    clean, noisy = _noisy()
    objective = RolloutMatching(noisy, horizon=10, method="rk4", dt=0.05, batch_size=4, fit_initial_states=True,
                                refine_iters=3)  # few iterations, as in training: each must make real progress
    observed = _start_error(objective, clean, objective.initial_states)
    assert observed == pytest.approx(0.05, rel=0.3)  # the noise: the check below can fail
    model = _Oscillator()
    for step in range(objective.steps_per_epoch()):
        objective.terms(model, step, seed=0)  # refines each batch's estimates
    fitted = _start_error(objective, clean, objective.initial_states)
    assert fitted < 0.5 * observed
    # a wrong model (10% too fast) fits starts that explain its own trajectories, not the true ones
    wrong = RolloutMatching(noisy, horizon=10, method="rk4", dt=0.05, batch_size=4, fit_initial_states=True,
                            refine_iters=3)
    for step in range(wrong.steps_per_epoch()):
        wrong.terms(_Oscillator(1.1), step, seed=0)
    assert _start_error(wrong, clean, wrong.initial_states) > fitted


def test_loss_with_fitted_starts_compares_every_observation():
    clean, noisy = _noisy()
    model = _Oscillator()
    exact = RolloutMatching(clean, horizon=5, method="rk4", dt=0.01, fit_initial_states=True)
    assert exact.validate(model, None)["loss"] < 1e-16  # clean data, true model, starts at the observations
    objective = RolloutMatching(noisy, horizon=5, method="rk4", dt=0.01, fit_initial_states=True)
    plain = RolloutMatching(noisy, horizon=5, method="rk4", dt=0.01)
    # the first observation is part of the loss: at the observed starts its term is zero, so the mean over
    # H + 1 samples is H/(H+1) of the mean over the H later ones
    assert objective.validate(model, None)["loss"] == pytest.approx(5 / 6 * plain.validate(model, None)["loss"], rel=1e-12)


def test_fitted_starts_train_a_symplectic_model_and_survive_resume(tmp_path):
    """SRNN's setting: a separable HNN through leapfrog on noisy windows; the estimates are part of the
    checkpoint, so a resumed run ends with the same weights and estimates as an uninterrupted one."""
    _, noisy = _noisy(noise=0.02)

    def run(steps, path=None):
        torch.manual_seed(0)
        model = SeparableHNN(1, hidden=(16,)).double()
        objective = RolloutMatching(noisy, horizon=5, method="leapfrog", dt=0.05, batch_size=4, fit_initial_states=True,
                                    refine_iters=2)
        hist = fit(model, objective, steps=steps, lr=1e-2, checkpoint=path, checkpoint_every=10, progress=False)
        return model, objective, hist

    plain = RolloutMatching(noisy, horizon=5, method="leapfrog", dt=0.05)  # from the observed starts
    torch.manual_seed(0)
    before = plain.validate(SeparableHNN(1, hidden=(16,)).double(), None)["loss"]
    model, objective, hist = run(40)
    assert hist.train_loss[-1] < hist.train_loss[0] and plain.validate(model, None)["loss"] < 0.7 * before
    moved = (objective.initial_states - noisy.ys[objective.starts]).abs().amax()
    assert float(moved) > 0
    path = tmp_path / "run.pt"
    run(20, path)
    resumed_model, resumed, _ = run(40, path)
    assert torch.equal(resumed.initial_states, objective.initial_states)
    assert all(torch.equal(a, b) for a, b in zip(resumed_model.state_dict().values(), model.state_dict().values()))


def test_fitted_starts_through_implicit_midpoint_of_a_non_separable_hnn():
    """The double pendulum's case: a non-separable learned H through the symplectic implicit midpoint rule;
    the estimates get gradients through the implicit step (implicit function theorem)."""
    _, noisy = _noisy(noise=0.05, n=3)
    torch.manual_seed(0)
    model = HNN(1, hidden=(16,)).double()
    objective = RolloutMatching(noisy, horizon=4, method="implicit_midpoint", batch_size=2, fit_initial_states=True,
                                refine_iters=3)
    before = objective.initial_states.clone()
    hist = fit(model, objective, steps=3, lr=1e-2, progress=False)
    assert all(math.isfinite(v) for v in hist.train_loss)
    assert float((objective.initial_states - before).abs().amax()) > 0


def test_bad_initial_state_arguments_and_checkpoints():
    _, noisy = _noisy()
    with pytest.raises(ValueError, match="refine_iters"):
        RolloutMatching(noisy, horizon=5, fit_initial_states=True, refine_iters=0)
    with pytest.raises(TypeError, match="fit_initial_states"):
        RolloutMatching(noisy, horizon=5, fit_initial_states="yes")
    objective = RolloutMatching(noisy, horizon=5, fit_initial_states=True)
    assert set(objective.state_dict()) == {"initial_states"}
    with pytest.raises(ValueError, match="initial_states"):
        objective.load_state_dict({"initial_states": torch.zeros(3, 2)})
    bad = objective.state_dict()
    bad["initial_states"][0, 0, 0] = math.nan
    with pytest.raises(ValueError, match="finite"):
        objective.load_state_dict(bad)
    with pytest.raises(ValueError, match="keeps no state"):  # a plain rollout objective has none to load
        RolloutMatching(noisy, horizon=5).load_state_dict(objective.state_dict())
    assert RolloutMatching(noisy, horizon=5).initial_states is None


def test_estimates_follow_the_model_dtype_and_y0_is_checked():
    from physwm.training import rollout_loss

    _, noisy = _noisy()
    objective = RolloutMatching(noisy, horizon=5, method="rk4", fit_initial_states=True, refine_iters=2)
    model = _Oscillator().float()
    objective.bind(model)
    assert objective.initial_states.dtype == torch.float32
    assert objective.terms(model, 0, seed=0)["rollout"].dtype == torch.float32
    ys = noisy.ys[:6]
    with pytest.raises(ValueError, match="y0"):
        rollout_loss(_Oscillator(), torch.linspace(0, 0.5, 6, dtype=torch.float64), ys, y0=ys[0, 0])
