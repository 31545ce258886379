"""Regressions of the hostile-input review of the diagnostics: bad arguments raise and name themselves;
they never come back as NaN or inf, and valid input of every kind (Python numbers, int tensors) works."""

import math

import pytest
import torch

from physwm import ArgumentTypeError, ArgumentValueError
from physwm.diagnostics import (
    energy_drift,
    invariant_error,
    lyapunov_spectrum,
    lyapunov_time,
    normalized_error,
    observed_order,
    predictability_horizon,
    total_angular_momentum,
    total_momentum,
    valid_prediction_time,
)
from physwm.systems import HarmonicOscillator


def test_lyapunov_time_of_python_numbers_and_int_tensors():
    assert float(lyapunov_time(2)) == 0.5
    assert lyapunov_time(torch.tensor([2, 0])).tolist() == [0.5, math.inf]
    with pytest.raises(ArgumentTypeError, match="`lambda_max` must be a real number"):
        lyapunov_time("fast")


@pytest.mark.parametrize("call, error, match", [
    (lambda: observed_order([0.1, 0.1], [1.0, 0.5]), ArgumentValueError, "at least 2 distinct values"),
    (lambda: observed_order([math.inf, 0.1], [1.0, 0.5]), ArgumentValueError, "`step_sizes` must be finite and > 0"),
    (lambda: observed_order([0.1, 0.05], [1.0, math.nan]), ArgumentValueError, "`errors` must be finite and > 0"),
    (lambda: observed_order(["a", "b"], [1.0, 0.5]), ArgumentTypeError, "`step_sizes` must be a sequence"),
    (lambda: energy_drift(torch.randn(5), torch.zeros(5)), ArgumentValueError, "`t` must span an interval"),
    (lambda: energy_drift(torch.randn(5), [0, 1, 2, 3, 4]), ArgumentTypeError, "`t` must be a torch.Tensor"),
    (lambda: energy_drift(torch.randn(5), torch.tensor([0, 1, 2, 3, math.inf])), ArgumentValueError,
     "`t` must be finite"),
    (lambda: normalized_error(torch.randn(5, 2), torch.randn(5, 2), scale=torch.tensor(-1.0)), ArgumentValueError,
     "`scale` must be >= 0 everywhere"),
    (lambda: normalized_error(torch.randn(1, 2), torch.randn(1, 2)), ArgumentValueError, "`scale` is needed"),
    (lambda: invariant_error(torch.randn(5), scale=0), ArgumentValueError, "`scale` must be a number > 0"),
    (lambda: invariant_error(torch.randn(5), scale=torch.tensor([1.0, 0.0, 1.0, 1.0, 1.0])), ArgumentValueError,
     "`scale` must be > 0 everywhere"),
    (lambda: total_momentum([[1.0, 2.0, 3.0]]), ArgumentTypeError, "`p` must be a torch.Tensor"),
    (lambda: total_angular_momentum(torch.tensor(1.0), torch.tensor(1.0)), ArgumentValueError, "at least 2 dimensions"),
    (lambda: total_angular_momentum(torch.ones(3), torch.ones(3)), ArgumentValueError, "at least 2 dimensions"),
    (lambda: total_angular_momentum(torch.ones(2, 4), torch.ones(2, 4)), ArgumentValueError, "2-D or 3-D"),
    (lambda: valid_prediction_time(torch.zeros(0, 2), torch.zeros(0, 2), torch.zeros(0)), ArgumentValueError,
     "at least one time"),
    (lambda: valid_prediction_time(torch.zeros(3, 2), torch.zeros(3, 2), torch.zeros(3), threshold=math.nan),
     ArgumentValueError, "`threshold`"),
    (lambda: predictability_horizon(1.0, initial_error=1.0, tolerance=0.1), ArgumentValueError,
     "`initial_error` must be below `tolerance`"),
    (lambda: lyapunov_spectrum(HarmonicOscillator(), torch.ones(2), t_total=1.0, dt=0.1, transient=math.inf),
     ArgumentValueError, "`transient` must be a finite number"),
    (lambda: lyapunov_spectrum(HarmonicOscillator(), torch.ones(2), t_total=1.0, dt=0.1, t0=math.nan),
     ArgumentValueError, "`t0` must be a finite number"),
    (lambda: lyapunov_spectrum(HarmonicOscillator(), torch.ones(2), t_total=1e300, dt=0.1), ArgumentValueError,
     "more than `max_steps`"),
    (lambda: lyapunov_spectrum(HarmonicOscillator(), torch.tensor([1.0, math.nan]), t_total=1.0, dt=0.1),
     ArgumentValueError, "`y0` must be finite"),
])
def test_bad_arguments_name_themselves(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_nan_in_a_blown_up_rollout_is_measured_not_refused():
    # diagnostics measure learned rollouts, which may end in NaN (physwm.integrate.rollout): NaN in, counted out
    t = torch.linspace(0, 1, 5)
    ref = torch.zeros(5, 2)
    pred = ref.clone()
    pred[3:] = math.nan
    assert float(valid_prediction_time(pred, ref, t, scale=torch.ones(2))) == pytest.approx(0.75)
