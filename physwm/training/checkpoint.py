"""Atomic checkpoint writing and tensors-only loading."""

from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

import torch

from physwm._errors import CheckpointError

__all__ = ["save_checkpoint", "load_checkpoint"]


def save_checkpoint(obj: Any, path: str | os.PathLike) -> Path:
    """Write ``obj`` (tensors, numbers, strings and containers of them) to ``path`` atomically.

    The data go to a temporary file in the same folder, which is flushed and ``fsync``-ed and then
    renamed over ``path`` with :func:`os.replace`; the folder is ``fsync``-ed too. A crash or an
    exception at any point leaves either the old file or the new one, never a torn file, and no
    stray temporary file.

    Raises:
        CheckpointError: the folder does not exist.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise CheckpointError(f"cannot write checkpoint {str(path)!r}: folder {str(folder)!r} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(obj, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return path
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return path


def load_checkpoint(path: str | os.PathLike, map_location: Any = None) -> Any:
    """Read a checkpoint with ``torch.load(..., weights_only=True)``: tensors and plain containers
    only, never arbitrary pickled objects.

    Raises:
        CheckpointError: missing file, truncated/corrupt file, or a pickled object other than
            tensors and plain containers.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {str(path)!r}")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(f"refusing to load {str(path)!r}: it holds objects other than tensors and plain "
                              f"containers (weights_only=True): {str(exc).splitlines()[0]}") from exc
    except (RuntimeError, EOFError, ValueError) as exc:
        raise CheckpointError(f"cannot read checkpoint {str(path)!r} (truncated or corrupt): {exc}") from exc
