"""The benchmark's one configuration: a mode (smoke, quick, full) and the settings every section reads from it."""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from physwm import ArgumentTypeError, ArgumentValueError

__all__ = ["BenchConfig", "SETTINGS", "writable_folder"]


def writable_folder(name: str, folder: str | os.PathLike) -> Path:
    """``folder``, checked writable by creating it (where missing) and a probe file in it, then removing
    both: the check leaves nothing behind; the run creates the folder when it writes.

    Raises:
        ArgumentValueError: it is a file, lies under a file, or cannot be created or written.
    """
    if not isinstance(folder, (str, os.PathLike)):
        raise ArgumentTypeError(f"`{name}` must be a folder path, got {folder!r}")
    path = Path(folder)
    if path.exists() and not path.is_dir():
        raise ArgumentValueError(f"`{name}` {str(path)!r} is a file, not a folder")
    created = [p for p in (path, *path.parents) if not p.exists()]
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".physwm-write-test-"):
            pass
    except OSError as exc:
        raise ArgumentValueError(f"`{name}` {str(path)!r} cannot be written: {exc.strerror or exc}") from None
    finally:
        for p in created:  # innermost first
            with contextlib.suppress(OSError):
                p.rmdir()
    return path

#: Every budget of every section, per mode. ``quick`` is the default run (minutes on a 2-core CPU; measured times in docs/benchmarks.md),
#: ``full`` the long setting (a GPU job for the n-body part), ``smoke`` a few seconds per section for the tests.
SETTINGS: dict[str, dict[str, dict[str, Any]]] = {
    "smoke": {
        "integrators": dict(horizon_scale=0.05),
        "pendulum": dict(steps=30, sim_steps=30, rollout_horizon=2.0),
        "port_hamiltonian": dict(horizon_scale=0.05, phnn_steps=20),
        "double_pendulum": dict(steps=10, hidden=(16, 16), lyap_time=1.0, measured_horizon=0.5,
                                split=dict(grey_box_steps=5, rollout_steps=2, starts=2, horizon=0.3),
                                chaotic=dict(n_train=5, n_test=2, t_train=0.5, obs_dt=0.05, noise=0.01, hidden=(16,),
                                             dm_steps=5, rollout_steps=2, window=3, substeps=1, rollout_batch=2,
                                             rollout_trajectories=4, refine_iters=1,
                                             rollout_lr=1e-4, horizon=0.5, lyap_time=1.0, lnn_regularization=1.0, lnn_peak_lr=1e-3)),
        "nbody": dict(epochs={"EGNN": 1, "SEGNN": 1}, n_train=100, n_valid=100, n_test=200,
                      gravity=dict(bodies=10, train_bodies=5, sims=2, fit_steps=3, roll_steps=20)),
        "pinn": dict(sizes=(8,), min_seconds=0.05, accuracy=dict(n=6, steps=5), flow=dict(n=6, steps=5, grid=32)),
    },
    "quick": {
        # trimmed where the comparisons survive; docs/benchmarks.md says which numbers that moved
        "integrators": dict(horizon_scale=0.5),
        "pendulum": dict(steps=2000, sim_steps=1000, rollout_horizon=None),
        "port_hamiltonian": dict(horizon_scale=0.5, phnn_steps=1500),
        # the measured rollouts end at 2 s: no model stays valid beyond 0.1 s on trial 1
        "double_pendulum": dict(steps=600, hidden=(128, 128), lyap_time=20.0, measured_horizon=2.0,
                                split=dict(grey_box_steps=300, rollout_steps=100, starts=None, horizon=None),
                                chaotic=dict(n_train=200, n_test=16, t_train=5.0, obs_dt=0.05, noise=0.01, hidden=(128, 128, 128),
                                             dm_steps=1500, rollout_steps=20, window=10, substeps=1, rollout_batch=1,
                                             rollout_trajectories=32, refine_iters=3,
                                             rollout_lr=1e-4, horizon=10.0, lyap_time=20.0, lnn_regularization=1.0, lnn_peak_lr=1e-3)),
        "nbody": dict(epochs={"EGNN": 10, "SEGNN": 3}, n_train=3000, n_valid=500, n_test=2000,
                      gravity=dict(bodies=100, train_bodies=20, sims=16, fit_steps=200, roll_steps=200)),
        "pinn": dict(sizes=(32, 48), min_seconds=0.5, accuracy=dict(n=16, steps=100), flow=dict(n=12, steps=100, grid=64)),
    },
    "full": {
        "integrators": dict(horizon_scale=10.0),
        "pendulum": dict(steps=10000, sim_steps=10000, rollout_horizon=None),
        "port_hamiltonian": dict(horizon_scale=10.0, phnn_steps=5000),
        "double_pendulum": dict(steps=5000, hidden=(256, 256), lyap_time=200.0, measured_horizon=None,
                                split=dict(grey_box_steps=1000, rollout_steps=1000, starts=None, horizon=None),
                                chaotic=dict(n_train=1600, n_test=32, t_train=5.0, obs_dt=0.05, noise=0.01, hidden=(128, 128, 128),
                                             dm_steps=30000, rollout_steps=300, window=10, substeps=2, rollout_batch=2,
                                             rollout_trajectories=128, refine_iters=3, rollout_lr=3e-4, horizon=20.0, lyap_time=100.0,
                                             lnn_regularization=1.0, lnn_peak_lr=1e-3)),
        "nbody": dict(epochs={"EGNN": 1000, "SEGNN": 1000}, n_train=3000, n_valid=2000, n_test=2000,
                      gravity=dict(bodies=100, train_bodies=20, sims=64, fit_steps=5000, roll_steps=5000)),
        # 128^3 PINN collocation points need about 30 GB: on CUDA only (see physwm.bench.pinn.scaling_rows)
        "pinn": dict(sizes=(32, 64, 128), min_seconds=5.0, accuracy=dict(n=32, steps=5000), flow=dict(n=16, steps=3000, grid=128)),
    },
}


@dataclass
class BenchConfig:
    """Settings of one benchmark run.

    Attributes:
        mode: ``"quick"`` (default), ``"full"`` or ``"smoke"``; the budgets are :data:`SETTINGS` ``[mode]``.
        device: torch device of the models and integrations.
        out: output folder (``results.json`` and PNG plots).
        data: a folder laid out like ``shared/data``: with ``nbody-charged/`` the published charged set
            is used for the EGNN/SEGNN comparison; default ``$PHYSWM_DATA``. Without it physwm generates
            an equivalent set (:func:`physwm.data.make_charged_dataset`); the measured pendulum data
            ship with the package.
        seed: seed of every model initialisation and data draw, in ``[0, 2**32 - 1]``.
        progress: show a progress bar.
        checkpoint_dir: a folder for resumable n-body training checkpoints, or ``None``.
        threads: intra-op CPU threads: a positive integer, or ``"auto"`` (default): before each section
            :func:`physwm.bench.runner.pick_threads` times a short probe at 1 thread and at torch's default and
            keeps the faster. On a machine whose other cores are busy, torch's spinning worker threads wait
            for a core at every parallel operation (measured here, one of 2 cores busy: a section 2.8x
            slower at 2 threads than at 1); when the cores are free, more threads are faster (1.5x at 2).
            Ignored on CUDA. torch's thread count is restored when the run ends.
    """

    mode: str = "quick"
    device: str = "cpu"
    out: str = "bench-results"
    data: str | None = None
    seed: int = 0
    progress: bool = True
    checkpoint_dir: str | None = None
    threads: int | str = "auto"

    def __post_init__(self) -> None:
        """Every setting is checked here, before the first task runs.

        Raises:
            ValueError / TypeError (physwm's ``ArgumentValueError`` / ``ArgumentTypeError``): an unknown
                mode, a device torch does not know or that is not here, a seed outside ``[0, 2**32 - 1]``,
                bad threads, or ``out`` / ``checkpoint_dir`` that cannot be written.
        """
        if self.mode not in SETTINGS:
            raise ArgumentValueError(f"`mode` must be one of {', '.join(map(repr, SETTINGS))}, got {self.mode!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ArgumentTypeError(f"`seed` must be an int, got {self.seed!r}")
        if not 0 <= self.seed <= 2**32 - 1:
            raise ArgumentValueError(f"`seed` must be an int >= 0 and <= {2**32 - 1}, got {self.seed}")
        if self.threads != "auto":
            if isinstance(self.threads, bool) or not isinstance(self.threads, int) or self.threads < 1:
                raise ArgumentValueError(f"`threads` must be 'auto' or an int >= 1, got {self.threads!r}")
        if not isinstance(self.device, (str, torch.device)):
            raise ArgumentTypeError(f"`device` must be a str such as 'cpu' or 'cuda', got {self.device!r}")
        try:
            device = torch.device(self.device)
        except (RuntimeError, ValueError):
            raise ArgumentValueError(f"`device` must be a torch device such as 'cpu', 'cuda' or 'cuda:1', got "
                                     f"{str(self.device)!r}") from None
        if device.type not in ("cpu", "cuda"):
            raise ArgumentValueError(f"`device` must be 'cpu' or a CUDA device, got {str(self.device)!r}")
        if device.type == "cuda":
            if not torch.cuda.is_available():
                raise ArgumentValueError(f"`device`={str(self.device)!r} asked for, but CUDA is not available here")
            if device.index is not None and device.index >= torch.cuda.device_count():
                raise ArgumentValueError(f"`device`={str(self.device)!r}: this machine has {torch.cuda.device_count()} "
                                         "CUDA device(s)")
        self.device = str(self.device)
        writable_folder("out", self.out)
        if self.checkpoint_dir is not None:
            writable_folder("checkpoint_dir", self.checkpoint_dir)
        if self.data is not None and not Path(self.data).is_dir():
            raise ArgumentValueError(f"`data` {str(self.data)!r} is not a folder (expected one laid out like shared/data, "
                                     "e.g. holding nbody-charged/)")

    def section(self, name: str) -> dict[str, Any]:
        """The budget of one section in this mode."""
        return SETTINGS[self.mode][name]

    @property
    def torch_device(self) -> torch.device:
        return torch.device(self.device)

    def data_folder(self, name: str) -> Path | None:
        """``<data>/<name>`` if it exists (``data`` defaulting to ``$PHYSWM_DATA``), else ``None``."""
        root = self.data or os.environ.get("PHYSWM_DATA")
        if not root:
            return None
        path = Path(root) / name
        return path if path.is_dir() else None
