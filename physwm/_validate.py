"""Boundary validation (layer L0: torch + stdlib only), one message style for the whole package.

Every check names the argument, says what was expected and what came::

    `steps` must be an int >= 1, got 0
    `lr` must be a finite number > 0, got inf
    `sampler` must be one of 'uniform', 'sobol', 'grid', got 'halton'

A value of the wrong type raises :class:`~physwm.ArgumentTypeError` (a :class:`TypeError`), a value
of the right type outside its domain :class:`~physwm.ArgumentValueError` (a :class:`ValueError`).
Each function returns the checked value (converted: ``int``, ``float``), so a constructor reads
``self.steps = positive_int("steps", steps)``.

Finiteness and synchronisation: checking that a tensor is finite reads one flag back from its device
(a host-device synchronisation on CUDA). A model's ``forward`` called by a user checks its input
(:func:`model_input`); called inside :func:`physwm.solve` or :func:`physwm.training.fit`, which check
the initial state and the data once and the result or every loss term after, it does not
(:func:`inside_checked_call`), so the stepping loops stay free of per-evaluation synchronisations.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
from collections.abc import Iterable, Iterator
from typing import Any

import torch
from torch import Tensor

from physwm._errors import ArgumentTypeError, ArgumentValueError

__all__ = ["integer", "positive_int", "real", "positive", "nonnegative", "choice", "tensor", "all_finite",
           "describe", "model_input", "inside_checked_call", "in_checked_call"]

_CHECKED_CALL: contextvars.ContextVar[bool] = contextvars.ContextVar("physwm_checked_call", default=False)


@contextlib.contextmanager
def inside_checked_call() -> Iterator[None]:
    """Within this block :func:`model_input` skips its finiteness check: the caller (``solve``, ``fit``)
    has checked the inputs and checks what comes out."""
    token = _CHECKED_CALL.set(True)
    try:
        yield
    finally:
        _CHECKED_CALL.reset(token)


def describe(value: Any) -> str:
    """A short description of ``value`` for an error message: a tensor's shape and dtype, else ``repr``."""
    if isinstance(value, Tensor):
        return f"a tensor of shape {tuple(value.shape)} and dtype {value.dtype}"
    text = repr(value)
    return text if len(text) <= 80 else f"{type(value).__name__} {text[:60]}..."


def integer(name: str, value: Any, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as an ``int`` in ``[minimum, maximum]`` (either bound optional); ``bool`` is refused."""
    bounds = " and ".join(b for b in ((f">= {minimum}" if minimum is not None else ""),
                                      (f"<= {maximum}" if maximum is not None else "")) if b)
    expected = f"an int{' ' + bounds if bounds else ''}"
    if isinstance(value, bool) or not isinstance(value, int):
        raise ArgumentTypeError(f"`{name}` must be {expected}, got {describe(value)}")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ArgumentValueError(f"`{name}` must be {expected}, got {value!r}")
    return int(value)


def positive_int(name: str, value: Any) -> int:
    """``value`` as an ``int >= 1``."""
    return integer(name, value, minimum=1)


def real(name: str, value: Any, *, finite: bool = True) -> float:
    """``value`` (a Python number or a one-element tensor) as a ``float``; finite unless ``finite=False``."""
    if isinstance(value, Tensor) and value.numel() == 1 and not value.is_complex():
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ArgumentTypeError(f"`{name}` must be a real number, got {describe(value)}")
    value = float(value)
    if math.isnan(value) or (finite and math.isinf(value)):
        raise ArgumentValueError(f"`{name}` must be a finite number, got {value!r}")
    return value


def positive(name: str, value: Any, *, finite: bool = True) -> float:
    """``value`` as a ``float > 0`` (finite unless ``finite=False``)."""
    v = real(name, value, finite=False)
    if not v > 0 or (finite and math.isinf(v)):
        raise ArgumentValueError(f"`{name}` must be a {'finite ' if finite else ''}number > 0, got {v!r}")
    return v


def nonnegative(name: str, value: Any, *, finite: bool = True) -> float:
    """``value`` as a ``float >= 0`` (finite unless ``finite=False``)."""
    v = real(name, value, finite=False)
    if not v >= 0 or (finite and math.isinf(v)):
        raise ArgumentValueError(f"`{name}` must be a {'finite ' if finite else ''}number >= 0, got {v!r}")
    return v


def choice(name: str, value: Any, options: Iterable[Any]) -> Any:
    """``value`` if it is one of ``options`` (compared with ``==``)."""
    options = tuple(options)
    if not any(value == o and type(value) is type(o) for o in options):
        listed = ", ".join(repr(o) for o in options)
        raise ArgumentValueError(f"`{name}` must be one of {listed}, got {describe(value)}")
    return value


def tensor(name: str, value: Any, *, floating: bool = True, min_dim: int = 0, last: int | None = None,
           shape: tuple[int, ...] | None = None, finite: bool = False) -> Tensor:
    """``value`` if it is a tensor of the described kind.

    Args:
        name: the argument's name, for the message.
        value: what came.
        floating: require a floating dtype.
        min_dim: the least number of dimensions.
        last: required size of the last dimension.
        shape: the exact shape required (``-1`` entries match anything).
        finite: require every entry to be finite (one device synchronisation).
    """
    if not isinstance(value, Tensor):
        raise ArgumentTypeError(f"`{name}` must be a torch.Tensor, got {describe(value)}")
    if floating and not value.is_floating_point():
        raise ArgumentTypeError(f"`{name}` must have a floating dtype (float32 or float64), got {value.dtype}")
    if value.dim() < min_dim:
        raise ArgumentValueError(f"`{name}` must have at least {min_dim} dimensions, got shape {tuple(value.shape)}")
    if last is not None and (value.dim() == 0 or value.shape[-1] != last):
        raise ArgumentValueError(f"`{name}` must have shape (*batch, {last}), got {tuple(value.shape)}")
    if shape is not None and (value.dim() != len(shape) or any(s not in (-1, v) for s, v in zip(shape, value.shape))):
        want = "(" + ", ".join("*" if s == -1 else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
        raise ArgumentValueError(f"`{name}` must have shape {want}, got {tuple(value.shape)}")
    if finite:
        all_finite(name, value)
    return value


def all_finite(name: str, value: Tensor) -> Tensor:
    """``value`` if all its entries are finite (one device synchronisation)."""
    if not bool(torch.isfinite(value).all()):
        n_bad = int((~torch.isfinite(value)).sum())
        raise ArgumentValueError(f"`{name}` must be finite, got {n_bad} NaN or inf entries of {value.numel()}")
    return value


def _tracing() -> bool:
    """Whether a value cannot be read back now: under ``torch.func`` transforms (vmap, grad, jvp), while
    ``torch.compile`` traces, or while a CUDA graph is being captured."""
    functorch = getattr(torch._C, "_are_functorch_transforms_active", None)
    if functorch is not None and functorch():
        return True
    if torch.compiler.is_compiling():
        return True
    return torch.cuda.is_available() and torch.cuda.is_current_stream_capturing()


def in_checked_call() -> bool:
    """Whether checks that read a value back from the device are to be skipped: inside a caller that has
    checked the data (:func:`inside_checked_call`), or where no value can be read back (``torch.func``
    transforms, ``torch.compile`` tracing, CUDA graph capture)."""
    return _CHECKED_CALL.get() or _tracing()


def model_input(name: str, value: Any, module: Any, *, last: int | None = None, min_dim: int = 1,
                shape: tuple[int, ...] | None = None, convert: bool = False) -> Tensor:
    """``value`` if it can be fed to ``module``: a floating tensor of the described shape, in the dtype and
    on the device of the module's parameters (any, for ``module=None`` or one without parameters), and
    finite (unless :func:`inside_checked_call`).

    A dtype or device mismatch is named with both sides and the fix, instead of the matrix product's
    ``RuntimeError`` deep inside the network; with ``convert`` (inputs such as actions, which may come in
    any floating dtype) the value is moved to the parameters' dtype and device instead.
    """
    tensor(name, value, min_dim=min_dim, last=last, shape=shape)
    param = None if module is None else next(iter(module.parameters()), None)
    if param is not None and convert:
        value = value.to(dtype=param.dtype, device=param.device)
    elif param is not None:
        if value.dtype != param.dtype:
            raise ArgumentTypeError(f"`{name}` has dtype {value.dtype} but {type(module).__name__}'s parameters are "
                                    f"{param.dtype}: convert one (model.to({value.dtype}) or {name}.to({param.dtype}))")
        if value.device != param.device:
            raise ArgumentValueError(f"`{name}` is on {value.device} but {type(module).__name__}'s parameters are on "
                                     f"{param.device}: move one (model.to({str(value.device)!r}) or "
                                     f"{name}.to({str(param.device)!r}))")
    if not in_checked_call():
        all_finite(name, value)
    return value
