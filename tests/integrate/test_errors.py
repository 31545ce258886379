"""Every documented input error, with its message; tests/fuzz/test_fuzz_optimized.py runs this file again under python -O."""


import pytest
import torch

import physwm
from physwm import IntegrationError, NotSeparableError
from physwm.models import HNN
from physwm.systems import HarmonicOscillator, Pendulum

OSC = HarmonicOscillator()
Y0 = torch.tensor([1.0, 0.0], dtype=torch.float64)
T = torch.linspace(0, 1, 5, dtype=torch.float64)


def test_non_finite_y0():
    with pytest.raises(ValueError, match="`y0` must be finite"):
        physwm.solve(OSC, torch.tensor([float("nan"), 0.0]), T)


def test_y0_not_a_tensor_or_integer():
    with pytest.raises(TypeError, match="`y0` must be a torch.Tensor"):
        physwm.solve(OSC, [1.0, 0.0], T)
    with pytest.raises(TypeError, match="floating dtype"):
        physwm.solve(OSC, torch.tensor([1, 0]), T)


def test_t_not_1d():
    with pytest.raises(ValueError, match="`t` must be 1-D"):
        physwm.solve(OSC, Y0, T.reshape(5, 1))


def test_t_not_monotone():
    with pytest.raises(ValueError, match="strictly monotone"):
        physwm.solve(OSC, Y0, torch.tensor([0.0, 1.0, 0.5]))
    with pytest.raises(ValueError, match="strictly monotone"):
        physwm.solve(OSC, Y0, torch.tensor([0.0, 1.0, 1.0]))


def test_t_too_short():
    with pytest.raises(ValueError, match="at least 2 times"):
        physwm.solve(OSC, Y0, torch.tensor([0.0]))


@pytest.mark.parametrize("dt", [0.0, -0.1, float("nan")])
def test_bad_dt_forward(dt):
    with pytest.raises(ValueError, match="`dt`"):
        physwm.solve(OSC, Y0, T, method="leapfrog", dt=dt)


def test_dt_pointing_the_wrong_way_backward():
    with pytest.raises(ValueError, match="points the wrong way"):
        physwm.solve(OSC, Y0, -T, method="rk4", dt=0.1)


@pytest.mark.parametrize("name", ["rtol", "atol"])
def test_negative_tolerance(name):
    with pytest.raises(ValueError, match=f"`{name}` must be a finite number >= 0"):
        physwm.solve(OSC, Y0, T, **{name: -1e-6})


def test_unknown_method_lists_valid_names():
    with pytest.raises(ValueError, match="unknown `method` 'rk45'.*dopri5.*leapfrog.*yoshida4"):
        physwm.solve(OSC, Y0, T, method="rk45")


@pytest.mark.parametrize("method", ["rk4", "dopri5", "implicit_midpoint", "euler"])
def test_shape_mismatch_between_f_and_y0(method):
    with pytest.raises(ValueError, match=r"`f\(t, y\)` must return the shape of the state \(2,\), got \(3,\)"):
        physwm.solve(lambda t, y: torch.zeros(3, dtype=y.dtype), Y0, T, method=method, dt=0.1)


@pytest.mark.parametrize("method", ["rk4", "dopri5", "implicit_midpoint"])
def test_wrong_shape_part_way_is_caught_where_it_happens(method):
    """A field that returns a broadcastable wrong shape after the first call: every call is checked."""
    f = lambda t, y: -y if float(t) < 0.55 else (-y)[..., :1]  # noqa: E731
    with pytest.raises(ValueError, match="must return the shape of the state"):
        physwm.solve(f, Y0, torch.linspace(0, 1, 11, dtype=torch.float64), method=method, dt=0.1)


def test_solve_evaluates_no_extra_probe():
    """No evaluation of f before stepping: rk4 costs exactly 4 evaluations per step."""
    calls = []
    sol = physwm.solve(lambda t, y: calls.append(1) or -y, Y0, torch.linspace(0, 1, 3, dtype=torch.float64),
                       method="rk4", dt=0.1)
    assert len(calls) == sol.n_fevals == 4 * sol.n_steps == 40


def test_explicit_symplectic_needs_separable_hamiltonian():
    model = HNN(dof=1, hidden=(4,)).double()
    with pytest.raises(NotSeparableError, match="needs a separable Hamiltonian.*got HNN") as info:
        physwm.solve(model, Y0, T, method="leapfrog", dt=0.1)
    assert isinstance(info.value, TypeError)
    with pytest.raises(TypeError, match="separable"):
        physwm.solve(lambda t, y: y, Y0, T, method="yoshida4", dt=0.1)


def test_adjoint_only_for_runge_kutta():
    with pytest.raises(ValueError, match="adjoint=True"):
        physwm.solve(OSC, Y0, T, method="leapfrog", dt=0.1, adjoint=True)


@pytest.mark.parametrize("method", ["rk4", "dopri5", "implicit_midpoint", "leapfrog"])
def test_blow_up_raises_integration_error_with_t_step_dt(method):
    # y' = y^2 from y0 = 1 blows up at t = 1; the separable analogue is V = -q^3 (force 3q^2)
    class Blowup:
        def kinetic(self, p):
            return 0.5 * (p**2).sum(-1)

        def potential(self, q):
            return -(q**4).sum(-1)

        def __call__(self, t, y):
            return torch.cat([y[..., 1:], 4 * y[..., :1] ** 3], -1) if y.shape[-1] == 2 else y**2

    y0 = torch.tensor([1.0, 1.0], dtype=torch.float64)
    t = torch.tensor([0.0, 50.0], dtype=torch.float64)
    kwargs = {"dt": 0.01} if method != "dopri5" else {}
    with pytest.raises(IntegrationError) as info:
        physwm.solve(Blowup(), y0, t, method=method, max_steps=100_000, **kwargs)
    err = info.value
    assert 0.0 <= err.t < 50.0 and err.step >= 0 and err.dt != 0.0
    assert "t=" in str(err) and "step" in str(err) and "dt=" in str(err)


def test_implicit_midpoint_non_convergence_is_reported():
    stiff = lambda t, y: -1e4 * y  # noqa: E731  h L / 2 = 50: fixed point diverges
    with pytest.raises(IntegrationError, match="did not converge|non-finite"):
        physwm.solve(stiff, Y0, T, method="implicit_midpoint", dt=0.01)


def test_bad_method_options():
    with pytest.raises(ValueError, match="`implicit_tol` must be a finite number > 0"):
        physwm.solve(Pendulum(), Y0, T, method="implicit_midpoint", dt=0.1, implicit_tol=-1.0)
    with pytest.raises(TypeError, match="takes no options"):
        physwm.solve(Pendulum(), Y0, T, method="leapfrog", dt=0.1, implicit_tol=1e-3)
