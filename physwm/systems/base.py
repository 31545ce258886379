"""Base classes of the ground-truth systems (layer L2)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from physwm._errors import ArgumentTypeError, ArgumentValueError
from physwm._validate import describe, positive_int
from physwm.state import autograd_gradient, merge_qp, split_qp, state_to_particles

__all__ = ["System", "HamiltonianSystem", "SeparableHamiltonianSystem", "ParticleSystem", "uniform"]


def uniform(n: int, d: int, low, high, *, generator, dtype, device) -> Tensor:
    """``(n, d)`` samples, uniform in ``[low, high)`` per coordinate (``low``/``high`` broadcast)."""
    positive_int("n", n)
    u = torch.rand(n, d, generator=generator, dtype=torch.float64)
    low = torch.as_tensor(low, dtype=torch.float64)
    high = torch.as_tensor(high, dtype=torch.float64)
    return (low + (high - low) * u).to(dtype=dtype, device=device)


class System:
    """A ground-truth dynamical system ``dy/dt = f(t, y)``; the instance itself is the dynamics.

    ``t`` is a scalar or one time per batch entry, ``(*batch,)`` (derivative labels of samples taken
    at different times, :func:`physwm.data.make_trajectories`); autonomous systems ignore it.
    Subclasses set ``state_dim`` and implement ``__call__``; they list what they conserve in
    :meth:`invariants` and may offer :meth:`exact_solution`.
    """

    state_dim: int = 0

    def __call__(self, t: Tensor, y: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def dynamics(self) -> Callable[[Tensor, Tensor], Tensor]:
        """The vector field ``f(t, y)`` (the system itself)."""
        return self

    def invariants(self) -> dict[str, Callable[[Tensor], Tensor]]:
        """Conserved quantities, name -> function of the state ``y`` ``(*batch, d)``."""
        return {}

    def sample_initial_state(self, n: int, *, generator: torch.Generator | None = None,
                             dtype: torch.dtype = torch.float64, device=None) -> Tensor:
        """``n`` initial states, shape ``(n, state_dim)``, reproducible through ``generator``."""
        raise NotImplementedError  # pragma: no cover

    has_exact_solution: bool = False

    def exact_solution(self, t: Tensor, y0: Tensor) -> Tensor:
        """The exact states at times ``t`` ``(T,)`` from ``y0`` at time 0, shape ``(T, *batch, d)``."""
        raise NotImplementedError(f"{type(self).__name__} has no closed-form solution")

    def _check_state(self, y: Tensor) -> Tensor:
        if not isinstance(y, Tensor):
            raise ArgumentTypeError(f"`y` must be a torch.Tensor, got {describe(y)}")
        if y.shape[-1:] != (self.state_dim,):
            raise ArgumentValueError(f"{type(self).__name__} state must have shape (*batch, {self.state_dim}), "
                                     f"got {tuple(y.shape)}")
        return y

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({params})"


class HamiltonianSystem(System):
    """A system with Hamiltonian ``H(q, p)`` on ``y = [q, p]``; the energy is ``H``.

    Subclasses implement :meth:`hamiltonian` and either :meth:`grad_hamiltonian` in closed form
    or rely on the autograd default.
    """

    @property
    def dof(self) -> int:
        return self.state_dim // 2

    def hamiltonian(self, q: Tensor, p: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def grad_hamiltonian(self, q: Tensor, p: Tensor) -> tuple[Tensor, Tensor]:
        """``(dH/dq, dH/dp)``, by autograd unless a subclass gives them in closed form."""
        g = autograd_gradient(lambda z: self.hamiltonian(*split_qp(z)), merge_qp(q, p))
        return split_qp(g)

    def energy(self, y: Tensor) -> Tensor:
        """Total energy ``H(q, p)`` of states ``y`` ``(*batch, d)`` -> ``(*batch,)``."""
        return self.hamiltonian(*split_qp(self._check_state(y)))

    def __call__(self, t: Tensor, y: Tensor) -> Tensor:
        dq, dp = self.grad_hamiltonian(*split_qp(self._check_state(y)))
        return merge_qp(dp, -dq)

    def invariants(self):
        return {"energy": self.energy}


class SeparableHamiltonianSystem(HamiltonianSystem):
    """``H(q, p) = T(p) + V(q)``: runnable with the explicit symplectic methods."""

    def kinetic(self, p: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def potential(self, q: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def grad_kinetic(self, p: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def grad_potential(self, q: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def hamiltonian(self, q: Tensor, p: Tensor) -> Tensor:
        return self.kinetic(p) + self.potential(q)

    def grad_hamiltonian(self, q, p):
        return self.grad_potential(q), self.grad_kinetic(p)


class ParticleSystem(SeparableHamiltonianSystem):
    """``N`` particles in 3-D with separable ``H``: the state ``y = [q.flatten(-2), p.flatten(-2)]`` ``(*batch, 6N)``
    (:func:`physwm.state.particles_to_state`). Translation and rotation invariance of the potential give the
    total linear and angular momentum as invariants besides the energy.

    Subclasses set ``n_bodies`` and ``state_dim = 6 * n_bodies``.
    """

    n_bodies: int = 0

    def momentum(self, y: Tensor) -> Tensor:
        """Total linear momentum ``sum_i p_i``, ``(*batch, 3)``."""
        return state_to_particles(self._check_state(y), self.n_bodies)[1].sum(-2)

    def angular_momentum(self, y: Tensor) -> Tensor:
        """Total angular momentum about the origin ``sum_i q_i x p_i``, ``(*batch, 3)``."""
        q, p = state_to_particles(self._check_state(y), self.n_bodies)
        return torch.linalg.cross(q, p).sum(-2)

    def invariants(self):
        return {"energy": self.energy, "momentum": self.momentum, "angular_momentum": self.angular_momentum}
