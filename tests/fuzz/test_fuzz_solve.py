"""Property tests of ``physwm.solve`` and ``rollout`` over random states, time grids, methods, step sizes,
tolerances and options: a finite solution of shape ``(T, *batch, d)`` in ``y0``'s dtype, or a named
argument error, or (a valid solve that blew up) an ``IntegrationError``."""

import math

import torch
from hypothesis import given
from hypothesis import strategies as st

import physwm
from physwm import IntegrationError
from physwm.integrate import methods, rollout
from physwm.systems import HarmonicOscillator
from tests.fuzz.oracle import check_call, is_finite_input, not_tensors, tensors

ARGS = ["`y0`", "`t`", "`dt`", "`rtol`", "`atol`", "`max_steps`", "`method`", "`f`", "`f(t, y)`", "`implicit_tol`",
        "`implicit_max_iter`", "`first_step`", "`max_step`", "takes no options", "takes the options",
        "unexpected options", "needs a separable Hamiltonian", "with `dt` takes constant steps"]


def decay(t, y):
    return -y


valid_grids = st.one_of(
    st.integers(2, 6).map(lambda n: torch.linspace(0, 1, n)),
    st.integers(2, 4).map(lambda n: torch.linspace(0, -1, n, dtype=torch.float64)),
    st.lists(st.floats(0.05, 1.0), min_size=1, max_size=4).map(lambda d: [0.0] + [sum(d[: i + 1]) for i in range(len(d))]),
)
bad_grids = st.one_of(
    st.lists(st.floats(-5, 5, allow_nan=False), min_size=0, max_size=5),
    st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=2, max_size=3),
    tensors(), not_tensors(),
)
valid_dt = st.one_of(st.none(), st.floats(0.05, 1.0))
bad_dt = st.one_of(st.floats(-2.0, -0.01), st.sampled_from([0.0, math.nan, math.inf, 1e-320, -1e-320]),
                   st.text(max_size=2), tensors(shape=(2,)))
valid_tol = st.floats(1e-9, 1e-3)
bad_tol = st.one_of(st.sampled_from([0.0, -1e-6, math.nan, math.inf]), st.text(max_size=1))
bad_options = st.dictionaries(st.sampled_from(["first_step", "max_step", "implicit_tol", "implicit_max_iter",
                                               "bogus_option"]),
                              st.one_of(st.floats(-1, 1), st.integers(-2, 5)), min_size=1, max_size=2)
CORRUPTIONS = [None, None, None, "f", "y0", "t", "method", "dt", "rtol", "atol", "max_steps", "options"]


@given(data=st.data(), field=st.sampled_from(["decay", "oscillator"]), method=st.sampled_from(methods()),
       batch=st.lists(st.integers(0, 3), max_size=2).map(tuple), dtype=st.sampled_from([torch.float32, torch.float64]),
       corrupt=st.sampled_from(CORRUPTIONS))
def test_solve(data, field, method, batch, dtype, corrupt):
    """One argument at a time is corrupted (or none): the valid calls must return, the others be refused."""
    f = {"decay": decay, "oscillator": HarmonicOscillator()}[field]
    y0 = data.draw(tensors(shape=(*batch, 2), dtype=dtype, finite_probability=1.0), "y0")
    t = data.draw(valid_grids, "t")
    dt, rtol, atol, max_steps, options = data.draw(valid_dt, "dt"), 1e-6, 1e-8, 100_000, {}
    if dt is not None and float(t[-1]) < float(t[0]):
        dt = -dt  # dt points the way t goes
    if corrupt == "f":
        f = data.draw(st.sampled_from([42, "decay", lambda t, y: y[..., :1], lambda t, y: y.double() * 0 + 1j]))
    elif corrupt == "y0":
        y0 = data.draw(st.one_of(tensors(), not_tensors()), "bad y0")
    elif corrupt == "t":
        t = data.draw(bad_grids, "bad t")
    elif corrupt == "method":
        method = data.draw(st.one_of(st.sampled_from(["rk45", "", "LEAPFROG"]), st.integers(), st.none()), "bad method")
    elif corrupt == "dt":
        dt = data.draw(bad_dt, "bad dt")
    elif corrupt in ("rtol", "atol"):
        rtol, atol = (data.draw(bad_tol, "bad rtol"), atol) if corrupt == "rtol" else (rtol, data.draw(bad_tol, "bad atol"))
    elif corrupt == "max_steps":
        max_steps = data.draw(st.sampled_from([3, 0, -1, 2.5, None]), "bad max_steps")
    elif corrupt == "options":
        options = data.draw(bad_options, "bad options")

    def shape_and_dtype(sol):
        assert sol.ys.shape == (len(t), *y0.shape), (sol.ys.shape, len(t), y0.shape)
        assert sol.ys.dtype == y0.dtype and sol.t.dtype == y0.dtype

    result = check_call(lambda: physwm.solve(f, y0, t, method=method, dt=dt, rtol=rtol, atol=atol, max_steps=max_steps,
                                             **options),
                        ARGS, finite_input=is_finite_input(y0, t), runtime_errors=(IntegrationError,),
                        check=shape_and_dtype)
    if corrupt is None:  # a valid call must succeed (the oscillator and the decay do not blow up)
        assert not isinstance(result, Exception) or (field == "decay" and method in SEPARABLE_ONLY), result


SEPARABLE_ONLY = {"symplectic_euler", "leapfrog", "yoshida4", "yoshida6"}


@given(y0=tensors(shape=(2,), dtype=torch.float64), n=st.integers(2, 8), chunk=st.one_of(st.integers(-1, 4), st.none()),
       method=st.sampled_from(["rk4", "leapfrog", "dopri5"]))
def test_rollout(y0, n, chunk, method):
    t = torch.linspace(0, 2, n, dtype=torch.float64)

    def shape(ys):
        assert ys.shape == (n, 2) and ys.dtype == torch.float64

    # rollout turns a blow-up into NaN frames by design, so its result is checked for shape only
    check_call(lambda: rollout(HarmonicOscillator(), y0, t, chunk=chunk, method=method, dt=0.1),
               ["`y0`", "`chunk`"], finite_input=False, check=shape)
