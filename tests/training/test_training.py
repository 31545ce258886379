import math
import os

import pytest
import torch

from physwm import CheckpointError, TrainingError
from physwm.data import TrajectoryData, make_trajectories
from physwm.models import HNN, NeuralODE
from physwm.systems import Duffing, HarmonicOscillator
from physwm.training import (
    DerivativeMatching,
    FitResult,
    RolloutMatching,
    derivative_loss,
    fit,
    load_checkpoint,
    rollout_loss,
    save_checkpoint,
)


def _data():
    osc = HarmonicOscillator()
    return make_trajectories(osc, 8, torch.linspace(0, 3, 16, dtype=torch.float64),
                             generator=torch.Generator().manual_seed(0))


def test_hnn_learns_the_oscillator_hamiltonian():
    torch.manual_seed(0)
    model = HNN(dof=1, hidden=(32,)).double()
    train, test = _data().split_trajectories(6)
    before = float(derivative_loss(model, test.samples()).detach())
    res = fit(model, train, steps=400, lr=1e-2, val_data=test, progress=False)  # data -> DerivativeMatching
    assert isinstance(res, FitResult) and res.steps == res.steps_run == 400 and len(res.train_loss) == 400
    assert list(res.terms) == ["derivative"] and res.terms["derivative"] == res.train_loss
    assert res.val_step == [400] and res.val_loss[-1] == pytest.approx(float(derivative_loss(model, test.samples()).detach()))
    assert res.val_loss[-1] < 0.05 * before and res.val_loss[-1] < 2e-3


def test_derivative_and_rollout_losses_vanish_for_the_true_forced_system():
    """Time on the data path: the labels of a forced system are f(t_k, y_k), and a window rolled out from
    its absolute start time matches the data; started at t = 0 instead, it does not."""
    duffing = Duffing.chaotic()
    t = torch.linspace(0, 4, 41, dtype=torch.float64)
    data = make_trajectories(duffing, 3, t, method="rk4", dt=0.01, generator=torch.Generator().manual_seed(0))
    assert float(derivative_loss(duffing, data.samples())) < 1e-28
    starts = torch.tensor([7, 20])
    index = starts[None] + torch.arange(6)[:, None]  # windows of 5 intervals, (6, 2)
    ys = data.ys[index].flatten(1, 2)
    tau = t[:6] - t[0]
    t0 = t[starts].repeat_interleave(3)
    assert float(rollout_loss(duffing, tau, ys, t0=t0, method="rk4", dt=0.01)) < 1e-24
    assert float(rollout_loss(duffing, tau, ys, method="rk4", dt=0.01)) > 1e-6  # wrong (zero) start times
    # a time-dependent model trained on it: derivative matching sees each sample's own time
    torch.manual_seed(0)
    model = NeuralODE(dim=2, hidden=(32,), time_dependent=True).double()
    res = fit(model, DerivativeMatching(data, batch_size=64), steps=60, lr=1e-2, progress=False)
    assert res.train_loss[-1] < 0.5 * res.train_loss[0]


def test_rollout_loss_trains():
    torch.manual_seed(0)
    model = NeuralODE(dim=2, hidden=(32,)).double()
    res = fit(model, RolloutMatching(_data(), horizon=4), steps=150, lr=1e-2, progress=False)
    assert res.train_loss[-1] < 0.1 * res.train_loss[0]
    assert list(res.terms) == ["rollout"]
    # validated on rollouts too: the validation loss is the rollout loss over every window
    assert res.val_loss[-1] < 0.1 * res.train_loss[0]


def test_resume_gives_the_same_result_as_an_uninterrupted_run(tmp_path):
    data = _data()
    torch.manual_seed(0)
    full = HNN(dof=1, hidden=(8,)).double()
    init = {k: v.clone() for k, v in full.state_dict().items()}
    r_full = fit(full, DerivativeMatching(data, batch_size=32), steps=40, progress=False)
    ck = tmp_path / "run.pt"
    part = HNN(dof=1, hidden=(8,)).double()
    part.load_state_dict(init)
    fit(part, DerivativeMatching(data, batch_size=32), steps=20, checkpoint=ck, progress=False)
    resumed = HNN(dof=1, hidden=(8,)).double()
    r_res = fit(resumed, DerivativeMatching(data, batch_size=32), steps=40, checkpoint=ck, progress=False)
    assert r_res.steps == 40 and len(r_res.train_loss) == 40 and r_res.steps_run == 20
    for k, v in full.state_dict().items():
        assert torch.allclose(v, resumed.state_dict()[k], atol=1e-12), k
    assert r_res.train_loss == pytest.approx(r_full.train_loss, rel=1e-9)


def test_interrupted_save_leaves_previous_checkpoint_intact(tmp_path, monkeypatch):
    path = tmp_path / "ck.pt"
    save_checkpoint({"w": torch.ones(3)}, path)

    def broken_save(obj, fh):
        fh.write(b"partial garbage")
        raise KeyboardInterrupt("killed midway")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint({"w": torch.zeros(3)}, path)
    monkeypatch.undo()
    assert torch.equal(load_checkpoint(path)["w"], torch.ones(3))
    assert sorted(os.listdir(tmp_path)) == ["ck.pt"]  # no stray temporary file


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_load_refuses_pickled_objects(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"x": Evil()}, path)
    with pytest.raises(CheckpointError, match="refusing to load"):
        load_checkpoint(path)


def test_load_errors(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path / "none.pt")
    (tmp_path / "torn.pt").write_bytes(b"PK\x03\x04 torn")
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_checkpoint(tmp_path / "torn.pt")
    with pytest.raises(CheckpointError, match="does not exist"):
        save_checkpoint({}, tmp_path / "no" / "dir.pt")


def test_checkpoint_is_validated_whole_before_loading(tmp_path):
    data = _data()
    ck = tmp_path / "run.pt"
    torch.manual_seed(0)
    fit(HNN(dof=1, hidden=(8,)).double(), data, steps=4, checkpoint=ck, progress=False)
    other = HNN(dof=1, hidden=(16,)).double()  # different shapes
    before = {k: v.clone() for k, v in other.state_dict().items()}
    with pytest.raises(CheckpointError, match="does not fit this model"):
        fit(other, data, steps=8, checkpoint=ck, progress=False)
    assert all(torch.equal(v, other.state_dict()[k]) for k, v in before.items())  # nothing was loaded
    with pytest.raises(CheckpointError, match="learning-rate schedule"):
        fit(HNN(dof=1, hidden=(8,)).double(), data, steps=8, checkpoint=ck, progress=False,
            schedule=lambda opt: torch.optim.lr_scheduler.StepLR(opt, 2))
    foreign = tmp_path / "foreign.pt"
    save_checkpoint({"w": torch.ones(3)}, foreign)
    with pytest.raises(CheckpointError, match="not a physwm training checkpoint"):
        fit(HNN(dof=1, hidden=(8,)).double(), data, steps=8, checkpoint=foreign, progress=False)
    # resume=False starts afresh and overwrites
    res = fit(HNN(dof=1, hidden=(8,)).double(), data, steps=3, checkpoint=foreign, resume=False, progress=False)
    assert res.steps_run == 3 and load_checkpoint(foreign)["history"]["steps"] == 3


def test_non_finite_loss_raises_training_error_before_the_update():
    d = _data()
    dydt = d.dydt.clone()
    dydt[3, 2, 1] = float("nan")
    with pytest.raises(ValueError, match="`dydt` must be finite, got 1 NaN"):  # NaN data are refused when built
        TrajectoryData(d.t, d.ys, dydt)
    # a model that computes NaN (here a NaN weight; in practice an overflow) trips the guard before the update
    torch.manual_seed(0)
    model = HNN(dof=1, hidden=(8,)).double()
    with torch.no_grad():
        next(model.parameters())[0, 0] = float("nan")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(TrainingError, match="not finite") as info:
        fit(model, d, steps=5, progress=False)
    assert (info.value.step, info.value.term) == (0, "derivative") and math.isnan(info.value.value)
    assert all(torch.allclose(v, model.state_dict()[k], rtol=0, atol=0, equal_nan=True) for k, v in before.items())
    # a learning rate that blows a float32 model up is caught at the step it happens (step 0 was finite)
    torch.manual_seed(0)
    with pytest.raises(TrainingError) as info:
        fit(NeuralODE(dim=2, hidden=(8,), activation_name="relu"), _data(), steps=50, lr=1e25, progress=False)
    assert 0 < info.value.step < 50 and info.value.term in ("derivative", "total", "parameters")


def test_keep_best_restores_the_best_validation_weights():
    train, val = _data().split_trajectories(6)
    torch.manual_seed(0)
    model = HNN(dof=1, hidden=(8,)).double()
    res = fit(model, train, steps=30, lr=0.3, val_data=val, eval_every=3, keep_best=True, progress=False)
    assert res.val_step == list(range(3, 31, 3))
    assert res.best_val_loss == min(res.val_loss) and res.best_step == res.val_step[res.val_loss.index(res.best_val_loss)]
    assert float(derivative_loss(model, val.samples()).detach()) == pytest.approx(res.best_val_loss, rel=1e-12)


def test_fit_argument_errors():
    model = HNN(dof=1, hidden=(4,)).double()
    with pytest.raises(TypeError, match="loss"):
        fit(model, _data(), loss="energy", progress=False)  # the keyword is gone: objectives replace it
    with pytest.raises(ValueError, match=r"`steps` must be an int >= 1, got 0"):
        fit(model, _data(), steps=0, progress=False)
    with pytest.raises(TypeError, match=r"`steps` must be an int >= 1, got 2.5"):
        fit(model, _data(), steps=2.5, progress=False)
    with pytest.raises(ValueError, match=r"`lr` must be a finite number > 0, got -1.0"):
        fit(model, _data(), lr=-1.0, progress=False)
    with pytest.raises(ValueError, match=r"`weight_decay` must be a finite number >= 0"):
        fit(model, _data(), weight_decay=-1e-3, progress=False)
    with pytest.raises(TypeError, match="`objective` must be a physwm.training.Objective"):
        fit(model, {"ys": 1}, progress=False)
    with pytest.raises(TypeError, match="no trainable parameters"):
        fit(model.requires_grad_(False), _data(), steps=1, progress=False)
    with pytest.raises(TypeError, match="`data` must be a physwm.data.TrajectoryData"):
        DerivativeMatching(_data().ys)
    with pytest.raises(ValueError, match="no gap-free window of 21 samples"):
        RolloutMatching(_data(), horizon=20)


def test_fit_with_actions_trains_a_controlled_model():
    from physwm.models import PHNN
    from physwm.systems import MassSpringDamper

    sys = MassSpringDamper(c=0.3)
    gen = torch.Generator().manual_seed(0)
    y0 = sys.sample_initial_state(8, generator=gen)
    t = torch.linspace(0, 3, 31, dtype=torch.float64)
    u = torch.rand(30, 8, 1, generator=gen, dtype=torch.float64) - 0.5
    data = make_trajectories(sys, 8, t, y0=y0, action=u, method="rk4", dt=0.01)
    ys = data.ys
    assert data.actions.shape == (30, 8, 1) and torch.allclose(data.dydt, sys(t[:-1, None], ys, u))
    train, test = data.split_trajectories(6)
    assert train.actions.shape == (30, 6, 1) and test.split_time(0.5)[1].actions.shape == (15, 2, 1)
    torch.manual_seed(0)
    model = PHNN(1, action_dim=1, hidden=(16,), dissipation="constant").double()
    hist = fit(model, train, steps=300, lr=3e-3, val_data=test, eval_every=300, progress=False)
    assert hist.val_loss[-1] < 0.1 * hist.train_loss[0]
    with pytest.raises(ValueError, match="actions must have shape"):
        TrajectoryData(t[:-1], ys, ys, u[:, :3])
    # rollouts under the data's actions: the true system reproduces its own windows (zero-order hold alignment)
    objective = RolloutMatching(train, horizon=5, method="rk4", dt=0.01)
    assert objective.validate(sys, None)["loss"] < 1e-24
    shifted = TrajectoryData(train.t, train.ys, train.dydt, torch.roll(train.actions, 1, 0))
    assert RolloutMatching(shifted, horizon=5, method="rk4", dt=0.01).validate(sys, None)["loss"] > 1e-8
    res = fit(model, objective, steps=5, lr=3e-3, progress=False)
    assert res.steps == 5 and all(math.isfinite(v) for v in res.train_loss)


def test_rollout_windows_accept_single_precision_time_stamps_and_refuse_missing_frames():
    """Recorded time stamps (float32, as in the measured double pendulum) jitter by ~1e-4 of the spacing:
    every window is kept; a dropped frame (twice the spacing) still breaks the windows that span it."""
    t = (torch.arange(900, dtype=torch.float64) * 0.01 + 0.003).float().double()  # 9 s at 100 Hz, float32 stamps
    assert float(((t.diff() - 0.01).abs() / 0.01).max()) > 1e-6  # the jitter is real
    ys = torch.stack([torch.sin(t), torch.cos(t)], -1).unsqueeze(1)
    data = TrajectoryData(t, ys, torch.stack([torch.cos(t), -torch.sin(t)], -1).unsqueeze(1))
    assert len(RolloutMatching(data, horizon=10).starts) == 900 - 10
    assert len(RolloutMatching(data, horizon=10, rtol=1e-6).starts) < 890 // 2  # the old, too strict tolerance
    keep = torch.ones(900, dtype=torch.bool)
    keep[450] = False  # one missing frame
    gappy = TrajectoryData(t[keep], ys[keep], data.dydt[keep])
    assert len(RolloutMatching(gappy, horizon=10).starts) == 899 - 10 - 10
    with pytest.raises(ValueError, match="rtol"):
        RolloutMatching(data, horizon=10, rtol=0.5)
