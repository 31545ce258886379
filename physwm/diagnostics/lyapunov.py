"""Lyapunov exponents, Lyapunov time and the valid prediction time of a model.

For chaotic systems no model predicts forever: two states ``δ₀`` apart separate like
``δ₀ e^{λ_max t}``, so an error tolerance ``Δ`` is reached after ``t* = κ / λ_max`` with
``κ = ln(Δ/δ₀)`` (the information-theoretic predictability limit). These functions measure
``λ_max`` (and the full spectrum) of any dynamics, true or learned, and how long a model's
rollout stays close to the truth, in time units and in Lyapunov times ``1/λ_max``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from physwm._errors import ArgumentTypeError, ArgumentValueError
from physwm._typing import Dynamics
from physwm._validate import choice, integer, nonnegative, positive, positive_int, real
from physwm._validate import tensor as check_tensor
from physwm.integrate import solve
from physwm.state import wrap_angles

__all__ = [
    "LyapunovResult", "lyapunov_spectrum", "max_lyapunov_exponent", "lyapunov_time", "normalized_error",
    "valid_prediction_time", "predictability_horizon",
]


@dataclass(frozen=True)
class LyapunovResult:
    """What :func:`lyapunov_spectrum` returns.

    Attributes:
        exponents: the estimated exponents, sorted as the QR columns (descending for a converged
            run), shape ``(*batch, k)``, in 1/time units.
        history: running estimates after each renormalisation, ``(n_renorm, *batch, k)``.
        t: averaging time at each entry of ``history`` (transient excluded), ``(n_renorm,)``.
        final_state: the trajectory's state at the end, ``(*batch, d)``.
        jvp: the tangent-map mode that was used, ``"forward"`` or ``"reverse"``.
    """

    exponents: Tensor
    history: Tensor
    t: Tensor
    final_state: Tensor
    jvp: str

    @property
    def lambda_max(self) -> Tensor:
        """The largest exponent, ``(*batch,)``."""
        return self.exponents[..., 0]

    @property
    def lyapunov_time(self) -> Tensor:
        """``1 / λ_max`` (``inf`` where ``λ_max <= 0``), ``(*batch,)``."""
        return lyapunov_time(self.lambda_max)


def _jvp_forward(fn: Callable[[Tensor], Tensor], x: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
    return torch.func.jvp(fn, (x,), (v,))


def _jvp_reverse(fn: Callable[[Tensor], Tensor], x: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
    """``J v`` by two reverse passes (the "double-backward trick"): works where forward mode does not,
    e.g. for models whose vector field itself calls ``torch.autograd.grad`` (HNN, LNN, PHNN)."""
    with torch.enable_grad():
        xg = x.detach().requires_grad_(True)
        out = fn(xg)
        w = torch.zeros_like(out, requires_grad=True)
        (vjp,) = torch.autograd.grad(out, xg, w, create_graph=True)
        (jv,) = torch.autograd.grad(vjp, w, v)
    return out.detach(), jv.detach()


def _jvp_difference(fn: Callable[[Tensor], Tensor], x: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
    """``J v`` by a central difference, ``(f(x + h v) - f(x - h v)) / 2h``, with ``f(x)`` in the same batched call.

    ``h = eps^(1/3) (1 + max|x|) / |v|`` balances truncation (``O(h²)``) against round-off: about 1e-10
    relative in float64. Three field evaluations and no autograd, the cheapest mode for a closed-form field.
    """
    tiny = torch.finfo(x.dtype).tiny
    h = torch.finfo(x.dtype).eps ** (1 / 3) * (1 + x.abs().amax(-1, keepdim=True)) / v.norm(dim=-1, keepdim=True).clamp_min(tiny)
    out = fn(torch.cat([x, x + h * v, x - h * v], dim=-2))
    k = x.shape[-2]
    return out[..., :k, :], (out[..., k: 2 * k, :] - out[..., 2 * k:, :]) / (2 * h)


class _TangentDynamics:
    """``[y, Q] -> [f(y), J(y) Q]``: the trajectory and ``k`` tangent vectors, flattened into one state."""

    def __init__(self, f, d: int, k: int, mode: str):
        self.f, self.d, self.k, self.mode = f, d, k, mode

    def __call__(self, t: Tensor, z: Tensor) -> Tensor:
        d, k = self.d, self.k
        batch = z.shape[:-1]
        y = z[..., :d]
        tangents = z[..., d:].reshape(*batch, d, k).transpose(-1, -2)  # (*batch, k, d)
        ys = y.unsqueeze(-2).expand(*batch, k, d).contiguous()

        def field(x: Tensor) -> Tensor:
            return self.f(t, x)

        if self.mode == "auto":
            try:
                out, jv = _jvp_forward(field, ys, tangents)
                self.mode = "forward"
            except (RuntimeError, NotImplementedError):
                out, jv = _jvp_reverse(field, ys, tangents)
                self.mode = "reverse"
        elif self.mode == "forward":
            out, jv = _jvp_forward(field, ys, tangents)
        elif self.mode == "difference":
            out, jv = _jvp_difference(field, ys, tangents)
        else:
            out, jv = _jvp_reverse(field, ys, tangents)
        return torch.cat([out[..., 0, :], jv.transpose(-1, -2).reshape(*batch, d * k)], -1)


def lyapunov_spectrum(
    f: Dynamics,
    y0: Tensor,
    *,
    t_total: float,
    dt: float,
    n_exponents: int | None = None,
    renormalize_every: int = 10,
    transient: float = 0.0,
    method: str = "rk4",
    jvp: str = "auto",
    t0: float = 0.0,
    generator: torch.Generator | None = None,
    max_steps: int = 10_000_000,
) -> LyapunovResult:
    r"""Lyapunov exponents by Benettin's method with QR re-orthonormalisation.

    The trajectory ``y(t)`` and ``k`` tangent vectors ``Q`` are integrated together,
    :math:`\dot y = f(t, y)`, :math:`\dot Q = J_f(y)\,Q`, where :math:`J_f Q` comes from
    Jacobian-vector products (``torch.func.jvp``; no Jacobian is formed). Every
    ``renormalize_every`` steps ``Q = \hat Q R`` (QR) replaces ``Q`` by ``\hat Q`` and adds
    :math:`\ln|R_{ii}|` to the sums; :math:`\lambda_i = \frac{1}{T}\sum \ln|R_{ii}|` (Benettin,
    Galgani, Giorgilli, Strelcyn, Meccanica 15, 1980; Shimada & Nagashima, Prog. Theor. Phys. 61,
    1979). ``k = 1`` gives the maximal exponent alone (renormalised by the norm). During the
    ``transient`` the trajectory relaxes onto the attractor and the tangent vectors align with
    the Lyapunov directions; nothing is accumulated then.

    The tangent map needs ``f`` to support forward-mode AD. Models whose field calls
    ``torch.autograd.grad`` (HNN, LNN, PHNN) do not; ``jvp="auto"`` then falls back to the
    double-backward trick (two reverse passes), which works for any differentiable ``f``; for a
    closed-form ground-truth field a central difference (``jvp="difference"``) is the cheapest.
    Accuracy: the exponents are those of the discretised flow; with ``rk4`` and a ``dt`` resolving
    the dynamics they agree with the flow's to ``O(dt^4)``, and the statistical error falls like
    ``1/sqrt(t_total)``; batch over initial conditions and average for a tighter estimate.
    No gradients flow through the result.

    Args:
        f: dynamics ``f(t, y)``, batched.
        y0: initial states ``(*batch, d)``.
        t_total: averaging time after the transient (time units).
        dt: step size of the fixed-step integration.
        n_exponents: ``k`` leading exponents to compute (``1 <= k <= d``); default ``d``, the full spectrum.
        renormalize_every: integration steps between QR renormalisations.
        transient: time discarded at the start.
        method: a fixed-step method for general dynamics (``rk4``, ``euler``, ``implicit_midpoint``).
        jvp: ``"auto"``, ``"forward"`` (``torch.func.jvp``), ``"reverse"`` (double backward) or
            ``"difference"`` (central difference of ``f``, relative error about 1e-10 in float64: far below
            the statistical error of the exponents, and several times cheaper for a closed-form field).
        t0: start time (matters for forced, non-autonomous dynamics).
        generator: seeds the random initial tangent vectors.
        max_steps: cap on the integration steps (transient and averaging together).

    Returns:
        A :class:`LyapunovResult`.

    Shapes:
        y0: ``(*batch, d)`` -> exponents ``(*batch, k)``.

    Raises:
        TypeError: ``y0`` not a floating tensor.
        ValueError: non-finite ``y0`` or ``t0``, non-positive or non-finite ``t_total``/``dt``/``transient``,
            ``n_exponents`` outside ``[1, d]``, unknown ``jvp``, more than ``max_steps`` steps.
        IntegrationError: the trajectory or the tangent vectors became non-finite.

    Example:
        >>> from physwm.systems import Lorenz
        >>> y0 = torch.tensor([[1.0, 1.0, 20.0]], dtype=torch.float64)
        >>> res = lyapunov_spectrum(Lorenz(), y0, t_total=2.0, dt=0.01, transient=0.5, jvp="difference")
        >>> res.exponents.shape
        torch.Size([1, 3])
    """
    check_tensor("y0", y0, min_dim=1, finite=True)
    t_total, dt, transient = positive("t_total", t_total), positive("dt", dt), nonnegative("transient", transient)
    t0, max_steps = real("t0", t0), positive_int("max_steps", max_steps)
    d = y0.shape[-1]
    if d == 0:
        raise ArgumentValueError(f"`y0` must have shape (*batch, d) with d >= 1, got {tuple(y0.shape)}")
    k = d if n_exponents is None else n_exponents
    integer("n_exponents", k, minimum=1, maximum=d)
    positive_int("renormalize_every", renormalize_every)
    choice("jvp", jvp, ("auto", "forward", "reverse", "difference"))
    batch = y0.shape[:-1]
    seg = renormalize_every * dt
    if (t_total + transient) / dt > max_steps:
        raise ArgumentValueError(f"`t_total` + `transient` = {t_total + transient:g} at `dt` = {dt:g} needs about "
                                 f"{(t_total + transient) / dt:.3g} steps, more than `max_steps` = {max_steps}")
    n_transient = math.ceil(transient / seg - 1e-9) if transient > 0 else 0
    n_average = max(1, math.ceil(t_total / seg - 1e-9))
    field = _TangentDynamics(f, d, k, jvp)
    g = torch.randn(*batch, d, k, generator=generator, dtype=torch.float64).to(y0)
    q_mat, _ = torch.linalg.qr(g)
    y = y0.detach()
    sums = torch.zeros(*batch, k, dtype=y0.dtype, device=y0.device)
    history = []
    t = float(t0)
    with torch.no_grad():
        for i in range(n_transient + n_average):
            z = torch.cat([y, q_mat.reshape(*batch, d * k)], -1)
            tt = torch.tensor([t, t + seg], dtype=y0.dtype, device=y0.device)
            z = solve(field, z, tt, method=method, dt=dt).ys[-1]
            t += seg
            y = z[..., :d]
            q_mat, r = torch.linalg.qr(z[..., d:].reshape(*batch, d, k))
            if i >= n_transient:
                sums = sums + torch.log(torch.diagonal(r, dim1=-2, dim2=-1).abs())
                history.append(sums / ((i - n_transient + 1) * seg))
    hist = torch.stack(history)
    times = seg * torch.arange(1, n_average + 1, dtype=y0.dtype, device=y0.device)
    return LyapunovResult(exponents=hist[-1], history=hist, t=times, final_state=y, jvp=field.mode)


def max_lyapunov_exponent(f: Dynamics, y0: Tensor, **kwargs) -> Tensor:
    """The maximal Lyapunov exponent ``λ_max`` ``(*batch,)``: :func:`lyapunov_spectrum` with one tangent vector.

    Takes the keyword arguments of :func:`lyapunov_spectrum` (``t_total`` and ``dt`` required).
    """
    return lyapunov_spectrum(f, y0, n_exponents=1, **kwargs).exponents[..., 0]


def _rate(name: str, value: Any) -> Tensor:
    """A rate (1/time): a real number or a real tensor, as a floating tensor (ints become the default dtype)."""
    if isinstance(value, Tensor):
        if value.is_complex() or value.dtype == torch.bool:
            raise ArgumentTypeError(f"`{name}` must hold real numbers, got dtype {value.dtype}")
        return value if value.is_floating_point() else value.to(torch.get_default_dtype())
    return torch.tensor(real(name, value, finite=False), dtype=torch.get_default_dtype())


def lyapunov_time(lambda_max: Tensor | float) -> Tensor:
    """Lyapunov time ``1/λ_max`` (time units); ``inf`` where ``λ_max <= 0`` (no exponential divergence).

    Args:
        lambda_max: the largest Lyapunov exponent (1/time), a number or a tensor of any shape.

    Raises:
        TypeError: not a real number or tensor.

    Example:
        >>> lyapunov_time(torch.tensor([0.9056, 0.0]))
        tensor([1.1042,    inf])
        >>> lyapunov_time(2)
        tensor(0.5000)
    """
    lam = _rate("lambda_max", lambda_max)
    return torch.where(lam > 0, 1 / lam, torch.full_like(lam, math.inf))


def _check_pair(pred: Tensor, ref: Tensor) -> None:
    check_tensor("pred", pred, min_dim=2), check_tensor("ref", ref, min_dim=2)
    if pred.shape != ref.shape:
        raise ArgumentValueError(f"`pred` and `ref` must both have shape (T, *batch, d), got {tuple(pred.shape)} and "
                                 f"{tuple(ref.shape)}")
    if pred.shape[0] == 0:
        raise ArgumentValueError(f"`pred` and `ref` must hold at least one time, got shape {tuple(pred.shape)}")


def normalized_error(pred: Tensor, ref: Tensor, scale: Tensor | None = None, *, angles: tuple[int, ...] = ()) -> Tensor:
    r"""Normalised error :math:`e(t) = \sqrt{\frac1d\sum_i (\hat y_i - y_i)^2 / \sigma_i^2}` of a rollout.

    ``σ_i`` is the standard deviation of component ``i`` of the reference over time and batch
    (the attractor's spread) unless ``scale`` is given (Vlachas et al., Neural Networks 126, 2020).
    Components listed in ``angles`` are compared on the circle: their difference is wrapped into
    ``[-π, π)`` (a prediction a whole turn ahead is no error). Give such components an explicit
    ``scale`` (e.g. ``π/√3``, the spread of a uniform angle): the spread of unwrapped angles grows with
    every turn.

    Args:
        pred: model trajectory.
        ref: reference trajectory from the same initial states.
        scale: per-component scale ``σ > 0``, shape ``(d,)`` or broadcastable to ``(*batch, d)``.
        angles: indices of angular components.

    Shapes:
        pred, ref: ``(T, *batch, d)`` -> ``(T, *batch)``.

    Raises:
        TypeError: ``pred``, ``ref`` or ``scale`` not floating tensors.
        ValueError: shapes that differ or have fewer than 2 dims; a negative or NaN ``scale`` (zero
            entries are clamped to the smallest positive number, as an estimated zero spread is); no
            ``scale`` and a single sample (no spread to estimate).

    Example:
        >>> ref = torch.tensor([[0.0, 0.0], [2.0, 2.0]])
        >>> normalized_error(ref + 0.5, ref, scale=torch.ones(2))
        tensor([0.5000, 0.5000])
    """
    _check_pair(pred, ref)
    if scale is None:
        flat = ref.reshape(-1, ref.shape[-1])
        if flat.shape[0] < 2:
            raise ArgumentValueError(f"`scale` is needed when `ref` holds a single sample (shape {tuple(ref.shape)}): "
                                     "the spread of one sample is undefined")
        scale = flat.std(0)
    else:
        if not isinstance(scale, Tensor):
            if isinstance(scale, (str, bytes, bool)):
                raise ArgumentTypeError(f"`scale` must be a tensor or sequence of numbers, got {scale!r}")
            try:
                scale = torch.as_tensor(scale, dtype=ref.dtype)
            except (TypeError, ValueError, RuntimeError):
                raise ArgumentTypeError(f"`scale` must be a tensor or sequence of numbers, got {scale!r}") from None
        check_tensor("scale", scale)
        if not bool((scale >= 0).all()):  # zero (a constant component) is clamped, as for the estimated spread
            raise ArgumentValueError(f"`scale` must be >= 0 everywhere, got {scale.tolist() if scale.numel() <= 8 else scale}")
    scale = scale.to(dtype=ref.dtype, device=ref.device).clamp_min(torch.finfo(ref.dtype).tiny)
    return ((wrap_angles(pred - ref, angles) / scale) ** 2).mean(-1).sqrt()


def valid_prediction_time(pred: Tensor, ref: Tensor, t: Tensor, *, threshold: float = 0.4,
                          scale: Tensor | None = None, angles: tuple[int, ...] = ()) -> Tensor:
    r"""Valid prediction time: first time the normalised error exceeds ``threshold``.

    :math:`t_{valid} = \min\{t - t_0 : e(t) > \varepsilon\}` with :math:`e` from
    :func:`normalized_error` and :math:`\varepsilon = 0.4` by default (Pathak, Hunt, Girvan, Lu,
    Ott, PRL 120, 024102, 2018). Divide by the Lyapunov time (multiply by ``λ_max``) to report it
    in Lyapunov times. A rollout that never exceeds the threshold gets the full horizon
    ``t[-1] - t[0]`` (a lower bound); non-finite states (a rollout that blew up) count as exceeded.

    Args:
        pred: model trajectory.
        ref: reference trajectory.
        t: output times.
        threshold: error level ``ε > 0``.
        scale: per-component scale, see :func:`normalized_error`.
        angles: indices of angular components, compared on the circle (see :func:`normalized_error`).

    Shapes:
        pred, ref: ``(T, *batch, d)``; t: ``(T,)`` -> ``(*batch,)``.

    Raises:
        TypeError / ValueError: as for :func:`normalized_error`; ``t`` of another length or
            non-finite; ``threshold`` not a finite number > 0.

    Example:
        >>> t = torch.linspace(0, 1, 11)
        >>> ref = torch.stack([torch.ones(11), -torch.ones(11)], -1)
        >>> pred = ref + torch.stack([t, t], -1)
        >>> valid_prediction_time(pred, ref, t, scale=torch.ones(2))
        tensor(0.5000)
    """
    threshold = positive("threshold", threshold)
    err = normalized_error(pred, ref, scale, angles=angles)
    check_tensor("t", t, shape=(pred.shape[0],), finite=True)
    t = t.to(err)
    exceeded = ~(err <= threshold)  # a NaN (a rollout that blew up) counts as exceeded
    first = torch.where(exceeded.any(0), exceeded.to(torch.int64).argmax(0), torch.full_like(exceeded[0], len(t) - 1,
                                                                                           dtype=torch.int64))
    return t[first] - t[0]


def predictability_horizon(lambda_max: Tensor | float, initial_error: float, tolerance: float) -> Tensor:
    r"""The information-theoretic limit :math:`t^* = \kappa/\lambda_{max}`, :math:`\kappa = \ln(\Delta/\delta_0)`.

    How long an initial error ``δ₀`` takes to grow to the tolerance ``Δ`` at the rate ``λ_max``;
    ``inf`` where ``λ_max <= 0``.

    Example:
        >>> predictability_horizon(0.9056, initial_error=1e-6, tolerance=1.0)
        tensor(15.2556)
    """
    initial_error, tolerance = positive("initial_error", initial_error), positive("tolerance", tolerance)
    if not initial_error < tolerance:
        raise ArgumentValueError(f"`initial_error` must be below `tolerance`, got {initial_error} and {tolerance}")
    return math.log(tolerance / initial_error) * lyapunov_time(lambda_max)
