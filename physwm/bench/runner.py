"""``physwm bench``: runs every section on one :class:`BenchConfig`, writes ``results.json``, plots and tables."""

from __future__ import annotations

import json
import os
import platform
import secrets
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

import physwm
from physwm.bench import double_pendulum, integrators, nbody, pendulum, pinn, port_hamiltonian
from physwm.bench.config import BenchConfig

__all__ = ["SECTIONS", "run_benchmark", "format_tables", "pick_threads", "write_results"]

#: The sections, in the order they run and print: each has ``run(cfg)``, ``table(results)`` and optionally ``plots``.
SECTIONS = {"integrators": integrators, "pendulum": pendulum, "port_hamiltonian": port_hamiltonian,
            "double_pendulum": double_pendulum, "nbody": nbody, "pinn": pinn}


def format_tables(results: dict[str, Any]) -> str:
    """The benchmark tables as plain text, one block per section."""
    blocks = [SECTIONS[name].table(results[name]) for name in SECTIONS if name in results]
    lines = "\n\n".join(blocks)
    if results.get("seconds"):
        lines += "\n\nwall time per section (s): " + ", ".join(f"{k} {v:.1f}" for k, v in results["seconds"].items())
    if results.get("threads"):
        lines += "\nCPU threads per section: " + ", ".join(f"{k} {v}" for k, v in results["threads"].items())
    return lines


def _probe_seconds(threads: int, reps: int = 30) -> float:
    """Mean wall time of one small training-like step (a 256 x 128 x 128 layer forward and backward, an
    in-place update of 64k numbers) at ``threads`` intra-op threads."""
    torch.set_num_threads(threads)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(256, 128, generator=gen)
    w = torch.randn(128, 128, generator=gen, requires_grad=True)
    v = torch.zeros(65536)
    torch.tanh(x @ w).sum().backward()  # warm-up
    tic = time.perf_counter()
    for _ in range(reps):
        torch.tanh(x @ w).sum().backward()
        v.mul_(0.9).add_(1.0)
    # the mean, not the median: the cost of a busy core is occasional long waits for a worker thread
    return (time.perf_counter() - tic) / reps


def pick_threads(max_threads: int) -> int:
    """``max_threads`` intra-op threads, or 1 where a probe of a few milliseconds (:func:`_probe_seconds`) runs
    clearly (20%) faster at 1 on this machine now; leaves torch set to the choice.

    torch's CPU worker threads spin at the end of every parallel operation; when another process holds a
    core, each such operation waits for the descheduled worker, and 1 thread is several times faster than 2.
    """
    if max_threads <= 1:
        torch.set_num_threads(1)
        return 1
    one, many = _probe_seconds(1), _probe_seconds(max_threads)
    best = 1 if one < 0.8 * many else max_threads  # torch's default unless 1 thread is clearly faster
    torch.set_num_threads(best)
    return best


def write_results(results: dict[str, Any], out: Path) -> Path:
    """Write ``results`` to ``out/results.json`` atomically (a temporary file renamed over it), so a reader or a
    crash never sees half a file. Should that fail (disk full, folder gone), they go to a file in the system's
    temporary folder instead, and the returned path says where: results are never lost to a late write
    error."""
    text = json.dumps(results, indent=2, default=str)
    target = out / "results.json"
    try:
        tmp = out / f".results.{os.getpid()}.{secrets.token_hex(4)}.json.tmp"
        try:
            with open(tmp, "x") as fh:  # created with the umask's mode, as write_text would
                fh.write(text)
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return target
    except OSError as exc:
        fallback = Path(tempfile.gettempdir()) / f"physwm-bench-results-{os.getpid()}.json"
        try:
            fallback.write_text(text)
        except OSError:  # nowhere to write: the results go to stderr
            print(f"physwm bench: could not write {target} ({exc.strerror or exc}) nor {fallback}; the results:\n{text}",
                  file=sys.stderr)
            return fallback
        print(f"physwm bench: could not write {target} ({exc.strerror or exc}); the results are in {fallback}",
              file=sys.stderr)
        return fallback


def run_benchmark(cfg: BenchConfig) -> dict[str, Any]:
    """Run every section, write ``results.json`` and PNG plots to ``cfg.out``, return the results.

    ``results.json`` is rewritten after every section (``"complete": false`` until the last), so an
    interrupted run keeps what it measured; see :func:`write_results` for a write that fails.

    Raises:
        ValueError: bad settings (from :class:`BenchConfig`, checked before the first task).
    """
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"complete": False, "seconds": {}, "threads": {}}
    device = cfg.torch_device
    default_threads = torch.get_num_threads()
    start = time.perf_counter()
    try:
        for name, section in tqdm(SECTIONS.items(), desc="physwm bench", disable=not cfg.progress):
            if device.type == "cpu":
                threads = pick_threads(default_threads) if cfg.threads == "auto" else cfg.threads
                torch.set_num_threads(threads)
                results["threads"][name] = threads
            tic = time.perf_counter()
            results[name] = section.run(cfg)
            results["seconds"][name] = time.perf_counter() - tic
            results["results_file"] = str(write_results(results, out))
    finally:
        torch.set_num_threads(default_threads)
    results.update({
        "physwm_version": physwm.__version__, "torch_version": torch.__version__, "config": asdict(cfg),
        "machine": {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
                    "cpu_count": os.cpu_count(), "default_threads": default_threads,
                    "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"},
        "wall_seconds": time.perf_counter() - start, "complete": True, "plots": [],
    })
    results["results_file"] = str(write_results(results, out))
    try:
        results["plots"] = [f for name, section in SECTIONS.items() if hasattr(section, "plots")
                            for f in section.plots(out, results[name])]
    except OSError as exc:  # the numbers are already safe; say why the figures are missing
        print(f"physwm bench: could not write the plots to {out} ({exc.strerror or exc})", file=sys.stderr)
    results["results_file"] = str(write_results(results, out))
    return results
