import os

import pytest
import torch

from physwm import CheckpointError
from physwm.data import make_trajectories
from physwm.models import HNN, NeuralODE
from physwm.systems import HarmonicOscillator
from physwm.training import derivative_loss, fit, load_checkpoint, save_checkpoint


def _data():
    osc = HarmonicOscillator()
    return make_trajectories(osc, 8, torch.linspace(0, 3, 16, dtype=torch.float64),
                             generator=torch.Generator().manual_seed(0))


def test_hnn_learns_the_oscillator_hamiltonian():
    torch.manual_seed(0)
    model = HNN(dof=1, hidden=(32,)).double()
    train, test = _data().split_trajectories(6)
    before = float(derivative_loss(model, *test.pairs()))
    res = fit(model, train, steps=400, lr=1e-2, val_data=test, progress=False)
    assert res.val_loss[-1] < 0.05 * before and res.val_loss[-1] < 2e-3


def test_rollout_loss_trains():
    torch.manual_seed(0)
    model = NeuralODE(dim=2, hidden=(32,)).double()
    res = fit(model, _data(), loss="rollout", horizon=4, steps=150, lr=1e-2, progress=False)
    assert res.train_loss[-1] < 0.1 * res.train_loss[0]


def test_resume_gives_the_same_result_as_an_uninterrupted_run(tmp_path):
    data = _data()
    torch.manual_seed(0)
    full = HNN(dof=1, hidden=(8,)).double()
    init = {k: v.clone() for k, v in full.state_dict().items()}
    r_full = fit(full, data, steps=40, batch_size=32, progress=False)
    ck = tmp_path / "run.pt"
    part = HNN(dof=1, hidden=(8,)).double()
    part.load_state_dict(init)
    fit(part, data, steps=20, batch_size=32, checkpoint=ck, progress=False)
    resumed = HNN(dof=1, hidden=(8,)).double()
    r_res = fit(resumed, data, steps=40, batch_size=32, checkpoint=ck, progress=False)
    assert r_res.steps == 40 and len(r_res.train_loss) == 40
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


def test_fit_argument_errors():
    model = HNN(dof=1, hidden=(4,)).double()
    with pytest.raises(ValueError, match="`loss`"):
        fit(model, _data(), loss="energy", progress=False)
    with pytest.raises(ValueError, match="`steps`"):
        fit(model, _data(), steps=0, progress=False)


def test_fit_with_actions_trains_a_controlled_model():
    import physwm
    from physwm.data import TrajectoryData
    from physwm.models import PHNN
    from physwm.systems import MassSpringDamper

    sys = MassSpringDamper(c=0.3)
    gen = torch.Generator().manual_seed(0)
    y0 = sys.sample_initial_state(8, generator=gen)
    t = torch.linspace(0, 3, 31, dtype=torch.float64)
    u = torch.rand(30, 8, 1, generator=gen, dtype=torch.float64) - 0.5
    ys = physwm.solve(sys, y0, t, method="rk4", dt=0.01, action=u).ys[:-1]
    data = TrajectoryData(t[:-1], ys, sys(t[0], ys, u), u)
    train, test = data.split_trajectories(6)
    assert train.actions.shape == (30, 6, 1) and test.split_time(0.5)[1].actions.shape == (15, 2, 1)
    torch.manual_seed(0)
    model = PHNN(1, action_dim=1, hidden=(16,), dissipation="constant").double()
    hist = fit(model, train, steps=300, lr=3e-3, val_data=test, eval_every=300, progress=False)
    assert hist.val_loss[-1] < 0.1 * hist.train_loss[0]
    with pytest.raises(ValueError, match="actions must have shape"):
        TrajectoryData(t[:-1], ys, ys, u[:, :3])
    with pytest.raises(ValueError, match="rollout"):
        fit(model, train, loss="rollout", steps=1, progress=False)
