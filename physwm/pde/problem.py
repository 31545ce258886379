r"""A PDE problem for a physics-informed network: residual, domain, time interval, initial and boundary data."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from torch import Tensor

from physwm._errors import ArgumentTypeError, ArgumentValueError
from physwm.pde.collocation import Box

__all__ = ["PDEProblem"]


@dataclass
class PDEProblem:
    r"""Everything a PINN is trained on, written as plain functions.

    The loss of a physics-informed network (Raissi, Perdikaris & Karniadakis, *J. Comput. Phys.*
    378, 2019) is

    .. math::
        \mathcal L = \lambda_r \langle |\mathcal R[u_\theta]|^2 \rangle_{\Omega\times(0,T)}
                   + \lambda_0 \langle |u_\theta(x, t_0) - u_0(x)|^2 \rangle_\Omega
                   + \lambda_b \langle |u_\theta - g|^2 \rangle_{\partial\Omega\times(0,T)}
                   + \lambda_v \langle |\partial_t u_\theta(x, t_0) - v_0(x)|^2 \rangle_\Omega

(the last term only for a problem second order in time, such as a wave or Klein-Gordon equation, which
needs both the initial value and the initial velocity).

    Attributes:
        residual: ``residual(u, x, t) -> Tensor`` (or a tuple of tensors, one per equation), zero for
            a solution; ``x`` is ``(*points, d)``, ``t`` is ``(*points,)`` (``None`` without ``time``).
            Derivatives come from :mod:`physwm.pde.autodiff`.
        domain: the spatial :class:`~physwm.pde.collocation.Box`.
        time: ``(t0, t1)``, or ``None`` for a steady problem.
        initial: ``initial(x) -> u0`` at ``t0`` (shape of ``u`` at those points), or ``None``.
        boundary: ``boundary(x, t) -> g``, Dirichlet values on every face of ``domain``, or ``None``
            (periodic problems: use a periodic model instead).
        exact: optional reference ``exact(x, t) -> u``, used only to report errors.
        initial_velocity: ``initial_velocity(x) -> v0``, the initial :math:`\partial_t u` at ``t0``
            (second order in time), or ``None``.

    Data (``initial``, ``boundary``, ``exact``, ``initial_velocity``) may give only the leading components of a vector field,
    ``(*points, m')`` with ``m' < m`` (velocity without pressure); those are compared.

    Example:
        >>> from physwm.pde import autodiff as ad
        >>> problem = PDEProblem(
        ...     residual=lambda u, x, t: ad.partial(u, t) - 0.1 * ad.laplacian(u, x),
        ...     domain=Box([0.0, 0.0], [1.0, 1.0]), time=(0.0, 1.0),
        ...     initial=lambda x: torch.sin(torch.pi * x[..., 0]) * torch.sin(torch.pi * x[..., 1]),
        ...     boundary=lambda x, t: torch.zeros_like(t))
        >>> problem.spacetime
        Box(lower=[0.0, 0.0, 0.0], upper=[1.0, 1.0, 1.0])
    """

    residual: Callable[..., Tensor | tuple[Tensor, ...]]
    domain: Box
    time: tuple[float, float] | None = None
    initial: Callable[[Tensor], Tensor] | None = None
    boundary: Callable[[Tensor, Tensor], Tensor] | None = None
    exact: Callable[[Tensor, Tensor], Tensor] | None = None
    initial_velocity: Callable[[Tensor], Tensor] | None = None

    def __post_init__(self) -> None:
        if not callable(self.residual):
            raise ArgumentTypeError(f"`residual` must be callable as residual(u, x, t), got {type(self.residual).__name__}")
        if not isinstance(self.domain, Box):
            raise ArgumentTypeError(f"`domain` must be a physwm.pde.Box, got {type(self.domain).__name__}")
        if self.time is not None:
            try:
                t0, t1 = (float(v) for v in self.time)
            except (TypeError, ValueError):
                raise ArgumentTypeError(f"`time` must be a pair of numbers (t0, t1) or None, got {self.time!r}") from None
            if not (math.isfinite(t0) and math.isfinite(t1) and t1 > t0):
                raise ArgumentValueError(f"`time` must be (t0, t1) with t1 > t0, got {self.time!r}")
            self.time = (t0, t1)
        else:
            for name in ("initial", "initial_velocity"):
                if getattr(self, name) is not None:
                    raise ArgumentValueError(f"`{name}` needs a `time` interval")
        for name in ("initial", "boundary", "exact", "initial_velocity"):
            v = getattr(self, name)
            if v is not None and not callable(v):
                raise ArgumentTypeError(f"`{name}` must be callable or None, got {type(v).__name__}")

    @property
    def spacetime(self) -> Box:
        """The box over ``(x_1, ..., x_d, t)`` (the spatial box when steady)."""
        return self.domain if self.time is None else self.domain.product(Box([self.time[0]], [self.time[1]]))

    def split(self, z: Tensor) -> tuple[Tensor, Tensor | None]:
        """Split space-time points ``(*points, d [+1])`` into ``x`` and ``t``."""
        d = self.domain.dim
        return (z[..., :d], z[..., d] if self.time is not None else None)

    @staticmethod
    def leading(u: Tensor, ref: Tensor) -> Tensor:
        """``u`` restricted to the components that data ``ref`` give (data may omit trailing ones, such as a
        pressure): ``u`` itself when the shapes agree.

        Raises:
            ValueError: shapes that no restriction reconciles.
        """
        if u.shape == ref.shape:
            return u
        if u.dim() == ref.dim() and u.shape[:-1] == ref.shape[:-1] and ref.shape[-1] <= u.shape[-1]:
            return u[..., : ref.shape[-1]]
        raise ArgumentValueError(f"data of shape {tuple(ref.shape)} do not match the model output {tuple(u.shape)} "
                         "(they may give the leading components only)")

    def residual_terms(self, u: Tensor, x: Tensor, t: Tensor | None) -> list[Tensor]:
        """The residual as a list of tensors, with a clear error for a non-tensor result."""
        r = self.residual(u, x, t)
        terms = list(r) if isinstance(r, (tuple, list)) else [r]
        if not terms or not all(isinstance(v, Tensor) for v in terms):
            raise ArgumentTypeError(f"`residual(u, x, t)` must return a tensor or a tuple of tensors, got {type(r).__name__}")
        return terms
