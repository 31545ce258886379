"""physwm's exception types (layer L0: stdlib only).

Bad input raises a subclass of :class:`ValueError` or :class:`TypeError` (so ``except ValueError``
keeps working); a computation that fails part way (an integration or a training run) raises a
:class:`RuntimeError` subclass that says where. All of them also subclass :class:`PhyswmError`, so
``except physwm.PhyswmError`` catches everything physwm raises on purpose.
"""

from __future__ import annotations

__all__ = [
    "PhyswmError",
    "ArgumentTypeError",
    "ArgumentValueError",
    "IntegrationError",
    "TrainingError",
    "NotSeparableError",
    "CheckpointError",
    "DataFormatError",
    "SingularMassMatrixError",
]


class PhyswmError(Exception):
    """Base class of every error physwm raises deliberately."""


class ArgumentTypeError(PhyswmError, TypeError):
    """An argument of a public function has the wrong type (the message names it, what came and what was expected)."""


class ArgumentValueError(PhyswmError, ValueError):
    """An argument of a public function has the right type but a value outside its domain."""


class IntegrationError(PhyswmError, RuntimeError):
    """The numerical integration failed part way.

    Attributes:
        t: time (float) at the start of the failing step.
        step: index of the failing step, counted from 0 over the whole solve.
        dt: size of the failing step (float, signed).
    """

    def __init__(self, message: str, *, t: float, step: int, dt: float):
        self.t = float(t)
        self.step = int(step)
        self.dt = float(dt)
        self.message = message
        super().__init__(f"{message} (at t={self.t:.6g}, step {self.step}, dt={self.dt:.6g})")

    def __reduce__(self):  # keyword-only attributes: pickled (e.g. across processes) by name
        return _rebuild, (type(self), self.message, {"t": self.t, "step": self.step, "dt": self.dt})


class TrainingError(PhyswmError, RuntimeError):
    """Training failed part way: a loss term or the parameters became non-finite.

    Attributes:
        step: the training step (counted from 0 over the whole run, resumes included) at which it happened.
        term: the loss term that was non-finite (``"total"`` for the weighted sum, ``"parameters"``
            when the optimiser step left non-finite weights).
        value: the offending value (``nan`` or ``inf``).
    """

    def __init__(self, message: str, *, step: int, term: str, value: float):
        self.step = int(step)
        self.term = str(term)
        self.value = float(value)
        self.message = message
        super().__init__(f"{message} (at training step {self.step}, loss term {self.term!r} = {self.value})")

    def __reduce__(self):
        return _rebuild, (type(self), self.message, {"step": self.step, "term": self.term, "value": self.value})


class NotSeparableError(PhyswmError, TypeError):
    """An explicit symplectic method was given dynamics that are not a separable Hamiltonian."""


class CheckpointError(PhyswmError, ValueError):
    """A checkpoint file is missing, truncated, or holds something other than tensors."""


class DataFormatError(PhyswmError, ValueError):
    """A data file does not have the layout its loader documents."""


class SingularMassMatrixError(PhyswmError, ValueError):
    """A Lagrangian's mass matrix ``∂²L/∂q̇²`` is singular (or too ill-conditioned to invert).

    Attributes:
        index: batch indices (flattened) of the offending states.
    """

    def __init__(self, message: str, *, index: list[int] | None = None):
        self.index = list(index or [])
        super().__init__(message)

    def __reduce__(self):
        return _rebuild, (type(self), str(self), {"index": self.index})


def _rebuild(cls: type, message: str, attributes: dict) -> PhyswmError:
    return cls(message, **attributes)


# Shown as ``physwm.ArgumentValueError`` (where users import them from) in tracebacks, not ``physwm._errors``.
for _cls in (PhyswmError, ArgumentTypeError, ArgumentValueError, IntegrationError, TrainingError, NotSeparableError,
             CheckpointError, DataFormatError, SingularMassMatrixError):
    _cls.__module__ = "physwm"
del _cls
