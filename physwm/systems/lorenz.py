"""The Lorenz system (dissipative, chaotic; not Hamiltonian)."""

from __future__ import annotations

import torch
from torch import Tensor

from physwm._validate import positive_int, real
from physwm.systems.base import System

__all__ = ["Lorenz"]


class Lorenz(System):
    r"""Lorenz (1963): :math:`\dot x = \sigma (y - x),\ \dot y = x(\rho - z) - y,\ \dot z = xy - \beta z`.

    Dissipative, with constant phase-space contraction ``div f = -(σ + 1 + β)``; at the classical
    parameters the maximal Lyapunov exponent is about 0.9056. It conserves nothing.

    Args:
        sigma: Prandtl number σ.
        rho: Rayleigh number ratio ρ.
        beta: geometric factor β (all dimensionless).

    Shapes:
        y: ``(*batch, 3)``.
    """

    state_dim = 3

    def __init__(self, sigma: float = 10.0, rho: float = 28.0, beta: float = 8.0 / 3.0):
        self.sigma, self.rho, self.beta = real("sigma", sigma), real("rho", rho), real("beta", beta)

    @property
    def divergence(self) -> float:
        """Trace of the Jacobian, ``-(σ + 1 + β)``: the sum of the Lyapunov exponents."""
        return -(self.sigma + 1.0 + self.beta)

    def __call__(self, t: Tensor, y: Tensor) -> Tensor:
        x, yy, z = self._check_state(y).unbind(-1)
        return torch.stack([self.sigma * (yy - x), x * (self.rho - z) - yy, x * yy - self.beta * z], -1)

    def sample_initial_state(self, n, *, generator=None, dtype=torch.float64, device=None):
        """Points near the attractor: ``(0, 0, 25)`` plus standard-normal offsets scaled by (8, 8, 8)."""
        positive_int("n", n)
        y = torch.tensor([0.0, 0.0, 25.0], dtype=torch.float64) + 8.0 * torch.randn(
            n, 3, generator=generator, dtype=torch.float64)
        return y.to(dtype=dtype, device=device)
