r"""Physics-informed networks: a pointwise PINN, the separable SPINN, and conservation-corrected wrappers.

- :class:`PINN`: an MLP field :math:`u_\theta(x, t)`, derivatives by reverse mode.
- :class:`SeparablePINN`: one small MLP per axis, combined by the outer-product sum of Cho et al.
  (NeurIPS 2023); derivatives along an axis by forward mode on that axis' network only, so a grid of
  :math:`N^d` collocation points costs :math:`dN` network evaluations.
- :class:`ConservativePINN`: projects a model's prediction so that a conservation law holds to
  round-off (divergence-free velocity, or a fixed total of a scalar).

All three share the input map: coordinates are scaled to ``[-1, 1]`` over the problem's box, and an axis
marked periodic is embedded as :math:`(\cos 2\pi k x/L, \sin 2\pi k x/L)_{k=1..K}`, which makes the field
exactly periodic on it (Dong & Ni, *J. Comput. Phys.* 435, 2021).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from physwm.nn.mlp import MLP
from physwm.pde import autodiff as ad
from physwm.pde import divergence as spectral_divergence
from physwm.pde import leray_project
from physwm.pde.autodiff import SeparableCoordinates, SeparableValue
from physwm.pde.collocation import Box

__all__ = ["PINN", "SeparablePINN", "ConservativePINN", "project_integral"]


class _InputMap(nn.Module):
    """Per-axis coordinate features: ``[-1, 1]`` scaling, or a Fourier embedding on periodic axes."""

    def __init__(self, domain: Box, time: tuple[float, float] | None, periodic: bool | Sequence[bool], fourier_modes: int):
        super().__init__()
        if not isinstance(domain, Box):
            raise TypeError(f"`domain` must be a physwm.pde.Box, got {type(domain).__name__}")
        flags = [bool(periodic)] * domain.dim if isinstance(periodic, bool) else [bool(v) for v in periodic]
        if len(flags) != domain.dim:
            raise ValueError(f"`periodic` must be a bool or one flag per spatial axis ({domain.dim}), got {periodic!r}")
        if isinstance(fourier_modes, bool) or not isinstance(fourier_modes, int) or fourier_modes < 1:
            raise ValueError(f"`fourier_modes` must be a positive int, got {fourier_modes!r}")
        if time is not None:
            time = (float(time[0]), float(time[1]))
            if not time[1] > time[0]:
                raise ValueError(f"`time` must be (t0, t1) with t1 > t0, got {time!r}")
        self.domain, self.time, self.space_dim = domain, time, domain.dim
        box = domain if time is None else domain.product(Box([time[0]], [time[1]]))
        self.lower, self.lengths = box.lower, box.lengths
        self.periodic = tuple(flags) + ((False,) if time is not None else ())
        self.n_axes = len(self.periodic)
        self.register_buffer("k", torch.arange(1, fourier_modes + 1, dtype=torch.float32), persistent=False)

    def width(self, axis: int) -> int:
        return 2 * self.k.numel() if self.periodic[axis] else 1

    def axis(self, a: int, c: Tensor) -> Tensor:
        """Features of coordinate ``c`` (any shape) on axis ``a``: shape ``(*c.shape, width(a))``."""
        s = (c - self.lower[a]) / self.lengths[a]
        if self.periodic[a]:
            phase = 2 * math.pi * s[..., None] * self.k.to(c.dtype)
            return torch.cat([torch.cos(phase), torch.sin(phase)], dim=-1)
        return (2 * s - 1)[..., None]


def _check_points(x: Tensor, t: Tensor | None, space_dim: int, has_time: bool) -> None:
    if not isinstance(x, Tensor) or not x.is_floating_point():
        raise TypeError(f"`x` must be a floating tensor of shape (*points, {space_dim}), got {type(x).__name__}")
    if x.dim() < 1 or x.shape[-1] != space_dim:
        raise ValueError(f"`x` must have shape (*points, {space_dim}), got {tuple(x.shape)}")
    if has_time:
        if not isinstance(t, Tensor):
            raise TypeError(f"`t` must be a tensor of shape (*points,) = {tuple(x.shape[:-1])}, got {type(t).__name__}")
        if t.shape != x.shape[:-1]:
            raise ValueError(f"`t` must have shape (*points,) = {tuple(x.shape[:-1])}, got {tuple(t.shape)}")
    elif t is not None:
        raise ValueError("this model has no time axis (time=None); pass t=None")


class _Field(nn.Module):
    """What PINN and SPINN share: the input map over ``domain`` x ``time`` and the split of points into axes."""

    def __init__(self, domain: Box, time: tuple[float, float] | None, periodic: bool | Sequence[bool], fourier_modes: int):
        super().__init__()
        self.inputs = _InputMap(domain, time, periodic, fourier_modes)

    @property
    def domain(self) -> Box:
        return self.inputs.domain

    @property
    def time(self) -> tuple[float, float] | None:
        return self.inputs.time

    def _coordinates(self, x: Tensor, t: Tensor | None) -> list[Tensor]:
        """Checked points ``x (*points, d)``, ``t (*points,)`` as one coordinate tensor per axis."""
        _check_points(x, t, self.inputs.space_dim, self.time is not None)
        return [x[..., a] for a in range(self.inputs.space_dim)] + ([t] if self.time is not None else [])


class PINN(_Field):
    r"""A physics-informed network: an MLP field :math:`u_\theta(x, t)` (Raissi et al., 2019).

    The residual of a :class:`~physwm.pde.PDEProblem` is evaluated at scattered collocation points with
    reverse-mode derivatives (:mod:`physwm.pde.autodiff`); train it with
    :func:`physwm.training.fit_pinn`.

    Args:
        domain: the spatial :class:`~physwm.pde.Box`; inputs are scaled to ``[-1, 1]`` over it.
        time: ``(t0, t1)`` for a time-dependent field, ``None`` for a steady one.
        out_dim: number of field components ``m``.
        hidden: widths of the hidden layers.
        activation_name: a smooth activation (second derivatives are taken); ``"tanh"`` by default.
        periodic: ``True`` (all spatial axes) or one flag per axis: the field is exactly periodic with
            the box length on those axes (Fourier embedding with ``fourier_modes`` harmonics).
        fourier_modes: harmonics ``K`` of the periodic embedding.

    Shapes:
        ``x (*points, d)``, ``t (*points,)`` -> ``u (*points,)`` if ``out_dim == 1`` else ``(*points, m)``.

    Raises:
        ValueError / TypeError: bad arguments or inputs of the wrong shape.

    Example:
        >>> from physwm.pde import Box
        >>> pinn = PINN(Box([0.0, 0.0], [1.0, 1.0]), time=(0.0, 1.0), hidden=(32, 32))
        >>> pinn(torch.rand(10, 2), torch.rand(10)).shape
        torch.Size([10])
    """

    separable = False

    def __init__(self, domain: Box, time: tuple[float, float] | None = None, *, out_dim: int = 1,
                 hidden: Sequence[int] = (64, 64, 64, 64), activation_name: str = "tanh",
                 periodic: bool | Sequence[bool] = False, fourier_modes: int = 1):
        super().__init__(domain, time, periodic, fourier_modes)
        self.out_dim = out_dim
        self.net = MLP(sum(self.inputs.width(a) for a in range(self.inputs.n_axes)), out_dim, hidden, activation_name)

    def forward(self, x: Tensor, t: Tensor | None = None) -> Tensor:
        coords = self._coordinates(x, t)
        u = self.net(torch.cat([self.inputs.axis(a, c) for a, c in enumerate(coords)], dim=-1))
        return u[..., 0] if self.out_dim == 1 else u

    predict = forward

    def collocation(self, x: Tensor, t: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor | None]:
        """``(u, x, t)`` at the points, with ``x`` and ``t`` leaves that require grad (for the residual)."""
        x = x.detach().requires_grad_()
        t = None if t is None else t.detach().requires_grad_()
        return self(x, t), x, t


class _SeparableGrid:
    """The derivative context of one SPINN call on a grid: per-axis feature derivatives, cached."""

    def __init__(self, model: SeparablePINN, axes: list[Tensor]):
        self.model, self.axes = model, axes
        self.features: list[list[Tensor]] = [[] for _ in axes]

    def _axis(self, a: int, order: int) -> list[Tensor]:
        if len(self.features[a]) <= order:
            self.features[a] = self.model.axis_features(a, self.axes[a], order)
        return self.features[a]

    def derivative(self, orders: tuple[int, ...]) -> Tensor:
        return self.model.combine([self._axis(a, k)[k] for a, k in enumerate(orders)])


def _taylor(fn: Callable[[Tensor], Tensor], c: Tensor, order: int) -> tuple[Tensor, ...]:
    """``(fn(c), fn'(c), ..., fn^(order)(c))`` for a map acting on each entry of ``c`` separately (nested jvp)."""
    if order == 0:
        return (fn(c),)
    primal, tangent = torch.func.jvp(lambda z: _taylor(fn, z, order - 1), (c,), (torch.ones_like(c),))
    return (*primal, tangent[-1])


class SeparablePINN(_Field):
    r"""Separable physics-informed network (SPINN; Cho et al., *Separable Physics-Informed Neural Networks*, NeurIPS 2023).

    One MLP :math:`f^{(a)}: \mathbb R \to \mathbb R^{R m}` per axis :math:`a` (space axes, then time),
    combined by the outer-product sum

    .. math:: u_j(z_1, \dots, z_n) = \sum_{r=1}^{R} \prod_{a=1}^{n} f^{(a)}_{j r}(z_a).

    On a grid :math:`z_1^{(i_1)}, \dots, z_n^{(i_n)}` of :math:`N^n` points the networks run on the
    :math:`nN` coordinates only, and a derivative along axis :math:`a` needs forward-mode derivatives of
    :math:`f^{(a)}` alone (:func:`torch.func.jvp`, nested for higher orders). The residual function of a
    :class:`~physwm.pde.PDEProblem` runs unchanged: :meth:`collocation` returns ``u, x, t`` tagged so
    that :mod:`physwm.pde.autodiff` takes this forward-mode path.

    Args:
        domain: the spatial :class:`~physwm.pde.Box` (as for :class:`PINN`).
        time: ``(t0, t1)`` or ``None``.
        out_dim: number of field components ``m``.
        rank: the number of separable terms :math:`R` (features per axis and component).
        hidden: widths of the hidden layers of each axis' MLP.
        activation_name: a smooth activation.
        periodic: periodic spatial axes, as for :class:`PINN`.
        fourier_modes: harmonics of the periodic embedding.

    Shapes:
        ``forward(axes)``: ``axes`` a list of ``n`` 1-D coordinate tensors ``(N_a,)`` -> the grid
        ``(N_1, ..., N_n)`` (or ``(N_1, ..., N_n, m)``). ``predict(x, t)`` at scattered points as
        :class:`PINN`.

    Raises:
        ValueError / TypeError: bad arguments; axes that are not 1-D, of the wrong number or dtype.

    Example:
        >>> from physwm.pde import Box
        >>> spinn = SeparablePINN(Box([0.0, 0.0], [1.0, 1.0]), time=(0.0, 1.0), rank=8, hidden=(16, 16))
        >>> spinn([torch.rand(5), torch.rand(6), torch.rand(7)]).shape
        torch.Size([5, 6, 7])
    """

    separable = True

    def __init__(self, domain: Box, time: tuple[float, float] | None = None, *, out_dim: int = 1, rank: int = 32,
                 hidden: Sequence[int] = (64, 64, 64), activation_name: str = "tanh",
                 periodic: bool | Sequence[bool] = False, fourier_modes: int = 1):
        if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1:
            raise ValueError(f"`rank` must be a positive int, got {rank!r}")
        super().__init__(domain, time, periodic, fourier_modes)
        self.out_dim, self.rank = out_dim, rank
        self.nets = nn.ModuleList(MLP(self.inputs.width(a), rank * out_dim, hidden, activation_name)
                                  for a in range(self.inputs.n_axes))

    def _check_axes(self, axes: Sequence[Tensor]) -> list[Tensor]:
        n = self.inputs.n_axes
        if isinstance(axes, Tensor) or len(axes) != n:
            raise ValueError(f"`axes` must be a list of {n} 1-D coordinate tensors (space axes, then time), "
                             f"got {type(axes).__name__} of length {len(axes) if not isinstance(axes, Tensor) else 'n/a'}")
        for a, c in enumerate(axes):
            if not isinstance(c, Tensor) or not c.is_floating_point() or c.dim() != 1 or c.numel() == 0:
                shape = tuple(c.shape) if isinstance(c, Tensor) else type(c).__name__
                raise ValueError(f"`axes[{a}]` must be a non-empty 1-D floating tensor, got {shape}")
        return list(axes)

    def axis_features(self, a: int, c: Tensor, order: int = 0) -> list[Tensor]:
        r"""``[f^{(a)}(c), \partial_c f^{(a)}(c), ..., \partial_c^{order} f^{(a)}(c)]``, each ``(N, m, R)``."""
        def fn(z: Tensor) -> Tensor:
            return self.nets[a](self.inputs.axis(a, z))

        return [f.reshape(c.shape[0], self.out_dim, self.rank) for f in _taylor(fn, c, order)]

    def combine(self, features: Sequence[Tensor]) -> Tensor:
        r"""The outer-product sum :math:`\sum_r \prod_a f^{(a)}_{jr}` of per-axis features ``(N_a, m, R)``."""
        letters = "abcdefghijkl"[: len(features)]
        u = torch.einsum(",".join(f"{c}mr" for c in letters) + f"->{letters}m", *features)
        return u[..., 0] if self.out_dim == 1 else u

    def forward(self, axes: Sequence[Tensor]) -> Tensor:
        axes = self._check_axes(axes)
        return self.combine([self.axis_features(a, c)[0] for a, c in enumerate(axes)])

    def derivatives(self, axes: Sequence[Tensor], *orders: tuple[int, ...]) -> list[Tensor]:
        """Grid values of the derivatives with multi-indices ``orders`` (one order per axis each)."""
        context = _SeparableGrid(self, self._check_axes(axes))
        out = []
        for o in orders:
            if len(o) != self.inputs.n_axes or any(not isinstance(k, int) or k < 0 for k in o):
                raise ValueError(f"each multi-index must hold {self.inputs.n_axes} non-negative ints, got {o!r}")
            out.append(context.derivative(tuple(o)))
        return out

    def mesh(self, axes: Sequence[Tensor]) -> tuple[Tensor, Tensor | None]:
        """The grid's points as ``x (N_1, ..., N_n, d)`` and ``t (N_1, ..., N_n)`` (``None`` when steady)."""
        axes = self._check_axes(axes)
        grids = torch.meshgrid(*axes, indexing="ij")
        d = self.inputs.space_dim
        return torch.stack(grids[:d], dim=-1), (grids[d] if self.time is not None else None)

    def collocation(self, axes: Sequence[Tensor]) -> tuple[Tensor, Tensor, Tensor | None]:
        """Tagged grid ``(u, x, t)`` whose :mod:`~physwm.pde.autodiff` derivatives use forward mode."""
        axes = [c.detach() for c in self._check_axes(axes)]
        context = _SeparableGrid(self, axes)
        x, t = self.mesh(axes)
        d = self.inputs.space_dim
        u = SeparableValue.tag(context.derivative((0,) * len(axes)), context, (0,) * len(axes))
        x = SeparableCoordinates.tag(x, context, tuple(range(d)))
        if t is not None:
            t = SeparableCoordinates.tag(t, context, (d,))
        return u, x, t

    def predict(self, x: Tensor, t: Tensor | None = None) -> Tensor:
        """The field at scattered points, as :meth:`PINN.forward`: ``(*points, d)`` -> ``(*points[, m])``."""
        coords = self._coordinates(x, t)
        prod = None
        for a, c in enumerate(coords):
            f = self.nets[a](self.inputs.axis(a, c)).reshape(*c.shape, self.out_dim, self.rank)
            prod = f if prod is None else prod * f
        u = prod.sum(-1)
        return u[..., 0] if self.out_dim == 1 else u


def project_integral(u: Tensor, total: float | Tensor, *, weights: Tensor | float, dims: Sequence[int]) -> Tensor:
    r"""The closest field (in the weighted :math:`L^2` norm) with a prescribed integral.

    .. math:: u \leftarrow u + \frac{Q - \sum_i w_i u_i}{\sum_i w_i}

    where :math:`w_i` are quadrature weights (``L_1 \cdots L_d / N`` on a periodic grid, the rectangle
    rule, spectrally accurate). After it, :math:`\sum_i w_i u_i = Q` to round-off, and the shift is the
    smallest one that achieves it. Use it to enforce a conserved total such as the heat
    :math:`\int u\,dx` of a periodic or insulated domain.

    Args:
        u: field values ``(*batch, *grid)``.
        total: :math:`Q`, a number or a tensor broadcasting to the batch shape.
        weights: quadrature weights broadcasting to the grid (a number for a uniform grid).
        dims: the grid dimensions of ``u`` summed over.

    Raises:
        ValueError: empty ``dims`` or non-positive total weight.

    Example:
        >>> u = torch.rand(4, 16, 16, dtype=torch.float64)
        >>> v = project_integral(u, 2.0, weights=1 / 256, dims=(-2, -1))
        >>> torch.allclose(v.sum((-2, -1)) / 256, torch.full((4,), 2.0, dtype=torch.float64))
        True
    """
    dims = tuple(dims)
    if not dims:
        raise ValueError("`dims` must name at least one grid dimension")
    w = torch.as_tensor(weights, dtype=u.dtype, device=u.device) * torch.ones_like(u)
    wsum = w.sum(dims, keepdim=True)
    if not bool((wsum > 0).all()):
        raise ValueError("`weights` must have a positive sum")
    q = torch.as_tensor(total, dtype=u.dtype, device=u.device)
    q = q.reshape(*q.shape, *([1] * len(dims)))
    return u + (q - (w * u).sum(dims, keepdim=True)) / wsum


class ConservativePINN(nn.Module):
    r"""A physics-informed field corrected so that a conservation law holds to round-off.

    ``method="leray"`` (periodic box): the model's velocity :math:`u_\theta` (its first ``d`` outputs;
    further ones, such as a pressure, are dropped) on a periodic grid is replaced by its Leray projection

    .. math:: u \leftarrow u_\theta + \nabla\phi, \qquad \nabla^2\phi = -\nabla\cdot u_\theta,

    solved by FFT (:func:`physwm.pde.leray_project`): mass conservation :math:`\nabla\cdot u = 0`
    holds to round-off, and since the projection is orthogonal and a divergence-free solution is its
    own projection, the projected field is never farther from it in :math:`L^2` than the raw one.

    ``method="stream_function"`` (any domain, the documented alternative for walls): the model predicts
    a stream function :math:`\psi` (2-D, ``out_dim = 1``) or a vector potential :math:`A` (3-D,
    ``out_dim = 3``) and the velocity is :math:`u = (\partial_y\psi, -\partial_x\psi)` or
    :math:`u = \nabla\times A`, divergence-free identically at every point.

    ``method="integral"`` (periodic box): a scalar field whose total :math:`\int u\,dx = Q(t)` is known
    (the heat of a periodic or insulated body) is shifted by :func:`project_integral` so the total
    holds to round-off.

    Args:
        model: a :class:`PINN` or :class:`SeparablePINN` (anything with ``predict(x, t)``, ``domain``,
            ``time`` and ``out_dim``).
        method: ``"leray"``, ``"stream_function"`` or ``"integral"``.
        total: for ``"integral"``: :math:`Q`, a number or a function ``total(t) -> (T,)``.

    Shapes:
        ``field(t, n)``: ``t (T,)`` -> ``(T, d, n_1, ..., n_d)`` (velocity) or ``(T, n_1, ..., n_d)``
        (scalar) on the periodic grid ``x = lower + j L / n``. ``forward(x, t)`` (stream function only):
        ``(*points, d)`` -> ``(*points, d)``.

    Raises:
        ValueError: an unknown method, a model with the wrong ``out_dim`` for it, a grid method on a
            model that is not periodic, or ``"integral"`` without ``total``.

    Example:
        >>> from physwm.pde import Box
        >>> box = Box([0.0, 0.0], [2 * math.pi, 2 * math.pi])
        >>> flow = ConservativePINN(PINN(box, (0.0, 1.0), out_dim=2, periodic=True).double(), method="leray")
        >>> u = flow.field(torch.tensor([0.0, 0.5], dtype=torch.float64), 32)
        >>> bool(spectral_divergence(u, dim=2).abs().max() < 1e-10)
        True
    """

    METHODS = ("leray", "stream_function", "integral")

    def __init__(self, model: nn.Module, *, method: str = "leray", total: float | Callable[[Tensor], Tensor] | None = None):
        super().__init__()
        if method not in self.METHODS:
            raise ValueError(f"`method` must be one of {self.METHODS}, got {method!r}")
        if not all(hasattr(model, a) for a in ("predict", "domain", "time", "out_dim")):
            raise TypeError(f"`model` must be a PINN or SeparablePINN, got {type(model).__name__}")
        d = model.domain.dim
        need = {"leray": d, "stream_function": 1 if d == 2 else 3, "integral": 1}[method]
        if d not in (2, 3):
            raise ValueError(f"ConservativePINN needs a 2-D or 3-D domain, got {d}-D")
        if model.out_dim != need and not (method == "leray" and model.out_dim > d):
            at_least = " or more" if method == "leray" else ""
            raise ValueError(f"method {method!r} in {d}-D needs a model with out_dim={need}{at_least}, got {model.out_dim}")
        if method != "stream_function" and not all(model.inputs.periodic[:d]):
            raise ValueError(f"method {method!r} projects on a periodic grid: build the model with periodic=True "
                             "(for walls use method='stream_function')")
        if method == "integral" and total is None:
            raise ValueError("method 'integral' needs the conserved `total` (a number or total(t))")
        self.model, self.method, self.total = model, method, total

    def grid_points(self, t: Tensor, n: int | Sequence[int]) -> tuple[Tensor, Tensor | None, tuple[int, ...]]:
        """The periodic grid at times ``t``: ``x (T, n_1, ..., n_d, d)``, ``t (T, n_1, ..., n_d)`` and the grid shape."""
        model = self.model
        axes = model.domain.grid(n, endpoint=False, dtype=t.dtype, device=t.device)
        shape = tuple(c.numel() for c in axes)
        x = torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=-1)
        x = x.expand(t.numel(), *x.shape).contiguous()
        tt = t.reshape(-1, *([1] * len(shape))).expand(t.numel(), *shape) if model.time is not None else None
        return x, tt, shape

    def field(self, t: Tensor, n: int | Sequence[int]) -> Tensor:
        """The corrected field on the periodic ``n_1 x ... x n_d`` grid at times ``t`` (see the class doc)."""
        if not isinstance(t, Tensor) or t.dim() != 1:
            raise ValueError(f"`t` must be a 1-D tensor of times, got {t if not isinstance(t, Tensor) else tuple(t.shape)}")
        d = self.model.domain.dim
        x, tt, shape = self.grid_points(t, n)
        if self.method == "stream_function":
            u = self(x, tt)
            return u.movedim(-1, 1)
        u = self.model.predict(x, tt)
        lengths = self.model.domain.lengths
        if self.method == "leray":
            return leray_project(u[..., :d].movedim(-1, 1), dim=d, lengths=lengths)
        q = self.total(t) if callable(self.total) else self.total
        return project_integral(u, q, weights=math.prod(lengths) / math.prod(shape), dims=tuple(range(-d, 0)))

    def forward(self, x: Tensor, t: Tensor | None = None) -> Tensor:
        """Divergence-free velocity at points (``method="stream_function"``), ``(*points, d)``."""
        if self.method != "stream_function":
            raise ValueError(f"method {self.method!r} is a grid projection: call .field(t, n)")
        with torch.enable_grad():
            x = x if x.requires_grad else x.detach().requires_grad_()
            potential = self.model.predict(x, t)
            if x.shape[-1] == 2:
                return torch.stack([ad.partial(potential, x, 1), -ad.partial(potential, x, 0)], dim=-1)
            dA = [ad.partial(potential, x, a) for a in range(3)]  # dA[a][..., i] = d A_i / d x_a
            return torch.stack([dA[1][..., 2] - dA[2][..., 1], dA[2][..., 0] - dA[0][..., 2],
                                dA[0][..., 1] - dA[1][..., 0]], dim=-1)

    @torch.no_grad()
    def divergence_error(self, t: Tensor, n: int | Sequence[int]) -> tuple[float, float]:
        """Max spectral divergence of the raw and of the corrected velocity on the grid (velocity methods)."""
        d = self.model.domain.dim
        if self.method != "leray":
            raise ValueError("divergence_error compares raw and projected velocity: method must be 'leray'")
        x, tt, _ = self.grid_points(t, n)
        raw = self.model.predict(x, tt)[..., :d].movedim(-1, 1)
        lengths = self.model.domain.lengths
        before = spectral_divergence(raw, dim=d, lengths=lengths).abs().max()
        after = spectral_divergence(leray_project(raw, dim=d, lengths=lengths), dim=d, lengths=lengths).abs().max()
        return float(before), float(after)
