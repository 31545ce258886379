"""Command-line interface: ``physwm bench`` and ``physwm methods``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    from physwm import __version__

    parser = argparse.ArgumentParser(prog="physwm", description="physics-informed world models")
    parser.add_argument("--version", action="version", version=f"physwm {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    bench = sub.add_parser("bench", help="run the conservation benchmark")
    mode = bench.add_mutually_exclusive_group()
    mode.add_argument("--quick", dest="mode", action="store_const", const="quick",
                      help="default: short horizons and training budgets (a few minutes on a 2-core CPU)")
    mode.add_argument("--full", dest="mode", action="store_const", const="full",
                      help="the long setting: 10-20x the quick horizons, 3-300x its training budgets (hours; the "
                           "n-body part is a GPU job)")
    bench.set_defaults(mode="quick")
    bench.add_argument("--smoke", action="store_true", help="tiny budgets (under a minute in all), for tests")
    bench.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda (default cpu)")
    bench.add_argument("--out", default="bench-results", help="output folder for results.json and plots")
    bench.add_argument("--data", default=None,
                       help="folder laid out like shared/data: with nbody-charged/ the published charged 5-body set is "
                            "used (default $PHYSWM_DATA); without it physwm generates an equivalent set. The measured "
                            "pendulum data ship with physwm.")
    bench.add_argument("--seed", type=int, default=0)
    bench.add_argument("--checkpoint-dir", default=None, help="folder for resumable n-body training checkpoints")
    bench.add_argument("--threads", default="auto",
                       help="CPU threads: 'auto' (default: per section the faster of 1 and torch's default, by a "
                            "short probe; 1 wins when other programs keep the cores busy) or a number")
    bench.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    sub.add_parser("methods", help="list the integration methods")
    return parser


def quiet_profiler_logs() -> None:
    """Silence kineto's start/stop lines: the CPU memory measurement uses torch.profiler, which logs them at its
    top level. Set here, in the command's own process (the library leaves the environment alone); kineto
    reads the setting once, when a process first profiles."""
    import os

    os.environ.setdefault("KINETO_LOG_LEVEL", "6")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "methods":
        from physwm.integrate import get_method, methods

        for name in methods():
            print(repr(get_method(name)))
        return 0
    quiet_profiler_logs()
    from physwm.bench import BenchConfig, format_tables, run_benchmark

    threads = args.threads
    if threads != "auto":
        try:
            threads = int(threads)
        except ValueError:
            print(f"physwm bench: error: `--threads` must be 'auto' or a positive integer, got {threads!r}",
                  file=sys.stderr)
            return 2
    try:
        cfg = BenchConfig(mode="smoke" if args.smoke else args.mode, device=args.device, out=args.out, data=args.data,
                          seed=args.seed, progress=not args.no_progress, checkpoint_dir=args.checkpoint_dir, threads=threads)
    except (ValueError, TypeError) as exc:  # every setting is checked before the first task runs
        print(f"physwm bench: error: {exc}", file=sys.stderr)
        return 2
    results = run_benchmark(cfg)
    print(format_tables(results))
    print(f"\nwrote {results['results_file']} and {len(results['plots'])} plots in {results['wall_seconds']:.1f} s")
    return 0 if results["results_file"] == str(Path(cfg.out) / "results.json") else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
