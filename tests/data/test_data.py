import pytest
import torch

from physwm import DataFormatError
from physwm.data import TrajectoryData, load_schmidt_lipson, make_trajectories
from physwm.systems import Pendulum


def test_real_pendulum_loader(data_dir):
    path = data_dir / "schmidt-lipson" / "real_pend_h_1.txt"
    d = load_schmidt_lipson(path)
    assert d.ys.shape == (556, 1, 2) and d.dydt.shape == (556, 1, 2)
    assert len(d.gaps()) == 10  # missing frames, found from the real time stamps
    f = load_schmidt_lipson(path, derivative="forward")
    assert f.ys.shape == (555, 1, 2)
    i = int(d.gaps()[0])
    dt = float(d.t[i + 1] - d.t[i])
    assert dt > 0.3  # at least one missing frame of 1/6 s; the difference spans the true duration
    assert torch.allclose(f.dydt[i, 0], (d.ys[i + 1, 0] - d.ys[i, 0]) / dt)
    train, test = f.split_time(0.8)
    assert len(train) == 444 and len(test) == 111 and float(train.t[-1]) < float(test.t[0])


def test_double_pendulum_trials(data_dir):
    path = data_dir / "schmidt-lipson" / "real_double_pend_h_1.txt"
    assert load_schmidt_lipson(path, trial=0).ys.shape == (819, 1, 4)
    assert load_schmidt_lipson(path, trial=1).ys.shape == (701, 1, 4)
    with pytest.raises(DataFormatError, match="trial 5 not present; trials are \\[0, 1\\]"):
        load_schmidt_lipson(path, trial=5)


def test_central_differences_are_second_order_on_a_non_uniform_grid(tmp_path):
    t = torch.cumsum(torch.tensor([0.0] + [0.01, 0.03] * 100, dtype=torch.float64), 0)
    rows = "\n".join(f"0 {float(x):.17g} {float(torch.sin(x)):.17g} {float(torch.cos(x)):.17g}" for x in t)
    path = tmp_path / "f.txt"
    path.write_text("% o v\n" + rows + "\n")
    d = load_schmidt_lipson(path)
    err = (d.dydt[1:-1, 0, 0] - torch.cos(d.t[1:-1])).abs().max()
    assert float(err) < 2e-4


def test_loader_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no Schmidt-Lipson data file"):
        load_schmidt_lipson(tmp_path / "missing.txt")
    bad = tmp_path / "bad.txt"
    bad.write_text("0 1 2 3\n")
    with pytest.raises(DataFormatError, match="starting with '%'"):
        load_schmidt_lipson(bad)
    short = tmp_path / "short.txt"
    short.write_text("% a b c\n0 0.0 1.0\n0 0.1 1.0\n")
    with pytest.raises(DataFormatError, match="at least 5 columns"):
        load_schmidt_lipson(short)
    with pytest.raises(ValueError, match="`derivative`"):
        load_schmidt_lipson(short, derivative="backward")


def test_make_trajectories_has_exact_derivatives():
    pend = Pendulum()
    d = make_trajectories(pend, 4, torch.linspace(0, 2, 21, dtype=torch.float64),
                          generator=torch.Generator().manual_seed(0))
    assert d.ys.shape == (21, 4, 2)
    assert torch.allclose(d.dydt, pend(torch.tensor(0.0), d.ys))
    E = pend.energy(d.ys)
    assert float((E - E[0]).abs().max()) < 1e-8
    a, b = d.split_trajectories(3)
    assert a.ys.shape[1] == 3 and b.ys.shape[1] == 1
    with pytest.raises(ValueError, match="TrajectoryData needs"):
        TrajectoryData(d.t, d.ys[0], d.dydt)
