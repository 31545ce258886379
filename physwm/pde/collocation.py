r"""Collocation points: a box domain and its samplers (uniform, Sobol, grid), interior and boundary.

:class:`Box` is an axis-aligned box :math:`\prod_a [l_a, u_a]` in space or space-time. It samples

- scattered points ``(n, d)`` for a pointwise PINN (:meth:`Box.sample`, :meth:`Box.sample_boundary`),
- one 1-D coordinate set per axis for a separable PINN, whose collocation points are their
  Cartesian product (:meth:`Box.sample_axes`).

Samplers (the ``sampler`` argument): ``"uniform"`` (i.i.d., from a :class:`torch.Generator`),
``"sobol"`` (scrambled Sobol low-discrepancy points, :class:`scipy.stats.qmc.Sobol`, seeded from the
generator, so runs repeat) and ``"grid"`` (a tensor-product grid of cell midpoints, deterministic).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

from physwm._errors import ArgumentTypeError, ArgumentValueError
from physwm._validate import choice, positive_int

__all__ = ["Box", "SAMPLERS"]

SAMPLERS = ("uniform", "sobol", "grid")


def _unit_points(n: int, d: int, sampler: str, generator: torch.Generator | None) -> Tensor:
    """``n`` points in ``[0, 1]^d`` (float64, CPU)."""
    if sampler == "uniform":
        return torch.rand(n, d, generator=generator, dtype=torch.float64)
    if sampler == "sobol":
        from scipy.stats import qmc  # scipy is only needed for Sobol points

        seed = int(torch.randint(0, 2**31 - 1, (), generator=generator))
        # Sobol balance needs n a power of two; draw the next power and keep the first n
        points = qmc.Sobol(d, scramble=True, seed=seed).random(2 ** max(0, math.ceil(math.log2(n))))[:n]
        return torch.as_tensor(points, dtype=torch.float64)
    per_axis = max(1, round(n ** (1 / d)))
    if per_axis**d != n:
        raise ArgumentValueError(f"a 'grid' of {d}-D points needs n = k**{d} for an integer k, got n={n}")
    axis = (torch.arange(per_axis, dtype=torch.float64) + 0.5) / per_axis
    return torch.cartesian_prod(*[axis] * d).reshape(n, d)


class Box:
    r"""The axis-aligned box :math:`[l_1, u_1] \times \dots \times [l_d, u_d]`.

    Args:
        lower: lower corner, ``d`` numbers.
        upper: upper corner, ``d`` numbers, each above its lower bound.

    Raises:
        ValueError: mismatched lengths, non-finite bounds or an empty side.

    Example:
        >>> box = Box([0.0, 0.0], [1.0, 2.0])
        >>> box.sample(8, sampler="sobol", generator=torch.Generator().manual_seed(0)).shape
        torch.Size([8, 2])
    """

    def __init__(self, lower: Sequence[float], upper: Sequence[float]):
        try:
            lower, upper = [float(v) for v in lower], [float(v) for v in upper]
        except (TypeError, ValueError):
            raise ArgumentTypeError(f"`lower` and `upper` must be sequences of numbers, got {lower!r} and {upper!r}") from None
        if len(lower) != len(upper) or not lower:
            raise ArgumentValueError(f"`lower` and `upper` must have the same non-zero length, got {len(lower)} and {len(upper)}")
        if not all(math.isfinite(a) and math.isfinite(b) and b > a for a, b in zip(lower, upper)):
            raise ArgumentValueError(f"every side needs finite bounds with upper > lower, got lower={lower}, upper={upper}")
        self.lower, self.upper = tuple(lower), tuple(upper)

    @property
    def dim(self) -> int:
        return len(self.lower)

    @property
    def lengths(self) -> tuple[float, ...]:
        return tuple(b - a for a, b in zip(self.lower, self.upper))

    @property
    def volume(self) -> float:
        return math.prod(self.lengths)

    def __repr__(self) -> str:
        return f"Box(lower={list(self.lower)}, upper={list(self.upper)})"

    def product(self, other: Box) -> Box:
        """The box ``self x other`` (e.g. space x time)."""
        return Box(self.lower + other.lower, self.upper + other.upper)

    def _scale(self, unit: Tensor, dtype: torch.dtype, device: torch.device | str | None) -> Tensor:
        lo = torch.tensor(self.lower, dtype=torch.float64)
        return (lo + unit * (torch.tensor(self.upper, dtype=torch.float64) - lo)).to(dtype=dtype, device=device)

    def sample(self, n: int, *, sampler: str = "sobol", generator: torch.Generator | None = None,
               dtype: torch.dtype = torch.float32, device: torch.device | str | None = None) -> Tensor:
        """``n`` interior points, shape ``(n, d)``. ``"grid"`` needs ``n = k**d``.

        Raises:
            ValueError: bad ``n`` or ``sampler``.
        """
        positive_int("n", n)
        return self._scale(_unit_points(n, self.dim, choice("sampler", sampler, SAMPLERS), generator), dtype, device)

    def sample_axes(self, n: int | Sequence[int], *, sampler: str = "uniform", generator: torch.Generator | None = None,
                    dtype: torch.dtype = torch.float32, device: torch.device | str | None = None) -> list[Tensor]:
        """One sorted 1-D coordinate tensor per axis (``n`` points each, or ``n[a]`` on axis ``a``).

        Their Cartesian product is the collocation grid of a separable PINN: ``prod(n)`` points
        from ``sum(n)`` coordinates.

        Raises:
            ValueError: bad ``n`` or ``sampler``.
        """
        ns = [n] * self.dim if isinstance(n, int) else list(n)
        if len(ns) != self.dim:
            raise ArgumentValueError(f"`n` must be an int or one count per axis ({self.dim}), got {n!r}")
        choice("sampler", sampler, SAMPLERS)
        out = []
        for a, k in enumerate(ns):
            unit = _unit_points(positive_int("n", k), 1, sampler, generator)[:, 0].sort().values
            out.append(self.lower[a] + unit.to(dtype=dtype, device=device) * self.lengths[a])
        return out

    def sample_boundary(self, n: int, *, axes: Sequence[int] | None = None, sampler: str = "uniform",
                        generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32,
                        device: torch.device | str | None = None) -> Tensor:
        """``n`` points on the faces normal to ``axes`` (default all), faces chosen in proportion to their area.

        Shapes:
            ``(n, d)``.

        Raises:
            ValueError: bad ``n``, ``sampler`` (``"grid"`` is not offered on faces) or ``axes``.
        """
        positive_int("n", n)
        if sampler == "grid":
            raise ArgumentValueError("`sampler` for boundary points must be 'uniform' or 'sobol', got 'grid'")
        axes = list(range(self.dim)) if axes is None else list(axes)
        if not axes or any(not isinstance(a, int) or not 0 <= a < self.dim for a in axes):
            raise ArgumentValueError(f"`axes` must be non-empty ints in [0, {self.dim}), got {axes!r}")
        areas = torch.tensor([self.volume / self.lengths[a] for a in axes for _ in (0, 1)], dtype=torch.float64)
        face = torch.multinomial(areas / areas.sum(), n, replacement=True, generator=generator)
        unit = _unit_points(n, self.dim, choice("sampler", sampler, SAMPLERS), generator)
        axis = torch.tensor(axes)[face // 2]
        unit[torch.arange(n), axis] = (face % 2).to(torch.float64)
        return self._scale(unit, dtype, device)

    def grid(self, n: int | Sequence[int], *, endpoint: bool = True, dtype: torch.dtype = torch.float32,
             device: torch.device | str | None = None) -> list[Tensor]:
        """Evenly spaced 1-D coordinates per axis (``endpoint=False`` for a periodic grid ``l + j L / n``)."""
        ns = [n] * self.dim if isinstance(n, int) else list(n)
        if len(ns) != self.dim:
            raise ArgumentValueError(f"`n` must be an int or one count per axis ({self.dim}), got {n!r}")
        out = []
        for a, k in enumerate(ns):
            positive_int("n", k)
            if endpoint:
                out.append(torch.linspace(self.lower[a], self.upper[a], k, dtype=dtype, device=device))
            else:
                out.append(self.lower[a] + torch.arange(k, dtype=dtype, device=device) * (self.lengths[a] / k))
        return out
