r"""Training objectives: what :func:`physwm.training.fit` minimises, one class per kind of data.

An objective owns its data and how a step's batch is drawn from it; the engine owns the loop. Each
step's batch depends only on ``(seed, step)`` (a permutation per epoch, drawn from a generator seeded
by ``(seed, epoch)``; PINN collocation points from ``(seed, step // resample_every)``), so a resumed
run sees exactly the batches an uninterrupted one does and no generator state needs saving.

- :class:`DerivativeMatching`: :math:`\langle |f_\theta(t_k, y_k[, u_k]) - \dot y_k|^2 \rangle` over
  ``(t, y, dy/dt[, u])`` samples (the HNN paper's objective, Greydanus et al. 2019), with the
  time of every sample.
- :class:`RolloutMatching`: integrate the model over windows of ``horizon`` samples from their first
  state, at the windows' absolute times and under their actions, and match the states; validated on
  rollouts too.
- :class:`ParticlePrediction`: a one-shot particle model's positions at the target frame (the EGNN
  protocol, Satorras et al. 2021).
- :class:`PINNResidual`: residual, initial and boundary losses of a PDE problem on fresh collocation
  points, with fixed or adaptive weights (Wang, Teng & Perdikaris 2021).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from physwm._errors import ArgumentTypeError, ArgumentValueError, IntegrationError, SingularMassMatrixError
from physwm._validate import choice, describe, integer, nonnegative, positive, positive_int
from physwm.data.particles import ParticleData
from physwm.data.trajectories import Samples, TrajectoryData
from physwm.diagnostics import field_relative_l2
from physwm.integrate import get_method, solve
from physwm.pde import SAMPLERS, PDEProblem
from physwm.pde import autodiff as ad

__all__ = ["Objective", "DerivativeMatching", "RolloutMatching", "ParticlePrediction", "PINNResidual",
           "derivative_loss", "rollout_loss", "pinn_loss_terms", "PINN_TERMS"]

PINN_TERMS = ("residual", "initial", "boundary", "initial_velocity")


def _generator(seed: int, index: int) -> torch.Generator:
    """A generator that depends only on ``(seed, index)``: the batches of a resumed run equal an uninterrupted one's."""
    return torch.Generator().manual_seed(seed * 1_000_003 + index)


def _like(model: nn.Module) -> Tensor:
    """A parameter (or buffer) of ``model``, for its dtype and device."""
    for t in (*model.parameters(), *model.buffers()):
        if t.is_floating_point():
            return t
    return torch.empty(0)


class Objective:
    """Base class of the objectives :func:`~physwm.training.fit` minimises.

    Subclasses implement :meth:`terms` (the unweighted loss terms of one step) and :meth:`validate`;
    objectives with adaptive weights override :meth:`adapt` and keep their weights in
    :meth:`state_dict`, so a checkpoint carries them.
    """

    name = "objective"
    #: whether validation needs autograd (fields computed from gradients, e.g. Hamiltonian models)
    validate_with_grad = False

    def bind(self, model: nn.Module) -> None:
        """Prepare for training ``model`` (move the data to its dtype and device); called once by ``fit``."""

    def steps_per_epoch(self) -> int:
        """Steps that visit every training item once."""
        return 1

    def terms(self, model: nn.Module, step: int, seed: int) -> dict[str, Tensor]:  # pragma: no cover - abstract
        """The unweighted loss terms of training step ``step`` (0-based over the whole run)."""
        raise NotImplementedError

    def weights(self) -> dict[str, float]:
        """The current weight of each loss term (1 unless adaptive)."""
        return {}

    def adapt(self, model: nn.Module, step: int, terms: dict[str, Tensor], params: list[nn.Parameter]) -> None:
        """Update adaptive weights before the step's update (no-op for fixed weights)."""

    def validate(self, model: nn.Module, val_data: Any) -> dict[str, float]:  # pragma: no cover - abstract
        """Validation metrics; ``"loss"`` is the one best-validation selection uses."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state:
            raise ArgumentValueError(f"{type(self).__name__} keeps no state, but the checkpoint holds {sorted(state)}")


class _Epochs:
    """Mini-batches of ``n`` items, an independent permutation per epoch from ``(seed, epoch)``."""

    def __init__(self, n: int, batch_size: int | None):
        if n < 1:
            raise ArgumentValueError("the training data hold no items")
        self.n = n
        self.batch_size = n if batch_size is None else min(positive_int("batch_size", batch_size), n)
        self.per_epoch = math.ceil(n / self.batch_size)
        self._cache: tuple[tuple[int, int], Tensor] | None = None

    def batch(self, step: int, seed: int) -> Tensor:
        epoch, b = divmod(step, self.per_epoch)
        if self._cache is None or self._cache[0] != (seed, epoch):
            self._cache = ((seed, epoch), torch.randperm(self.n, generator=_generator(seed, epoch)))
        return self._cache[1][b * self.batch_size: (b + 1) * self.batch_size]


def derivative_loss(model: nn.Module, samples: Samples, norm: str = "l2") -> Tensor:
    """Mean squared (``norm="l2"``, the HNN paper's loss) or absolute (``"l1"``, the LNN paper's) error
    between ``model(t, y[, u])`` and the target derivatives.

    The model is called with each sample's own time ``t`` ``(N,)``, so forced (non-autonomous) dynamics
    are learned with correct labels.

    Shapes:
        samples: ``t (N,)``, ``y, dydt (N, d)``, ``u (N, m)`` -> scalar.
    """
    choice("norm", norm, ("l2", "l1"))
    pred = model(samples.t, samples.y) if samples.u is None else model(samples.t, samples.y, samples.u)
    err = pred - samples.dydt
    return err.abs().mean() if norm == "l1" else (err**2).mean()


class _TimeShifted(nn.Module):
    """``f(τ, y[, u]) = model(t0 + τ, y[, u])``: a window integrated in its own time keeps its absolute time.

    ``t0`` is one start time per batch entry ``(N,)``. Attributes the model has (``kinetic``,
    ``potential``, ...) are forwarded, so a separable model stays separable for the symplectic methods.
    """

    def __init__(self, model: nn.Module, t0: Tensor):
        super().__init__()
        self.model, self.t0 = model, t0

    def forward(self, tau: Tensor, y: Tensor, *u: Tensor) -> Tensor:
        return self.model(self.t0 + tau, y, *u)

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self.model, name)


def rollout_loss(model: nn.Module, t: Tensor, ys: Tensor, *, t0: Tensor | None = None, actions: Tensor | None = None,
                 method: str = "rk4", dt: float | None = None, y0: Tensor | None = None) -> Tensor:
    """Mean squared error of a rollout against the whole window ``ys``.

    The rollout starts from the observed ``ys[0]`` and is compared with ``ys[1:]``; or, given ``y0``, it
    starts from that estimate of the window's true initial state and is compared with every observation,
    ``ys[0]`` included (the observed start anchors the estimate: the loss of Chen et al. 2020, SRNN).

    Args:
        model: the dynamics.
        t: the window's times relative to its start, ``(H+1,)`` (``t[0] = 0``).
        ys: the observed states ``(H+1, N, d)``.
        t0: absolute start time of each window ``(N,)`` (default 0): the model sees ``t0 + t``.
        actions: actions held over each interval ``(H, N, m)``, or ``None``.
        method: integration method of the rollout.
        dt: step size (``None``: one step per sample interval).
        y0: the initial states to start from ``(N, d)`` (``None``: ``ys[0]``).

    Shapes:
        -> scalar.
    """
    f = model if t0 is None else _TimeShifted(model, t0)
    if y0 is None:
        pred = solve(f, ys[0], t, method=method, dt=dt, action=actions).ys
        return ((pred[1:] - ys[1:]) ** 2).mean()
    if not isinstance(y0, Tensor) or y0.shape != ys.shape[1:]:
        raise ArgumentValueError(f"`y0` must be a tensor of shape {tuple(ys.shape[1:])} (one start per window), got "
                                 f"{tuple(y0.shape) if isinstance(y0, Tensor) else describe(y0)}")
    pred = solve(f, y0, t, method=method, dt=dt, action=actions).ys
    return ((pred - ys) ** 2).mean()


def _trajectory_data(name: str, data: Any) -> TrajectoryData:
    if not isinstance(data, TrajectoryData):
        raise ArgumentTypeError(f"`{name}` must be a physwm.data.TrajectoryData, got {describe(data)}")
    return data


#: samples per chunk of a derivative-matching validation pass (at least the training batch)
_VALIDATION_CHUNK = 8192


class DerivativeMatching(Objective):
    """Match the model's vector field to the data's time derivatives at every sample's own time.

    Args:
        data: the training trajectories (:class:`~physwm.data.TrajectoryData`); with ``data.actions``
            the model is called as ``model(t, y, u)`` (controlled models such as a PHNN).
        batch_size: samples per step (``None``: full batch, the HNN paper's setting).
        norm: ``"l2"`` (mean squared error) or ``"l1"`` (mean absolute error, robust to the heavy tails of
            accelerations near singular configurations; the LNN paper's loss).

    Raises:
        TypeError: ``data`` of the wrong type.
        ValueError: unknown ``norm``.

    Example:
        >>> from physwm.systems import Pendulum
        >>> from physwm.data import make_trajectories
        >>> data = make_trajectories(Pendulum(), 4, torch.linspace(0, 1, 11, dtype=torch.float64))
        >>> DerivativeMatching(data, batch_size=16).steps_per_epoch()
        3
    """

    name = "derivative"
    validate_with_grad = True

    def __init__(self, data: TrajectoryData, *, batch_size: int | None = None, norm: str = "l2"):
        self.data = _trajectory_data("data", data)
        self.norm = choice("norm", norm, ("l2", "l1"))
        self.samples = data.samples()
        self.epochs = _Epochs(len(self.samples), batch_size)

    def bind(self, model: nn.Module) -> None:
        p = _like(model)
        s = self.samples
        move = (lambda a: a) if p.numel() == 0 else (lambda a: a.to(dtype=p.dtype, device=p.device))
        self.samples = Samples(move(s.t), move(s.y), move(s.dydt), None if s.u is None else move(s.u))

    def steps_per_epoch(self) -> int:
        return self.epochs.per_epoch

    def terms(self, model, step, seed):
        idx = self.epochs.batch(step, seed).to(self.samples.y.device)
        return {"derivative": derivative_loss(model, self.samples.take(idx), self.norm)}

    def validate(self, model, val_data):
        data = self.data if val_data is None else _trajectory_data("val_data", val_data)
        s = data.samples() if val_data is not None else self.samples
        p = self.samples.y
        s = Samples(*(None if a is None else a.to(dtype=p.dtype, device=p.device) for a in (s.t, s.y, s.dydt, s.u)))
        # In chunks, so that memory stays that of a training batch however many samples there are (a model
        # whose field needs autograd keeps a graph per sample); the chunk means weighted by size are the mean.
        n, chunk = len(s), max(self.epochs.batch_size, _VALIDATION_CHUNK)
        total = sum(float(derivative_loss(model, s.take(slice(i, i + chunk)), self.norm).detach()) * min(chunk, n - i)
                    for i in range(0, n, chunk))
        return {"loss": total / n}


class RolloutMatching(Objective):
    r"""Integrate the model over windows of ``horizon`` samples from their first state and match the states.

    Windows start at every sample index whose next ``horizon`` intervals are gap-free on the data's
    nominal spacing (:meth:`~physwm.data.TrajectoryData.window_starts`), and keep their absolute start
    time (the model sees ``t_start + τ``) and, with ``data.actions``, the actions held over each interval
    (zero-order hold, as :func:`physwm.solve` applies them). A step takes ``batch_size`` start indices,
    each with all trajectories; validation rolls out every window of the validation data. Rolled out with
    a symplectic method (``leapfrog`` for a separable model, ``implicit_midpoint`` for any Hamiltonian)
    this is the multi-step training of symplectic recurrent networks (Chen, Zhang, Arjovsky & Bottou,
    ICLR 2020).

    **Fitted initial states** (``fit_initial_states=True``, SRNN's "initial state optimisation"): with
    noisy observations the first state of a window is a noisy start, and a rollout from it carries the
    noise forward. Each window then keeps an estimate :math:`\hat y_s` of its true initial state,
    initialised at the observation, and the loss compares the rollout from :math:`\hat y_s` with every
    observation of the window, the first included:

    .. math:: \mathcal L = \big\langle |\Phi_{t_{s+h} - t_s}(\hat y_s) - y_{s+h}|^2 \big\rangle_{h=0..H}.

    Before each step the estimates of that step's windows are refined with the network held fixed, by
    ``refine_iters`` iterations of L-BFGS (strong-Wolfe line search) warm-started from their previous values,
    and the network then takes its step from the refined starts: SRNN's alternating scheme, done per batch
    rather than once per epoch over all windows. A refinement whose line search leaves the model's domain
    (an :class:`~physwm.IntegrationError`) keeps the previous estimates. With ``fit(..., keep_best=True)``
    the model returns to its best weights but the estimates stay at the last step's. The estimates are part of the objective's state, so
    checkpoints carry them. Validation on the training data (``val_data=None``) starts from the estimates;
    on other data, from the observed starts.

    Args:
        data: the training trajectories.
        horizon: samples per window after the first (``H``).
        method: integration method of the rollouts (any registry name).
        dt: step size of the rollouts (``None``: one step per sample interval).
        batch_size: window start indices per step (``None``: all).
        rtol: relative tolerance on the nominal spacing within a window. The default accepts the
            jitter of time stamps recorded in single precision (about ``1e-4`` of the spacing after
            some seconds at 100 Hz) and refuses a missing frame (a spacing twice the nominal).
        fit_initial_states: keep and fit an estimate of every window's initial state (see above).
        refine_iters: L-BFGS iterations on a batch's estimates before each step (with
            ``fit_initial_states``).

    Shapes:
        ``data.ys`` ``(T, B, d)``; the fitted estimates :attr:`initial_states` ``(S, B, d)`` for ``S`` windows
        per trajectory.

    Raises:
        ValueError: no gap-free window of ``horizon + 1`` samples; ``rtol`` outside ``[0, 0.5)``; a
            non-positive ``refine_iters``; a checkpointed state of another shape.
        TypeError: ``data`` not :class:`~physwm.data.TrajectoryData`; ``fit_initial_states`` not a bool.

    Example:
        >>> from physwm.systems import HarmonicOscillator
        >>> from physwm.data import make_trajectories
        >>> data = make_trajectories(HarmonicOscillator(), 4, torch.linspace(0, 2, 21, dtype=torch.float64),
        ...                          noise_std=0.05, generator=torch.Generator().manual_seed(0))
        >>> objective = RolloutMatching(data, horizon=5, method="leapfrog", fit_initial_states=True)
        >>> objective.initial_states.shape
        torch.Size([16, 4, 2])
    """

    name = "rollout"
    validate_with_grad = True

    def __init__(self, data: TrajectoryData, *, horizon: int = 10, method: str = "rk4", dt: float | None = None,
                 batch_size: int | None = None, rtol: float = 1e-3, fit_initial_states: bool = False,
                 refine_iters: int = 5):
        self.data = _trajectory_data("data", data)
        get_method(method)  # an unknown name is refused here, not at the first step
        self.horizon, self.method = positive_int("horizon", horizon), method
        self.dt = None if dt is None else positive("dt", dt)
        self.rtol = nonnegative("rtol", rtol)
        if self.rtol >= 0.5:
            raise ArgumentValueError(f"`rtol` must be below 0.5 (a missing frame doubles the spacing), got {rtol!r}")
        if not isinstance(fit_initial_states, bool):
            raise ArgumentTypeError(f"`fit_initial_states` must be a bool, got {describe(fit_initial_states)}")
        self.refine_iters = positive_int("refine_iters", refine_iters)
        self.starts = self._starts(self.data)
        self.epochs = _Epochs(len(self.starts), batch_size)
        #: the fitted initial state of every window ``(S, B, d)``, or ``None`` without ``fit_initial_states``
        self.initial_states: Tensor | None = self.data.ys[self.starts].clone() if fit_initial_states else None

    def _starts(self, data: TrajectoryData) -> Tensor:
        starts = data.window_starts(self.horizon, rtol=self.rtol)
        if len(starts) == 0:
            raise ArgumentValueError(f"no gap-free window of {self.horizon + 1} samples in the data ({len(data)} samples)")
        return starts

    def bind(self, model: nn.Module) -> None:
        p = _like(model)
        if p.numel():
            self.data = self.data.to(dtype=p.dtype, device=p.device)
            self.starts = self.starts.to(p.device)
            if self.initial_states is not None:
                self.initial_states = self.initial_states.to(dtype=p.dtype, device=p.device)

    def steps_per_epoch(self) -> int:
        return self.epochs.per_epoch

    def _windows(self, data: TrajectoryData, starts: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor | None]:
        """Times ``(H+1,)`` relative to the start, observations ``(H+1, S*B, d)``, start times ``(S*B,)``, actions."""
        h, b = self.horizon, data.n_trajectories
        index = starts.unsqueeze(0) + torch.arange(h + 1, device=starts.device).unsqueeze(1)  # (H+1, S)
        ys = data.ys[index].flatten(1, 2)
        t0 = data.t[starts].repeat_interleave(b)
        tau = data.t[int(starts[0]): int(starts[0]) + h + 1] - data.t[int(starts[0])]
        acts = None if data.actions is None else data.actions[index[:-1]].flatten(1, 2)
        return tau, ys, t0, acts

    def _loss(self, model: nn.Module, data: TrajectoryData, starts: Tensor, y0: Tensor | None = None) -> Tensor:
        tau, ys, t0, acts = self._windows(data, starts)
        return rollout_loss(model, tau, ys, t0=t0, actions=acts, method=self.method, dt=self.dt, y0=y0)

    def _refine(self, model: nn.Module, batch: Tensor) -> Tensor:
        """L-BFGS on the estimates of the windows ``batch`` with the network fixed; stores and returns them."""
        tau, ys, t0, acts = self._windows(self.data, self.starts[batch])
        start = self.initial_states[batch]
        z = start.flatten(0, 1).detach().clone().requires_grad_(True)
        # every iteration may need several evaluations in its line search (torch's default budget, 1.25 per
        # iteration, would stop after the first); the objective is the *sum* of the windows' own mean errors, so
        # each window's start sees the gradient of its own loss, whatever the batch size
        opt = torch.optim.LBFGS([z], lr=1.0, max_iter=self.refine_iters, max_eval=4 * self.refine_iters,
                                line_search_fn="strong_wolfe")

        def closure() -> Tensor:
            with torch.enable_grad():
                loss = rollout_loss(model, tau, ys, t0=t0, actions=acts, method=self.method, dt=self.dt, y0=z) * ys.shape[1]
                (z.grad,) = torch.autograd.grad(loss, z)
            return loss.detach()

        try:
            opt.step(closure)
        except (IntegrationError, SingularMassMatrixError):  # a line-search trial left the model's domain: keep the old
            return start.flatten(0, 1)
        refined = z.detach().view_as(start)
        if bool(torch.isfinite(refined).all()):
            self.initial_states[batch] = refined
        return self.initial_states[batch].flatten(0, 1)

    def terms(self, model, step, seed):
        batch = self.epochs.batch(step, seed).to(self.starts.device)
        y0 = None if self.initial_states is None else self._refine(model, batch)
        return {"rollout": self._loss(model, self.data, self.starts[batch], y0)}

    def validate(self, model, val_data):
        if val_data is None:
            y0 = None if self.initial_states is None else self.initial_states.flatten(0, 1)
            return {"loss": float(self._loss(model, self.data, self.starts, y0).detach())}
        p = self.data.ys
        data = _trajectory_data("val_data", val_data).to(dtype=p.dtype, device=p.device)
        return {"loss": float(self._loss(model, data, self._starts(data).to(p.device)).detach())}

    def state_dict(self) -> dict[str, Any]:
        return {} if self.initial_states is None else {"initial_states": self.initial_states.detach().clone()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if self.initial_states is None:
            return super().load_state_dict(state)
        ok = isinstance(state, dict) and set(state) == {"initial_states"}
        value = state.get("initial_states") if ok else None
        if not (isinstance(value, Tensor) and value.shape == self.initial_states.shape and bool(torch.isfinite(value).all())):
            raise ArgumentValueError(f"a RolloutMatching checkpoint with fitted initial states holds {{'initial_states': "
                                     f"a finite tensor of shape {tuple(self.initial_states.shape)}}}, got {describe(state)}")
        self.initial_states = value.to(self.initial_states).clone()


class ParticlePrediction(Objective):
    """Predict each system's target positions in one shot, mean squared error over particles and coordinates.

    The EGNN protocol (Satorras, Hoogeboom & Welling 2021, §5.1): batches of 100 systems; the model is a
    :class:`~physwm._typing.ParticleModel` called on the batch as one disconnected graph
    (:meth:`physwm.data.ParticleData.graph`). With ``fit(..., keep_best=True)`` the model ends with the
    weights of its best validation step, the paper's model selection.

    Args:
        data: the training systems (:class:`~physwm.data.ParticleData`).
        batch_size: systems per step.
        graph: ``"full"`` (every ordered pair) or an int ``k`` (k nearest neighbours).
    """

    name = "particles"

    def __init__(self, data: ParticleData, *, batch_size: int = 100, graph: str | int = "full"):
        if not isinstance(data, ParticleData):
            raise ArgumentTypeError(f"`data` must be a physwm.data.ParticleData, got {describe(data)}")
        if graph != "full":
            integer("graph", graph, minimum=1)
        self.data, self.graph = data, graph
        self.epochs = _Epochs(len(data), batch_size)

    def bind(self, model: nn.Module) -> None:
        p = _like(model)
        if p.numel():
            self.data = self.data.to(device=p.device, dtype=p.dtype)

    def steps_per_epoch(self) -> int:
        return self.epochs.per_epoch

    def terms(self, model, step, seed):
        g = self.data.graph(self.epochs.batch(step, seed).to(self.data.x.device), graph=self.graph)
        return {"mse": ((model(*g.inputs()) - g.target) ** 2).mean()}

    def validate(self, model, val_data):
        if val_data is not None and not isinstance(val_data, ParticleData):
            raise ArgumentTypeError(f"`val_data` must be a physwm.data.ParticleData, got {describe(val_data)}")
        data = self.data if val_data is None else val_data.to(device=self.data.x.device, dtype=self.data.x.dtype)
        pred = data.predict(model, batch_size=self.epochs.batch_size, graph=self.graph)
        return {"loss": float(((pred - data.target) ** 2).mean())}


def pinn_loss_terms(model: nn.Module, problem: PDEProblem, points_per_axis: int, *, sampler: str = "sobol",
                    generator: torch.Generator | None = None) -> dict[str, Tensor]:
    r"""Unweighted mean-square residual, initial and boundary losses on fresh collocation points.

    Both models see :math:`N^n` residual points (``N = points_per_axis``, ``n`` = space axes + time):
    a :class:`~physwm.models.PINN` at scattered points from ``sampler``, a
    :class:`~physwm.models.SeparablePINN` on the grid of ``N`` sampled coordinates per axis. The
    initial terms (value, and velocity :math:`\partial_t u` where the problem gives ``initial_velocity``)
    use :math:`N^d` points at ``t0``; the boundary term :math:`N^{n-1}` points per face pair.

    Returns:
        ``{"residual": ..., "initial": ..., "boundary": ..., "initial_velocity": ...}`` (only the terms the
        problem has).
    """
    p = _like(model)
    kw = {"generator": generator, "dtype": p.dtype, "device": p.device}
    st, d, n = problem.spacetime, problem.domain.dim, problem.spacetime.dim
    out: dict[str, Tensor] = {}
    separable = getattr(model, "separable", False)
    if separable:
        u, x, t = model.collocation(st.sample_axes(points_per_axis, sampler=sampler, **kw))
    else:
        x, t = problem.split(st.sample(points_per_axis**n, sampler=sampler, **kw))
        u, x, t = model.collocation(x, t)
    out["residual"] = sum((r**2).mean() for r in problem.residual_terms(u, x, t))
    if problem.initial is not None or problem.initial_velocity is not None:
        t0 = problem.time[0]
        if separable:
            axes = [*problem.domain.sample_axes(points_per_axis, sampler=sampler, **kw),
                    torch.full((1,), t0, dtype=p.dtype, device=p.device)]
            x0, _ = model.mesh(axes)
            if problem.initial_velocity is not None:
                u0, _, tt = model.collocation(axes)
            else:
                u0 = model(axes)
        else:
            x0 = problem.domain.sample(points_per_axis**d, sampler=sampler, **kw)
            tt = torch.full(x0.shape[:-1], t0, dtype=p.dtype, device=p.device)
            if problem.initial_velocity is not None:
                u0, x0, tt = model.collocation(x0, tt)
            else:
                u0 = model(x0, tt)
        if problem.initial is not None:
            ref = problem.initial(x0)
            out["initial"] = ((problem.leading(u0, ref) - ref) ** 2).mean()
        if problem.initial_velocity is not None:
            ref = problem.initial_velocity(x0)
            out["initial_velocity"] = ((problem.leading(ad.partial(u0, tt), ref) - ref) ** 2).mean()
    if problem.boundary is not None:
        if separable:
            total, count = 0.0, 0
            sampled = st.sample_axes(points_per_axis, sampler=sampler, **kw)
            for a in range(d):
                for side in (problem.domain.lower[a], problem.domain.upper[a]):
                    axes = list(sampled)
                    axes[a] = torch.full((1,), side, dtype=p.dtype, device=p.device)
                    xb, tb = model.mesh(axes)
                    ref = problem.boundary(xb, tb)
                    total = total + ((problem.leading(model(axes), ref) - ref) ** 2).mean()
                    count += 1
            out["boundary"] = total / count
        else:
            zb = st.sample_boundary(2 * d * points_per_axis ** (n - 1), axes=range(d),
                                    sampler="uniform" if sampler == "grid" else sampler, **kw)
            xb, tb = problem.split(zb)
            ref = problem.boundary(xb, tb)
            out["boundary"] = ((problem.leading(model(xb, tb), ref) - ref) ** 2).mean()
    return out


def _grad_stats(loss: Tensor, params: list[nn.Parameter]) -> tuple[float, float]:
    grads = torch.autograd.grad(loss, params, retain_graph=True, allow_unused=True)
    flat = torch.cat([g.abs().flatten() for g in grads if g is not None])
    return float(flat.max()), float(flat.mean())


class PINNResidual(Objective):
    r"""The physics-informed loss :math:`\sum_i \lambda_i \mathcal L_i` of a :class:`~physwm.pde.PDEProblem`.

    The terms are the residual, initial and boundary mean squares (:func:`pinn_loss_terms`) on
    collocation points drawn afresh every ``resample_every`` steps. With ``weighting="adaptive"`` the
    weights follow the learning-rate annealing of Wang, Teng & Perdikaris (*SIAM J. Sci. Comput.* 43,
    2021), every ``adapt_every`` steps:

    .. math:: \hat\lambda_i = \frac{\max_\theta |\nabla_\theta \mathcal L_r|}{\overline{|\nabla_\theta
              \mathcal L_i|}}, \qquad \lambda_i \leftarrow \beta\lambda_i + (1 - \beta)\hat\lambda_i

    (the residual weight stays fixed), which balances the gradients the terms send to the network.
    Validation is the relative :math:`L^2` error against ``problem.exact`` on an ``eval_points^n``
    grid (:func:`physwm.diagnostics.field_relative_l2`), or the loss itself without an exact solution.

    Args:
        problem: the :class:`~physwm.pde.PDEProblem`.
        points_per_axis: ``N``; both PINN and SPINN see ``N^n`` residual points per step.
        sampler: collocation sampler, ``"sobol"``, ``"uniform"`` or ``"grid"``.
        resample_every: draw fresh collocation points every this many steps.
        weights: initial weights ``{"residual": 1, "initial": 1, "boundary": 1, "initial_velocity": 1}`` (any
            subset, each >= 0).
        weighting: ``"fixed"`` or ``"adaptive"``.
        adapt_every: steps between adaptive weight updates.
        adapt_momentum: :math:`\beta` of the moving average, in ``[0, 1)``.
        eval_points: ``N`` of the validation grid.

    Raises:
        ValueError: bad counts, an unknown sampler, weighting or term name, or a negative weight.
        TypeError: ``problem`` is not a :class:`~physwm.pde.PDEProblem`.
    """

    name = "pinn"
    validate_with_grad = True

    def __init__(self, problem: PDEProblem, *, points_per_axis: int = 32, sampler: str = "sobol", resample_every: int = 1,
                 weights: dict[str, float] | None = None, weighting: str = "fixed", adapt_every: int = 10,
                 adapt_momentum: float = 0.9, eval_points: int = 32):
        if not isinstance(problem, PDEProblem):
            raise ArgumentTypeError(f"`problem` must be a physwm.pde.PDEProblem, got {describe(problem)}")
        self.problem = problem
        self.points_per_axis = positive_int("points_per_axis", points_per_axis)
        self.sampler = choice("sampler", sampler, SAMPLERS)
        self.resample_every, self.adapt_every = positive_int("resample_every", resample_every), positive_int("adapt_every", adapt_every)
        self.weighting = choice("weighting", weighting, ("fixed", "adaptive"))
        self.adapt_momentum = nonnegative("adapt_momentum", adapt_momentum)
        if not self.adapt_momentum < 1:
            raise ArgumentValueError(f"`adapt_momentum` must be in [0, 1), got {adapt_momentum!r}")
        self.eval_points = positive_int("eval_points", eval_points)
        unknown = set(weights or {}) - set(PINN_TERMS)
        if unknown:
            raise ArgumentValueError(f"`weights` keys must be among {PINN_TERMS}, got {sorted(unknown)}")
        self.lam = {k: 1.0 for k in PINN_TERMS}
        self.lam.update({k: nonnegative(f"weights[{k!r}]", v) for k, v in (weights or {}).items()})

    def terms(self, model, step, seed):
        gen = _generator(seed, step // self.resample_every)
        return pinn_loss_terms(model, self.problem, self.points_per_axis, sampler=self.sampler, generator=gen)

    def weights(self) -> dict[str, float]:
        return dict(self.lam)

    def adapt(self, model, step, terms, params):
        if self.weighting != "adaptive" or step % self.adapt_every or len(terms) < 2:
            return
        r_max, _ = _grad_stats(terms["residual"], params)
        for k, v in terms.items():
            if k != "residual":
                _, g_mean = _grad_stats(v, params)
                if g_mean > 0:
                    self.lam[k] = self.adapt_momentum * self.lam[k] + (1 - self.adapt_momentum) * r_max / g_mean

    def validate(self, model, val_data):
        if val_data is not None:
            raise ArgumentValueError("PINNResidual validates against problem.exact; pass val_data=None")
        if self.problem.exact is not None:
            rel = field_relative_l2(model, self.problem, self.eval_points)
            return {"loss": rel, "rel_l2": rel}
        terms = pinn_loss_terms(model, self.problem, self.eval_points, sampler="grid")
        return {"loss": float(sum(self.lam[k] * v for k, v in terms.items()).detach())}

    def state_dict(self) -> dict[str, Any]:
        return {"weights": dict(self.lam)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        # checkpoints written before the initial-velocity term hold the first three weights only
        ok = (isinstance(state, dict) and set(state) == {"weights"} and isinstance(state["weights"], dict)
              and set(PINN_TERMS[:3]) <= set(state["weights"]) <= set(PINN_TERMS))
        if ok:
            try:
                lam = {k: float(v) for k, v in state["weights"].items()}
            except (TypeError, ValueError):
                ok = False
        if not ok or not all(math.isfinite(v) and v >= 0 for v in lam.values()):
            raise ArgumentValueError(f"a PINNResidual checkpoint holds {{'weights': {{{', '.join(PINN_TERMS)}}}}} (finite, "
                                     f">= 0), got {describe(state)}")
        self.lam = {k: 1.0 for k in PINN_TERMS} | lam
