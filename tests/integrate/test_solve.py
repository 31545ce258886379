"""Behaviour of solve: shapes, batching, dtypes, exact output times, direction, counts."""

import pytest
import torch

import physwm
from physwm.integrate import step_plan
from physwm.systems import HarmonicOscillator, Kepler

OSC = HarmonicOscillator(m=2.0, k=3.0)


@pytest.mark.parametrize("method", physwm.integrate.methods())
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_batched_shapes_and_dtype(method, dtype):
    y0 = OSC.sample_initial_state(6, generator=torch.Generator().manual_seed(1), dtype=dtype).reshape(2, 3, 2)
    t = torch.linspace(0, 1, 4)
    sol = physwm.solve(OSC, y0, t, method=method, dt=0.05)
    assert sol.ys.shape == (4, 2, 3, 2) and sol.ys.dtype == dtype and sol.t.dtype == dtype
    assert torch.equal(sol.ys[0], y0)
    exact = OSC.exact_solution(sol.t.double(), y0.double())
    tol = 0.1 if method in ("euler", "symplectic_euler") else 1e-3
    assert float((sol.ys.double() - exact).abs().max()) < tol


def test_output_times_not_multiples_of_dt_are_hit_exactly():
    t = torch.tensor([0.0, 0.13, 0.5, 1.37], dtype=torch.float64)
    plan = step_plan(t.tolist(), 0.1)
    assert [n for n, _ in plan] == [2, 4, 9]
    assert all(abs(h) <= 0.1 + 1e-15 for _, h in plan)
    y0 = torch.tensor([1.0, 0.5], dtype=torch.float64)
    for method in ("leapfrog", "rk4", "dopri5"):
        sol = physwm.solve(OSC, y0, t, method=method, dt=0.001)
        assert float((sol.ys - OSC.exact_solution(t, y0)).abs().max()) < 1e-5
        assert sol.n_steps >= 137


def test_backward_in_time_returns_to_start():
    kep = Kepler()
    y0 = kep.orbit_state(0.4)
    t = torch.tensor([0.0, 3.0], dtype=torch.float64)
    for method in ("yoshida4", "rk4", "implicit_midpoint"):
        y1 = physwm.solve(kep, y0, t, method=method, dt=0.01).ys[-1]
        back = physwm.solve(kep, y1, t.flip(0) , method=method, dt=-0.01).ys[-1]
        assert float((back - y0).abs().max()) < 1e-6


def test_symmetric_methods_are_time_reversible_to_round_off():
    kep = Kepler()
    y0 = kep.orbit_state(0.4)
    t = torch.tensor([0.0, 2.0], dtype=torch.float64)
    y1 = physwm.solve(kep, y0, t, method="leapfrog", dt=0.01).ys[-1]
    back = physwm.solve(kep, y1, t.flip(0), method="leapfrog", dt=-0.01).ys[-1]
    assert float((back - y0).abs().max()) < 1e-12


def test_counts():
    y0 = torch.tensor([1.0, 0.0], dtype=torch.float64)
    t = torch.linspace(0, 1, 11, dtype=torch.float64)
    assert physwm.solve(OSC, y0, t, method="leapfrog", dt=0.01).n_fevals == 101  # FSAL: one force per step
    assert physwm.solve(OSC, y0, t, method="yoshida4", dt=0.01).n_fevals == 301
    assert physwm.solve(OSC, y0, t, method="rk4", dt=0.01).n_steps == 100
    sol = physwm.solve(OSC, y0, t, method="dopri5")
    assert sol.n_steps > 0 and sol.n_fevals >= 6 * sol.n_steps and "n_rejected" in sol.stats


def test_plain_function_dynamics_and_list_times():
    sol = physwm.solve(lambda t, y: -y, torch.ones(3, dtype=torch.float64), [0.0, 1.0], method="rk4", dt=0.01)
    assert torch.allclose(sol.ys[-1], torch.full((3,), torch.e**-1, dtype=torch.float64), atol=1e-9)


def test_methods_registry_flags():
    from physwm.integrate import get_method

    assert get_method("leapfrog").symplectic and not get_method("leapfrog").adaptive
    assert get_method("dopri5").adaptive and not get_method("dopri5").symplectic
    from physwm._typing import Dynamics, SeparableHamiltonian

    assert get_method("implicit_midpoint").requires is Dynamics and not get_method("implicit_midpoint").supports_adjoint
    assert get_method("yoshida6").requires is SeparableHamiltonian and get_method("yoshida6").order == 6
    assert get_method("rk4").supports_adjoint and get_method("dopri8").supports_adjoint


@pytest.mark.cuda
@pytest.mark.parametrize("method", physwm.integrate.methods())
def test_cuda_matches_cpu(method):
    y0 = OSC.sample_initial_state(8, generator=torch.Generator().manual_seed(0))
    t = torch.linspace(0, 1, 5, dtype=torch.float64)
    cpu = physwm.solve(OSC, y0, t, method=method, dt=0.05).ys
    gpu = physwm.solve(OSC, y0.cuda(), t.cuda(), method=method, dt=0.05).ys
    assert gpu.device.type == "cuda" and torch.allclose(gpu.cpu(), cpu, atol=1e-10)
