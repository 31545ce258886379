"""fit with ParticlePrediction: learning on the charged set, model selection, resumable checkpoints."""

import pytest
import torch

from physwm.data import load_nbody_charged
from physwm.diagnostics import particle_mse
from physwm.models import EGNN
from physwm.training import ParticlePrediction, fit
from tests.conftest import data_root

# the EGNN protocol (Satorras et al. 2021): batches of 100 systems, Adam at lr 5e-4, weight decay 1e-12
PROTOCOL = dict(lr=5e-4, weight_decay=1e-12, progress=False)


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
    # 12 epochs of 5 batches; validation once per epoch, ending with the best validation weights
    hist = fit(model, ParticlePrediction(train, batch_size=100), steps=60, val_data=val, eval_every=5, keep_best=True,
               **PROTOCOL)
    assert hist.train_loss[-1] < hist.train_loss[0] and list(hist.terms) == ["mse"]
    baseline = float(particle_mse(test.x + test.interval * test.v, test.target))  # 0.109 on the full test set
    mse = float(particle_mse(test.predict(model), test.target))
    assert mse < 0.6 * baseline, (mse, baseline)
    # the model ends with its best validation weights
    assert float(particle_mse(val.predict(model), val.target)) == pytest.approx(hist.best_val_loss, rel=1e-6)
    assert hist.best_val_loss == min(hist.val_loss) and hist.val_step == list(range(5, 61, 5))


def test_interrupted_training_resumes_to_the_same_weights(charged, tmp_path):
    train, val, _ = charged
    train = train.subset(200)
    ref = _egnn()
    fit(ref, train, steps=8, val_data=val, **PROTOCOL)  # ParticleData -> ParticlePrediction(batch_size=100)
    ckpt = tmp_path / "egnn.pt"
    part = _egnn()
    fit(part, train, steps=4, val_data=val, checkpoint=ckpt, **PROTOCOL)
    resumed = _egnn()
    hist = fit(resumed, train, steps=8, val_data=val, checkpoint=ckpt, **PROTOCOL)
    assert hist.steps == 8 and len(hist.train_loss) == 8 and hist.steps_run == 4
    for a, b in zip(ref.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)


def test_particle_mse_is_a_pure_tensor_function():
    pred, target = torch.zeros(2, 5, 3), torch.ones(2, 5, 3)
    assert float(particle_mse(pred, target)) == 1.0
    with pytest.raises(ValueError, match="same shape"):
        particle_mse(pred, target[:1])
    with pytest.raises(ValueError, match=r"\(\*batch, N, 3\)"):
        particle_mse(torch.zeros(2, 5, 2), torch.zeros(2, 5, 2))


def test_fit_particle_errors(charged):
    with pytest.raises(ValueError, match=r"`steps` must be an int >= 1, got 0"):
        fit(_egnn(), charged[0], steps=0)
    with pytest.raises(ValueError, match=r"`lr` must be a finite number > 0, got 0.0"):
        fit(_egnn(), charged[0], lr=0.0)
    with pytest.raises(ValueError, match=r"`graph` must be an int >= 1, got 0"):
        ParticlePrediction(charged[0], graph=0)
    with pytest.raises(TypeError, match="`data` must be a physwm.data.ParticleData"):
        ParticlePrediction(charged[0].x)
    with pytest.raises(TypeError, match="`val_data` must be a physwm.data.ParticleData"):
        fit(_egnn(), ParticlePrediction(charged[0].subset(10)), steps=1, val_data=charged[0].x, progress=False)
