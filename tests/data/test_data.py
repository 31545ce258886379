import pytest
import torch

from physwm import DataFormatError
from physwm.data import SCHMIDT_LIPSON_FILES, TrajectoryData, load_schmidt_lipson, make_trajectories
from physwm.systems import DampedPendulum, Duffing, Pendulum


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


@pytest.mark.parametrize("name", SCHMIDT_LIPSON_FILES)
def test_shipped_files_load_by_name_and_match_the_shared_copy(data_dir, name):
    shipped = load_schmidt_lipson(name)
    assert torch.equal(shipped.ys, load_schmidt_lipson(name[:-4]).ys)  # with or without .txt
    copy = load_schmidt_lipson(data_dir / "schmidt-lipson" / name)
    assert torch.equal(shipped.t, copy.t) and torch.equal(shipped.ys, copy.ys) and torch.equal(shipped.dydt, copy.dydt)


def test_default_file_is_the_real_pendulum():
    d = load_schmidt_lipson()
    assert d.ys.shape == (556, 1, 2) and len(d.gaps()) == 10


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
    with pytest.raises(FileNotFoundError, match="shipped names"):
        load_schmidt_lipson("real_pend_h_2.txt")
    bad = tmp_path / "bad.txt"
    bad.write_text("0 1 2 3\n")
    with pytest.raises(DataFormatError, match="starting with '%'"):
        load_schmidt_lipson(bad)
    short = tmp_path / "short.txt"
    short.write_text("% a b c\n0 0.0 1.0\n0 0.1 1.0\n")
    with pytest.raises(DataFormatError, match="at least 5 columns"):
        load_schmidt_lipson(short)
    with pytest.raises(ValueError, match=r"`derivative` must be one of 'central', 'forward', 'measured', got 'backward'"):
        load_schmidt_lipson(short, derivative="backward")
    with pytest.raises(TypeError, match=r"`trial` must be an int >= 0, got 1.0"):
        load_schmidt_lipson(short, trial=1.0)


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


def test_samples_carry_their_own_time():
    d = make_trajectories(Pendulum(), 3, torch.linspace(0, 2, 5, dtype=torch.float64),
                          generator=torch.Generator().manual_seed(0))
    s = d.samples()
    assert s.t.shape == (15,) and s.y.shape == s.dydt.shape == (15, 2) and s.u is None and len(s) == 15
    # time-major: sample k * B + b is trajectory b at time t_k
    assert torch.equal(s.t, d.t.repeat_interleave(3))
    assert torch.equal(s.y[7], d.ys[2, 1]) and torch.equal(s.dydt[7], d.dydt[2, 1])
    part = s.take(torch.tensor([7, 0]))
    assert torch.equal(part.t, s.t[[7, 0]]) and torch.equal(part.y, s.y[[7, 0]])


def test_forced_system_is_labelled_at_each_sample_time():
    duffing = Duffing.chaotic()
    t = torch.linspace(0, 3, 13, dtype=torch.float64)
    d = make_trajectories(duffing, 2, t, generator=torch.Generator().manual_seed(0))
    for k in (0, 5, 12):
        assert torch.allclose(d.dydt[k], duffing(t[k], d.ys[k]), atol=1e-14, rtol=0)
    assert not torch.allclose(d.dydt[5], duffing(torch.tensor(0.0), d.ys[5]))  # the forcing depends on time
    s = d.samples()
    assert torch.allclose(s.dydt, duffing(s.t, s.y), atol=1e-14, rtol=0)


def test_trajectories_with_actions_keep_the_samples_an_action_acts_on():
    t = torch.linspace(0, 1, 6, dtype=torch.float64)
    sys = DampedPendulum(b=0.3)
    u = torch.linspace(-1, 1, 5 * 2, dtype=torch.float64).reshape(5, 2, 1)
    d = make_trajectories(sys, 2, t, action=u, generator=torch.Generator().manual_seed(0))
    assert d.ys.shape == (5, 2, 2) and d.actions.shape == (5, 2, 1) and torch.equal(d.t, t[:-1])
    assert torch.allclose(d.dydt, sys(d.t.reshape(-1, 1), d.ys, u))  # f(t_k, y_k, u_k)
    s = d.samples()
    assert s.u.shape == (10, 1) and torch.equal(s.u, u.reshape(10, 1))
    free = make_trajectories(sys, 2, t, y0=d.ys[0])
    assert not torch.allclose(free.ys[1:5], d.ys[1:])  # the actions did act


def test_window_starts_skip_gaps():
    t = torch.tensor([0.0, 0.1, 0.2, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9], dtype=torch.float64)  # a frame missing at 0.4
    ys = torch.zeros(9, 1, 2, dtype=torch.float64)
    d = TrajectoryData(t, ys, ys)
    assert d.window_starts(2).tolist() == [0, 1, 4, 5, 6]
    assert d.window_starts(4).tolist() == [4]
    assert d.window_starts(8).tolist() == []
    assert d.gaps().tolist() == [3]
