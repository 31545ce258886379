"""Settings of the property suite: a bounded, derandomised example count (CI runs the same examples every
time), no deadline (a slow or busy machine is not a failure; the oracle's own time limit catches hangs)."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "physwm",
    max_examples=int(os.environ.get("PHYSWM_FUZZ_EXAMPLES", "100")),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
settings.load_profile("physwm")
