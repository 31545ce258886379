"""Conservation diagnostics (layer L4): pure, batched tensor functions on the input's device.

They measure and return; they never assert (see :mod:`physwm.testing` for that).
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

__all__ = [
    "relative_energy_error", "energy_drift", "energy_growth", "invariant_error", "total_momentum",
    "total_angular_momentum", "momentum_error", "angular_momentum_error", "observed_order",
]
