"""Diagnostics (layer L4): measurements for true and learned systems alike.

Conservation and power balance, Lyapunov exponents and prediction horizons, prediction errors, and
the memory cost of a computation. Pure, batched tensor functions on the input's device (the
model-level ones evaluate a model and measure); they measure and return, they never assert (see
:mod:`physwm.testing` for that).
"""

from physwm.diagnostics.conservation import (
    angular_momentum_error,
    energy_drift,
    energy_growth,
    invariant_error,
    momentum_error,
    observed_order,
    relative_energy_error,
    total_angular_momentum,
    total_momentum,
)
from physwm.diagnostics.cost import peak_memory
from physwm.diagnostics.errors import field_relative_l2, particle_mse, relative_l2, velocity_field_errors
from physwm.diagnostics.lyapunov import (
    LyapunovResult,
    lyapunov_spectrum,
    lyapunov_time,
    max_lyapunov_exponent,
    normalized_error,
    predictability_horizon,
    valid_prediction_time,
)
from physwm.diagnostics.power import power_balance_residual

__all__ = [
    "relative_energy_error", "energy_drift", "energy_growth", "invariant_error", "total_momentum",
    "total_angular_momentum", "momentum_error", "angular_momentum_error", "observed_order",
    "LyapunovResult", "lyapunov_spectrum", "max_lyapunov_exponent", "lyapunov_time", "normalized_error",
    "valid_prediction_time", "predictability_horizon", "power_balance_residual", "relative_l2", "field_relative_l2",
    "particle_mse", "velocity_field_errors", "peak_memory",
]
