r"""Ground-truth PDE problems with exact solutions: the 2-D heat equation and the SPINN Klein-Gordon benchmark.

Unlike the ODE systems of this package, these are fields ``u(x, y, t)``: each class evaluates its exact
solution at any points (broadcasting ``x, y, t``), gives the initial and boundary data a PINN is
trained on, and the PDE residual as a plain function of ``u`` and its derivatives.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

from physwm._errors import ArgumentValueError
from physwm._validate import choice, integer, positive
from physwm.pde import Box, PDEProblem, wavenumbers
from physwm.pde import autodiff as ad

__all__ = ["HeatEquation", "KleinGordon"]


class HeatEquation:
    r"""Heat equation :math:`u_t = \alpha (u_{xx} + u_{yy})` on the box :math:`[0, L_x] \times [0, L_y]`.

    Exact solutions by Fourier modes:

    - ``boundary="periodic"``: :math:`u = c_0 + \sum_j a_j \cos(2\pi (m_j x / L_x + n_j y / L_y))\,
      e^{-\alpha \lambda_j t}`, :math:`\lambda_j = 4\pi^2 (m_j^2/L_x^2 + n_j^2/L_y^2)`; the total heat
      :math:`\int u = c_0 L_x L_y` is conserved.
    - ``boundary="dirichlet"`` (:math:`u = 0` on the walls): :math:`u = \sum_j a_j \sin(m_j\pi x/L_x)
      \sin(n_j\pi y/L_y)\, e^{-\alpha \lambda_j t}`, :math:`\lambda_j = \pi^2 (m_j^2/L_x^2 + n_j^2/L_y^2)`;
      the total heat decays.

    Args:
        alpha: diffusivity (length² / time), > 0.
        lengths: box side lengths ``(L_x, L_y)``.
        boundary: ``"periodic"`` or ``"dirichlet"``.
        modes: integer wave numbers ``[(m_1, n_1), ...]`` (Dirichlet: ``m, n >= 1``).
        amplitudes: ``a_j``, one per mode.
        mean: the constant :math:`c_0` (periodic only).

    Example:
        >>> heat = HeatEquation(alpha=0.1)
        >>> heat(torch.tensor(1.0), torch.tensor(2.0), torch.tensor(0.0)).shape
        torch.Size([])
    """

    def __init__(self, alpha: float = 0.05, lengths: Sequence[float] = (2 * math.pi, 2 * math.pi),
                 boundary: str = "periodic", modes: Sequence[tuple[int, int]] = ((1, 1), (2, 1), (0, 3)),
                 amplitudes: Sequence[float] = (1.0, 0.5, 0.25), mean: float = 0.0):
        alpha, boundary = positive("alpha", alpha), choice("boundary", boundary, ("periodic", "dirichlet"))
        lengths = tuple(float(v) for v in lengths)
        if len(lengths) != 2 or not all(v > 0 for v in lengths):
            raise ArgumentValueError(f"`lengths` must be two positive box lengths (L_x, L_y), got {lengths}")
        modes = [tuple(int(v) for v in m) for m in modes]
        if len(modes) != len(amplitudes) or not modes or any(len(m) != 2 for m in modes):
            raise ArgumentValueError(f"`modes` (pairs (m, n)) and `amplitudes` must have the same non-zero length, "
                             f"got {len(modes)} and {len(amplitudes)}")
        if boundary == "dirichlet":
            if any(m < 1 or n < 1 for m, n in modes):
                raise ArgumentValueError(f"Dirichlet modes need m, n >= 1 (sin(m pi x / L) vanishes on the walls), got {modes}")
            if mean != 0.0:
                raise ArgumentValueError("`mean` must be 0 with Dirichlet walls (u = 0 on the boundary)")
        self.alpha, self.lengths, self.boundary = float(alpha), lengths, boundary
        self.modes, self.amplitudes, self.mean = modes, [float(a) for a in amplitudes], float(mean)

    def decay_rates(self) -> list[float]:
        r""":math:`\alpha\lambda_j` of each mode (1/time)."""
        (lx, ly), c = self.lengths, (2 * math.pi if self.boundary == "periodic" else math.pi)
        return [self.alpha * c**2 * (m**2 / lx**2 + n**2 / ly**2) for m, n in self.modes]

    def __call__(self, x: Tensor, y: Tensor, t: Tensor) -> Tensor:
        """Exact solution at broadcast points ``x, y, t``."""
        (lx, ly) = self.lengths
        u = torch.zeros(torch.broadcast_shapes(x.shape, y.shape, t.shape), dtype=x.dtype, device=x.device) + self.mean
        for (m, n), a, rate in zip(self.modes, self.amplitudes, self.decay_rates()):
            if self.boundary == "periodic":
                shape = torch.cos(2 * math.pi * (m * x / lx + n * y / ly))
            else:
                shape = torch.sin(m * math.pi * x / lx) * torch.sin(n * math.pi * y / ly)
            u = u + a * shape * torch.exp(-rate * t)
        return u

    exact_solution = __call__

    def initial_condition(self, x: Tensor, y: Tensor) -> Tensor:
        """``u(x, y, 0)``."""
        return self(x, y, torch.zeros((), dtype=x.dtype, device=x.device))

    def residual(self, u_t: Tensor, u_xx: Tensor, u_yy: Tensor) -> Tensor:
        r""":math:`u_t - \alpha(u_{xx} + u_{yy})`, zero for a solution."""
        return u_t - self.alpha * (u_xx + u_yy)

    def total_heat(self, t: Tensor) -> Tensor:
        r"""Exact :math:`\int u\, dx\, dy` at times ``t``."""
        lx, ly = self.lengths
        if self.boundary == "periodic":
            total = self.mean * lx * ly
            for (m, n), a in zip(self.modes, self.amplitudes):
                if m == 0 and n == 0:
                    total = total + a * lx * ly
            return torch.full_like(t, total)
        out = torch.zeros_like(t)
        for (m, n), a, rate in zip(self.modes, self.amplitudes, self.decay_rates()):
            # int_0^L sin(m pi x / L) dx = L (1 - cos(m pi)) / (m pi)
            ix = lx * (1 - (-1) ** m) / (m * math.pi)
            iy = ly * (1 - (-1) ** n) / (n * math.pi)
            out = out + a * ix * iy * torch.exp(-rate * t)
        return out

    def pde_problem(self, time: tuple[float, float] = (0.0, 1.0)) -> PDEProblem:
        r"""This problem for a PINN: residual :math:`u_t - \alpha\Delta u` by :mod:`physwm.pde.autodiff`,
        the exact initial data, zero Dirichlet walls (periodic: no boundary term, use a periodic model)
        and the exact solution for error reports. Points are ``x (*points, 2)``, ``t (*points,)``.

        Example:
            >>> problem = HeatEquation(boundary="dirichlet", modes=[(1, 1)], amplitudes=[1.0]).pde_problem()
            >>> problem.spacetime.dim
            3
        """
        return PDEProblem(
            residual=lambda u, x, t: ad.partial(u, t) - self.alpha * ad.laplacian(u, x),
            domain=Box([0.0, 0.0], list(self.lengths)), time=time,
            initial=lambda x: self.initial_condition(x[..., 0], x[..., 1]),
            boundary=(lambda x, t: torch.zeros_like(t)) if self.boundary == "dirichlet" else None,
            exact=lambda x, t: self(x[..., 0], x[..., 1], t))

    def evolve_spectral(self, u0: Tensor, t: float | Tensor) -> Tensor:
        r"""Exact evolution of any periodic grid field: :math:`\hat u(k, t) = \hat u_0(k)\, e^{-\alpha|k|^2 t}`.

        Args:
            u0: values on the periodic grid ``(*batch, n_x, n_y)`` (points ``x = i L_x / n_x``).
            t: time.

        Raises:
            ValueError: Dirichlet boundary (use the sine modes).
        """
        if self.boundary != "periodic":
            raise ArgumentValueError("evolve_spectral needs boundary='periodic'")
        kx, ky = wavenumbers(u0.shape[-2:], self.lengths, dtype=u0.dtype, device=u0.device)
        decay = torch.exp(-self.alpha * (kx**2 + ky**2) * torch.as_tensor(t, dtype=u0.dtype, device=u0.device))
        return torch.fft.irfftn(torch.fft.rfftn(u0, dim=(-2, -1)) * decay, s=u0.shape[-2:], dim=(-2, -1))


class KleinGordon:
    r"""The (2+1)-d Klein-Gordon benchmark of the SPINN paper (Cho et al., NeurIPS 2023, §5.2).

    .. math::
        u_{tt} - (u_{xx} + u_{yy}) + u^p = f, \qquad u = (x + y)\cos 2t + x y \sin 2t

    on :math:`(x, y) \in [-1, 1]^2`, :math:`t \in [0, 10]`, with the source :math:`f` manufactured
    from the exact solution (here :math:`\Delta u = 0` and :math:`u_{tt} = -4u`, so
    :math:`f = u^p - 4u`); initial and boundary data come from the exact solution. The SPINN reference
    code (``klein_gordon3d``) has the quadratic nonlinearity, :math:`p = 2`, the default; ``power=3``
    gives the cubic Klein-Gordon equation of Wang, Teng & Perdikaris (2021).

    Args:
        power: the exponent :math:`p` of the nonlinearity, an integer >= 2.

    Raises:
        ValueError: ``power`` not an integer >= 2.

    Example:
        >>> KleinGordon()(torch.tensor(1.0), torch.tensor(0.0), torch.tensor(0.0))
        tensor(1.)
    """

    domain = ((-1.0, 1.0), (-1.0, 1.0), (0.0, 10.0))

    def __init__(self, power: int = 2):
        self.power = integer("power", power, minimum=2)

    def __call__(self, x: Tensor, y: Tensor, t: Tensor) -> Tensor:
        """Exact solution at broadcast points."""
        return (x + y) * torch.cos(2 * t) + x * y * torch.sin(2 * t)

    exact_solution = __call__

    def source(self, x: Tensor, y: Tensor, t: Tensor) -> Tensor:
        """The manufactured right-hand side :math:`f = u^p - 4u`."""
        u = self(x, y, t)
        return u**self.power - 4 * u

    def residual(self, u: Tensor, u_tt: Tensor, u_xx: Tensor, u_yy: Tensor, x: Tensor, y: Tensor, t: Tensor) -> Tensor:
        r""":math:`u_{tt} - u_{xx} - u_{yy} + u^p - f(x, y, t)`, zero for the solution."""
        return u_tt - u_xx - u_yy + u**self.power - self.source(x, y, t)

    def velocity(self, x: Tensor, y: Tensor, t: Tensor) -> Tensor:
        r"""Exact :math:`u_t = -2(x + y)\sin 2t + 2xy\cos 2t` at broadcast points."""
        return -2 * (x + y) * torch.sin(2 * t) + 2 * x * y * torch.cos(2 * t)

    def pde_problem(self, time: tuple[float, float] = (0.0, 10.0)) -> PDEProblem:
        r"""This problem for a PINN: residual :math:`u_{tt} - \Delta u + u^p - f` by :mod:`physwm.pde.autodiff`,
        the exact initial value :math:`u(x, y, t_0)` and initial velocity :math:`u_t(x, y, t_0)` (the
        equation is second order in time, so both are needed), exact Dirichlet data on the walls of
        :math:`[-1, 1]^2`, and the exact solution for error reports. Points are ``x (*points, 2)``,
        ``t (*points,)``; ``time`` defaults to the paper's :math:`[0, 10]`.

        Example:
            >>> problem = KleinGordon().pde_problem()
            >>> problem.spacetime
            Box(lower=[-1.0, -1.0, 0.0], upper=[1.0, 1.0, 10.0])
        """
        def at(x: Tensor, t: Tensor | float) -> Tensor:
            return self(x[..., 0], x[..., 1], torch.as_tensor(t, dtype=x.dtype, device=x.device))

        def velocity(x: Tensor) -> Tensor:
            return self.velocity(x[..., 0], x[..., 1], torch.as_tensor(time[0], dtype=x.dtype, device=x.device))

        (x0, x1), (y0, y1), _ = self.domain
        return PDEProblem(
            residual=lambda u, x, t: (ad.partial(u, t, order=2) - ad.laplacian(u, x) + u**self.power
                                      - self.source(x[..., 0], x[..., 1], t)),
            domain=Box([x0, y0], [x1, y1]), time=time,
            initial=lambda x: at(x, time[0]),
            boundary=at,
            exact=at,
            initial_velocity=velocity)
