"""The property suite's oracle: a public call either returns a finite result of the documented shape and
dtype, or raises one of physwm's argument errors (a ``ValueError``/``TypeError``) whose message names the
argument; never another exception class, never NaN out of finite input, never a hang."""

from __future__ import annotations

import contextlib
import math
import signal
from collections.abc import Callable, Iterable
from typing import Any

import torch
from hypothesis import event
from hypothesis import strategies as st

from physwm import PhyswmError

#: seconds one call may take before it counts as a hang
CALL_LIMIT = 30


class Hang(AssertionError):
    pass


def expect(condition: bool, message: str) -> None:
    """An assertion that ``python -O`` keeps (this module is a helper, not a test module pytest rewrites)."""
    if not condition:
        raise AssertionError(message)


@contextlib.contextmanager
def time_limit(seconds: int):
    def expire(signum, frame):
        raise Hang(f"the call did not return within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def tensors_in(value: Any) -> Iterable[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from tensors_in(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from tensors_in(v)
    elif hasattr(value, "__dataclass_fields__"):
        for name in value.__dataclass_fields__:
            yield from tensors_in(getattr(value, name))


def all_finite(value: Any) -> bool:
    return all(bool(torch.isfinite(t).all()) for t in tensors_in(value) if t.is_floating_point())


def is_finite_input(*values: Any) -> bool:
    """Every tensor and number among ``values`` is finite (a NaN input may propagate: diagnostics measure
    blown-up rollouts)."""
    for v in values:
        if isinstance(v, float) and not math.isfinite(v):
            return False
        if not all_finite(v):
            return False
    return True


def check_call(call: Callable[[], Any], names: Iterable[str], *, finite_input: bool,
               runtime_errors: tuple[type, ...] = (), check: Callable[[Any], None] | None = None) -> Any:
    """Run ``call`` under the oracle. Returns the result, or the argument error it raised.

    Args:
        names: the argument names one of which a refusal's message must contain.
        finite_input: whether every input was finite (then a returned result must be finite too).
        runtime_errors: physwm errors that report a failure during a valid computation
            (``IntegrationError`` for a solve that blows up), accepted without a named argument.
        check: further assertions on a returned result (shape, dtype).
    """
    names = list(names)
    with time_limit(CALL_LIMIT):
        try:
            out = call()
        except PhyswmError as exc:
            if isinstance(exc, runtime_errors):
                event(f"failed in the run: {type(exc).__name__}")
                return exc
            expect(isinstance(exc, (ValueError, TypeError)), f"{type(exc).__name__} is not an argument error: {exc}")
            message = str(exc)
            expect(any(n in message for n in names), f"the message names none of {names}: {message!r}")
            event(f"refused: {type(exc).__name__}")
            return exc
    event("returned")
    if check is not None:
        check(out)
    if finite_input:
        expect(all_finite(out), f"NaN or inf out of finite input: {out!r}"[:500])
    return out


# -- strategies shared by the property tests -------------------------------------------------------

FLOATING = (torch.float32, torch.float64)
dtypes = st.sampled_from([torch.float32, torch.float64, torch.float64, torch.int64, torch.bool, torch.complex64])
shapes = st.lists(st.integers(0, 3), min_size=0, max_size=3).map(tuple)
specials = st.sampled_from([math.nan, math.inf, -math.inf])


@st.composite
def tensors(draw, shape=None, dtype=None, finite_probability: float = 0.8, elements=None):
    """A tensor of a drawn (or given) shape and dtype; with some probability one entry is NaN or inf."""
    shape = draw(shapes) if shape is None else shape
    dtype = draw(dtypes) if dtype is None else dtype
    n = math.prod(shape)
    values = draw(st.lists(elements or st.floats(-10, 10, allow_nan=False), min_size=n, max_size=n))
    x = torch.tensor(values, dtype=torch.float64).reshape(shape)
    if n and dtype.is_floating_point and draw(st.floats(0, 1)) > finite_probability:
        x.view(-1)[draw(st.integers(0, n - 1))] = draw(specials)
    if dtype == torch.bool:
        return x > 0
    if dtype.is_complex:
        return x.to(dtype)
    return x.to(dtype) if dtype.is_floating_point else x.round().to(dtype)


def not_tensors():
    return st.one_of(st.none(), st.integers(-3, 3), st.floats(allow_nan=True), st.text(max_size=3),
                     st.lists(st.floats(-1, 1), max_size=3))


def mostly(valid, invalid, odds: int = 4):
    """Draw from ``valid`` about ``odds`` times in ``odds + 1``, else from ``invalid``: most examples keep each
    argument valid, so the success paths are explored too."""
    return st.integers(0, odds).flatmap(lambda k: valid if k else invalid)
