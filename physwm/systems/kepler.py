"""The Kepler problem, with its exact solution through Kepler's equation."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from physwm._errors import ArgumentValueError
from physwm._validate import positive
from physwm.state import split_qp
from physwm.systems.base import SeparableHamiltonianSystem, uniform

__all__ = ["Kepler"]


class Kepler(SeparableHamiltonianSystem):
    r"""Planar motion in a central ``1/r`` potential (reduced two-body problem, unit mass):
    :math:`H = |p|^2/2 - \mu/|q|`.

    Conserves energy, the angular momentum :math:`L = q_x p_y - q_y p_x` and the
    Laplace-Runge-Lenz vector. For bound orbits (``H < 0``), :meth:`exact_solution` solves
    Kepler's equation :math:`M = E - e \sin E` by Newton's method to round-off.

    Args:
        mu: gravitational parameter ``G (m1 + m2)`` (length^3 / time^2).

    Shapes:
        y = [qx, qy, px, py]: ``(*batch, 4)``.

    Example:
        >>> kep = Kepler()
        >>> y0 = kep.orbit_state(eccentricity=0.5)
        >>> bool(kep.energy(y0) < 0)
        True
    """

    state_dim = 4
    has_exact_solution = True

    def __init__(self, mu: float = 1.0):
        self.mu = positive("mu", mu)

    def kinetic(self, p):
        return 0.5 * (p**2).sum(-1)

    def potential(self, q):
        return -self.mu / q.norm(dim=-1)

    def grad_kinetic(self, p):
        return p

    def grad_potential(self, q):
        r = q.norm(dim=-1, keepdim=True)
        return self.mu * q / r**3

    def angular_momentum(self, y: Tensor) -> Tensor:
        """``L = qx py - qy px`` of states ``(*batch, 4)`` -> ``(*batch,)``."""
        q, p = split_qp(self._check_state(y))
        return q[..., 0] * p[..., 1] - q[..., 1] * p[..., 0]

    def runge_lenz(self, y: Tensor) -> Tensor:
        """Laplace-Runge-Lenz vector ``p × L - μ q/|q|`` (the eccentricity vector times μ), ``(*batch, 2)``."""
        q, p = split_qp(self._check_state(y))
        L = self.angular_momentum(y).unsqueeze(-1)
        return torch.stack([p[..., 1], -p[..., 0]], -1) * L - self.mu * q / q.norm(dim=-1, keepdim=True)

    def invariants(self):
        return {"energy": self.energy, "angular_momentum": self.angular_momentum, "runge_lenz": self.runge_lenz}

    def orbit_state(self, eccentricity: float = 0.5, semi_major_axis: float = 1.0, *, dtype=torch.float64,
                    device=None) -> Tensor:
        """The state at periapsis of a counter-clockwise orbit with the given shape, on the x axis."""
        e, a = float(eccentricity), positive("semi_major_axis", semi_major_axis)
        if not 0 <= e < 1:
            raise ArgumentValueError(f"`eccentricity` must lie in [0, 1) for a bound orbit, got {eccentricity!r}")
        r = a * (1 - e)
        v = math.sqrt(self.mu / a * (1 + e) / (1 - e))
        return torch.tensor([r, 0.0, 0.0, v], dtype=dtype, device=device)

    def period(self, y0: Tensor) -> Tensor:
        """Orbital period ``2π sqrt(a³/μ)`` of bound states ``(*batch, 4)`` -> ``(*batch,)``."""
        a = -self.mu / (2 * self.energy(y0))
        return 2 * math.pi * torch.sqrt(a**3 / self.mu)

    def exact_solution(self, t, y0):
        y0 = self._check_state(y0)
        energy = self.energy(y0)
        if not bool((energy < 0).all()):
            raise ArgumentValueError("Kepler.exact_solution covers bound orbits only: `y0` must have negative energy")
        mu = self.mu
        q, p = split_qp(y0)
        a = -mu / (2 * energy)
        ecc_vec = self.runge_lenz(y0) / mu
        e = ecc_vec.norm(dim=-1)
        omega = torch.atan2(ecc_vec[..., 1], ecc_vec[..., 0])
        orient = torch.where(self.angular_momentum(y0) >= 0, 1.0, -1.0).to(y0)
        cw, sw = torch.cos(omega), torch.sin(omega)
        # to the perifocal frame (periapsis on +x, motion counter-clockwise)
        xp = cw * q[..., 0] + sw * q[..., 1]
        yp = orient * (-sw * q[..., 0] + cw * q[..., 1])
        b = a * torch.sqrt(1 - e**2)
        E0 = torch.atan2(yp / b, xp / a + e)
        n = torch.sqrt(mu / a**3)
        M = (E0 - e * torch.sin(E0)) + n * t.to(y0).reshape(-1, *([1] * (y0.dim() - 1)))
        E = self._solve_kepler(M, e)
        cE, sE = torch.cos(E), torch.sin(E)
        denom = 1 - e * cE
        x_pf, y_pf = a * (cE - e), orient * b * sE
        vx_pf, vy_pf = -a * n * sE / denom, orient * b * n * cE / denom
        rot = lambda x, y: (cw * x - sw * y, sw * x + cw * y)  # noqa: E731
        qx, qy = rot(x_pf, y_pf)
        px, py = rot(vx_pf, vy_pf)
        return torch.stack([qx, qy, px, py], -1)

    @staticmethod
    def _solve_kepler(M: Tensor, e: Tensor, max_iter: int = 50) -> Tensor:
        """Solve ``E - e sin E = M`` by Newton's method (from ``E = π`` for large e, Danby's start)."""
        M = torch.remainder(M + math.pi, 2 * math.pi) - math.pi
        E = torch.where(e < 0.8, M, torch.sign(M) * math.pi + 0 * M)
        tol = 4 * torch.finfo(M.dtype).eps
        for _ in range(max_iter):
            step = (E - e * torch.sin(E) - M) / (1 - e * torch.cos(E))
            E = E - step
            if bool((step.abs() <= tol * (1 + E.abs())).all()):
                break
        return E

    def sample_initial_state(self, n, *, generator=None, dtype=torch.float64, device=None):
        """Bound orbits: eccentricity uniform in [0, 0.7], semi-major axis in [0.5, 1.5], random
        orientation and phase, counter-clockwise."""
        u = uniform(n, 4, [0.0, 0.5, 0.0, 0.0], [0.7, 1.5, 2 * math.pi, 2 * math.pi], generator=generator,
                    dtype=torch.float64, device=None)
        e, a, omega, M = u.unbind(-1)
        E = self._solve_kepler(M, e)
        nn_ = torch.sqrt(self.mu / a**3)
        b = a * torch.sqrt(1 - e**2)
        cE, sE = torch.cos(E), torch.sin(E)
        x, y = a * (cE - e), b * sE
        vx, vy = -a * nn_ * sE / (1 - e * cE), b * nn_ * cE / (1 - e * cE)
        cw, sw = torch.cos(omega), torch.sin(omega)
        out = torch.stack([cw * x - sw * y, sw * x + cw * y, cw * vx - sw * vy, sw * vx + cw * vy], -1)
        return out.to(dtype=dtype, device=device)
