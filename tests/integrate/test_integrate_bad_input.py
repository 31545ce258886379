"""Regressions of the hostile-input review of ``solve`` (valid use that failed, silent wrong answers,
misleading messages): each case as it was reported, with the answer it must get now."""

import math

import pytest
import torch

import physwm
from physwm import ArgumentTypeError, ArgumentValueError, IntegrationError
from physwm.integrate import rollout, step_plan
from physwm.models import SeparableHNN
from physwm.systems import HarmonicOscillator

T = torch.linspace(0, 1, 5, dtype=torch.float64)


def decay(t, y):
    return -y


@pytest.mark.parametrize("method", ["rk4", "dopri5", "euler", "implicit_midpoint", "leapfrog"])
def test_gradient_with_respect_to_y0_through_a_separable_hnn(method):
    torch.manual_seed(0)
    model = SeparableHNN(1, hidden=(8,)).double()
    y0 = torch.randn(2, dtype=torch.float64, requires_grad=True)
    physwm.solve(model, y0, T, method=method, dt=0.1).ys[-1].sum().backward()
    assert y0.grad is not None and bool(torch.isfinite(y0.grad).all()) and float(y0.grad.abs().sum()) > 0


def test_float32_time_grid_keeps_one_step_per_dt():
    osc = HarmonicOscillator()
    y0 = torch.tensor([1.0, 0.0])
    assert physwm.solve(osc, y0, torch.linspace(0, 2, 21), method="leapfrog", dt=0.1).n_steps == 20
    # on a long float32 grid the spacing is 0.1 +- 1e-5: still one step per interval, none halved
    plan = step_plan(torch.linspace(0, 100, 1001).tolist(), 0.1, torch.float32)
    assert {n for n, _ in plan} == {1}
    assert physwm.solve(osc, y0, torch.linspace(0, 100, 1001), method="leapfrog", dt=0.1).n_steps == 1000


def test_step_plan_slack_does_not_swallow_a_real_extra_step():
    # the check can fail: a spacing 1% longer than dt needs two steps in either dtype
    for dtype in (torch.float32, torch.float64):
        assert step_plan([0.0, 0.101], 0.1, dtype)[0][0] == 2


def test_tiny_dt_is_a_clear_error_not_an_overflow():
    with pytest.raises(ArgumentValueError, match=r"`dt`=1e-320 needs inf steps.*max_steps"):
        physwm.solve(HarmonicOscillator(), torch.ones(2), [0.0, 1.0], method="leapfrog", dt=1e-320)
    with pytest.raises(ArgumentValueError, match="max_steps"):
        physwm.solve(decay, torch.ones(2), [0.0, 1.0], method="rk4", dt=1e-3, max_steps=10)


def test_field_returning_another_dtype_is_refused_by_every_method():
    def f(t, y):
        return (-y).double()

    for method in ("rk4", "dopri5", "implicit_midpoint", "euler"):
        with pytest.raises(ArgumentTypeError, match=r"`f\(t, y\)` must return the dtype of the state torch.float32"):
            physwm.solve(f, torch.ones(2), [0.0, 1.0], method=method)


def test_growing_field_in_implicit_midpoint_fails_at_once():
    def grows(t, y):
        return torch.cat([y, y], -1)

    with pytest.raises(ArgumentValueError, match=r"must return the shape of the state \(2,\), got \(4,\)"):
        physwm.solve(grows, torch.ones(2), [0.0, 1.0], method="implicit_midpoint")


@pytest.mark.parametrize("options, match", [
    (dict(rtol=0.0, atol=0.0), "`rtol` and `atol` cannot both be 0"),
    (dict(first_step=-0.1), "`first_step` must be a finite number > 0"),
    (dict(max_step=0.0), "`max_step` must be a number > 0"),
    (dict(min_step=0.5, max_step=0.1), "`min_step`=0.5 must not exceed `max_step`=0.1"),
    (dict(safety=2.0), r"`safety` must lie in \(0, 1\]"),
])
def test_adaptive_options_are_checked_before_stepping(options, match):
    with pytest.raises(ArgumentValueError, match=match):
        physwm.solve(decay, torch.ones(2), [0.0, 1.0], method="dopri5", **options)


def test_misspelt_option_is_an_error_for_every_method():
    for method in ("dopri5", "rk4", "leapfrog"):
        f = HarmonicOscillator() if method == "leapfrog" else decay
        with pytest.raises(ArgumentTypeError, match="firstt_step"):
            physwm.solve(f, torch.ones(2), [0.0, 1.0], method=method, firstt_step=0.1)
    with pytest.raises(ArgumentTypeError, match="with `dt` takes constant steps"):
        physwm.solve(decay, torch.ones(2), [0.0, 1.0], method="dopri5", dt=0.1, first_step=0.1)


def test_nan_from_the_field_is_named_as_such_not_as_stiffness():
    with pytest.raises(IntegrationError, match=r"f\(t, y\) returned NaN or inf at a finite state"):
        physwm.solve(lambda t, y: y * math.nan, torch.ones(2), [0.0, 1.0], method="dopri5")
    # the check can fail: a finite field with a singularity (y' = y^2 blows up at t = 1) keeps the stiffness message
    with pytest.raises(IntegrationError, match="step size underflowed"):
        physwm.solve(lambda t, y: y**2, torch.ones(1, dtype=torch.float64), torch.tensor([0.0, 2.0], dtype=torch.float64),
                     method="dopri5")


@pytest.mark.parametrize("method", ["dopri5", "rk4", "implicit_midpoint"])
def test_empty_batch_integrates(method):
    sol = physwm.solve(decay, torch.ones(0, 2), [0.0, 0.5, 1.0], method=method)
    assert sol.ys.shape == (3, 0, 2)


def test_rollout_of_a_model_with_the_wrong_dtype_is_an_error_not_nan():
    model = SeparableHNN(1, hidden=(8,))  # float32
    with pytest.raises(ArgumentTypeError, match="torch.float64 but SeparableHNN's parameters are torch.float32"):
        rollout(model, torch.ones(2, dtype=torch.float64), [0.0, 1.0], method="leapfrog", dt=0.1)


def test_physwm_errors_survive_pickling_and_show_as_physwm():
    import pickle

    from physwm import SingularMassMatrixError, TrainingError

    for exc in (IntegrationError("blew up", t=1.5, step=3, dt=0.1), TrainingError("nan", step=2, term="residual", value=1.0),
                SingularMassMatrixError("singular", index=[4])):
        back = pickle.loads(pickle.dumps(exc))  # e.g. from a worker process
        assert type(back) is type(exc) and str(back) == str(exc) and vars(back) == vars(exc)
        assert type(back).__module__ == "physwm"
