"""Gravitational N-body problem in three dimensions."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from physwm._errors import ArgumentValueError
from physwm._validate import nonnegative, positive, positive_int
from physwm.state import particles_to_state, unflatten_particles
from physwm.systems.base import ParticleSystem

__all__ = ["NBody", "figure_eight", "FIGURE_EIGHT_PERIOD"]

#: Period of the Chenciner-Montgomery figure-eight orbit with G = m = 1 (Simó 2002).
FIGURE_EIGHT_PERIOD = 6.3259139829101


class NBody(ParticleSystem):
    r"""``N`` point masses under (optionally softened) Newtonian gravity in 3-D.

    .. math::
        H = \sum_i \frac{|p_i|^2}{2 m_i} - \sum_{i<j} \frac{G m_i m_j}{\sqrt{|q_i - q_j|^2 + \epsilon^2}}

    Conserves energy, total linear momentum :math:`\sum_i p_i` and angular momentum
    :math:`\sum_i q_i \times p_i`. Pair forces are computed densely, ``O(N²)`` per evaluation.

    Particle arrays ``q, p`` of shape ``(*batch, N, 3)`` are flattened into the state
    ``y = [q.flatten(-2), p.flatten(-2)]`` of shape ``(*batch, 6N)`` by
    :func:`physwm.state.particles_to_state`, and recovered by :func:`physwm.state.state_to_particles`.

    Args:
        masses: particle masses, length ``N >= 2`` (mass units).
        G: gravitational constant (length³ / (mass time²)).
        softening: Plummer softening length ``ε >= 0`` (length).

    Shapes:
        y: ``(*batch, 6N)``.

    Example:
        >>> system, y0 = figure_eight()
        >>> system.momentum(y0).abs().max() < 1e-8
        tensor(True)
    """

    def __init__(self, masses: Sequence[float] | Tensor, G: float = 1.0, softening: float = 0.0):
        m = torch.as_tensor(masses, dtype=torch.float64).flatten()
        if m.numel() < 2 or not bool((m > 0).all()) or not bool(torch.isfinite(m).all()):
            raise ArgumentValueError(f"`masses` must hold at least 2 finite positive values, got {m.tolist()}")
        self.masses, self.G, self.softening = m, positive("G", G), nonnegative("softening", softening)
        self.n_bodies = m.numel()
        self.state_dim = 6 * self.n_bodies

    def _m(self, like: Tensor) -> Tensor:
        return self.masses.to(dtype=like.dtype, device=like.device)

    def kinetic(self, p):
        p = unflatten_particles(p, self.n_bodies)
        return ((p**2).sum(-1) / (2 * self._m(p))).sum(-1)

    def grad_kinetic(self, p):
        pp = unflatten_particles(p, self.n_bodies)
        return (pp / self._m(p).unsqueeze(-1)).flatten(-2)

    def _pairs(self, q: Tensor) -> tuple[Tensor, Tensor]:
        x = unflatten_particles(q, self.n_bodies)
        diff = x.unsqueeze(-2) - x.unsqueeze(-3)  # (*batch, N, N, 3): q_i - q_j
        eye = torch.eye(self.n_bodies, dtype=torch.bool, device=q.device)
        r2 = (diff**2).sum(-1) + self.softening**2
        r2 = torch.where(eye, torch.ones_like(r2), r2)  # no self-interaction (and no 0/0)
        return diff, r2

    def potential(self, q):
        _, r2 = self._pairs(q)
        m = self._m(q)
        mm = m.unsqueeze(-1) * m.unsqueeze(-2)
        inv = torch.where(torch.eye(self.n_bodies, dtype=torch.bool, device=q.device), 0.0, r2.rsqrt())
        return -0.5 * self.G * (mm * inv).sum((-1, -2))

    def grad_potential(self, q):
        diff, r2 = self._pairs(q)
        m = self._m(q)
        w = self.G * m.unsqueeze(-1) * m.unsqueeze(-2) * r2 ** (-1.5)
        w = torch.where(torch.eye(self.n_bodies, dtype=torch.bool, device=q.device), 0.0, w)
        # dV/dq_i = sum_j G m_i m_j (q_i - q_j) / r_ij^3, contracted without an (N, N, 3) product temporary
        return torch.einsum("...ij,...ijk->...ik", w, diff).flatten(-2)

    def sample_initial_state(self, n, *, generator=None, dtype=torch.float64, device=None):
        """Positions standard normal, velocities normal with std 0.3, centre of mass at rest at the origin."""
        positive_int("n", n)
        m = self.masses.reshape(1, -1, 1)
        q = torch.randn(n, self.n_bodies, 3, generator=generator, dtype=torch.float64)
        v = 0.3 * torch.randn(n, self.n_bodies, 3, generator=generator, dtype=torch.float64)
        q = q - (m * q).sum(1, keepdim=True) / m.sum()
        v = v - (m * v).sum(1, keepdim=True) / m.sum()
        return particles_to_state(q, m * v).to(dtype=dtype, device=device)


def figure_eight(*, dtype: torch.dtype = torch.float64, device=None) -> tuple[NBody, Tensor]:
    """The three-body figure-eight choreography (Chenciner & Montgomery, Ann. Math. 152, 2000).

    Initial condition from Simó's computation (as quoted by Chenciner-Montgomery), with
    ``G = m = 1``; the period is :data:`FIGURE_EIGHT_PERIOD`. Total momentum and angular
    momentum are zero.

    Returns:
        ``(system, y0)`` with ``y0`` of shape ``(18,)``.
    """
    x1 = torch.tensor([0.97000436, -0.24308753, 0.0], dtype=torch.float64)
    v3 = torch.tensor([-0.93240737, -0.86473146, 0.0], dtype=torch.float64)
    q = torch.stack([x1, -x1, torch.zeros(3, dtype=torch.float64)])
    p = torch.stack([-v3 / 2, -v3 / 2, v3])
    return NBody([1.0, 1.0, 1.0]), particles_to_state(q, p).to(dtype=dtype, device=device)
