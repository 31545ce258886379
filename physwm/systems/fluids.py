r"""2-D incompressible Navier-Stokes on a periodic box: a pseudo-spectral reference solver.

The vorticity form

.. math::
    \partial_t\omega + u\cdot\nabla\omega = \nu\nabla^2\omega - \mu\omega + f_\omega, \qquad
    \nabla^2\psi = -\omega, \quad u = (\partial_y\psi, -\partial_x\psi)

is written as an ODE system in the Fourier coefficients (Canuto et al., *Spectral Methods*, 2006;
the solver family of Kochkov et al., *PNAS* 118, 2021): derivatives are exact per mode, products
are taken on the grid with the 2/3 dealiasing rule, and the velocity is divergence-free by
construction. The instance is the dynamics ``f(t, y)`` and is stepped with :func:`physwm.solve`
(``"rk4"`` with ``dt`` or ``"dopri5"``).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from physwm._errors import ArgumentValueError
from physwm._validate import choice, integer, nonnegative, positive, positive_int, real
from physwm.pde import Box, PDEProblem, gradient, poisson_solve, wavenumbers
from physwm.pde import autodiff as ad
from physwm.systems.base import System

__all__ = ["NavierStokes2D"]


class NavierStokes2D(System):
    r"""Incompressible Navier-Stokes in 2-D, periodic box :math:`[0, L)^2`, pseudo-spectral.

    State: the vorticity on the ``n x n`` grid (point ``(i, j)`` at :math:`x = iL/n, y = jL/n`),
    flattened: ``y`` has shape ``(*batch, n*n)``; :meth:`vorticity` and :meth:`state` convert.

    Cases:

    - **Taylor-Green vortex** (``forcing=None``): :math:`u = A\cos kx\sin ky,\ v = -A\sin kx\cos ky`
      is an exact solution decaying as :math:`e^{-2\nu k^2 t}` (the nonlinear term vanishes); see
      :meth:`taylor_green`.
    - **Kolmogorov flow** (``forcing="kolmogorov"``): the body force :math:`F = (\chi\sin k_f y, 0)`,
      i.e. :math:`f_\omega = -\chi k_f \cos k_f y`, with the laminar steady state
      :math:`u = \chi\sin(k_f y)/(\nu k_f^2)` (:meth:`kolmogorov_laminar`), unstable at high Reynolds
      number, where the flow becomes turbulent (Chandler & Kerswell, *J. Fluid Mech.* 722, 2013).

    Args:
        nu: kinematic viscosity (length²/time), > 0.
        n: grid points per axis, even, >= 8.
        length: box side :math:`L`.
        forcing: ``None`` or ``"kolmogorov"``.
        amplitude: :math:`\chi` of the Kolmogorov force.
        forcing_wavenumber: integer :math:`k_f` (in units of :math:`2\pi/L`).
        drag: linear drag :math:`\mu \ge 0` (1/time).

    Raises:
        ValueError: bad parameters.

    Example:
        >>> import physwm
        >>> ns = NavierStokes2D(nu=0.01, n=32)
        >>> y0 = ns.taylor_green(torch.tensor(0.0, dtype=torch.float64))
        >>> sol = physwm.solve(ns, y0, torch.tensor([0.0, 1.0], dtype=torch.float64), method="rk4", dt=0.05)
        >>> bool((sol.ys[-1] - ns.taylor_green(torch.tensor(1.0, dtype=torch.float64))).abs().max() < 1e-9)
        True
    """

    def __init__(self, nu: float = 1e-2, n: int = 64, length: float = 2 * math.pi, *, forcing: str | None = None,
                 amplitude: float = 1.0, forcing_wavenumber: int = 4, drag: float = 0.0):
        if integer("n", n, minimum=8) % 2:
            raise ArgumentValueError(f"`n` must be an even int >= 8, got {n!r}")
        self.nu, self.n, self.length = positive("nu", nu), n, positive("length", length)
        self.forcing = choice("forcing", forcing, (None, "kolmogorov"))
        self.amplitude, self.drag = real("amplitude", amplitude), nonnegative("drag", drag)
        self.forcing_wavenumber = positive_int("forcing_wavenumber", forcing_wavenumber)
        self.state_dim = n * n

    # -- layout -------------------------------------------------------------------------------
    def vorticity(self, y: Tensor) -> Tensor:
        """``(*batch, n*n)`` -> ``(*batch, n, n)``."""
        return self._check_state(y).reshape(*y.shape[:-1], self.n, self.n)

    def state(self, omega: Tensor) -> Tensor:
        """``(*batch, n, n)`` -> ``(*batch, n*n)``."""
        if omega.shape[-2:] != (self.n, self.n):
            raise ArgumentValueError(f"`omega` must have shape (*batch, {self.n}, {self.n}), got {tuple(omega.shape)}")
        return omega.reshape(*omega.shape[:-2], self.n * self.n)

    def grid(self, *, dtype: torch.dtype = torch.float64, device=None) -> tuple[Tensor, Tensor]:
        """Grid coordinates ``x, y`` of shape ``(n, n)`` (``indexing="ij"``)."""
        axis = torch.arange(self.n, dtype=dtype, device=device) * (self.length / self.n)
        return torch.meshgrid(axis, axis, indexing="ij")

    # -- physics -------------------------------------------------------------------------------
    def _lengths(self) -> tuple[float, float]:
        return (self.length, self.length)

    def velocity(self, y: Tensor) -> Tensor:
        r"""The velocity :math:`(u, v) = (\partial_y\psi, -\partial_x\psi)`, shape ``(*batch, 2, n, n)``."""
        omega = self.vorticity(y)
        psi = poisson_solve(-omega, dim=2, lengths=self._lengths(), subtract_mean=True)
        dpsi = gradient(psi, dim=2, lengths=self._lengths())
        return torch.stack([dpsi[..., 1, :, :], -dpsi[..., 0, :, :]], dim=-3)

    def forcing_vorticity(self, *, dtype: torch.dtype = torch.float64, device=None) -> Tensor:
        r""":math:`f_\omega = \partial_x F_y - \partial_y F_x` on the grid, ``(n, n)`` (zero without forcing)."""
        x, yy = self.grid(dtype=dtype, device=device)
        if self.forcing is None:
            return torch.zeros_like(x)
        kf = 2 * math.pi * self.forcing_wavenumber / self.length
        return -self.amplitude * kf * torch.cos(kf * yy)

    def _operators(self, dtype: torch.dtype, device) -> tuple[Tensor, ...]:
        """Wavenumbers, 1/|k|^2 (0 at k = 0), the 2/3-rule mask and the forcing, built once per dtype, device
        and grid/forcing parameters (a changed parameter builds them afresh)."""
        key = (dtype, str(device), self.n, self.length, self.forcing, self.amplitude, self.forcing_wavenumber)
        cache = self.__dict__.setdefault("_cache", {})
        if key not in cache:
            kx, ky = wavenumbers((self.n, self.n), self._lengths(), dtype=dtype, device=device)
            cutoff = (2 / 3) * (math.pi * self.n / self.length)  # 2/3 rule: keep |k| < n/3 (in units of 2 pi / L)
            keep = ((kx.abs() < cutoff) & (ky.abs() < cutoff)).to(dtype)
            k2 = kx**2 + ky**2
            inv_k2 = torch.where(k2 > 0, 1 / torch.where(k2 > 0, k2, torch.ones_like(k2)), torch.zeros_like(k2))
            cache[key] = (kx, ky, k2, inv_k2, keep, self.forcing_vorticity(dtype=dtype, device=device))
        return cache[key]

    def __call__(self, t: Tensor, y: Tensor) -> Tensor:
        omega = self.vorticity(y)
        kx, ky, k2, inv_k2, keep, forcing = self._operators(omega.dtype, omega.device)
        shape = (self.n, self.n)
        omega_hat = torch.fft.rfft2(omega)
        w_hat = omega_hat * keep
        psi_hat = w_hat * inv_k2
        u = torch.fft.irfft2(1j * ky * psi_hat, s=shape)
        v = torch.fft.irfft2(-1j * kx * psi_hat, s=shape)
        wx = torch.fft.irfft2(1j * kx * w_hat, s=shape)
        wy = torch.fft.irfft2(1j * ky * w_hat, s=shape)
        advection_hat = torch.fft.rfft2(u * wx + v * wy) * keep
        rhs_hat = -advection_hat - (self.nu * k2 + self.drag) * omega_hat
        return self.state(torch.fft.irfft2(rhs_hat, s=shape) + forcing)

    def kinetic_energy(self, y: Tensor) -> Tensor:
        r""":math:`E = \tfrac12\int |u|^2\,dx`, shape ``(*batch,)``."""
        u = self.velocity(y)
        return 0.5 * (u**2).sum((-3, -2, -1)) * (self.length / self.n) ** 2

    def enstrophy(self, y: Tensor) -> Tensor:
        r""":math:`Z = \tfrac12\int \omega^2\,dx`, shape ``(*batch,)``; unforced, :math:`dE/dt = -2\nu Z - 2\mu E`."""
        return 0.5 * (self.vorticity(y) ** 2).sum((-2, -1)) * (self.length / self.n) ** 2

    def invariants(self) -> dict:
        r"""The circulation :math:`\int\omega\,dx` (zero on a periodic box), conserved exactly."""
        return {"circulation": lambda y: self.vorticity(y).sum((-2, -1)) * (self.length / self.n) ** 2}

    # -- reference states -------------------------------------------------------------------------
    def taylor_green(self, t: Tensor, amplitude: float = 1.0, k: int = 1) -> Tensor:
        r"""The exact Taylor-Green state at times ``t`` (any shape): :math:`\omega = -2Ak\cos kx\cos ky\, e^{-2\nu k^2 t}`
        (``k`` in units of :math:`2\pi/L`). Shape ``(*t.shape, n*n)``; valid without forcing and drag."""
        if self.forcing is not None or self.drag:
            raise ArgumentValueError("the Taylor-Green vortex is an exact solution only without forcing and drag")
        x, yy = self.grid(dtype=t.dtype, device=t.device)
        kk = 2 * math.pi * k / self.length
        decay = torch.exp(-2 * self.nu * kk**2 * t)[..., None, None]
        return self.state(-2 * amplitude * kk * torch.cos(kk * x) * torch.cos(kk * yy) * decay)

    def taylor_green_velocity(self, x: Tensor, t: Tensor, amplitude: float = 1.0, k: int = 1) -> Tensor:
        r"""Exact Taylor-Green velocity :math:`(u, v)` at points ``x (*points, 2)``, ``t (*points,)`` -> ``(*points, 2)``."""
        kk = 2 * math.pi * k / self.length
        a = amplitude * torch.exp(-2 * self.nu * kk**2 * t)
        cx, sx = torch.cos(kk * x[..., 0]), torch.sin(kk * x[..., 0])
        cy, sy = torch.cos(kk * x[..., 1]), torch.sin(kk * x[..., 1])
        return torch.stack([a * cx * sy, -a * sx * cy], dim=-1)

    def taylor_green_problem(self, time: tuple[float, float] = (0.0, 1.0), amplitude: float = 1.0, k: int = 1) -> PDEProblem:
        r"""The Taylor-Green vortex as a PINN problem in velocity-pressure form (no forcing, no drag).

        The field has three components :math:`(u, v, p)`; the residual is the momentum and continuity
        equations

        .. math:: u_t + (u\cdot\nabla)u + \nabla p - \nu\Delta u = 0, \qquad \nabla\cdot u = 0,

        on the periodic box (use a periodic model: no boundary term), with the exact initial velocity.
        ``exact`` gives the velocity components only; compare ``u[..., :2]``.
        """
        if self.forcing is not None or self.drag:
            raise ArgumentValueError("the Taylor-Green vortex is an exact solution only without forcing and drag")

        def residual(w: Tensor, x: Tensor, t: Tensor) -> tuple[Tensor, ...]:
            u, v = w[..., 0], w[..., 1]
            dx, dy, dt = ad.partial(w, x, 0), ad.partial(w, x, 1), ad.partial(w, t)
            lap = ad.laplacian(w, x)
            mom_x = dt[..., 0] + u * dx[..., 0] + v * dy[..., 0] + dx[..., 2] - self.nu * lap[..., 0]
            mom_y = dt[..., 1] + u * dx[..., 1] + v * dy[..., 1] + dy[..., 2] - self.nu * lap[..., 1]
            return mom_x, mom_y, dx[..., 0] + dy[..., 1]

        zero = torch.zeros(())
        return PDEProblem(residual=residual, domain=Box([0.0, 0.0], [self.length, self.length]), time=time,
                          initial=lambda x: self.taylor_green_velocity(x, zero.to(x), amplitude, k),
                          exact=lambda x, t: self.taylor_green_velocity(x, t, amplitude, k))

    def kolmogorov_laminar(self, *, dtype: torch.dtype = torch.float64, device=None) -> Tensor:
        r"""The laminar steady state :math:`\omega = -\chi k_f\cos(k_f y)/(\nu k_f^2 + \mu)`, shape ``(n*n,)``."""
        if self.forcing != "kolmogorov":
            raise ArgumentValueError("kolmogorov_laminar needs forcing='kolmogorov'")
        kf = 2 * math.pi * self.forcing_wavenumber / self.length
        return self.state(self.forcing_vorticity(dtype=dtype, device=device) / (self.nu * kf**2 + self.drag))

    def sample_initial_state(self, n: int, *, generator: torch.Generator | None = None,
                             dtype: torch.dtype = torch.float64, device=None, peak_wavenumber: float = 4.0) -> Tensor:
        r"""Random vorticity fields with energy spectrum peaked at ``peak_wavenumber`` (units of :math:`2\pi/L`),
        unit RMS vorticity, zero mean; shape ``(n, n_grid**2)``."""
        positive_int("n", n)
        kx, ky = wavenumbers((self.n, self.n), self._lengths(), dtype=torch.float64)
        kmag = torch.sqrt(kx**2 + ky**2) * self.length / (2 * math.pi)
        amp = kmag * torch.exp(-((kmag / peak_wavenumber) ** 2))
        noise = torch.randn(n, *amp.shape, 2, generator=generator, dtype=torch.float64)
        omega = torch.fft.irfft2(amp * torch.complex(noise[..., 0], noise[..., 1]), s=(self.n, self.n))
        omega = omega / omega.pow(2).mean((-2, -1), keepdim=True).sqrt()
        return self.state(omega).to(dtype=dtype, device=device)
