"""Port-Hamiltonian ground truth: damped, forced and controlled mechanical systems.

.. math::
    \\dot x = (J - R(x))\\,\\nabla H(x) + G(x)\\,u + F(t), \\qquad x = [q, p],

with :math:`J` the canonical symplectic matrix, :math:`R \\succeq 0` the dissipation, :math:`G` the
input matrix of the control ``u`` and :math:`F(t)` an external forcing (van der Schaft & Jeltsema,
"Port-Hamiltonian Systems Theory", 2014; Desai et al., Phys. Rev. E 104, 034312, 2021). Energy is
not conserved; it obeys the power balance

.. math::
    \\frac{dH}{dt} = -\\nabla H^\\top R\\, \\nabla H + \\nabla H^\\top (G u + F(t)),

which :meth:`PortHamiltonianSystem.power_balance` returns term by term.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from physwm._errors import ArgumentTypeError, ArgumentValueError
from physwm._validate import describe
from physwm._validate import nonnegative as _nonneg
from physwm._validate import real as _finite
from physwm.state import expand_time, merge_qp, split_qp
from physwm.systems.base import HamiltonianSystem, uniform
from physwm.systems.mechanics import HarmonicOscillator, Pendulum

__all__ = ["PortHamiltonianSystem", "DampedPendulum", "MassSpringDamper", "Duffing"]


class PortHamiltonianSystem(HamiltonianSystem):
    """One degree of freedom ``y = [q, p]`` with a damping ``b`` acting on ``p`` and a force input on ``p``.

    The systems of the catalogue share this structure: ``R = diag(0, b)``, ``G = [0, 1]ᵀ``
    (``action_dim = 1``) and a forcing ``F(t) = [0, f(t)]``. Subclasses give ``hamiltonian`` and
    ``grad_hamiltonian`` (or a conservative catalogue system ``conservative`` to take them from),
    the damping coefficient ``damping`` and optionally ``forcing_p(t)``. ``energy(y)`` is ``H``,
    which is not conserved: :meth:`invariants` is empty and :meth:`power_balance` says where it goes.

    The instance is the dynamics ``f(t, y, u=None)``; ``u=None`` means no control input. With
    :func:`physwm.solve` pass ``action=`` (a tensor of actions or a policy) to drive it.

    Shapes:
        y: ``(*batch, 2)``; u: ``(*batch, 1)``.
    """

    state_dim = 2
    action_dim = 1
    damping: float = 0.0

    conservative: HamiltonianSystem | None = None

    def hamiltonian(self, q: Tensor, p: Tensor) -> Tensor:
        return self.conservative.hamiltonian(q, p)

    def grad_hamiltonian(self, q: Tensor, p: Tensor) -> tuple[Tensor, Tensor]:
        return self.conservative.grad_hamiltonian(q, p)

    def forcing_p(self, t: Tensor) -> Tensor | float:
        """External generalised force on ``p`` at time ``t`` (the ``p`` entry of ``F(t)``): a number, or a
        tensor of ``t``'s shape (a scalar or one time per batch entry)."""
        return 0.0

    def _forcing(self, t: Tensor, y: Tensor) -> Tensor | float:
        """``forcing_p(t)`` broadcast to the batch of ``y``, shape ``(*batch, 1)`` (``0.0`` for an unforced system)."""
        if type(self).forcing_p is PortHamiltonianSystem.forcing_p:
            return 0.0
        f = torch.as_tensor(self.forcing_p(expand_time(t, y)), dtype=y.dtype, device=y.device)
        return f.expand(y.shape[:-1]).unsqueeze(-1)

    def dissipation_matrix(self, y: Tensor) -> Tensor:
        """``R(y) = diag(0, b)``, shape ``(*batch, 2, 2)``."""
        r = torch.zeros(*y.shape[:-1], 2, 2, dtype=y.dtype, device=y.device)
        r[..., 1, 1] = self.damping
        return r

    def input_matrix(self, y: Tensor) -> Tensor:
        """``G(y) = [0, 1]ᵀ``, shape ``(*batch, 2, 1)``."""
        g = torch.zeros(*y.shape[:-1], 2, 1, dtype=y.dtype, device=y.device)
        g[..., 1, 0] = 1.0
        return g

    def _check_action(self, y: Tensor, u: Tensor | None) -> Tensor:
        if u is None:
            return torch.zeros(*y.shape[:-1], 1, dtype=y.dtype, device=y.device)
        if not isinstance(u, Tensor):
            raise ArgumentTypeError(f"`u` must be a torch.Tensor of shape (*batch, 1), got {describe(u)}")
        if u.shape[-1:] != (1,):
            raise ArgumentValueError(f"{type(self).__name__} takes a scalar force/torque input: `u` must have shape "
                                     f"(*batch, 1), got {tuple(u.shape)}")
        return u.to(y)

    def __call__(self, t: Tensor, y: Tensor, u: Tensor | None = None) -> Tensor:
        q, p = split_qp(self._check_state(y))
        u = self._check_action(y, u)
        dq, dp = self.grad_hamiltonian(q, p)
        return merge_qp(dp, -dq - self.damping * dp + u + self._forcing(t, y))

    def power_balance(self, t: Tensor, y: Tensor, u: Tensor | None = None) -> dict[str, Tensor]:
        """The two sides of ``dH/dt = supplied - dissipated`` at states ``y`` ``(*batch, 2)``.

        Returns:
            ``{"dissipated": ∇Hᵀ R ∇H >= 0, "supplied": ∇Hᵀ (G u + F(t))}``, each ``(*batch,)``, in W
            (energy units per time unit).
        """
        q, p = split_qp(self._check_state(y))
        u = self._check_action(y, u)
        _, dp = self.grad_hamiltonian(q, p)
        dissipated = self.damping * dp[..., 0] ** 2
        f = self._forcing(t, y)
        supplied = dp[..., 0] * (u[..., 0] + (f if isinstance(f, float) else f[..., 0]))
        return {"dissipated": dissipated, "supplied": supplied}

    def invariants(self):
        """None: energy is not conserved; see :meth:`power_balance`."""
        return {}


class DampedPendulum(PortHamiltonianSystem):
    r"""Pendulum with viscous friction and a torque input.

    :math:`H = p^2/(2 m l^2) + m g l (1 - \cos q)`, :math:`\dot q = p/(m l^2)`,
    :math:`\dot p = -m g l \sin q - b \dot q + u`. ``q`` is the angle from the downward vertical.

    Args:
        m: bob mass (kg).
        l: rod length (m).
        g: gravitational acceleration (m/s^2).
        b: rotational damping (N m s); ``b = 0`` is the conservative :class:`Pendulum`.

    Shapes:
        y = [q, p]: ``(*batch, 2)``; u (torque, N m): ``(*batch, 1)``.

    Example:
        >>> sys = DampedPendulum(b=0.5)
        >>> sys(torch.tensor(0.0), torch.tensor([0.0, 1.0]), torch.tensor([0.2]))
        tensor([ 1.0000, -0.3000])
    """

    def __init__(self, m: float = 1.0, l: float = 1.0, g: float = 9.81, b: float = 0.1):  # noqa: E741
        self.conservative = Pendulum(m, l, g)
        self.m, self.l, self.g = self.conservative.m, self.conservative.l, self.conservative.g
        self.damping = _nonneg("b", b)

    def sample_initial_state(self, n, *, generator=None, dtype=torch.float64, device=None):
        """``q`` uniform in ``[-π/2, π/2]``, ``p`` uniform in ``[-1, 1]`` times ``m l² sqrt(g/l)``."""
        ps = self.m * self.l**2 * math.sqrt(self.g / self.l)
        return uniform(n, 2, [-math.pi / 2, -ps], [math.pi / 2, ps], generator=generator, dtype=dtype, device=device)


class MassSpringDamper(PortHamiltonianSystem):
    r"""Mass on a linear spring with a dashpot and a force input.

    :math:`H = p^2/(2m) + k q^2/2`, :math:`\dot q = p/m`, :math:`\dot p = -k q - c p/m + u`.
    With ``u = 0`` and ``c² < 4 m k`` (underdamped) the exact solution is
    :math:`q(t) = e^{-\zeta\omega_0 t}(q_0\cos\omega_d t + (v_0 + \zeta\omega_0 q_0)/\omega_d \sin\omega_d t)`.

    Args:
        m: mass (kg).
        k: spring constant (N/m).
        c: damping coefficient (N s/m).

    Shapes:
        y = [q, p]: ``(*batch, 2)``; u (force, N): ``(*batch, 1)``.

    Example:
        >>> MassSpringDamper(c=0.2).has_exact_solution
        True
    """

    def __init__(self, m: float = 1.0, k: float = 1.0, c: float = 0.1):
        self.conservative = HarmonicOscillator(m, k)
        self.m, self.k = self.conservative.m, self.conservative.k
        self.damping = _nonneg("c", c)  # R = diag(0, c) acts on dH/dp = p/m: the dashpot force c v

    @property
    def has_exact_solution(self) -> bool:  # type: ignore[override]
        return self.damping**2 < 4 * self.m * self.k

    def exact_solution(self, t: Tensor, y0: Tensor) -> Tensor:
        """Free (``u = 0``) underdamped motion from ``y0`` at ``t = 0``; shape ``(T, *batch, 2)``."""
        if not self.has_exact_solution:
            raise NotImplementedError("the exact solution is implemented for the underdamped case c^2 < 4 m k only")
        q0, p0 = split_qp(self._check_state(y0))
        w0 = math.sqrt(self.k / self.m)
        zeta = self.damping / (2 * math.sqrt(self.m * self.k))
        wd = w0 * math.sqrt(1 - zeta**2)
        tt = t.to(y0).reshape(-1, *([1] * y0.dim()))
        v0 = p0 / self.m
        decay = torch.exp(-zeta * w0 * tt)
        c, s = torch.cos(wd * tt), torch.sin(wd * tt)
        a, b = q0, (v0 + zeta * w0 * q0) / wd
        q = decay * (a * c + b * s)
        v = decay * ((-zeta * w0 * a + wd * b) * c + (-zeta * w0 * b - wd * a) * s)
        return torch.cat([q, self.m * v], -1)

    def sample_initial_state(self, n, *, generator=None, dtype=torch.float64, device=None):
        """``q`` uniform in ``[-1, 1]`` m, ``p`` in ``[-m ω₀, m ω₀]``."""
        mw = self.m * math.sqrt(self.k / self.m)
        return uniform(n, 2, [-1.0, -mw], [1.0, mw], generator=generator, dtype=dtype, device=device)


class Duffing(PortHamiltonianSystem):
    r"""Forced, damped Duffing oscillator: :math:`\ddot q + \delta \dot q + \alpha q + \beta q^3 = \gamma \cos\omega t + u`.

    Port-Hamiltonian form with unit mass: :math:`H = p^2/2 + \alpha q^2/2 + \beta q^4/4`,
    ``R = diag(0, δ)``, ``F(t) = [0, γ cos ωt]``. The defaults ``α = -1, β = 1`` give the
    double well of the port-Hamiltonian NN paper (Desai et al. 2021), with its regular setting
    ``δ = 0.3, γ = 0.2, ω = 1.2`` (:meth:`regular`) and its chaotic one ``δ = 0.1, γ = 0.39, ω = 1.4``
    (:meth:`chaotic`). Dimensionless units.

    Args:
        alpha: linear stiffness (negative: double well).
        beta: cubic stiffness.
        delta: damping.
        gamma: forcing amplitude.
        omega: forcing angular frequency.

    Shapes:
        y = [q, p]: ``(*batch, 2)``; u: ``(*batch, 1)``.

    Example:
        >>> Duffing.chaotic().omega
        1.4
    """

    def __init__(self, alpha: float = -1.0, beta: float = 1.0, delta: float = 0.3, gamma: float = 0.2,
                 omega: float = 1.2):
        self.alpha, self.beta = _finite("alpha", alpha), _finite("beta", beta)
        self.damping = _nonneg("delta", delta)
        self.gamma, self.omega = _finite("gamma", gamma), _finite("omega", omega)

    @property
    def delta(self) -> float:
        return self.damping

    @classmethod
    def regular(cls) -> Duffing:
        """``α=-1, β=1, δ=0.3, γ=0.2, ω=1.2`` (Desai et al. 2021)."""
        return cls(-1.0, 1.0, 0.3, 0.2, 1.2)

    @classmethod
    def chaotic(cls) -> Duffing:
        """``α=-1, β=1, δ=0.1, γ=0.39, ω=1.4``: a chaotic attractor (Desai et al. 2021)."""
        return cls(-1.0, 1.0, 0.1, 0.39, 1.4)

    def hamiltonian(self, q, p):
        return (0.5 * p**2 + 0.5 * self.alpha * q**2 + 0.25 * self.beta * q**4).sum(-1)

    def grad_hamiltonian(self, q, p):
        return self.alpha * q + self.beta * q**3, p

    def forcing_p(self, t):
        return self.gamma * torch.cos(self.omega * t)

    def sample_initial_state(self, n, *, generator=None, dtype=torch.float64, device=None):
        """``q, p`` uniform in ``[-1, 1]``."""
        return uniform(n, 2, -1.0, 1.0, generator=generator, dtype=dtype, device=device)
