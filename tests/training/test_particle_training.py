"""fit_particles: learning on the charged set, model selection, resumable checkpoints."""

import pytest
import torch

from physwm.data import load_nbody_charged
from physwm.models import EGNN
from physwm.training import fit_particles, particle_mse
from tests.conftest import data_root


@pytest.fixture(scope="module")
def charged():
    root = data_root()
    if root is None or not (root / "nbody-charged").is_dir():
        pytest.skip("nbody-charged data not found")
    folder = root / "nbody-charged"
    return (load_nbody_charged(folder, "train", max_samples=500), load_nbody_charged(folder, "valid", max_samples=200),
            load_nbody_charged(folder, "test", max_samples=500))


def _egnn():
    torch.manual_seed(0)
    return EGNN(node_dim=1, edge_dim=1, hidden=32, layers=3)


def test_egnn_beats_constant_velocity_after_a_short_budget(charged):
    train, val, test = charged
    model = _egnn()
    hist = fit_particles(model, train, val=val, epochs=12, progress=False)
    assert hist.train_loss[-1] < hist.train_loss[0]
    baseline = float(((test.x + test.v - test.target) ** 2).mean())  # 0.109 on the full test set
    mse = particle_mse(model, test)
    assert mse < 0.6 * baseline, (mse, baseline)
    # the model ends with its best validation weights
    assert particle_mse(model, val) == pytest.approx(hist.best_val_loss, rel=1e-6)
    assert hist.best_val_loss == min(hist.val_loss)


def test_interrupted_training_resumes_to_the_same_weights(charged, tmp_path):
    train, val, _ = charged
    train = train.subset(200)
    ref = _egnn()
    fit_particles(ref, train, val=val, epochs=4, progress=False)
    ckpt = tmp_path / "egnn.pt"
    part = _egnn()
    fit_particles(part, train, val=val, epochs=2, checkpoint=ckpt, progress=False)
    resumed = _egnn()
    hist = fit_particles(resumed, train, val=val, epochs=4, checkpoint=ckpt, progress=False)
    assert hist.epochs == 4 and len(hist.train_loss) == 4
    for a, b in zip(ref.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)


def test_fit_particles_errors(charged):
    with pytest.raises(ValueError, match="`epochs` must be a positive int"):
        fit_particles(_egnn(), charged[0], epochs=0)
    with pytest.raises(ValueError, match="`lr` must be positive"):
        fit_particles(_egnn(), charged[0], lr=0.0)
