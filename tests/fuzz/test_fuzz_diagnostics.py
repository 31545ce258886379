"""Property tests of the diagnostics over random shapes, dtypes, non-finite entries and wrong types: a result
without NaN out of finite input (``inf`` only where documented), or a named argument error."""

import math

import torch
from hypothesis import given
from hypothesis import strategies as st

from physwm import diagnostics as dg
from tests.fuzz.oracle import check_call, is_finite_input, mostly, not_tensors, tensors


def series(min_len=1, event=()):
    return st.tuples(st.integers(min_len, 6), st.lists(st.integers(1, 3), max_size=2)).flatmap(
        lambda s: tensors(shape=(s[0], *s[1], *event), dtype=torch.float64, finite_probability=0.9))


anything = st.one_of(tensors(), not_tensors())
numbers = st.one_of(st.floats(0.01, 10), st.integers(1, 5), st.sampled_from([0.0, -1.0, math.nan, math.inf]),
                    st.text(max_size=2))

# name -> (function, argument names, strategies of the positional arguments, keyword strategies, inf allowed)
CASES = {
    "relative_energy_error": (dg.relative_energy_error, ["energies"], [series()], {}, True),  # inf where E(t0) = 0
    "energy_growth": (dg.energy_growth, ["energies"], [series(4)], {}, True),
    "invariant_error": (dg.invariant_error, ["values", "event_dims", "scale"], [series(1, (3,))],
                        {"event_dims": mostly(st.just(1), st.sampled_from([-1, 5, 1.5])),
                         "scale": mostly(st.none(), numbers, odds=1)}, True),
    "total_momentum": (dg.total_momentum, ["p"], [mostly(series(1, (3,)), anything)], {}, False),
    "momentum_error": (dg.momentum_error, ["p"], [mostly(series(1, (4, 3)), anything)], {}, False),
    "relative_l2": (dg.relative_l2, ["pred", "ref", "dims"], [series(), series()],
                    {"dims": mostly(st.none(), st.sampled_from([(0,), 0, (5,), "x", (0, 0)]))}, False),
    "particle_mse": (dg.particle_mse, ["pred", "target"], [series(1, (3,)), series(1, (3,))], {}, False),
    "lyapunov_time": (dg.lyapunov_time, ["lambda_max"], [mostly(tensors(), numbers)], {}, True),
    "predictability_horizon": (dg.predictability_horizon, ["lambda_max", "initial_error", "tolerance"],
                               [mostly(st.floats(-2, 2), anything), mostly(st.floats(1e-8, 1e-2), numbers),
                                mostly(st.floats(0.1, 10), numbers)], {}, True),
}


@given(data=st.data(), name=st.sampled_from(sorted(CASES)))
def test_diagnostic(data, name):
    fn, names, positional, keywords, inf_allowed = CASES[name]
    args = [data.draw(s, f"arg {i}") for i, s in enumerate(positional)]
    kwargs = {k: data.draw(s, k) for k, s in keywords.items()}

    def no_nan(out):
        if is_finite_input(*args, *kwargs.values()) and isinstance(out, torch.Tensor) and out.is_floating_point():
            assert not bool(torch.isnan(out).any()), f"NaN out of finite input: {out}"
            assert inf_allowed or bool(torch.isfinite(out).all()), f"inf out of finite input: {out}"

    check_call(lambda: fn(*args, **kwargs), [f"`{n}`" for n in names], finite_input=False, check=no_nan)


@given(data=st.data())
def test_pair_diagnostics(data):
    """normalized_error, valid_prediction_time, energy_drift, total_angular_momentum and observed_order on
    pairs whose shapes agree most of the time."""
    t_len = data.draw(st.integers(1, 5))
    batch = data.draw(st.lists(st.integers(1, 3), max_size=2).map(tuple))
    d = data.draw(st.integers(1, 3))
    shape = (t_len, *batch, d)
    pred = data.draw(mostly(tensors(shape=shape, dtype=torch.float64, finite_probability=0.9), anything), "pred")
    ref = data.draw(mostly(tensors(shape=shape, dtype=torch.float64, finite_probability=0.9), anything), "ref")
    t = data.draw(mostly(st.just(torch.linspace(0, 1, t_len, dtype=torch.float64)), anything), "t")
    scale = data.draw(mostly(st.none(), st.one_of(tensors(shape=(d,)), numbers), odds=2), "scale")
    finite = is_finite_input(pred, ref, t, scale)

    def no_nan(out):
        if finite:
            assert not bool(torch.isnan(out).any()), f"NaN out of finite input: {out}"

    names = ["`pred`", "`ref`", "`t`", "`scale`", "`threshold`"]
    check_call(lambda: dg.normalized_error(pred, ref, scale), names, finite_input=False, check=no_nan)
    check_call(lambda: dg.valid_prediction_time(pred, ref, t, scale=scale,
                                                threshold=data.draw(mostly(st.floats(0.1, 1), numbers), "threshold")),
               names, finite_input=False, check=no_nan)
    energies = pred[..., 0] if isinstance(pred, torch.Tensor) and pred.dim() >= 1 else pred
    check_call(lambda: dg.energy_drift(energies, t), ["`energies`", "`t`"], finite_input=False, check=no_nan)
    q = pred if isinstance(pred, torch.Tensor) else pred
    check_call(lambda: dg.total_angular_momentum(q, ref), ["`q`", "`p`"], finite_input=False, check=no_nan)
    h = data.draw(mostly(st.lists(st.floats(1e-3, 1), min_size=2, max_size=4), anything), "h")
    e = data.draw(mostly(st.lists(st.floats(1e-9, 1), min_size=2, max_size=4), anything), "e")
    check_call(lambda: dg.observed_order(h, e), ["`step_sizes`", "`errors`"], finite_input=False,
               check=lambda p: math.isfinite(p) or (_ for _ in ()).throw(AssertionError(p)))
