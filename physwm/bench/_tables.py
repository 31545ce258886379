"""Plain-text tables of the benchmark: one cell format and one row layout for every section."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def cell(v: Any, style: str = "e") -> str:
    """A table cell: ``-`` for a missing value; floats as ``.2e`` (``style="e"``), ``.3g`` (``"g"``), or
    ``.3g`` within ``[1e-3, 1e4)`` and ``.2e`` outside it (``"auto"``); anything else by ``str``."""
    if v is None:
        return "-"
    if not isinstance(v, float):
        return str(v)
    if style == "g" or (style == "auto" and 1e-3 <= abs(v) < 1e4):
        return f"{v:.3g}"
    return f"{v:.2e}"


def row(values: Iterable[Any], width: int, style: str = "e") -> str:
    """Cells right-aligned in columns of ``width`` characters (headers: pass the header strings)."""
    return " ".join(f"{cell(v, style):>{width}}" for v in values)
