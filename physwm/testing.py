"""Assertion helpers built on :mod:`physwm.diagnostics` (layer L5).

Used by physwm's own test suite and offered for users' tests. Each raises
:class:`AssertionError` with the measured numbers; none relies on the ``assert`` statement, so
they keep working under ``python -O``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

from physwm._errors import ArgumentValueError
from physwm._typing import Dynamics, Hamiltonian, ParticleModel, SeparableHamiltonian
from physwm.diagnostics import energy_growth, observed_order, relative_energy_error
from physwm.integrate import solve

__all__ = ["convergence_errors", "assert_convergence_order", "assert_conserves", "assert_gradcheck",
           "assert_adjoint_matches_backprop", "symplecticity_error", "assert_symplectic", "random_orthogonal",
           "particle_equivariance_error", "assert_particle_equivariant"]


def convergence_errors(f: Dynamics | SeparableHamiltonian, y0: Tensor, t_end: float, step_sizes: Sequence[float], method: str,
                       exact: Tensor | Callable[[Tensor, Tensor], Tensor] | None = None) -> list[float]:
    """Max-norm global errors at ``t_end`` for each step size.

    ``exact`` is the reference state at ``t_end`` or a function ``(t, y0) -> ys`` (like a system's
    ``exact_solution``); by default a ``dopri8`` solve at ``rtol = atol = 1e-13``.
    """
    t = torch.tensor([0.0, float(t_end)], dtype=y0.dtype, device=y0.device)
    if exact is None:
        ref = solve(f, y0, t, method="dopri8", rtol=1e-13, atol=1e-13).ys[-1]
    elif callable(exact):
        ref = exact(t, y0)[-1]
    else:
        ref = exact
    return [float((solve(f, y0, t, method=method, dt=h).ys[-1] - ref).abs().max()) for h in step_sizes]


def assert_convergence_order(f: Dynamics | SeparableHamiltonian, y0: Tensor, t_end: float, step_sizes: Sequence[float], method: str,
                             order: float, *, tol: float = 0.15, exact: Any = None) -> float:
    """Check the observed order of ``method`` (log-log fit over ``step_sizes``) is within ``tol``
    of ``order``. Returns the observed order.

    Choose step sizes in the asymptotic range: small enough for the leading error term to
    dominate, large enough for the error to sit well above round-off.

    Example:
        >>> from physwm.systems import HarmonicOscillator
        >>> osc = HarmonicOscillator()
        >>> y0 = torch.tensor([1.0, 0.0], dtype=torch.float64)
        >>> p = assert_convergence_order(osc, y0, 5.0, [0.1, 0.05, 0.025], "leapfrog", 2,
        ...                              exact=osc.exact_solution)
    """
    errors = convergence_errors(f, y0, t_end, step_sizes, method, exact)
    p = observed_order(step_sizes, errors)
    if not abs(p - order) <= tol:
        raise AssertionError(f"{method}: observed order {p:.3f}, expected {order} +/- {tol} "
                             f"(step sizes {list(step_sizes)}, errors {[f'{e:.3e}' for e in errors]})")
    return p


def assert_conserves(values: Tensor, *, rtol: float, bounded: bool = True, max_growth: float = 1.5) -> None:
    """Check a conserved quantity ``values`` ``(T, *batch)`` stays within ``rtol`` (relative) of its
    initial value and, with ``bounded``, that its error does not grow between the first and second
    half of the trajectory by more than ``max_growth`` (see :func:`physwm.diagnostics.energy_growth`).
    """
    err = relative_energy_error(values)
    worst = float(err.max())
    if not worst <= rtol:
        raise AssertionError(f"relative error of the invariant reaches {worst:.3e} > rtol={rtol:.3e}")
    if bounded:
        growth = float(energy_growth(values).max())
        if not growth <= max_growth:
            raise AssertionError(f"the invariant's error grows {growth:.2f}x from the first to the second half "
                                 f"of the trajectory (> {max_growth}): secular drift, not a bounded oscillation")


def assert_gradcheck(f: Dynamics | SeparableHamiltonian, y0: Tensor, t: Tensor, method: str, *, wrt: Sequence[str] = ("y0",),
                     **solve_kwargs: Any) -> None:
    """``torch.autograd.gradcheck`` of ``solve(f, y0, t, method=...).ys`` with respect to ``y0`` and/or ``t``
    (``wrt``) in float64.

    Pass ``dt`` for adaptive methods: gradcheck compares with finite differences, and
    error-controlled step selection changes with the perturbed input. With respect to ``t`` the
    derivative is that of the discrete map: for fixed steps, moving an output time stretches the equal
    steps of its intervals (:func:`physwm.integrate.step_plan`).
    """
    unknown = set(wrt) - {"y0", "t"}
    if unknown or not wrt:
        raise ArgumentValueError(f"`wrt` must name 'y0' and/or 't', got {list(wrt)}")
    y = y0.detach().to(torch.float64).requires_grad_("y0" in wrt)
    tt = torch.as_tensor(t, dtype=torch.float64, device=y.device).detach().requires_grad_("t" in wrt)
    inputs = tuple(x for name, x in (("y0", y), ("t", tt)) if name in wrt)

    def run(*args: Tensor) -> Tensor:
        given = dict(zip([w for w in ("y0", "t") if w in wrt], args))
        return solve(f, given.get("y0", y), given.get("t", tt), method=method, **solve_kwargs).ys

    try:
        torch.autograd.gradcheck(run, inputs, atol=1e-6, rtol=1e-5)
    except Exception as exc:  # gradcheck raises GradcheckError (a RuntimeError)
        raise AssertionError(f"gradcheck through solve(method={method!r}) with respect to {list(wrt)} failed: "
                             f"{exc}") from exc


def assert_adjoint_matches_backprop(f: Dynamics, y0: Tensor, t: Tensor, method: str, *, tol: float = 1e-5,
                                    **solve_kwargs: Any) -> None:
    """Gradients of a random projection of ``ys`` with respect to ``y0`` and to ``f``'s parameters
    agree between ``adjoint=True`` and backpropagation through the steps, to ``tol`` (relative to
    the largest entry)."""
    y = y0.detach().to(torch.float64).requires_grad_(True)
    t = torch.as_tensor(t, dtype=torch.float64, device=y.device)
    params = [p for p in getattr(f, "parameters", lambda: [])() if p.requires_grad]
    w = None
    grads = []
    for adjoint in (False, True):
        ys = solve(f, y, t, method=method, adjoint=adjoint, **solve_kwargs).ys
        if w is None:
            w = torch.randn(ys.shape, dtype=ys.dtype, generator=torch.Generator().manual_seed(0)).to(ys.device)
        g = torch.autograd.grad((ys * w).sum(), [y, *params], allow_unused=True)
        grads.append(torch.cat([(torch.zeros_like(x) if gi is None else gi).flatten()
                                for gi, x in zip(g, [y, *params])]))
    err = float((grads[0] - grads[1]).abs().max() / grads[0].abs().max().clamp_min(1e-300))
    if not err <= tol:
        raise AssertionError(f"adjoint and backprop gradients differ by {err:.3e} (relative) for {method!r}")


def symplecticity_error(f: Hamiltonian | SeparableHamiltonian | Dynamics, y0: Tensor, method: str, dt: float, *,
                        steps: int = 1, **solve_kwargs: Any) -> float:
    r"""How far the numerical flow map is from symplectic: :math:`\max |M^\top J M - J|`.

    :math:`M = \partial y_k / \partial y_0` is the Jacobian of ``steps`` steps of ``method`` from the
    single state ``y0 = [q, p]`` (by autograd through :func:`physwm.solve`, in float64) and
    :math:`J = [[0, I], [-I, 0]]`. A symplectic method gives round-off for any Hamiltonian ``f`` it
    applies to (Hairer, Lubich & Wanner, *Geometric Numerical Integration*, 2006, ch. VI); a
    non-symplectic one (``rk4``) an error of order :math:`dt^{p+1}` per step.

    Shapes:
        y0: ``(2n,)``.
    """
    y0 = y0.detach().to(torch.float64).flatten()
    if y0.numel() % 2:
        raise ArgumentValueError(f"`y0` must be one state [q, p] with an even size, got {tuple(y0.shape)}")
    t = torch.tensor([0.0, steps * dt], dtype=torch.float64, device=y0.device)
    m = torch.autograd.functional.jacobian(lambda y: solve(f, y, t, method=method, dt=dt, **solve_kwargs).ys[-1], y0)
    n = y0.numel() // 2
    j = torch.zeros(2 * n, 2 * n, dtype=torch.float64, device=y0.device)
    j[:n, n:], j[n:, :n] = torch.eye(n), -torch.eye(n)
    return float((m.T @ j @ m - j).abs().max())


def assert_symplectic(f: Hamiltonian | SeparableHamiltonian | Dynamics, y0: Tensor, method: str, dt: float, *,
                      steps: int = 1, tol: float = 1e-12, **solve_kwargs: Any) -> float:
    """Check that ``method``'s flow map on ``f`` is symplectic, :math:`M^\top J M = J` to ``tol``
    (:func:`symplecticity_error`). Returns the error.

    Example:
        >>> from physwm.systems import Pendulum
        >>> err = assert_symplectic(Pendulum(), torch.tensor([1.0, 0.5]), "leapfrog", 0.1)
    """
    err = symplecticity_error(f, y0, method, dt, steps=steps, **solve_kwargs)
    if not err <= tol:
        raise AssertionError(f"{method}: max|M^T J M - J| = {err:.3e} > tol {tol:.1e} after {steps} step(s) of "
                             f"dt={dt}: the flow map is not symplectic")
    return err


def random_orthogonal(*, reflection: bool = False, generator: torch.Generator | None = None,
                      dtype: torch.dtype = torch.float64) -> Tensor:
    """A Haar-random 3x3 rotation (``det = +1``), or with ``reflection`` an improper one (``det = -1``)."""
    a = torch.randn(3, 3, generator=generator, dtype=torch.float64)
    q, r = torch.linalg.qr(a)
    q = q * torch.sign(torch.diagonal(r)).unsqueeze(0)
    if torch.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    if reflection:
        q = -q
    return q.to(dtype)


def _output_kind(model: Any, output: str | None) -> str:
    if output is None:
        declared = getattr(model, "irreps_out", None)
        output = "position" if declared is None or declared[0] == "cartesian_points" else "vector"
    if output not in ("position", "vector"):
        raise ArgumentValueError(f"`output` must be 'position' or 'vector', got {output!r}")
    return output


def particle_equivariance_error(model: ParticleModel, x: Tensor, v: Tensor | None, h: Tensor, edge_index: Tensor,
                                edge_attr: Tensor | None = None, *, output: str | None = None, reflection: bool = True,
                                translation: bool = True, permutation: bool = True,
                                generator: torch.Generator | None = None) -> float:
    """Relative E(3) x permutation equivariance error of a particle-graph model.

    ``model(x, v, h, edge_index, edge_attr)`` must return one 3-vector per node. With ``g`` a random
    rotation (an improper one with ``reflection``), a random translation ``b`` (positions only) and a
    random relabelling ``P`` of the nodes, the error is

    ``max|model(P(g x + b), P g v, P h, P edges) - P(g model(x, ...) [+ b])| / max|model(x, ...)|``,

    ``+ b`` only for ``output="position"`` (``"vector"`` for forces or velocities); by default the kind
    is read from the model's ``irreps_out`` (``"cartesian_points"`` is a position). Computed in the
    dtype of ``x``: expect round-off (1e-7 in float32, 1e-15 in float64) for an equivariant model.

    Shapes:
        x, v ``(n, 3)``; h ``(n, F)``; edge_index ``(2, E)``; edge_attr ``(E, A)``.
    """
    output = _output_kind(model, output)
    n = x.shape[0]
    rot = random_orthogonal(reflection=reflection, generator=generator).to(dtype=x.dtype, device=x.device)
    shift = (torch.randn(1, 3, generator=generator, dtype=torch.float64).to(dtype=x.dtype, device=x.device)
             if translation else torch.zeros(1, 3, dtype=x.dtype, device=x.device))
    perm = torch.randperm(n, generator=generator).to(x.device) if permutation else torch.arange(n, device=x.device)
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(n, device=x.device)
    with torch.no_grad():
        out = model(x, v, h, edge_index, edge_attr)
        x2 = (x @ rot.T + shift)[perm]
        v2 = None if v is None else (v @ rot.T)[perm]
        out2 = model(x2, v2, h[perm], inv[edge_index], edge_attr)
        expected = out @ rot.T + (shift if output == "position" else 0.0)
    return float((out2 - expected[perm]).abs().max() / out.abs().max().clamp_min(torch.finfo(x.dtype).tiny))


def assert_particle_equivariant(model: ParticleModel, x: Tensor, v: Tensor | None, h: Tensor, edge_index: Tensor,
                                edge_attr: Tensor | None = None, *, output: str | None = None, tol: float | None = None,
                                trials: int = 3, seed: int = 0) -> float:
    """Check :func:`particle_equivariance_error` over ``trials`` random rotations (proper and improper),
    translations and permutations stays below ``tol`` (default 1e-5 in float32, 1e-10 in float64).
    Returns the largest error.

    Example:
        >>> from physwm.models import EGNN
        >>> from physwm.nn import fully_connected_graph
        >>> model = EGNN(node_dim=1, hidden=16, layers=2).double()
        >>> x, v = torch.randn(5, 3, dtype=torch.float64), torch.randn(5, 3, dtype=torch.float64)
        >>> err = assert_particle_equivariant(model, x, v, v.norm(dim=-1, keepdim=True), fully_connected_graph(5))
    """
    if tol is None:
        tol = 1e-10 if x.dtype == torch.float64 else 1e-5
    gen = torch.Generator().manual_seed(seed)
    worst = max(particle_equivariance_error(model, x, v, h, edge_index, edge_attr, output=output,
                                            reflection=bool(k % 2), generator=gen) for k in range(trials))
    if not worst <= tol:
        raise AssertionError(f"equivariance error {worst:.3e} > tol {tol:.1e} (rotations with reflections, "
                             f"translations, permutations; output={_output_kind(model, output)!r})")
    return worst
