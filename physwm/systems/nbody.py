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
        self._constants: dict[tuple[torch.dtype, torch.device], tuple[Tensor, Tensor]] = {}

    def _m(self, like: Tensor) -> Tensor:
        return self.masses.to(dtype=like.dtype, device=like.device)

    def kinetic(self, p):
        p = unflatten_particles(p, self.n_bodies)
        return ((p**2).sum(-1) / (2 * self._m(p))).sum(-1)

    def grad_kinetic(self, p):
        pp = unflatten_particles(p, self.n_bodies)
        return (pp / self._m(p).unsqueeze(-1)).flatten(-2)

    def _pair_constants(self, like: Tensor) -> tuple[Tensor, Tensor]:
        """``(offset, gmm)`` on ``like``'s dtype and device, cached: ``offset`` adds ``eps^2`` to every squared
        distance and 1 on the diagonal (no 0/0 for ``i = j``), ``gmm = G m_i m_j`` with a zero diagonal (no
        self-interaction)."""
        key = (like.dtype, like.device)
        cached = self._constants.get(key)
        if cached is None:
            m = self._m(like)
            eye = torch.eye(self.n_bodies, dtype=like.dtype, device=like.device)
            cached = (eye + self.softening**2, self.G * m.unsqueeze(-1) * m.unsqueeze(-2) * (1 - eye))
            self._constants[key] = cached
        return cached

    def _pairs(self, q: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``(diff, r2, gmm)``: ``q_i - q_j`` ``(*batch, N, N, 3)``, squared (softened) distances ``(*batch, N, N)``
        with 1 on the diagonal, and :meth:`_pair_constants`' ``gmm``."""
        x = unflatten_particles(q, self.n_bodies)
        diff = x.unsqueeze(-2) - x.unsqueeze(-3)
        offset, gmm = self._pair_constants(q)
        return diff, (diff**2).sum(-1) + offset, gmm

    def potential(self, q):
        _, r2, gmm = self._pairs(q)
        return -0.5 * (gmm * r2.rsqrt()).sum((-1, -2))

    def grad_potential(self, q):
        diff, r2, gmm = self._pairs(q)
        w = gmm * r2 ** (-1.5)
        # dV/dq_i = sum_j G m_i m_j (q_i - q_j) / r_ij^3: per particle a (1, N) x (N, 3) product, without an
        # (N, N, 3) product temporary
        return torch.matmul(w.unsqueeze(-2), diff).flatten(-3)

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
