"""Loader for the measured mechanical systems of Schmidt & Lipson (Science, 2009), shipped as package data."""

from __future__ import annotations

import os
import warnings
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from physwm._errors import DataFormatError
from physwm._validate import choice, integer
from physwm.data.trajectories import TrajectoryData

__all__ = ["load_schmidt_lipson", "SCHMIDT_LIPSON_FILES", "schmidt_lipson_path"]

#: The measurement files shipped with physwm (``physwm/data/measured``, with their citation).
SCHMIDT_LIPSON_FILES = ("real_pend_h_1.txt", "real_double_pend_h_1.txt", "real_linear_h_1.txt",
                        "real_double_linear_h_1.txt")


def schmidt_lipson_path(name: str | os.PathLike) -> Path:
    """The file ``name``: a path to an existing file, or the name of a shipped file (:data:`SCHMIDT_LIPSON_FILES`,
    with or without ``.txt``).

    Raises:
        FileNotFoundError: neither an existing file nor a shipped name.
    """
    path = Path(name)
    if path.is_file():
        return path
    stem = path.name if path.name.endswith(".txt") else f"{path.name}.txt"
    if str(path) in (stem, stem[:-4]) and stem in SCHMIDT_LIPSON_FILES:
        shipped = Path(str(resources.files("physwm.data").joinpath("measured", stem)))
        if shipped.is_file():
            return shipped
    raise FileNotFoundError(f"no Schmidt-Lipson data file at {str(name)!r}; give a path to a file or one of the "
                            f"shipped names {list(SCHMIDT_LIPSON_FILES)}")


def load_schmidt_lipson(path: str | os.PathLike = "real_pend_h_1.txt", *, trial: int = 0, derivative: str = "central",
                        dtype: torch.dtype = torch.float64) -> TrajectoryData:
    """Read one trial of a Schmidt-Lipson measurement file as a trajectory.

    The four files of Schmidt & Lipson, "Distilling Free-Form Natural Laws from Experimental Data",
    *Science* 324, 81-85 (2009), ship with physwm (:data:`SCHMIDT_LIPSON_FILES`): pass a file name to
    read the shipped copy, or a path to read another file of the same layout.

    The files (``real_pend_h_1.txt``, ``real_double_pend_h_1.txt``, ...) are whitespace-separated
    text; the header line starting with ``%`` names the state columns that follow the trial index
    and the time (s). Only those named columns form the state: for the pendulum ``[angle (rad),
    angular velocity (rad/s)]``, used as ``[q, p]`` exactly as the HNN paper does. Frames are
    missing here and there, so derivatives are finite differences on the real time stamps
    (:meth:`TrajectoryData.gaps` lists the missing stretches):

    - ``"central"``: second-order differences on the non-uniform grid (:func:`torch.gradient`),
      one-sided at the ends; all samples kept.
    - ``"forward"``: ``(y[i+1] - y[i]) / (t[i+1] - t[i])``, last sample dropped (the HNN paper's
      estimate, used to compare with its numbers).
    - ``"measured"``: the derivative columns the file itself carries after the state (the double
      pendulum file stores ``w1, w2`` again and the two angular accelerations, i.e. ``d/dt [o, w]``).

    Args:
        path: a shipped file name (default the real pendulum, ``real_pend_h_1.txt``) or a path.
        trial: trial index (column 0) to read.
        derivative: ``"central"``, ``"forward"`` or ``"measured"``.
        dtype: floating dtype of the tensors.

    Returns:
        :class:`TrajectoryData` with ``ys``/``dydt`` of shape ``(T, 1, d)``; ``t`` starts where
        the recording does.

    Raises:
        FileNotFoundError: no file at ``path``.
        DataFormatError: not a text file, no ``%`` header, too few columns, NaN or inf entries, unknown
            trial, or non-increasing times (each message names the file).
        ValueError: unknown ``derivative``.

    Example:
        >>> data = load_schmidt_lipson("real_pend_h_1.txt")
        >>> data.ys.shape
        torch.Size([556, 1, 2])
    """
    choice("derivative", derivative, ("central", "forward", "measured"))
    integer("trial", trial, minimum=0)
    path = schmidt_lipson_path(path)
    try:
        with path.open(encoding="ascii") as fh:
            header = fh.readline()
    except UnicodeDecodeError as exc:
        raise DataFormatError(f"{path}: not a text file (byte {exc.start} is not ASCII): expected whitespace-separated "
                              "numbers under a '%' header") from exc
    if not header.startswith("%"):
        raise DataFormatError(f"{path.name}: expected a first line starting with '%' naming the columns, "
                              f"got {header[:40]!r}")
    names = header.lstrip("%").split()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)  # numpy warns, and returns an empty table, on a file without rows
            table = np.loadtxt(path, comments="%", ndmin=2)
    except (ValueError, UnicodeDecodeError, UserWarning) as exc:
        raise DataFormatError(f"{path}: not a whitespace-separated numeric table ({exc})") from exc
    n_state = len(names)
    if n_state == 0 or table.shape[1] < 2 + n_state:
        raise DataFormatError(f"{path.name}: header names {n_state} state columns, so each row needs at least "
                              f"{2 + n_state} columns (trial, t, state); got {table.shape[1]}")
    if not np.isfinite(table[:, : 2 + n_state]).all():
        bad = sorted({int(i) + 1 for i in np.argwhere(~np.isfinite(table[:, : 2 + n_state]))[:, 0]})
        raise DataFormatError(f"{path}: NaN or inf in the trial, time or state columns of {len(bad)} rows (data rows "
                              f"{bad[:5]}{'...' if len(bad) > 5 else ''}, counted from 1 after the header)")
    trials = np.unique(table[:, 0]).astype(int).tolist()
    if trial not in trials:
        raise DataFormatError(f"{path.name}: trial {trial} not present; trials are {trials}")
    rows = table[table[:, 0] == trial]
    t = torch.tensor(rows[:, 1], dtype=dtype)
    y = torch.tensor(rows[:, 2 : 2 + n_state], dtype=dtype)
    if len(t) < 3 or not bool((t.diff() > 0).all()):
        raise DataFormatError(f"{path.name}: trial {trial} needs at least 3 samples at increasing times")
    if derivative == "measured":
        if table.shape[1] < 2 + 2 * n_state:
            raise DataFormatError(f"{path.name}: derivative='measured' needs {n_state} derivative columns after the "
                                  f"state ({2 + 2 * n_state} in all), got {table.shape[1]} columns")
        dy = torch.tensor(rows[:, 2 + n_state: 2 + 2 * n_state], dtype=dtype)
    elif derivative == "central":
        (dy,) = torch.gradient(y, spacing=(t,), dim=0)
    else:
        dy = y.diff(dim=0) / t.diff().unsqueeze(-1)
        t, y = t[:-1], y[:-1]
    return TrajectoryData(t, y.unsqueeze(1), dy.unsqueeze(1))
