"""``physwm bench``: runs every section on one :class:`BenchConfig`, writes ``results.json``, plots and tables."""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

import physwm
from physwm.bench import double_pendulum, integrators, nbody, pendulum, pinn, port_hamiltonian
from physwm.bench.config import BenchConfig

__all__ = ["SECTIONS", "run_benchmark", "format_tables"]

#: The sections, in the order they run and print: each has ``run(cfg)``, ``table(results)`` and optionally ``plots``.
SECTIONS = {"integrators": integrators, "pendulum": pendulum, "port_hamiltonian": port_hamiltonian,
            "double_pendulum": double_pendulum, "nbody": nbody, "pinn": pinn}


def format_tables(results: dict[str, Any]) -> str:
    """The benchmark tables as plain text, one block per section."""
    blocks = [SECTIONS[name].table(results[name]) for name in SECTIONS if name in results]
    lines = "\n\n".join(blocks)
    if results.get("seconds"):
        lines += "\n\nwall time per section (s): " + ", ".join(f"{k} {v:.1f}" for k, v in results["seconds"].items())
    return lines


def run_benchmark(cfg: BenchConfig) -> dict[str, Any]:
    """Run every section, write ``results.json`` and PNG plots to ``cfg.out``, return the results.

    Raises:
        ValueError: an unknown mode, or a CUDA device asked for where none is available (from :class:`BenchConfig`).
    """
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"seconds": {}}
    start = time.perf_counter()
    for name, section in tqdm(SECTIONS.items(), desc="physwm bench", disable=not cfg.progress):
        tic = time.perf_counter()
        results[name] = section.run(cfg)
        results["seconds"][name] = time.perf_counter() - tic
    device = cfg.torch_device
    results.update({
        "physwm_version": physwm.__version__, "torch_version": torch.__version__, "config": asdict(cfg),
        "machine": {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
                    "cpu_count": os.cpu_count(), "threads": torch.get_num_threads(),
                    "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"},
        "wall_seconds": time.perf_counter() - start,
    })
    results["plots"] = [f for name, section in SECTIONS.items() if hasattr(section, "plots")
                        for f in section.plots(out, results[name])]
    (out / "results.json").write_text(json.dumps(results, indent=2, default=str))
    return results
