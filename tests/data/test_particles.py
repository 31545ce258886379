"""Particle datasets: the EGNN charged 5-body loader and the SEGNN gravity generator."""

from pathlib import Path

import numpy as np
import pytest
import torch

from physwm import DataFormatError
from physwm.data import NBODY_CHARGED_SPLITS, ParticleData, load_nbody_charged, make_gravity_dataset
from tests.conftest import data_root


@pytest.fixture
def charged_dir() -> Path:
    root = data_root()
    if root is None or not (root / "nbody-charged").is_dir():
        pytest.skip("nbody-charged data not found: set PHYSWM_DATA to a folder laid out like shared/data")
    return root / "nbody-charged"


@pytest.mark.parametrize("split", sorted(NBODY_CHARGED_SPLITS))
def test_charged_split_sizes_and_shapes_match_the_readme(charged_dir, split):
    data = load_nbody_charged(charged_dir, split)
    s = NBODY_CHARGED_SPLITS[split]
    assert len(data) == s
    assert data.x.shape == data.v.shape == data.target.shape == (s, 5, 3)
    assert data.properties.shape == (s, 5, 1)
    assert set(data.properties.unique().tolist()) <= {-1.0, 1.0}
    assert data.interval == pytest.approx(1.0)  # frames 30 -> 40, 0.1 time units apart


def test_charged_frame_slicing_and_axis_order(charged_dir):
    raw = np.load(charged_dir / "test.npz")
    data = load_nbody_charged(charged_dir, "test", frame_in=30, frame_out=40, max_samples=7)
    assert len(data) == 7
    # particle 2 of simulation 4: raw layout (S, frame, xyz, particle)
    assert np.allclose(data.x[4, 2].numpy(), raw["loc"][4, 30, :, 2])
    assert np.allclose(data.v[4, 2].numpy(), raw["vel"][4, 30, :, 2])
    assert np.allclose(data.target[4, 2].numpy(), raw["loc"][4, 40, :, 2])
    # physics of the generator: frames are 100 kick-drift steps of 0.001 apart, so over one frame the
    # velocity approximates the position change (median: close encounters are the exception)
    mid = load_nbody_charged(charged_dir, "test", frame_in=30, frame_out=31, max_samples=200)
    drift = (mid.target - mid.x) / 0.1
    assert float(((drift - mid.v) ** 2).sum(-1).median()) < 1e-2 * float((mid.v**2).sum(-1).median())
    # edges of a graph carry q_i q_j like the stored `edges` array
    g = data.graph(slice(0, 1))
    i, j = g.edge_index
    assert np.allclose(g.edge_attr.squeeze(-1).numpy(), raw["edges"][0][i.numpy(), j.numpy()])


def test_charged_loader_errors(charged_dir, tmp_path):
    with pytest.raises(ValueError, match="`split` must be one of"):
        load_nbody_charged(charged_dir, "training")
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        load_nbody_charged(tmp_path / "nope", "train")
    with pytest.raises(FileNotFoundError, match="no test.npz"):
        load_nbody_charged(tmp_path, "test")
    with pytest.raises(ValueError, match=r"`frame_out` must be an int >= 31 and <= 48, got 30"):
        load_nbody_charged(charged_dir, "test", frame_in=30, frame_out=30)
    with pytest.raises(ValueError, match=r"`frame_in` must be an int >= 0 and <= 47, got 49"):
        load_nbody_charged(charged_dir, "test", frame_in=49)
    with pytest.raises(TypeError, match=r"`max_samples` must be an int >= 1, got 2.5"):
        load_nbody_charged(charged_dir, "test", max_samples=2.5)
    np.savez(tmp_path / "test.npz", loc=np.zeros((2, 49, 5, 3)), vel=np.zeros((2, 49, 5, 3)), charges=np.zeros((2, 5, 1)))
    with pytest.raises(DataFormatError, match="shape \\(S, frames, 3, N\\)"):
        load_nbody_charged(tmp_path, "test")
    np.savez(tmp_path / "valid.npz", loc=np.zeros((2, 49, 3, 5)))
    with pytest.raises(DataFormatError, match="missing arrays \\['charges', 'vel'\\]"):
        load_nbody_charged(tmp_path, "valid")


def test_particle_data_checks_shapes():
    with pytest.raises(ValueError, match="`target` must have shape"):
        ParticleData(torch.zeros(2, 5, 3), torch.zeros(2, 5, 3), torch.zeros(2, 5, 1), torch.zeros(2, 4, 3))
    with pytest.raises(ValueError, match="`properties` must have shape"):
        ParticleData(torch.zeros(2, 5, 3), torch.zeros(2, 5, 3), torch.zeros(2, 5), torch.zeros(2, 5, 3))
    with pytest.raises(ValueError, match=r"`interval` must be a finite number > 0, got -1.0"):
        ParticleData(torch.zeros(2, 5, 3), torch.zeros(2, 5, 3), torch.zeros(2, 5, 1), torch.zeros(2, 5, 3), -1.0)


def _small_particle_data(n_sims=7, interval=0.1):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n_sims, 5, 3, generator=g, dtype=torch.float64)
    v = torch.randn(n_sims, 5, 3, generator=g, dtype=torch.float64)
    c = torch.where(torch.rand(n_sims, 5, 1, generator=g, dtype=torch.float64) < 0.5, 1.0, -1.0).double()
    return ParticleData(x, v, c, x + interval * v, interval)


def test_rollout_of_a_position_model():
    from physwm.models import EGNN, PairForceNet

    torch.manual_seed(0)
    model = EGNN(node_dim=1, edge_dim=1, hidden=8, layers=2).double()
    data = _small_particle_data()
    xs, vs = data.rollout(model, 3, batch_size=3)  # batches that do not divide the 7 systems
    assert xs.shape == vs.shape == (4, 7, 5, 3)
    assert torch.equal(xs[0], data.x) and torch.equal(vs[0], data.v)
    assert torch.equal(xs[1], data.predict(model, batch_size=3))  # the first step is the one-shot prediction
    assert torch.allclose(vs[1:], (xs[1:] - xs[:-1]) / data.interval)  # secant velocities
    # step 2 is the model applied to step 1's positions and secant velocities (h = |v| rebuilt)
    step1 = ParticleData(xs[1], vs[1], data.properties, xs[1], data.interval)
    assert torch.allclose(xs[2], step1.predict(model), atol=1e-14, rtol=0)
    assert not torch.allclose(xs[2], xs[1])
    with pytest.raises(ValueError, match="predicts positions"):
        data.rollout(PairForceNet(node_dim=1, edge_dim=1, hidden=(8,)).double(), 2)
    with pytest.raises(ValueError, match="`interval`"):
        ParticleData(data.x, data.v, data.properties, data.target).rollout(model, 2)
    with pytest.raises(ValueError, match=r"`steps` must be an int >= 1, got 0"):
        data.rollout(model, 0)


def test_gravity_dataset_follows_the_protocol_and_conserves_momentum():
    g = torch.Generator().manual_seed(0)
    data = make_gravity_dataset(3, n_bodies=20, frame_in=2, frame_out=3, generator=g, dtype=torch.float64)
    assert data.x.shape == data.target.shape == (3, 20, 3)
    assert torch.equal(data.properties, torch.ones(3, 20, 1, dtype=torch.float64))
    assert float(data.v.sum(1).abs().max()) < 1e-12  # centre-of-mass frame, momentum conserved by leapfrog
    knn = data.graph(graph=6)
    assert knn.edge_index.shape == (2, 3 * 20 * 6)
    assert data.interval == pytest.approx(1 * 100 * 0.001)  # one frame of 100 leapfrog steps
    with pytest.raises(ValueError, match=r"`frame_out` must be an int >= 4, got 3"):
        make_gravity_dataset(2, frame_in=3, frame_out=3)
