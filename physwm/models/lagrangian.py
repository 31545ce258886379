"""Lagrangian neural networks: accelerations from a learned Lagrangian by the Euler-Lagrange equation."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from physwm._errors import ArgumentValueError, SingularMassMatrixError
from physwm._validate import choice, model_input, nonnegative, positive_int
from physwm.nn import MLP
from physwm.state import angle_feature_width, angle_features, angle_indices, autograd_gradient, merge_qp, split_qp

__all__ = ["LNN", "euler_lagrange"]

#: What euler_lagrange does at a singular mass matrix: refuse the state, or use the pseudo-inverse.
SINGULAR_POLICIES = ("raise", "pinv")

#: Activations whose second derivative vanishes almost everywhere: ∂²L/∂q̇² would be zero.
_PIECEWISE_LINEAR = ("relu",)


def _check_pair(q: Tensor, qdot: Tensor) -> None:
    model_input("q", q, None), model_input("qdot", qdot, None)
    if q.shape != qdot.shape:
        raise ArgumentValueError(f"`q` and `qdot` must have the same shape (*batch, n), got {tuple(q.shape)} and "
                                 f"{tuple(qdot.shape)}")


def _el_terms(lagrangian: Callable[[Tensor, Tensor], Tensor], q: Tensor, qdot: Tensor) -> tuple[Tensor, Tensor]:
    """Per-sample mass matrix ``∂²L/∂q̇²`` and right-hand side ``∂L/∂q - (∂²L/∂q̇∂q) q̇``.

    One forward-over-reverse pass: the Jacobian of ``∇L`` over ``z = [q, q̇]`` holds both the mass
    matrix (``q̇q̇`` block) and the mixed derivatives (``q̇q`` block); ``∇L`` itself rides along as aux.
    """
    n = q.shape[-1]

    def grad_l(z: Tensor) -> tuple[Tensor, Tensor]:
        g = torch.func.grad(lambda zz: lagrangian(zz[:n], zz[n:]))(z)
        return g, g

    jac, g = torch.func.jacfwd(grad_l, has_aux=True)(torch.cat([q, qdot]))
    mass, mixed = jac[n:, n:], jac[n:, :n]  # mixed[i, j] = ∂²L / ∂q̇_i ∂q_j
    return mass, g[:n] - mixed @ qdot


def _el_terms_batched(lagrangian: Callable[[Tensor, Tensor], Tensor], q: Tensor, qdot: Tensor) -> tuple[Tensor, Tensor]:
    """The same two terms for a Lagrangian that takes a batch ``(B, n) -> (B,)``, by ``n + 1`` reverse passes.

    ``∇L`` over ``z = [q, q̇]`` (one backward pass, kept differentiable), then row ``i`` of its Jacobian,
    ``∂²L/∂q̇_i∂z``, by one more backward pass per coordinate: the batch entries are independent, so
    each pass gives every sample's row at once. Much cheaper than vmapping forward-over-reverse for
    small networks (less dispatch); the results agree to round-off.
    """
    n = q.shape[-1]
    create_graph = torch.is_grad_enabled()
    with torch.enable_grad():
        z = torch.cat([q, qdot], -1)
        z = z if (create_graph and z.requires_grad) else z.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(lagrangian(z[..., :n], z[..., n:]).sum(), z, create_graph=True)
        rows = torch.stack([torch.autograd.grad(g[..., n + i].sum(), z, create_graph=create_graph, retain_graph=True)[0]
                            for i in range(n)], -2)  # rows[b, i, j] = ∂²L / ∂q̇_i ∂z_j
    mass, mixed = rows[..., n:], rows[..., :n]
    if not create_graph:
        g = g.detach()
    return mass, g[..., :n] - (mixed @ qdot.unsqueeze(-1)).squeeze(-1)


def solve_mass_matrix(mass: Tensor, rhs: Tensor, rcond: float | None = None, hint: str = "",
                      singular: str = "raise") -> Tensor:
    """``M⁻¹ rhs`` for symmetric mass matrices ``(B, n, n)`` and right-hand sides ``(B, n)``.

    ``singular="raise"``: a state is refused where ``M`` has non-finite entries or
    ``min|λ(M)| <= rcond · max|λ(M)|`` (``rcond`` default ``10 n eps`` of the dtype); the
    :class:`~physwm.SingularMassMatrixError` names the states and ends with ``hint``.
    ``singular="pinv"``: the Moore-Penrose pseudo-inverse instead (eigenvalues with
    ``|λ| <= rcond · max|λ|`` dropped), the minimum-norm solution; only non-finite ``M`` is refused.
    """
    n = mass.shape[-1]
    rcond = 10 * n * torch.finfo(mass.dtype).eps if rcond is None else rcond
    with torch.no_grad():
        finite = torch.isfinite(mass).flatten(-2).all(-1)
        if singular == "pinv":
            bad = ~finite
        else:
            eye = torch.eye(n, dtype=mass.dtype, device=mass.device)
            eig = torch.linalg.eigvalsh(torch.where(finite[..., None, None], mass, eye)).abs()
            absmax = eig.amax(-1)
            bad = ~finite | (eig.amin(-1) <= rcond * absmax) | (absmax == 0)
    if bool(bad.any()):
        idx = bad.flatten().nonzero().flatten().tolist()
        raise SingularMassMatrixError(
            f"the mass matrix d2L/dqdot2 is singular at {len(idx)} of {bad.numel()} states (first flattened batch "
            f"indices {idx[:5]}; rcond={rcond:.3g}): the Lagrangian does not determine the accelerations there. "
            + hint, index=idx)
    if singular == "pinv":
        return (torch.linalg.pinv(mass, rtol=rcond, hermitian=True) @ rhs.unsqueeze(-1)).squeeze(-1)
    return torch.linalg.solve(mass, rhs.unsqueeze(-1)).squeeze(-1)


def euler_lagrange(lagrangian: Callable[[Tensor, Tensor], Tensor], q: Tensor, qdot: Tensor, *,
                   rcond: float | None = None, regularization: float = 0.0, batched: bool = False,
                   singular: str = "raise") -> Tensor:
    r"""Accelerations :math:`\ddot q` of a Lagrangian system, batched with ``torch.func``.

    The Euler-Lagrange equation :math:`\frac{d}{dt}\partial_{\dot q} L = \partial_q L` solved for
    :math:`\ddot q` (Cranmer et al., "Lagrangian Neural Networks", ICLR DeepDiffEq workshop 2020):

    .. math::
        \ddot q = \big(\partial^2_{\dot q\dot q} L\big)^{-1}
                  \big(\partial_q L - \partial^2_{\dot q q} L\,\dot q\big).

    The Hessian and mixed derivatives come from ``torch.func`` (``grad`` and ``jacfwd``) vmapped
    over the batch, with no Python loop, or, for a Lagrangian that itself takes a batch
    (``batched=True``, as :class:`LNN`'s does), from ``n + 1`` batched reverse passes, several times
    faster for small networks; the mass matrix is inverted by a linear solve, never an explicit inverse.
    **Singular guard**: the mass matrix :math:`M = \partial^2_{\dot q\dot q} L` must be invertible. If
    :math:`\min|\lambda(M)| \le` ``rcond`` :math:`\cdot \max|\lambda(M)|` for any state (or ``M`` has
    non-finite entries) a :class:`~physwm.SingularMassMatrixError` names the offending states instead of
    returning inf/NaN. ``regularization`` ``ε`` solves :math:`(M + \varepsilon I)\ddot q = \dots` instead,
    which is exactly the Euler-Lagrange equation of :math:`L + \tfrac12\varepsilon|\dot q|^2` (the added
    term has no :math:`q` dependence): still a Lagrangian system, with the energy
    :math:`E + \tfrac12\varepsilon|\dot q|^2` conserved, that keeps a degenerate learned ``L`` integrable.

    Args:
        lagrangian: ``L(q, qdot) -> scalar`` for **one** state (``q, qdot`` of shape ``(n,)``); it
            is vmapped over the batch, so it must use only torch operations. With ``batched=True``,
            ``L(q, qdot) -> (B,)`` for states ``(B, n)`` instead.
        q: generalised coordinates.
        qdot: generalised velocities.
        rcond: relative eigenvalue threshold of the guard; default ``10 n eps`` of the dtype
            (numerically singular: ``4.4e-15`` in float64 and ``2.4e-6`` in float32 for ``n = 2``).
            A randomly initialised network's mass matrix is indefinite and passes near singular
            states during training, so the default only stops what no solve can handle; raise it
            to refuse ill-conditioned states too. ``0`` checks for exact singularity only.
        regularization: ``ε >= 0`` added to the diagonal of ``M``.
        batched: whether ``lagrangian`` takes a batch of states (see above).
        singular: ``"raise"`` (the guard above) or ``"pinv"``: the Moore-Penrose pseudo-inverse of ``M``
            (eigenvalues below ``rcond`` times the largest dropped), the minimum-norm solution, as the
            LNN paper's code computes the accelerations (``jnp.linalg.pinv``). Finite at every state,
            so one degenerate training state does not stop a run; the accelerations there are the
            pseudo-inverse's, not the Euler-Lagrange equation's (which has no unique solution).

    Returns:
        ``q̈`` of shape ``(*batch, n)``.

    Shapes:
        q, qdot: ``(*batch, n)`` -> ``(*batch, n)``.

    Raises:
        TypeError: ``q``/``qdot`` not floating tensors.
        ValueError: mismatched shapes, negative ``rcond``/``regularization``, an unknown ``singular``.
        SingularMassMatrixError: the mass matrix is singular at some state (``singular="raise"``), or
            has non-finite entries.

    Example:
        >>> L = lambda q, v: 0.5 * (v**2).sum() + 9.81 * torch.cos(q).sum()   # pendulum, m = l = 1
        >>> q = torch.tensor([[0.5]], dtype=torch.float64)
        >>> euler_lagrange(L, q, torch.zeros_like(q))
        tensor([[-4.7032]], dtype=torch.float64)
    """
    _check_pair(q, qdot)
    rcond = 10 * q.shape[-1] * torch.finfo(q.dtype).eps if rcond is None else nonnegative("rcond", rcond)
    regularization = nonnegative("regularization", regularization)
    choice("singular", singular, SINGULAR_POLICIES)
    batch, n = q.shape[:-1], q.shape[-1]
    qf, vf = q.reshape(-1, n), qdot.reshape(-1, n)
    if batched:
        mass, rhs = _el_terms_batched(lagrangian, qf, vf)
    else:
        mass, rhs = torch.func.vmap(lambda a, b: _el_terms(lagrangian, a, b))(qf, vf)
    if regularization:
        mass = mass + regularization * torch.eye(n, dtype=mass.dtype, device=mass.device)
    acc = solve_mass_matrix(mass, rhs, rcond, hint="A network with a piecewise-linear activation (ReLU) has "
                            "d2L/dqdot2 = 0; use a smooth one, or pass `regularization` > 0 or `singular='pinv'`.",
                            singular=singular)
    return acc.reshape(*batch, n)


class LNN(nn.Module):
    r"""Lagrangian neural network (Cranmer, Greydanus, Hoyer, Battaglia, Spergel, Ho, 2020).

    A scalar :math:`L_\theta(q, \dot q)` by an MLP; accelerations from the Euler-Lagrange
    equation (:func:`euler_lagrange`), so the model needs no canonical coordinates: it learns
    from angles and angular velocities directly. The state is ``y = [q, q̇]`` and the model is
    first-order dynamics ``f(t, y) = [q̇, q̈]`` for :func:`physwm.solve`. The conserved energy
    follows from Noether's theorem for time translations: :math:`E = \dot q \cdot \partial_{\dot q} L - L`.

    With ``regularization=ε`` the model's Lagrangian is :math:`L = N_\theta(q, \dot q) + \tfrac12
    \varepsilon|\dot q|^2` (:math:`N_\theta` the network): the accelerations solve
    :math:`(\partial^2_{\dot q\dot q} N_\theta + \varepsilon I)\ddot q = \dots`, and :meth:`lagrangian`,
    :meth:`momenta`, :meth:`mass_matrix` and :meth:`energy` all include the term, so :meth:`energy` is
    the quantity the model conserves. The network's own mass matrix may then be indefinite (early in
    training it often is) while the model's stays positive definite.

    **Why not ReLU**: the accelerations need :math:`\partial^2 L/\partial \dot q^2`, and a
    piecewise-linear network has zero second derivatives almost everywhere, so the mass matrix is
    singular and the dynamics undefined. ``activation_name="relu"`` is refused; the paper uses
    softplus (the default here); tanh and SiLU work too.

    Args:
        dof: number of coordinates ``n``; the state is ``[q, q̇]`` of size ``2n``.
        hidden: hidden widths of the MLP.
        activation_name: a smooth activation (``softplus``, ``tanh``, ``silu``, ``gelu``).
        rcond: singular-mass-matrix threshold (see :func:`euler_lagrange`).
        regularization: ``ε >= 0``, a fixed kinetic term ``½ε|q̇|²`` added to the network's Lagrangian
            (see above and :func:`euler_lagrange`).
        angles: indices of the coordinates that are angles, seen through ``angle_embedding``, so ``L`` is
            the same after whole turns (the paper's double pendulum wraps them; the wrap has unit
            derivative, so the dynamics are unchanged inside the interval).
        angle_embedding: ``"wrap"`` (the paper's) or ``"cos_sin"`` (smooth across ``±π``), see
            :func:`physwm.state.angle_features`.
        init: the MLP's initialisation, ``"orthogonal"`` or ``"lnn"`` (the paper's scheme, see
            :class:`~physwm.nn.MLP`).
        singular: ``"raise"`` (default) or ``"pinv"``, the pseudo-inverse of the LNN paper's code (see
            :func:`euler_lagrange`).

    Shapes:
        forward: ``y`` ``(*batch, 2n)`` -> ``(*batch, 2n)``; ``lagrangian``: ``q, q̇`` ``(*batch, n)`` -> ``(*batch,)``.

    Raises:
        ValueError: a piecewise-linear activation; wrong state shapes.
        SingularMassMatrixError: at call time, where the learned mass matrix is singular.

    Example:
        >>> model = LNN(dof=2, hidden=(32, 32)).double()
        >>> model(torch.tensor(0.0), torch.randn(5, 4, dtype=torch.float64)).shape
        torch.Size([5, 4])
    """

    def __init__(self, dof: int, hidden: Sequence[int] = (128, 128), activation_name: str = "softplus",
                 rcond: float | None = None, regularization: float = 0.0, angles: Sequence[int] = (),
                 init: str = "orthogonal", angle_embedding: str = "wrap", singular: str = "raise"):
        super().__init__()
        if activation_name in _PIECEWISE_LINEAR:
            raise ArgumentValueError(f"LNN needs a smooth activation, got {activation_name!r}: its second derivative is zero "
                             "almost everywhere, so the mass matrix d2L/dqdot2 would be singular. Use 'softplus', "
                             "'tanh' or 'silu'.")
        self.dof = positive_int("dof", dof)
        self.angles = angle_indices("angles", angles, dof)
        self.angle_embedding = angle_embedding
        self.net = MLP(angle_feature_width(dof, self.angles, angle_embedding) + dof, 1, hidden, activation_name, init=init)
        self.rcond = None if rcond is None else nonnegative("rcond", rcond)
        self.regularization = nonnegative("regularization", regularization)
        self.singular = choice("singular", singular, SINGULAR_POLICIES)

    def network_lagrangian(self, q: Tensor, qdot: Tensor) -> Tensor:
        """The network's output ``N_θ(q, q̇)`` -> ``(*batch,)``, without the ``½ε|q̇|²`` term."""
        return self.net(torch.cat([angle_features(q, self.angles, self.angle_embedding), qdot], -1)).squeeze(-1)

    def lagrangian(self, q: Tensor, qdot: Tensor) -> Tensor:
        """``L = N_θ(q, q̇) + ½ε|q̇|²`` -> ``(*batch,)`` (also works on single states ``(n,)`` -> scalar)."""
        value = self.network_lagrangian(q, qdot)
        return value + 0.5 * self.regularization * (qdot * qdot).sum(-1) if self.regularization else value

    def acceleration(self, q: Tensor, qdot: Tensor) -> Tensor:
        """``q̈`` from the Euler-Lagrange equation of :meth:`lagrangian`, ``(*batch, n)``."""
        # the ½ε|q̇|² term enters as εI on the network's mass matrix (its other derivatives vanish)
        return euler_lagrange(self.network_lagrangian, q, qdot, rcond=self.rcond, regularization=self.regularization,
                              batched=True, singular=self.singular)

    def _split(self, y: Tensor) -> tuple[Tensor, Tensor]:
        return split_qp(model_input("y", y, self, last=2 * self.dof), self.dof)

    def forward(self, t: Tensor, y: Tensor) -> Tensor:
        q, qdot = self._split(y)
        return merge_qp(qdot, self.acceleration(q, qdot))

    def mass_matrix(self, y: Tensor) -> Tensor:
        """``∂²L/∂q̇²`` of :meth:`lagrangian` (``ε I`` included) at states ``(*batch, 2n)`` -> ``(*batch, n, n)``."""
        q, qdot = self._split(y)
        n = self.dof
        hess = torch.func.vmap(torch.func.hessian(self.lagrangian, argnums=1))(q.reshape(-1, n), qdot.reshape(-1, n))
        return hess.reshape(*y.shape[:-1], n, n)

    def momenta(self, y: Tensor) -> Tensor:
        """Canonical momenta ``p = ∂L/∂q̇``, ``(*batch, n)``."""
        q, qdot = self._split(y)
        return autograd_gradient(lambda v: self.lagrangian(q, v), qdot)

    def energy(self, y: Tensor) -> Tensor:
        """Noether energy ``E = q̇·∂L/∂q̇ - L`` of states ``(*batch, 2n)`` -> ``(*batch,)``."""
        q, qdot = self._split(y)
        return (qdot * self.momenta(y)).sum(-1) - self.lagrangian(q, qdot)
