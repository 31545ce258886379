"""Property tests of the loaders and datasets: random file contents (text with NaN tokens, garbage bytes,
truncations), random arrays in ``.npz`` archives, random fields of ``TrajectoryData``/``ParticleData``.
Each loads into finite tensors of the documented shapes, or raises a physwm error naming the file or field."""

import io
import math
import tempfile
from pathlib import Path

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st

from physwm.data import ParticleData, TrajectoryData, load_nbody_charged, load_schmidt_lipson, schmidt_lipson_path
from tests.fuzz.oracle import check_call, mostly, not_tensors, tensors

PENDULUM = schmidt_lipson_path("real_pend_h_1.txt").read_text().splitlines()
tokens = st.sampled_from(["nan", "inf", "-inf", "1e400", "x", "", "0", "1.5", "-2"])


@st.composite
def pendulum_files(draw):
    kind = draw(st.sampled_from(["intact", "intact", "edited", "bytes", "truncated", "header only"]))
    if kind == "bytes":
        return draw(st.binary(max_size=64))
    lines = list(PENDULUM[: draw(st.integers(1, 40))])
    if kind in ("edited", "intact") and draw(st.booleans()):  # some intact files carry a derivative-free tail
        lines = [" ".join(r.split()[:4]) for r in lines]
    if kind == "edited":
        for _ in range(draw(st.integers(0, 3))):
            i = draw(st.integers(0, len(lines) - 1))
            row = lines[i].split()
            if row:
                row[draw(st.integers(0, len(row) - 1))] = draw(tokens)
            lines[i] = " ".join(row)
    text = ("\n".join(lines) + "\n").encode()
    if kind == "truncated":
        text = text[: draw(st.integers(0, len(text)))]
    if kind == "header only":
        text = text.splitlines()[0]
    return text


@given(content=pendulum_files(), derivative=mostly(st.sampled_from(["central", "forward", "measured"]), st.just("spline")),
       trial=mostly(st.just(0), st.one_of(st.integers(-1, 2), st.floats(0, 1))))
def test_schmidt_lipson_loader(content, derivative, trial):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzzed.txt"
        path.write_bytes(content)

        def shape(data):
            assert data.ys.dim() == 3 and data.ys.shape[1:] == (1, 2) and data.dydt.shape == data.ys.shape
            assert data.t.shape == data.ys.shape[:1]

        check_call(lambda: load_schmidt_lipson(path, trial=trial, derivative=derivative),
                   ["fuzzed.txt", "`derivative`", "`trial`"], finite_input=True, check=shape)


arrays = mostly(
    st.tuples(st.integers(1, 3), st.integers(1, 4)).map(lambda s: np.random.default_rng(s[0]).normal(size=(s[0], 49, 3, s[1]))),
    st.sampled_from([np.zeros((2, 3)), np.array(["a", "b"]), np.full((1, 49, 3, 5), np.nan)]),
)


@given(loc=arrays, vel_like_loc=mostly(st.just(True), st.just(False)), charges_ok=mostly(st.just(True), st.just(False)),
       cut=mostly(st.none(), st.integers(0, 2000)),
       frames=mostly(st.sampled_from([(30, 40), (0, 48)]), st.sampled_from([(40, 30), (30, 49), (-1, 3)])))
def test_charged_loader(loc, vel_like_loc, charges_ok, cut, frames):
    buffer = io.BytesIO()
    s, n = (loc.shape[0], loc.shape[-1]) if loc.ndim == 4 else (1, 5)
    vel = np.zeros_like(loc) if vel_like_loc else np.zeros((1, 2))
    charges = np.ones((s, n, 1)) if charges_ok else np.ones((s, n))
    np.savez(buffer, loc=loc, vel=vel, charges=charges)
    raw = buffer.getvalue() if cut is None else buffer.getvalue()[:cut]
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "test.npz").write_bytes(raw)

        def shape(data):
            assert data.x.shape == data.v.shape == data.target.shape == (s, n, 3) and data.x.dtype == torch.float32

        check_call(lambda: load_nbody_charged(folder, "test", frame_in=frames[0], frame_out=frames[1]),
                   ["test.npz", "`frame_in`", "`frame_out`"], finite_input=True, check=shape)


@given(t=mostly(tensors(shape=(4,), dtype=torch.float64, finite_probability=0.95), st.one_of(tensors(), not_tensors())),
       ys=mostly(tensors(shape=(4, 2, 2), dtype=torch.float64, finite_probability=0.95), tensors()),
       dydt=mostly(tensors(shape=(4, 2, 2), dtype=torch.float64, finite_probability=0.95), tensors()))
def test_trajectory_data(t, ys, dydt):
    check_call(lambda: TrajectoryData(t, ys, dydt), ["`t`", "`ys`", "`dydt`", "TrajectoryData needs"], finite_input=True)


@given(x=mostly(tensors(shape=(2, 3, 3), dtype=torch.float64, finite_probability=0.95), tensors()),
       properties=mostly(tensors(shape=(2, 3, 1), dtype=torch.float64, finite_probability=0.95),
                         st.one_of(tensors(), not_tensors())),
       interval=mostly(st.one_of(st.none(), st.floats(0.01, 1)), st.sampled_from([0.0, -1.0, math.nan])))
def test_particle_data(x, properties, interval):
    check_call(lambda: ParticleData(x, torch.zeros(2, 3, 3, dtype=torch.float64), properties,
                                    torch.zeros(2, 3, 3, dtype=torch.float64), interval),
               ["`x`", "`v`", "`properties`", "`target`", "`interval`"], finite_input=True)
