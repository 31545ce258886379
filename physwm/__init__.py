"""physwm: physics-informed world models in PyTorch.

``import physwm`` loads torch and torchdiffeq only; subpackages load on first access.
"""

from __future__ import annotations

import importlib

from physwm._errors import (
    ArgumentTypeError,
    ArgumentValueError,
    CheckpointError,
    DataFormatError,
    IntegrationError,
    NotSeparableError,
    PhyswmError,
    SingularMassMatrixError,
    TrainingError,
)
from physwm.integrate import Solution, solve

__version__ = "0.1.0"

_SUBMODULES = {"integrate", "pde", "systems", "nn", "models", "diagnostics", "data", "training", "testing", "bench"}

__all__ = [
    "solve", "Solution", "PhyswmError", "IntegrationError", "NotSeparableError", "CheckpointError",
    "DataFormatError", "SingularMassMatrixError", "ArgumentTypeError", "ArgumentValueError", "TrainingError",
    "__version__", *sorted(_SUBMODULES),
]


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"physwm.{name}")
    raise AttributeError(f"module 'physwm' has no attribute {name!r}")
