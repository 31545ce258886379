"""Charged point particles in three dimensions: the Coulomb system of the NRI and EGNN benchmarks."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from physwm._errors import ArgumentTypeError, ArgumentValueError
from physwm._validate import describe, positive, positive_int
from physwm.state import particles_to_state, unflatten_particles
from physwm.systems.base import ParticleSystem

__all__ = ["ChargedParticles"]


class ChargedParticles(ParticleSystem):
    r"""``N`` point charges of unit mass in 3-D under (optionally clipped) Coulomb forces.

    .. math::
        H = \sum_i \frac{|p_i|^2}{2} + \sum_{i<j} \frac{k\, c_i c_j}{|q_i - q_j|},
        \qquad
        F_i = -\frac{\partial H}{\partial q_i} = \sum_{j \ne i} k\, c_i c_j \frac{q_i - q_j}{|q_i - q_j|^3}

    with charges ``c_i`` and interaction strength ``k``: like charges repel, opposite charges
    attract; there is no softening. This is the "charged particles" simulation of Kipf, Fetaya,
    Wang, Welling & Zemel, *Neural Relational Inference for Interacting Systems* (ICML 2018), in
    the 3-D, 5-body form used by Satorras, Hoogeboom & Welling, *E(n) Equivariant Graph Neural
    Networks* (ICML 2021); :func:`physwm.data.make_charged_dataset` generates that benchmark.

    **Force clipping.** With ``max_force`` set, each Cartesian component of the total force on
    each particle is clipped to ``[-max_force, max_force]`` (the published generator uses 100),
    and :meth:`grad_potential` returns minus the *clipped* force. The clipped force is then **not
    the gradient of** :meth:`potential` (which stays the plain Coulomb energy): in a close
    encounter the dynamics leave the Hamiltonian flow, energy is not conserved (not even in the
    bounded-error sense of a symplectic method), and because each particle's total force is
    clipped separately, Newton's third law, hence linear and angular momentum conservation,
    also break while a component is clipped. The quantities in :meth:`invariants` are exact
    invariants only for ``max_force=None``; then ``symplectic_euler`` and ``leapfrog`` keep the
    linear and angular momentum to round-off (pair forces are central and opposite) and the
    energy within a bounded error.

    **Batches of charge sets.** ``charges`` of shape ``(*cbatch, N)`` gives one charge set per
    simulation; it broadcasts against the batch shape of the state, so charges ``(S, N)`` go with
    states ``(S, 6N)`` (or ``(T, S, 6N)``). To integrate with :func:`physwm.solve` the charge batch
    must broadcast *to* the state batch (the gradients keep the state's shape). Everything is
    vectorised over the batch.

    Units: dimensionless simulation units (the benchmark's): charges ``+-1``, ``strength`` in
    energy x length / charge², unit masses, so ``p`` is the velocity.

    The state layout is :class:`~physwm.systems.NBody`'s: ``y = [q.flatten(-2), p.flatten(-2)]``,
    particle-major (``x_0, y_0, z_0, x_1, ...``), built from ``(*batch, N, 3)`` arrays by
    :func:`physwm.state.particles_to_state` and split by :func:`physwm.state.state_to_particles`.

    Args:
        charges: charge of each particle, shape ``(N,)`` or ``(*cbatch, N)``, ``N >= 2``, finite.
        strength: interaction strength ``k > 0``.
        max_force: clip of each force component (``> 0``), or ``None`` for the exact Coulomb force.

    Shapes:
        charges: ``(N,)`` or ``(*cbatch, N)``.
        y: ``(*batch, 6N)``, with ``*cbatch`` broadcastable against ``*batch``.
        q, p (flat, as the integrators pass them): ``(*batch, 3N)``.

    Raises:
        TypeError: ``charges`` is not a real tensor or a sequence of numbers; ``strength`` or
            ``max_force`` is not a number.
        ValueError: fewer than 2 particles, non-finite charges, ``strength`` or ``max_force`` not
            a finite number ``> 0``; when evaluating the dynamics, a state whose batch shape does
            not broadcast against the charge batch.

    Example:
        >>> import physwm
        >>> system = ChargedParticles([1.0, -1.0, 1.0, -1.0, 1.0], max_force=100.0)
        >>> y0 = system.sample_initial_state(4, generator=torch.Generator().manual_seed(0))
        >>> y0.shape
        torch.Size([4, 30])
        >>> ys = physwm.solve(system, y0, [0.0, 0.1], method="symplectic_euler", dt=0.001).ys
        >>> ys.shape
        torch.Size([2, 4, 30])
    """

    def __init__(self, charges: Sequence[float] | Tensor, strength: float = 1.0, max_force: float | None = None):
        if isinstance(charges, Tensor):
            if charges.is_complex() or charges.dtype == torch.bool:
                raise ArgumentTypeError(f"`charges` must hold real numbers, got {describe(charges)}")
            c = charges.detach().to(dtype=torch.float64)
        elif isinstance(charges, (str, bytes)) or not isinstance(charges, Sequence):
            raise ArgumentTypeError("`charges` must be a tensor or a sequence of numbers of shape (N,) or (*batch, N), "
                                    f"got {describe(charges)}")
        else:
            try:
                c = torch.as_tensor(charges, dtype=torch.float64)
            except (TypeError, ValueError, RuntimeError) as err:
                raise ArgumentTypeError(f"`charges` must be a (nested) sequence of numbers, got {describe(charges)}") from err
        if c.dim() < 1 or c.shape[-1] < 2:
            raise ArgumentValueError(f"`charges` must have shape (N,) or (*batch, N) with N >= 2, got {tuple(c.shape)}")
        if not bool(torch.isfinite(c).all()):
            raise ArgumentValueError("`charges` must be finite, got NaN or inf entries")
        self.charges = c
        self.strength = positive("strength", strength)
        self.max_force = None if max_force is None else positive("max_force", max_force)
        self.n_bodies = c.shape[-1]
        self.state_dim = 6 * self.n_bodies
        self._cache: dict[tuple[torch.dtype, torch.device], tuple[Tensor, Tensor, Tensor, Tensor]] = {}

    # -- pair quantities ------------------------------------------------------------------------
    # Forces are computed over the N(N-1)/2 pairs i < j in a batch-last layout (particle, xyz,
    # *batch): the reductions then run over leading axes, which is several times faster on CPU
    # than reducing the trailing xyz axis of (*batch, N, N, 3), and half the pair work.
    def _coupling(self, like: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Pair indices ``i, j`` ``(P,)``, ``k c_i c_j`` ``(P, *cbatch)`` and the incidence ``(N, P)``, cached."""
        key = (like.dtype, like.device)
        hit = self._cache.get(key)
        if hit is None:
            i, j = torch.triu_indices(self.n_bodies, self.n_bodies, 1, device=like.device)
            c = self.charges.to(device=like.device).movedim(-1, 0)  # (N, *cbatch)
            kcc = (self.strength * c[i] * c[j]).to(like.dtype)
            pairs = torch.arange(i.numel(), device=like.device)
            incidence = torch.zeros(self.n_bodies, i.numel(), dtype=like.dtype, device=like.device)
            incidence[i, pairs] = 1.0  # pair (i, j) pushes i along +(x_i - x_j) ...
            incidence[j, pairs] = -1.0  # ... and j along -(x_i - x_j)
            hit = (i, j, kcc, incidence)
            self._cache[key] = hit
        return hit

    def _pairs(self, q: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """``x_i - x_j`` ``(P, 3, *B)``, ``r_ij^2`` ``(P, *B)``, ``k c_i c_j`` ``(P, *B)`` and the incidence."""
        if not isinstance(q, Tensor):
            raise ArgumentTypeError(f"`q` must be a torch.Tensor of shape (*batch, {3 * self.n_bodies}), got {describe(q)}")
        cbatch, batch = self.charges.shape[:-1], q.shape[:-1]
        try:
            full = torch.broadcast_shapes(cbatch, batch)
        except RuntimeError:
            raise ArgumentValueError(f"`q` has batch shape {tuple(batch)}, which does not broadcast against the batch shape "
                                     f"{tuple(cbatch)} of `charges` {tuple(self.charges.shape)}") from None
        i, j, kcc, incidence = self._coupling(q)
        if full != batch:
            q = q.expand(*full, q.shape[-1])
        kcc = kcc.reshape(kcc.shape[0], *([1] * (len(full) - len(cbatch))), *cbatch)
        x = unflatten_particles(q, self.n_bodies).movedim((-2, -1), (0, 1)).contiguous()  # (N, 3, *B)
        diff = x.index_select(0, i) - x.index_select(0, j)
        return diff, (diff * diff).sum(1), kcc, incidence

    # -- Hamiltonian ----------------------------------------------------------------------------
    def kinetic(self, p: Tensor) -> Tensor:
        """``T = sum_i |p_i|^2 / 2`` (unit masses): ``(*batch, 3N)`` -> ``(*batch,)``."""
        return 0.5 * (p * p).sum(-1)

    def grad_kinetic(self, p: Tensor) -> Tensor:
        """``dT/dp = p`` (unit masses), ``(*batch, 3N)``."""
        return p

    def potential(self, q: Tensor) -> Tensor:
        """Unclipped Coulomb energy ``V = sum_{i<j} k c_i c_j / r_ij``: ``(*batch, 3N)`` -> ``(*batch,)``."""
        _, r2, kcc, _ = self._pairs(q)
        return (kcc * r2.rsqrt()).sum(0)

    def grad_potential(self, q: Tensor) -> Tensor:
        """Minus the force, ``(*batch, 3N)``; the *clipped* force when ``max_force`` is set.

        Without clipping this is ``dV/dq_i = -sum_j k c_i c_j (q_i - q_j) / r_ij^3``. With
        ``max_force`` it is ``-clip(F_i, -max_force, max_force)`` per component, which is not the
        gradient of :meth:`potential` (see the class notes on conservation).
        """
        diff, r2, kcc, incidence = self._pairs(q)
        w = kcc * r2.rsqrt() / r2  # k c_i c_j / r_ij^3, (P, *B)
        pair_force = w.unsqueeze(1) * diff  # force on i from j, (P, 3, *B)
        force = (incidence @ pair_force.flatten(1)).view(self.n_bodies, *pair_force.shape[1:])  # (N, 3, *B)
        if self.max_force is not None:
            force = force.clamp(-self.max_force, self.max_force)
        return (-force).movedim((0, 1), (-2, -1)).flatten(-2)


    def invariants(self):
        """Energy, momentum, angular momentum: exact invariants of the flow only when ``max_force`` is ``None``."""
        return super().invariants()

    def sample_initial_state(self, n, *, generator=None, dtype=torch.float64, device=None):
        """``n`` initial states as in Kipf et al. (2018) and Satorras et al. (2021), shape ``(n, 6N)``.

        Positions standard normal per coordinate; velocities of uniformly random direction and
        norm 0.5 (a standard normal vector per particle, rescaled). Positions are drawn first,
        then velocities, from ``generator`` (float64), then cast to ``dtype``/``device``.

        Raises:
            TypeError: ``n`` is not an int.
            ValueError: ``n < 1``.
        """
        positive_int("n", n)
        q = torch.randn(n, self.n_bodies, 3, generator=generator, dtype=torch.float64)
        v = torch.randn(n, self.n_bodies, 3, generator=generator, dtype=torch.float64)
        v = 0.5 * v / v.norm(dim=-1, keepdim=True)
        return particles_to_state(q, v).to(dtype=dtype, device=device)
