"""Regressions of the hostile-input review of the training engine and its checkpoints: arguments checked
before the first step, resumes validated whole (and the model left untouched when they do not fit), no
stray temporary files after a kill, checkpoint files with the mode ``torch.save`` gives."""

import math
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from physwm import ArgumentTypeError, ArgumentValueError, CheckpointError
from physwm.data import make_trajectories
from physwm.models import HNN
from physwm.systems import HarmonicOscillator, HeatEquation
from physwm.training import DerivativeMatching, PINNResidual, RolloutMatching, fit, load_checkpoint, save_checkpoint


def _data():
    return make_trajectories(HarmonicOscillator(), 4, torch.linspace(0, 1, 11, dtype=torch.float64),
                             generator=torch.Generator().manual_seed(0))


def _model(width=8):
    torch.manual_seed(0)
    return HNN(1, hidden=(width,)).double()


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(lr=math.inf), ArgumentValueError, "`lr` must be a finite number > 0, got inf"),
    (dict(lr=math.nan), ArgumentValueError, "`lr` must be a finite number"),
    (dict(eval_every=0), ArgumentValueError, "`eval_every` must be an int >= 1, got 0"),
    (dict(checkpoint_every=0), ArgumentValueError, "`checkpoint_every` must be an int >= 1, got 0"),
    (dict(seed=-1), ArgumentValueError, "`seed` must be an int >= 0"),
    (dict(seed=2**70), ArgumentValueError, r"`seed` must be an int >= 0 and <= 4294967295"),
])
def test_fit_arguments_are_checked_before_the_first_step(kwargs, error, match):
    model = _model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(error, match=match):
        fit(model, _data(), steps=2, progress=False, **kwargs)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())


@pytest.mark.parametrize("batch_size", [0, -1, 2.5])
def test_batch_size_must_be_a_positive_int(batch_size):
    with pytest.raises((ArgumentValueError, ArgumentTypeError), match="`batch_size` must be an int >= 1"):
        DerivativeMatching(_data(), batch_size=batch_size)


def test_fit_refuses_a_tuple_of_tensors():
    data = _data()
    with pytest.raises(ArgumentTypeError, match="`objective` must be a physwm.training.Objective"):
        fit(_model(), (data.ys, data.dydt), steps=1, progress=False)


def test_rollout_horizon_longer_than_the_data_is_a_value_error():
    with pytest.raises(ArgumentValueError, match="no gap-free window of 51 samples"):
        RolloutMatching(_data(), horizon=50)


def test_pinn_objective_arguments():
    with pytest.raises(ArgumentTypeError, match="`problem` must be a physwm.pde.PDEProblem"):
        PINNResidual("heat")
    problem = HeatEquation().pde_problem()
    with pytest.raises(ArgumentValueError, match=r"`weights\['boundary'\]` must be a finite number >= 0, got -5"):
        PINNResidual(problem, weights={"boundary": -5})
    with pytest.raises(ArgumentValueError, match=r"`weights` keys must be among"):
        PINNResidual(problem, weights={"boundry": 1.0})
    assert PINNResidual(problem, weights={"boundary": 5}).weights()["boundary"] == 5.0  # the check can fail


def _checkpointed(tmp_path, steps=3, width=8):
    path = tmp_path / "run.pt"
    fit(_model(width), _data(), steps=steps, checkpoint=path, progress=False)
    return path


def test_resume_with_fewer_steps_than_the_checkpoint_is_an_error(tmp_path):
    path = _checkpointed(tmp_path)
    with pytest.raises(ArgumentValueError, match=r"`steps`=2 is fewer than the 3 steps the checkpoint"):
        fit(_model(), _data(), steps=2, checkpoint=path, progress=False)
    # the check can fail: as many steps as the checkpoint resumes to a no-op
    assert fit(_model(), _data(), steps=3, checkpoint=path, progress=False).steps_run == 0


def test_resume_with_a_mismatched_optimiser_state_changes_nothing(tmp_path):
    path = _checkpointed(tmp_path)
    state = load_checkpoint(path)
    first = next(iter(state["optimizer"]["state"]))
    state["optimizer"]["state"][first]["exp_avg"] = torch.zeros(3)
    save_checkpoint(state, path)
    model = _model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(CheckpointError, match=r"optimiser state does not fit .*exp_avg of parameter"):
        fit(model, _data(), steps=5, checkpoint=path, progress=False)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())


def _first_moment(state):
    return state["optimizer"]["state"][next(iter(state["optimizer"]["state"]))]


@pytest.mark.parametrize("break_it, match", [
    (lambda st: _first_moment(st).pop("exp_avg"), r"parameter 0 lacks \['exp_avg'\]"),
    (lambda st: _first_moment(st).update(step="three"), "the step of parameter 0 is not a number"),
    (lambda st: st["optimizer"]["param_groups"][0].pop("lr"), r"group 0 lacks the settings \['lr'\]"),
    (lambda st: st["optimizer"]["param_groups"].append(dict(st["optimizer"]["param_groups"][0])), "2 parameter groups"),
    (lambda st: st["history"].pop("train_loss"), "training history"),
    (lambda st: st["history"].update(train_loss=5), "training history"),
    (lambda st: st["history"].update(terms={"derivative": 3}), "training history"),
    (lambda st: st["history"].update(best_val_loss="x"), "training history"),
    (lambda st: st["history"].update(train_loss=[1.0]), "training history"),  # 1 loss for 3 steps
])
def test_resume_checks_the_whole_state_and_changes_nothing(tmp_path, break_it, match):
    path = _checkpointed(tmp_path)
    state = load_checkpoint(path)
    break_it(state)
    save_checkpoint(state, path)
    model = _model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(CheckpointError, match=match):
        fit(model, _data(), steps=5, checkpoint=path, progress=False)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())


def test_resume_of_an_intact_checkpoint_continues(tmp_path):
    # the check can fail: the same checkpoint, unbroken, resumes to the end
    path = _checkpointed(tmp_path)
    result = fit(_model(), _data(), steps=5, checkpoint=path, progress=False)
    assert (result.steps, result.steps_run, len(result.train_loss)) == (5, 2, 5)


def test_resume_from_another_models_checkpoint(tmp_path):
    path = _checkpointed(tmp_path)
    with pytest.raises(CheckpointError, match="does not fit this model"):
        fit(_model(9), _data(), steps=5, checkpoint=path, progress=False)


def test_every_truncation_of_a_checkpoint_is_a_checkpoint_error_naming_the_file(tmp_path):
    path = tmp_path / "c.pt"
    save_checkpoint({"a": torch.randn(300), "b": {"c": [1, 2]}, "m": torch.randn(20, 20)}, path)
    raw = path.read_bytes()
    for cut in range(0, len(raw), 13):
        path.write_bytes(raw[:cut])
        with pytest.raises(CheckpointError, match=r"c\.pt.*truncated or corrupt"):
            load_checkpoint(path)


def test_checkpoint_mode_matches_torch_save(tmp_path):
    ours = save_checkpoint({"a": 1}, tmp_path / "ours.pt")
    torch.save({"a": 1}, tmp_path / "theirs.pt")
    assert os.stat(ours).st_mode & 0o777 == os.stat(tmp_path / "theirs.pt").st_mode & 0o777
    os.chmod(ours, 0o600)  # an existing checkpoint keeps its own mode
    save_checkpoint({"a": 2}, ours)
    assert os.stat(ours).st_mode & 0o777 == 0o600


_WRITER = """
import sys, torch
from physwm.training import save_checkpoint
big = {"w": torch.randn(4_000_000)}
print("ready", flush=True)
while True:
    save_checkpoint(big, sys.argv[1])
"""


def test_a_save_killed_midway_leaves_no_stray_file_after_the_next_save(tmp_path):
    path = tmp_path / "ck.pt"
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 60
        while not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"] and time.monotonic() < deadline:
            time.sleep(0.002)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    stray = [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"]
    assert stray, "the writer was killed outside a save: the test saw no temporary file"
    save_checkpoint({"w": torch.ones(2)}, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck.pt"]
    assert torch.equal(load_checkpoint(path)["w"], torch.ones(2))


def test_only_this_hosts_dead_writers_temporaries_are_removed(tmp_path):
    from physwm.training import checkpoint

    path = tmp_path / "ck.pt"
    mine = f"{checkpoint._temporary_prefix(path)}{checkpoint._HOST}"
    live = tmp_path / f"{mine}.{os.getppid()}.abc.tmp"  # the parent process is alive
    dead = tmp_path / f"{mine}.999999999.abc.tmp"  # above the kernel's pid limit: never a live process
    elsewhere = tmp_path / f"{checkpoint._temporary_prefix(path)}0badcafe.999999999.abc.tmp"  # another host's writer
    sibling = tmp_path / f"{checkpoint._temporary_prefix(tmp_path / 'ck.pt.1')}{checkpoint._HOST}.999999999.abc.tmp"
    for f in (live, dead, elsewhere, sibling):
        f.write_bytes(b"x")
    save_checkpoint({"w": torch.ones(2)}, path)
    assert live.exists() and elsewhere.exists() and sibling.exists() and not dead.exists()
