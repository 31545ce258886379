"""Low-dimensional Hamiltonian systems: oscillator, pendulum, double pendulum, Henon-Heiles."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from physwm._errors import ArgumentValueError
from physwm._validate import positive as _positive
from physwm.state import merge_qp, split_qp
from physwm.systems.base import HamiltonianSystem, SeparableHamiltonianSystem, uniform

__all__ = ["HarmonicOscillator", "Pendulum", "DoublePendulum", "HenonHeiles"]


class HarmonicOscillator(SeparableHamiltonianSystem):
    r"""Mass on a linear spring: :math:`H = p^2 / (2m) + k q^2 / 2`.

    Exact solution with :math:`\omega = \sqrt{k/m}`:
    :math:`q(t) = q_0 \cos\omega t + p_0/(m\omega) \sin\omega t`,
    :math:`p(t) = p_0 \cos\omega t - m\omega q_0 \sin\omega t`.

    Args:
        m: mass (kg).
        k: spring constant (N/m).

    Shapes:
        y = [q, p]: ``(*batch, 2)``; q in m, p in kg m/s.

    Example:
        >>> osc = HarmonicOscillator(m=1.0, k=4.0)
        >>> osc.omega
        2.0
    """

    state_dim = 2
    has_exact_solution = True

    def __init__(self, m: float = 1.0, k: float = 1.0):
        self.m, self.k = _positive("m", m), _positive("k", k)

    @property
    def omega(self) -> float:
        """Angular frequency ``sqrt(k/m)`` (rad/s)."""
        return math.sqrt(self.k / self.m)

    def kinetic(self, p):
        return (p**2).sum(-1) / (2 * self.m)

    def potential(self, q):
        return 0.5 * self.k * (q**2).sum(-1)

    def grad_kinetic(self, p):
        return p / self.m

    def grad_potential(self, q):
        return self.k * q

    def exact_solution(self, t, y0):
        q0, p0 = split_qp(self._check_state(y0))
        wt = (self.omega * t.to(y0)).reshape(-1, *([1] * y0.dim()))
        c, s = torch.cos(wt), torch.sin(wt)
        mw = self.m * self.omega
        return torch.cat([q0 * c + p0 / mw * s, p0 * c - mw * q0 * s], -1)

    def sample_initial_state(self, n, *, generator=None, dtype=torch.float64, device=None):
        """Uniform ``q`` in ``[-1, 1]`` m and ``p`` in ``[-m w, m w]``."""
        mw = self.m * self.omega
        return uniform(n, 2, [-1.0, -mw], [1.0, mw], generator=generator, dtype=dtype, device=device)


class Pendulum(SeparableHamiltonianSystem):
    r"""Simple pendulum: :math:`H = p^2 / (2 m l^2) + m g l (1 - \cos q)`.

    ``q`` is the angle from the downward vertical (rad) and ``p = m l^2 \dot q`` the angular
    momentum (kg m^2/s). Small oscillations have angular frequency ``sqrt(g/l)``.

    Args:
        m: bob mass (kg).
        l: rod length (m).
        g: gravitational acceleration (m/s^2).

    Shapes:
        y = [q, p]: ``(*batch, 2)``.

    Example:
        >>> pend = Pendulum()
        >>> pend.energy(torch.tensor([0.0, 0.0]))
        tensor(0.)
    """

    state_dim = 2

    def __init__(self, m: float = 1.0, l: float = 1.0, g: float = 9.81):  # noqa: E741 (the field's name)
        self.m, self.l, self.g = _positive("m", m), _positive("l", l), _positive("g", g)

    @property
    def separatrix_energy(self) -> float:
        """Energy ``2 m g l`` above which the pendulum rotates instead of swinging (J)."""
        return 2 * self.m * self.g * self.l

    def kinetic(self, p):
        return (p**2).sum(-1) / (2 * self.m * self.l**2)

    def potential(self, q):
        return self.m * self.g * self.l * (1 - torch.cos(q)).sum(-1)

    def grad_kinetic(self, p):
        return p / (self.m * self.l**2)

    def grad_potential(self, q):
        return self.m * self.g * self.l * torch.sin(q)

    def sample_initial_state(self, n, *, generator=None, dtype=torch.float64, device=None):
        """Librating states: energies uniform in ``[0.1, 0.6]`` of the separatrix energy, random phase."""
        u = uniform(n, 2, [0.1, 0.0], [0.6, 2 * math.pi], generator=generator, dtype=torch.float64, device=None)
        energy, phase = u[:, 0] * self.separatrix_energy, u[:, 1]
        q_max = torch.arccos(1 - energy / (self.m * self.g * self.l))
        q = q_max * torch.cos(phase)
        p_abs = torch.sqrt(torch.clamp(2 * self.m * self.l**2 * (energy - self.m * self.g * self.l * (1 - torch.cos(q))), min=0))
        p = p_abs * torch.sign(torch.sin(phase))
        return torch.stack([q, p], -1).to(dtype=dtype, device=device)


class DoublePendulum(HamiltonianSystem):
    r"""Planar double pendulum of point masses on massless rods (seed lecture 41, §3.9.3).

    Lagrangian, angles :math:`\theta_{1,2}` from the downward vertical:

    .. math::
        L = \tfrac12 (m_1+m_2) l_1^2 \dot\theta_1^2 + \tfrac12 m_2 l_2^2 \dot\theta_2^2
            + m_2 l_1 l_2 \dot\theta_1 \dot\theta_2 \cos(\theta_1-\theta_2)
            + (m_1+m_2) g l_1 \cos\theta_1 + m_2 g l_2 \cos\theta_2 .

    The state is canonical, ``y = [θ1, θ2, p1, p2]`` with ``p = M(θ) θ̇`` and mass matrix
    ``M = [[(m1+m2) l1², m2 l1 l2 cos Δ], [m2 l1 l2 cos Δ, m2 l2²]]``, ``Δ = θ1 - θ2``;
    ``H = ½ pᵀ M⁻¹ p + V(θ)`` is not separable, so use ``implicit_midpoint`` or a
    Runge-Kutta method. Hamilton's equations are evaluated in closed form.
    :meth:`to_velocities` / :meth:`from_velocities` convert to and from ``[θ, θ̇]``.

    Args:
        m1: upper bob mass (kg).
        m2: lower bob mass (kg).
        l1: upper rod length (m).
        l2: lower rod length (m).
        g: gravitational acceleration (m/s^2).

    Shapes:
        y: ``(*batch, 4)``.

    Example:
        >>> dp = DoublePendulum()
        >>> dp(torch.tensor(0.0), torch.zeros(4)).abs().max()
        tensor(0.)
    """

    state_dim = 4

    def __init__(self, m1: float = 1.0, m2: float = 1.0, l1: float = 1.0, l2: float = 1.0, g: float = 9.81):
        self.m1, self.m2 = _positive("m1", m1), _positive("m2", m2)
        self.l1, self.l2, self.g = _positive("l1", l1), _positive("l2", l2), _positive("g", g)

    def mass_matrix(self, q: Tensor) -> Tensor:
        """``M(θ)`` of shape ``(*batch, 2, 2)``."""
        c = torch.cos(q[..., 0] - q[..., 1])
        a = torch.full_like(c, (self.m1 + self.m2) * self.l1**2)
        b = self.m2 * self.l1 * self.l2 * c
        d = torch.full_like(c, self.m2 * self.l2**2)
        return torch.stack([torch.stack([a, b], -1), torch.stack([b, d], -1)], -2)

    def potential(self, q):
        return -(self.m1 + self.m2) * self.g * self.l1 * torch.cos(q[..., 0]) - self.m2 * self.g * self.l2 * torch.cos(q[..., 1])

    def hamiltonian(self, q, p):
        v = torch.linalg.solve(self.mass_matrix(q), p.unsqueeze(-1)).squeeze(-1)
        return 0.5 * (p * v).sum(-1) + self.potential(q)

    def to_velocities(self, y: Tensor) -> Tensor:
        """``[θ, p]`` -> ``[θ, θ̇]``."""
        q, p = split_qp(self._check_state(y))
        return merge_qp(q, torch.linalg.solve(self.mass_matrix(q), p.unsqueeze(-1)).squeeze(-1))

    def from_velocities(self, x: Tensor) -> Tensor:
        """``[θ, θ̇]`` -> ``[θ, p]``."""
        q, qd = split_qp(self._check_state(x))
        return merge_qp(q, (self.mass_matrix(q) @ qd.unsqueeze(-1)).squeeze(-1))

    def velocity_derivative(self, y: Tensor) -> Tensor:
        """``d/dt [θ, θ̇]`` at canonical states ``y = [θ, p]`` ``(*batch, 4)``, exactly.

        The time derivative of :meth:`to_velocities` along the flow, by forward-mode AD
        (``torch.func.jvp`` of ``to_velocities`` in the direction ``dy/dt``): the labels a model that
        works on angles and angular velocities (LNN, a neural ODE) is trained on.

        Example:
            >>> dp = DoublePendulum()
            >>> dp.velocity_derivative(torch.tensor([0.1, 0.0, 0.0, 0.0], dtype=torch.float64)).shape
            torch.Size([4])
        """
        _, dx = torch.func.jvp(self.to_velocities, (y,), (self(0.0, y),))
        return dx

    @classmethod
    def fit(cls, x: Tensor, acceleration: Tensor, g: float = 9.81) -> DoublePendulum:
        """The point-mass double pendulum whose accelerations best match measured ones (least squares).

        ``m1 = 1`` fixes the mass scale; ``m2``, ``l1``, ``l2`` (the effective point-mass lengths of a
        rig with massive rods) minimise the squared error of the predicted ``θ̈`` against
        ``acceleration``, by :func:`scipy.optimize.least_squares` on their logarithms.

        Args:
            x: measured states ``[θ1, θ2, θ̇1, θ̇2]``, ``(N, 4)`` (rad, rad/s).
            acceleration: measured ``[θ̈1, θ̈2]``, ``(N, 2)`` (rad/s²).
            g: gravitational acceleration (m/s²).

        Raises:
            ValueError: shapes other than ``(N, 4)`` and ``(N, 2)``.
        """
        import numpy as np
        from scipy.optimize import least_squares

        x, acc = x.detach().double().cpu(), acceleration.detach().double().cpu()
        if x.dim() != 2 or x.shape[-1] != 4 or acc.shape != (x.shape[0], 2):
            raise ArgumentValueError(f"`x` must be (N, 4) and `acceleration` (N, 2), got {tuple(x.shape)} and {tuple(acc.shape)}")

        def residual(log_params: np.ndarray) -> np.ndarray:
            m2, l1, l2 = (float(v) for v in np.exp(log_params))
            dp = cls(1.0, m2, l1, l2, g)
            return (dp.velocity_derivative(dp.from_velocities(x))[:, 2:] - acc).flatten().numpy()

        m2, l1, l2 = (float(v) for v in np.exp(least_squares(residual, np.zeros(3)).x))
        return cls(1.0, m2, l1, l2, g)

    def grad_hamiltonian(self, q, p):
        m1, m2, l1, l2, g = self.m1, self.m2, self.l1, self.l2, self.g
        t1, t2, p1, p2 = q[..., 0], q[..., 1], p[..., 0], p[..., 1]
        delta = t1 - t2
        s, c = torch.sin(delta), torch.cos(delta)
        den = m1 + m2 * s**2
        dt1 = (l2 * p1 - l1 * p2 * c) / (l1**2 * l2 * den)
        dt2 = (l1 * (m1 + m2) * p2 - l2 * m2 * p1 * c) / (l1 * l2**2 * m2 * den)
        c1 = p1 * p2 * s / (l1 * l2 * den)
        c2 = (l2**2 * m2 * p1**2 + l1**2 * (m1 + m2) * p2**2 - 2 * l1 * l2 * m2 * p1 * p2 * c) * torch.sin(2 * delta) / (
            2 * l1**2 * l2**2 * den**2
        )
        dh_dt1 = (m1 + m2) * g * l1 * torch.sin(t1) + c1 - c2
        dh_dt2 = m2 * g * l2 * torch.sin(t2) - c1 + c2
        return torch.stack([dh_dt1, dh_dt2], -1), torch.stack([dt1, dt2], -1)

    def sample_initial_state(self, n, *, generator=None, dtype=torch.float64, device=None):
        """Angles uniform in ``[-π/2, π/2]``, at rest (``p = 0``): mostly chaotic motion."""
        q = uniform(n, 2, -math.pi / 2, math.pi / 2, generator=generator, dtype=dtype, device=device)
        return torch.cat([q, torch.zeros_like(q)], -1)


class HenonHeiles(SeparableHamiltonianSystem):
    r"""Hénon-Heiles system: :math:`H = \tfrac12(p_x^2+p_y^2) + \tfrac12(x^2+y^2) + x^2 y - y^3/3`.

    Hénon & Heiles, Astron. J. 69, 73 (1964). Bounded motion needs ``E < 1/6``; at ``E = 1/12``
    most orbits are regular, at ``E = 1/6`` most are chaotic. Dimensionless units.

    Shapes:
        y = [x, y, px, py]: ``(*batch, 4)``.
    """

    state_dim = 4

    def kinetic(self, p):
        return 0.5 * (p**2).sum(-1)

    def potential(self, q):
        x, y = q[..., 0], q[..., 1]
        return 0.5 * (x**2 + y**2) + x**2 * y - y**3 / 3

    def grad_kinetic(self, p):
        return p

    def grad_potential(self, q):
        x, y = q[..., 0], q[..., 1]
        return torch.stack([x + 2 * x * y, y + x**2 - y**2], -1)

    def sample_initial_state(self, n, *, generator=None, dtype=torch.float64, device=None, energy: float = 1 / 12):
        """States of total energy ``energy`` (``0 < energy < 1/6``): ``q`` uniform in a disc of radius
        0.3 with ``V(q) < energy``, momentum of the remaining energy in a random direction."""
        if not (0 < energy < 1 / 6):
            raise ArgumentValueError(f"`energy` must lie in (0, 1/6) for bounded Henon-Heiles motion, got {energy}")
        out = []
        while sum(len(o) for o in out) < n:
            u = uniform(4 * n, 3, [0.0, 0.0, 0.0], [1.0, 2 * math.pi, 2 * math.pi], generator=generator,
                        dtype=torch.float64, device=None)
            r = 0.3 * torch.sqrt(u[:, 0])
            q = torch.stack([r * torch.cos(u[:, 1]), r * torch.sin(u[:, 1])], -1)
            ke = energy - self.potential(q)
            keep = ke > 1e-3 * energy
            pa = torch.sqrt(2 * ke[keep])
            p = torch.stack([pa * torch.cos(u[keep, 2]), pa * torch.sin(u[keep, 2])], -1)
            out.append(torch.cat([q[keep], p], -1))
        return torch.cat(out)[:n].to(dtype=dtype, device=device)
