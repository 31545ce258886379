"""``physwm bench``: the conservation benchmark (layer L6, public API only).

A thin orchestrator (:func:`run_benchmark`) over one configuration (:class:`BenchConfig`, budgets in
:data:`SETTINGS`) and six sections, each a module with ``run(cfg)``, ``table(results)`` and ``plots``:
integrators, learned pendulum models, damped/forced/controlled systems, the double pendulum, n-body
and PINNs. Published numbers come from :mod:`physwm.references`.
"""

from physwm.bench.config import SETTINGS, BenchConfig
from physwm.bench.runner import SECTIONS, format_tables, run_benchmark

__all__ = ["BenchConfig", "SETTINGS", "SECTIONS", "run_benchmark", "format_tables"]
