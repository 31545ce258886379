"""Atomic checkpoint writing and tensors-only loading."""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import pickle
import secrets
import socket
from pathlib import Path
from typing import Any

import torch

from physwm._errors import CheckpointError

__all__ = ["save_checkpoint", "load_checkpoint"]


def save_checkpoint(obj: Any, path: str | os.PathLike) -> Path:
    """Write ``obj`` (tensors, numbers, strings and containers of them) to ``path`` atomically.

    The data go to a temporary file in the same folder, which is flushed and ``fsync``-ed and then
    renamed over ``path`` with :func:`os.replace`; the folder is ``fsync``-ed too. A crash or an
    exception at any point leaves either the old file or the new one, never a torn file. An
    exception removes its temporary file; a process killed mid-write (``kill -9``, power loss)
    cannot, so its temporary file (named with the writer's host and process id) is removed by the
    next save to the same path on that host once that process is gone. The file gets the mode :func:`torch.save` would give
    (``0666`` less the umask; an existing checkpoint keeps its own).

    Raises:
        CheckpointError: the folder does not exist, or ``path`` is a folder.
        OSError: the disk is full or the folder not writable (the old checkpoint is untouched).
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise CheckpointError(f"cannot write checkpoint {str(path)!r}: folder {str(folder)!r} does not exist")
    if path.is_dir():
        raise CheckpointError(f"cannot write checkpoint {str(path)!r}: it is a folder")
    _remove_stale_temporaries(path)
    tmp = folder / f"{_temporary_prefix(path)}{_HOST}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the kernel applies the umask, as for torch.save
    try:
        if path.exists():  # an existing checkpoint keeps its own mode
            os.chmod(tmp, path.stat().st_mode & 0o777)
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


#: this machine, in the temporary files' names: a process id is only meaningful on the host that wrote it
_HOST = hashlib.sha1(socket.gethostname().encode()).hexdigest()[:8]


def _temporary_prefix(path: Path) -> str:
    """``.<name>.physwm-tmp.``: the marker keeps ``ck``'s temporaries apart from ``ck.1``'s."""
    return f".{path.name}.physwm-tmp."


def _remove_stale_temporaries(path: Path) -> None:
    """Remove the temporary files of earlier saves to ``path`` written on this host by processes that no
    longer run (a writer on another host sharing the folder is left alone: its process id means nothing here)."""
    prefix = f"{_temporary_prefix(path)}{_HOST}."
    for candidate in path.parent.glob(f"{glob.escape(prefix)}*.tmp"):
        pid = candidate.name[len(prefix):].split(".", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:  # the writer is gone: its file can never be completed
            with contextlib.suppress(OSError):
                candidate.unlink()
        except (PermissionError, OSError):  # another user's live process, or no way to tell: leave it
            continue


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
        if "weights only" not in str(exc).lower():  # not a refused object: a pickle stream cut short or garbled
            raise CheckpointError(f"cannot read checkpoint {str(path)!r} (truncated or corrupt): {exc}") from exc
        raise CheckpointError(f"refusing to load {str(path)!r}: it holds objects other than tensors and plain "
                              f"containers (weights_only=True): {str(exc).splitlines()[0]}") from exc
    except (RuntimeError, EOFError, ValueError, OSError, KeyError, IndexError, AttributeError) as exc:
        # a truncated zip archive fails in several ways, by where the cut falls (OSError EINVAL on a seek)
        raise CheckpointError(f"cannot read checkpoint {str(path)!r} (truncated or corrupt): "
                              f"{type(exc).__name__}: {exc}") from exc
