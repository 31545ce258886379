r"""Training physics-informed networks (PINN and SPINN) on a :class:`~physwm.pde.PDEProblem`."""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from physwm.pde import PDEProblem
from physwm.training.checkpoint import resume_training_state, save_training_state

__all__ = ["fit_pinn", "PINNFitResult", "pinn_loss_terms", "relative_l2"]

TERMS = ("residual", "initial", "boundary")


@dataclass
class PINNFitResult:
    """History of :func:`fit_pinn`.

    Attributes:
        iterations: iterations done (counting a resumed checkpoint's).
        loss: weighted total loss per iteration.
        terms: unweighted mean-square loss of each term (``residual``, ``initial``, ``boundary``) per iteration.
        weights: the loss weights per iteration (changing only with ``weighting="adaptive"``).
        rel_l2: ``(iteration, relative L2 error)`` pairs when the problem has an ``exact`` solution.
        seconds: wall time of the training iterations of this call (evaluations excluded).
        iterations_run: iterations done by this call (fewer than ``iterations`` after a resume).
    """

    iterations: int = 0
    loss: list[float] = field(default_factory=list)
    terms: dict[str, list[float]] = field(default_factory=dict)
    weights: dict[str, list[float]] = field(default_factory=dict)
    rel_l2: list[tuple[int, float]] = field(default_factory=list)
    seconds: float = 0.0
    iterations_run: int = 0

    @property
    def seconds_per_iteration(self) -> float | None:
        """Wall time per iteration of this call (``None`` if it ran none)."""
        return self.seconds / self.iterations_run if self.iterations_run else None


def _mse(r: Tensor) -> Tensor:
    return (r**2).mean()


def _leading(u: Tensor, ref: Tensor) -> Tensor:
    """``u`` restricted to the components ``ref`` gives (data may omit trailing ones, such as pressure)."""
    if u.shape == ref.shape:
        return u
    if u.dim() == ref.dim() and u.shape[:-1] == ref.shape[:-1] and ref.shape[-1] <= u.shape[-1]:
        return u[..., : ref.shape[-1]]
    raise ValueError(f"data of shape {tuple(ref.shape)} does not match the model output {tuple(u.shape)} "
                     "(it may give the leading components only)")


def _like(model: nn.Module) -> Tensor:
    return next(model.parameters())


def pinn_loss_terms(model: nn.Module, problem: PDEProblem, points_per_axis: int, *, method: str = "sobol",
                    generator: torch.Generator | None = None) -> dict[str, Tensor]:
    r"""Unweighted mean-square residual, initial and boundary losses on fresh collocation points.

    Both models see :math:`N^n` residual points (``N = points_per_axis``, ``n`` = space axes + time):
    a :class:`~physwm.models.PINN` at scattered points from ``method``, a
    :class:`~physwm.models.SeparablePINN` on the grid of ``N`` sampled coordinates per axis. The
    initial term uses :math:`N^d` points at ``t0``; the boundary term :math:`N^{n-1}` points per face pair.

    Returns:
        ``{"residual": ..., "initial": ..., "boundary": ...}`` (only the terms the problem has).
    """
    p = _like(model)
    kw = {"generator": generator, "dtype": p.dtype, "device": p.device}
    st, d, n = problem.spacetime, problem.domain.dim, problem.spacetime.dim
    out: dict[str, Tensor] = {}
    separable = getattr(model, "separable", False)
    if separable:
        axes = st.sample_axes(points_per_axis, method=method, **kw)
        u, x, t = model.collocation(axes)
    else:
        z = st.sample(points_per_axis**n, method=method, **kw)
        x, t = problem.split(z)
        u, x, t = model.collocation(x, t)
    out["residual"] = sum(_mse(r) for r in problem.residual_terms(u, x, t))
    if problem.initial is not None:
        if separable:
            xs = problem.domain.sample_axes(points_per_axis, method=method, **kw)
            t0 = torch.full((1,), problem.time[0], dtype=p.dtype, device=p.device)
            x0, tt = model.mesh([*xs, t0])
            u0 = model([*xs, t0])
        else:
            x0 = problem.domain.sample(points_per_axis**d, method=method, **kw)
            tt = torch.full(x0.shape[:-1], problem.time[0], dtype=p.dtype, device=p.device)
            u0 = model(x0, tt)
        ref = problem.initial(x0)
        out["initial"] = _mse(_leading(u0, ref) - ref)
    if problem.boundary is not None:
        if separable:
            total, count = 0.0, 0
            sampled = st.sample_axes(points_per_axis, method=method, **kw)
            for a in range(d):
                for side in (problem.domain.lower[a], problem.domain.upper[a]):
                    axes = list(sampled)
                    axes[a] = torch.full((1,), side, dtype=p.dtype, device=p.device)
                    xb, tb = model.mesh(axes)
                    ref = problem.boundary(xb, tb)
                    total = total + _mse(_leading(model(axes), ref) - ref)
                    count += 1
            out["boundary"] = total / count
        else:
            zb = st.sample_boundary(2 * d * points_per_axis ** (n - 1), axes=range(d),
                                    method="uniform" if method == "grid" else method, **kw)
            xb, tb = problem.split(zb)
            ref = problem.boundary(xb, tb)
            out["boundary"] = _mse(_leading(model(xb, tb), ref) - ref)
    return out


@torch.no_grad()
def relative_l2(model: nn.Module, problem: PDEProblem, points_per_axis: int = 32, *, chunk: int = 65536) -> float:
    r"""Relative :math:`L^2` error :math:`\|u_\theta - u\|_2 / \|u\|_2` on the ``N^n`` evaluation grid (endpoints included).

    Raises:
        ValueError: the problem has no ``exact`` solution.
    """
    if problem.exact is None:
        raise ValueError("relative_l2 needs a problem with an `exact` solution")
    p = _like(model)
    axes = problem.spacetime.grid(points_per_axis, dtype=p.dtype, device=p.device)
    z = torch.cartesian_prod(*axes).reshape(-1, len(axes))
    num = den = 0.0
    for start in range(0, z.shape[0], chunk):
        x, t = problem.split(z[start: start + chunk])
        ref = problem.exact(x, t)
        num += float(((_leading(model.predict(x, t), ref) - ref) ** 2).sum())
        den += float((ref**2).sum())
    return math.sqrt(num / den)


def _grad_stats(loss: Tensor, params: list[nn.Parameter]) -> tuple[float, float]:
    grads = torch.autograd.grad(loss, params, retain_graph=True, allow_unused=True)
    flat = torch.cat([g.abs().flatten() for g in grads if g is not None])
    return float(flat.max()), float(flat.mean())


def fit_pinn(model: nn.Module, problem: PDEProblem, *, iterations: int = 1000, lr: float = 1e-3,
             points_per_axis: int = 32, method: str = "sobol", resample_every: int = 1,
             weights: dict[str, float] | None = None, weighting: str = "fixed", adapt_every: int = 10,
             adapt_momentum: float = 0.9, eval_every: int = 0, eval_points: int = 32, seed: int = 0,
             checkpoint: str | os.PathLike | None = None, resume: bool = True, progress: bool = True) -> PINNFitResult:
    r"""Train a PINN or SPINN on a PDE problem with Adam.

    The loss is :math:`\sum_i \lambda_i \mathcal L_i` over the residual, initial and boundary terms
    (:func:`pinn_loss_terms`). With ``weighting="adaptive"`` the weights follow the learning-rate
    annealing of Wang, Teng & Perdikaris (*SIAM J. Sci. Comput.* 43, 2021), every ``adapt_every``
    iterations:

    .. math:: \hat\lambda_i = \frac{\max_\theta |\nabla_\theta \mathcal L_r|}{\overline{|\nabla_\theta
              \mathcal L_i|}}, \qquad \lambda_i \leftarrow \beta\lambda_i + (1 - \beta)\hat\lambda_i

    (the residual weight stays fixed), which balances the gradients the terms send to the network.

    Args:
        model: :class:`~physwm.models.PINN` or :class:`~physwm.models.SeparablePINN`.
        problem: the :class:`~physwm.pde.PDEProblem`.
        iterations: total Adam iterations (counting a resumed checkpoint's).
        lr: Adam learning rate.
        points_per_axis: ``N``; both models see ``N^n`` residual points per iteration.
        method: collocation sampler, ``"sobol"``, ``"uniform"`` or ``"grid"``.
        resample_every: draw fresh collocation points every this many iterations.
        weights: initial weights ``{"residual": 1, "initial": 1, "boundary": 1}`` (any subset).
        weighting: ``"fixed"`` or ``"adaptive"``.
        adapt_every: iterations between adaptive weight updates.
        adapt_momentum: :math:`\beta` of the moving average.
        eval_every: record :func:`relative_l2` every this many iterations and at the end (0: only at the
            end; needs ``problem.exact``).
        eval_points: ``N`` of the evaluation grid.
        seed: seeds the collocation points (fresh ones every ``resample_every`` iterations).
        checkpoint: file for atomic, resumable checkpoints (every ``max(1, iterations // 20)`` iterations and at the end).
        resume: load ``checkpoint`` if it exists (``weights_only=True``) and continue from it.
        progress: show a tqdm bar.

    Returns:
        :class:`PINNFitResult`.

    Raises:
        ValueError: non-positive counts or ``lr``, an unknown ``weighting`` or term name, or a
            ``grid`` sampler with a count that is not a perfect power.

    Example:
        >>> from physwm.models import PINN
        >>> result = fit_pinn(PINN(problem.domain, problem.time), problem, iterations=100)  # doctest: +SKIP
    """
    for name, v in (("iterations", iterations), ("points_per_axis", points_per_axis), ("resample_every", resample_every),
                    ("adapt_every", adapt_every), ("eval_points", eval_points)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"`{name}` must be a positive int, got {v!r}")
    if isinstance(eval_every, bool) or not isinstance(eval_every, int) or eval_every < 0:
        raise ValueError(f"`eval_every` must be a non-negative int, got {eval_every!r}")
    if not lr > 0:
        raise ValueError(f"`lr` must be positive, got {lr!r}")
    if weighting not in ("fixed", "adaptive"):
        raise ValueError(f"`weighting` must be 'fixed' or 'adaptive', got {weighting!r}")
    if not 0 <= adapt_momentum < 1:
        raise ValueError(f"`adapt_momentum` must be in [0, 1), got {adapt_momentum!r}")
    if not isinstance(problem, PDEProblem):
        raise TypeError(f"`problem` must be a physwm.pde.PDEProblem, got {type(problem).__name__}")
    lam = {k: 1.0 for k in TERMS}
    unknown = set(weights or {}) - set(TERMS)
    if unknown:
        raise ValueError(f"`weights` keys must be among {TERMS}, got {sorted(unknown)}")
    lam.update({k: float(v) for k, v in (weights or {}).items()})

    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=lr)
    gen = torch.Generator().manual_seed(seed)  # unused by the sampler; kept for the shared checkpoint format
    result = PINNFitResult()
    state = resume_training_state(checkpoint, model, opt, gen, resume)
    if state is not None:
        result = PINNFitResult(int(state["iteration"]), list(state["loss"]), {k: list(v) for k, v in state["terms"].items()},
                               {k: list(v) for k, v in state["weights"].items()}, [tuple(e) for e in state["rel_l2"]])
        lam.update({k: v[-1] for k, v in result.weights.items()})
    save_every = max(1, iterations // 20)

    def save() -> None:
        if checkpoint is not None:
            save_training_state(checkpoint, model, opt, gen, iteration=result.iterations, loss=result.loss,
                                terms=result.terms, weights=result.weights, rel_l2=[list(e) for e in result.rel_l2])

    bar = tqdm(total=iterations, initial=result.iterations, disable=not progress, desc="fit_pinn", leave=False)
    start, excluded = time.perf_counter(), 0.0
    while result.iterations < iterations:
        it = result.iterations
        # the points of iteration `it` depend only on (seed, it // resample_every): a resumed run sees the same ones
        window = torch.Generator().manual_seed(seed * 1_000_003 + it // resample_every)
        terms = pinn_loss_terms(model, problem, points_per_axis, method=method, generator=window)
        if weighting == "adaptive" and it % adapt_every == 0 and len(terms) > 1:
            r_max, _ = _grad_stats(terms["residual"], params)
            for k, v in terms.items():
                if k != "residual":
                    _, g_mean = _grad_stats(v, params)
                    if g_mean > 0:
                        lam[k] = adapt_momentum * lam[k] + (1 - adapt_momentum) * r_max / g_mean
        loss = sum(lam[k] * v for k, v in terms.items())
        if not bool(torch.isfinite(loss)):
            raise FloatingPointError(f"the PINN loss became non-finite at iteration {it} "
                                     f"(terms: { {k: float(v) for k, v in terms.items()} }); lower `lr`")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        result.iterations += 1
        result.iterations_run += 1
        result.loss.append(float(loss.detach()))
        for k, v in terms.items():
            result.terms.setdefault(k, []).append(float(v.detach()))
            result.weights.setdefault(k, []).append(lam[k])
        done = result.iterations == iterations
        if problem.exact is not None and ((eval_every and result.iterations % eval_every == 0) or done):
            tic = time.perf_counter()
            result.rel_l2.append((result.iterations, relative_l2(model, problem, eval_points)))
            excluded += time.perf_counter() - tic
        bar.set_postfix(loss=f"{result.loss[-1]:.3e}")
        bar.update(1)
        if result.iterations % save_every == 0 or done:
            tic = time.perf_counter()
            save()
            excluded += time.perf_counter() - tic
    bar.close()
    result.seconds = time.perf_counter() - start - excluded
    return result
