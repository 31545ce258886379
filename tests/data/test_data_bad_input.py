"""Regressions of the hostile-input review of the loaders and datasets: NaN/inf rows, empty, truncated
and binary files are refused with a physwm error that names the file (or the field)."""

import math

import numpy as np
import pytest
import torch

from physwm import ArgumentTypeError, ArgumentValueError, DataFormatError
from physwm.data import ParticleData, TrajectoryData, load_nbody_charged, load_schmidt_lipson, schmidt_lipson_path


def _trajectories(**change):
    fields = dict(t=torch.linspace(0, 1, 4), ys=torch.zeros(4, 2, 2), dydt=torch.zeros(4, 2, 2))
    fields.update(change)
    return TrajectoryData(**fields)


@pytest.mark.parametrize("field", ["t", "ys", "dydt"])
def test_trajectory_data_refuses_non_finite_entries(field):
    bad = _trajectories().__dict__[field].clone()
    bad.view(-1)[1] = math.inf if field == "t" else math.nan
    with pytest.raises(ArgumentValueError, match=rf"`{field}` must be finite, got 1 NaN or inf entries"):
        _trajectories(**{field: bad})


def test_trajectory_data_refuses_mixed_dtypes():
    with pytest.raises(ArgumentTypeError, match="`dydt` must have the dtype of `ys`"):
        _trajectories(dydt=torch.zeros(4, 2, 2, dtype=torch.float64))


def test_particle_data_refuses_non_finite_positions():
    x = torch.zeros(2, 3, 3)
    x[1, 2, 0] = math.nan
    with pytest.raises(ArgumentValueError, match="`x` must be finite"):
        ParticleData(x=x, v=torch.zeros(2, 3, 3), properties=torch.ones(2, 3, 1), target=torch.zeros(2, 3, 3))


def _pendulum_copy(tmp_path, edit):
    lines = schmidt_lipson_path("real_pend_h_1.txt").read_text().splitlines()
    edit(lines)
    path = tmp_path / "pend.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_schmidt_lipson_refuses_nan_state_and_names_the_file_and_row(tmp_path):
    def put_nan(lines):
        row = lines[5].split()
        row[2] = "nan"
        lines[5] = " ".join(row)

    path = _pendulum_copy(tmp_path, put_nan)
    with pytest.raises(DataFormatError, match=r"pend\.txt: NaN or inf .* of 1 rows \(data rows \[5\]"):
        load_schmidt_lipson(path)
    # the check can fail: the same copy without the edit loads
    assert load_schmidt_lipson(_pendulum_copy(tmp_path, lambda lines: None)).ys.shape == (556, 1, 2)


def test_schmidt_lipson_binary_file_is_a_format_error(tmp_path):
    path = tmp_path / "binary.txt"
    path.write_bytes(b"%x y\n\xff\xfe\x00\x81")
    with pytest.raises(DataFormatError, match=r"binary\.txt: not a text file"):
        load_schmidt_lipson(path)


def _charged_folder(tmp_path, *, loc_nan=False, cut=None):
    loc = np.random.default_rng(0).normal(size=(2, 49, 3, 5))
    if loc_nan:
        loc[0, 30, 0, 0] = np.nan
    np.savez(tmp_path / "test.npz", loc=loc, vel=np.zeros_like(loc), charges=np.ones((2, 5, 1)))
    if cut is not None:
        raw = (tmp_path / "test.npz").read_bytes()
        (tmp_path / "test.npz").write_bytes(raw[:cut])
    return tmp_path


def test_charged_loader_refuses_nan_and_names_the_file(tmp_path):
    with pytest.raises(DataFormatError, match=r"test\.npz: `loc` holds 1 NaN or inf entries"):
        load_nbody_charged(_charged_folder(tmp_path, loc_nan=True), "test")


@pytest.mark.parametrize("cut", [0, 10, 500, 3000])
def test_charged_loader_empty_or_truncated_file_is_a_format_error(tmp_path, cut):
    with pytest.raises(DataFormatError, match=r"test\.npz: not a readable \.npz archive"):
        load_nbody_charged(_charged_folder(tmp_path, cut=cut), "test")


def test_charged_loader_reads_the_intact_file(tmp_path):
    data = load_nbody_charged(_charged_folder(tmp_path), "test")
    assert data.x.shape == (2, 5, 3) and data.x.dtype == torch.float32
