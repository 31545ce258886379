"""``physwm bench``: the conservation benchmark (layer L6, public API only)."""

from physwm.bench.conservation import BenchConfig, run_benchmark

__all__ = ["BenchConfig", "run_benchmark"]
