r"""Physics-informed networks: a pointwise PINN, the separable SPINN, and conservation-corrected wrappers.

- :class:`PINN`: an MLP field :math:`u_\theta(x, t)`, derivatives by reverse mode.
- :class:`SeparablePINN`: one small MLP per axis, combined by the outer-product sum of Cho et al.
  (NeurIPS 2023); derivatives along an axis by forward mode on that axis' network only, so a grid of
  :math:`N^d` collocation points costs :math:`dN` network evaluations.
- :class:`ConservativePINN` and its three corrections, :class:`LerayPINN` (divergence-free velocity by
  the FFT Leray projection), :class:`StreamFunctionPINN` (velocity as the curl of a learned potential)
  and :class:`IntegralPINN` (a scalar with a fixed total): a conservation law holds to round-off.

All three share the input map: coordinates are scaled to ``[-1, 1]`` over the problem's box, and an axis
marked periodic is embedded as :math:`(\cos 2\pi k x/L, \sin 2\pi k x/L)_{k=1..K}`, which makes the field
exactly periodic on it (Dong & Ni, *J. Comput. Phys.* 435, 2021).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from physwm._errors import ArgumentTypeError, ArgumentValueError
from physwm._typing import Field
from physwm._validate import choice, describe, model_input, positive_int
from physwm.nn.mlp import MLP, ModifiedMLP
from physwm.pde import autodiff as ad
from physwm.pde import divergence as spectral_divergence
from physwm.pde import fourier_interpolate, leray_project, project_integral
from physwm.pde.autodiff import SeparableCoordinates, SeparableValue
from physwm.pde.collocation import Box

__all__ = ["PINN", "SeparablePINN", "ConservativePINN", "LerayPINN", "StreamFunctionPINN", "IntegralPINN"]


class _InputMap(nn.Module):
    """Per-axis coordinate features: ``[-1, 1]`` scaling, or a Fourier embedding on periodic axes."""

    def __init__(self, domain: Box, time: tuple[float, float] | None, periodic: bool | Sequence[bool], fourier_modes: int,
                 normalize_inputs: bool = True):
        super().__init__()
        if not isinstance(normalize_inputs, bool):
            raise ArgumentTypeError(f"`normalize_inputs` must be a bool, got {describe(normalize_inputs)}")
        self.normalize = normalize_inputs
        if not isinstance(domain, Box):
            raise ArgumentTypeError(f"`domain` must be a physwm.pde.Box, got {describe(domain)}")
        flags = [bool(periodic)] * domain.dim if isinstance(periodic, bool) else [bool(v) for v in periodic]
        if len(flags) != domain.dim:
            raise ArgumentValueError(f"`periodic` must be a bool or one flag per spatial axis ({domain.dim}), got "
                                     f"{periodic!r}")
        positive_int("fourier_modes", fourier_modes)
        if time is not None:
            time = (float(time[0]), float(time[1]))
            if not time[1] > time[0]:
                raise ArgumentValueError(f"`time` must be (t0, t1) with t1 > t0, got {time!r}")
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
        return ((2 * s - 1) if self.normalize else c)[..., None]


def _check_points(x: Tensor, t: Tensor | None, space_dim: int, has_time: bool, module: nn.Module | None = None) -> None:
    model_input("x", x, module, last=space_dim)
    if has_time:
        model_input("t", t, module, shape=tuple(x.shape[:-1]), min_dim=0)
    elif t is not None:
        raise ArgumentValueError("this model has no time axis (time=None); pass t=None")


_ARCHITECTURES = {"mlp": MLP, "modified": ModifiedMLP}


class _Field(nn.Module):
    """What PINN and SPINN share: the input map over ``domain`` x ``time``, the choice of network and the split of
    points into axes."""

    def __init__(self, domain: Box, time: tuple[float, float] | None, periodic: bool | Sequence[bool], fourier_modes: int,
                 normalize_inputs: bool, architecture: str):
        super().__init__()
        self.inputs = _InputMap(domain, time, periodic, fourier_modes, normalize_inputs)
        self.architecture = choice("architecture", architecture, tuple(_ARCHITECTURES))

    def _network(self, in_dim: int, out_dim: int, hidden: Sequence[int], activation_name: str) -> nn.Module:
        return _ARCHITECTURES[self.architecture](in_dim, out_dim, hidden, activation_name)

    @property
    def domain(self) -> Box:
        return self.inputs.domain

    @property
    def time(self) -> tuple[float, float] | None:
        return self.inputs.time

    def _coordinates(self, x: Tensor, t: Tensor | None) -> list[Tensor]:
        """Checked points ``x (*points, d)``, ``t (*points,)`` as one coordinate tensor per axis."""
        _check_points(x, t, self.inputs.space_dim, self.time is not None, self)
        return [x[..., a] for a in range(self.inputs.space_dim)] + ([t] if self.time is not None else [])


class PINN(_Field):
    r"""A physics-informed network: an MLP field :math:`u_\theta(x, t)` (Raissi et al., 2019).

    The residual of a :class:`~physwm.pde.PDEProblem` is evaluated at scattered collocation points with
    reverse-mode derivatives (:mod:`physwm.pde.autodiff`); train it with
    :func:`physwm.training.fit` with a :class:`~physwm.training.PINNResidual`.

    Args:
        domain: the spatial :class:`~physwm.pde.Box`; inputs are scaled to ``[-1, 1]`` over it.
        time: ``(t0, t1)`` for a time-dependent field, ``None`` for a steady one.
        out_dim: number of field components ``m``.
        hidden: widths of the hidden layers.
        activation_name: a smooth activation (second derivatives are taken); ``"tanh"`` by default.
        periodic: ``True`` (all spatial axes) or one flag per axis: the field is exactly periodic with
            the box length on those axes (Fourier embedding with ``fourier_modes`` harmonics).
        fourier_modes: harmonics ``K`` of the periodic embedding.
        architecture: ``"mlp"`` (:class:`~physwm.nn.MLP`, orthogonal weights) or ``"modified"``
            (:class:`~physwm.nn.ModifiedMLP` of Wang, Teng & Perdikaris 2021, equal hidden widths).
        normalize_inputs: scale each non-periodic coordinate to ``[-1, 1]`` over the box (default), or
            feed it in its own units, as the SPINN reference code does (on Klein-Gordon, ``t`` in
            ``[0, 10]``, this trains markedly faster: ``docs/benchmarks.md``).

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
                 periodic: bool | Sequence[bool] = False, fourier_modes: int = 1, architecture: str = "mlp",
                 normalize_inputs: bool = True):
        super().__init__(domain, time, periodic, fourier_modes, normalize_inputs, architecture)
        self.out_dim = out_dim
        self.net = self._network(sum(self.inputs.width(a) for a in range(self.inputs.n_axes)), out_dim, hidden,
                                 activation_name)

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
        architecture: each axis' network, ``"mlp"`` or ``"modified"``, as for :class:`PINN`; the SPINN
            reference code uses ``"modified"``.
        normalize_inputs: as for :class:`PINN`.

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
                 periodic: bool | Sequence[bool] = False, fourier_modes: int = 1, architecture: str = "mlp",
                 normalize_inputs: bool = True):
        positive_int("rank", rank)
        super().__init__(domain, time, periodic, fourier_modes, normalize_inputs, architecture)
        self.out_dim, self.rank = out_dim, rank
        self.nets = nn.ModuleList(self._network(self.inputs.width(a), rank * out_dim, hidden, activation_name)
                                  for a in range(self.inputs.n_axes))

    def _check_axes(self, axes: Sequence[Tensor]) -> list[Tensor]:
        n = self.inputs.n_axes
        want = f"a list of {n} 1-D coordinate tensors (space axes, then time)"
        if isinstance(axes, (Tensor, str, bytes)) or not isinstance(axes, Sequence):
            raise ArgumentTypeError(f"`axes` must be {want}, got {describe(axes)}")
        if len(axes) != n:
            raise ArgumentValueError(f"`axes` must be {want}, got {type(axes).__name__} of length {len(axes)}")
        for a, c in enumerate(axes):
            model_input(f"axes[{a}]", c, self, shape=(-1,))
            if c.numel() == 0:
                raise ArgumentValueError(f"`axes[{a}]` must be a non-empty 1-D floating tensor, got shape {tuple(c.shape)}")
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
                raise ArgumentValueError(f"each multi-index in `orders` must hold {self.inputs.n_axes} non-negative ints, "
                                         f"got {o!r}")
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


class ConservativePINN(nn.Module):
    r"""Base of the conservation-corrected fields: a physics-informed field whose output satisfies a
    conservation law to round-off (:class:`LerayPINN`, :class:`StreamFunctionPINN`, :class:`IntegralPINN`).

    Each wraps a field model (:class:`PINN` or :class:`SeparablePINN`, any
    :class:`~physwm._typing.Field`) and is itself a :class:`~physwm._typing.Field`: :meth:`predict`
    (= ``forward``) evaluates the corrected field at scattered points, :meth:`field` on the periodic grid
    ``x = lower + j L / n`` of the box.

    Shapes:
        ``forward(x, t)``: ``x (*points, d)``, ``t (*points,)`` -> ``(*points, m)`` (or ``(*points,)`` for a
        scalar); ``field(t, n)``: ``t (T,)`` -> ``(T, d, n_1, ..., n_d)`` (velocity) or ``(T, n_1, ..., n_d)``.
    """

    def __init__(self, model: nn.Module, out_dim: int, *, periodic: bool):
        super().__init__()
        if not isinstance(model, Field):
            raise ArgumentTypeError(f"`model` must be a field (a PINN or SeparablePINN: predict(x, t), domain, time, "
                                    f"out_dim), got {type(model).__name__}")
        d = model.domain.dim
        if d not in (2, 3):
            raise ArgumentValueError(f"{type(self).__name__} needs a 2-D or 3-D domain, got {d}-D")
        inputs = getattr(model, "inputs", None)
        if periodic and (inputs is None or not all(inputs.periodic[:d])):
            raise ArgumentValueError(f"{type(self).__name__} projects on a periodic grid: build the model with "
                                     "periodic=True (for walls use StreamFunctionPINN)")
        self.model, self.out_dim = model, out_dim

    @property
    def domain(self) -> Box:
        return self.model.domain

    @property
    def time(self) -> tuple[float, float] | None:
        return self.model.time

    def grid_points(self, t: Tensor, n: int | Sequence[int]) -> tuple[Tensor, Tensor | None, tuple[int, ...]]:
        """The periodic grid at times ``t``: ``x (T, n_1, ..., n_d, d)``, ``t (T, n_1, ..., n_d)`` and the grid shape."""
        axes = self.domain.grid(n, endpoint=False, dtype=t.dtype, device=t.device)
        shape = tuple(c.numel() for c in axes)
        x = torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=-1)
        x = x.expand(t.numel(), *x.shape).contiguous()
        tt = t.reshape(-1, *([1] * len(shape))).expand(t.numel(), *shape) if self.time is not None else None
        return x, tt, shape

    def _times(self, t: Tensor) -> Tensor:
        if not isinstance(t, Tensor) or t.dim() != 1:
            raise ArgumentValueError(f"`t` must be a 1-D tensor of times, got {describe(t)}")
        return t

    def field(self, t: Tensor, n: int | Sequence[int] | None = None) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def forward(self, x: Tensor, t: Tensor | None = None) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def predict(self, x: Tensor, t: Tensor | None = None) -> Tensor:
        """The corrected field at scattered points (the :class:`~physwm._typing.Field` protocol)."""
        return self(x, t)

    def _per_time(self, x: Tensor, t: Tensor | None, at_grid: Callable[[Tensor, Tensor], Tensor]) -> Tensor:
        """Evaluate ``at_grid(times, points)`` for the points of each distinct time: ``x (*points, d)`` -> ``(*points, ...)``."""
        _check_points(x, t, self.domain.dim, self.time is not None, self)
        flat_x = x.reshape(-1, x.shape[-1])
        if t is None:
            return at_grid(torch.zeros(1, dtype=x.dtype, device=x.device), flat_x.unsqueeze(0))[0].reshape(
                *x.shape[:-1], *self._value_shape())
        times, index = torch.unique(t.reshape(-1), return_inverse=True)
        out = flat_x.new_zeros(flat_x.shape[0], *self._value_shape())
        for k in range(times.numel()):  # one grid evaluation per distinct time
            sel = (index == k).nonzero().flatten()
            out[sel] = at_grid(times[k: k + 1], flat_x[sel].unsqueeze(0))[0]
        return out.reshape(*x.shape[:-1], *self._value_shape())

    def _value_shape(self) -> tuple[int, ...]:
        return () if self.out_dim == 1 else (self.out_dim,)


class LerayPINN(ConservativePINN):
    r"""A velocity field made divergence-free by the Leray projection on a periodic box.

    The model's velocity :math:`u_\theta` (its first ``d`` outputs; further ones, such as a pressure,
    are dropped) on the periodic ``grid`` is replaced by its Leray projection

    .. math:: u \leftarrow u_\theta + \nabla\phi, \qquad \nabla^2\phi = -\nabla\cdot u_\theta,

    solved by FFT (:func:`physwm.pde.leray_project`): mass conservation :math:`\nabla\cdot u = 0` holds
    to round-off, and since the projection is orthogonal and a divergence-free solution is its own
    projection, the projected field is never farther from it in :math:`L^2` than the raw one. At
    scattered points (:meth:`forward`) the projected grid field is evaluated by its band-limited Fourier
    series (:func:`physwm.pde.fourier_interpolate`), divergence-free at every point; this costs one grid
    evaluation of the network per distinct time in ``t``.

    Args:
        model: a periodic :class:`PINN` or :class:`SeparablePINN` with ``out_dim >= d``.
        grid: points per axis of the projection grid used by :meth:`forward` (and by :meth:`field` when
            no ``n`` is given).

    Raises:
        ValueError: a model that is not periodic, has fewer than ``d`` outputs, or a non-2-D/3-D domain.

    Example:
        >>> from physwm.pde import Box, divergence
        >>> box = Box([0.0, 0.0], [2 * math.pi, 2 * math.pi])
        >>> flow = LerayPINN(PINN(box, (0.0, 1.0), out_dim=2, periodic=True).double(), grid=32)
        >>> u = flow.field(torch.tensor([0.0, 0.5], dtype=torch.float64))
        >>> bool(divergence(u, dim=2).abs().max() < 1e-10)
        True
    """

    def __init__(self, model: nn.Module, *, grid: int | Sequence[int] = 64):
        d = model.domain.dim if isinstance(model, Field) else 0
        super().__init__(model, d, periodic=True)
        if model.out_dim < d:
            raise ArgumentValueError(f"LerayPINN in {d}-D needs a model with out_dim >= {d} (the velocity), got "
                                     f"{model.out_dim}")
        self.grid = grid

    def _raw(self, t: Tensor, n) -> Tensor:
        x, tt, _ = self.grid_points(t, n)
        return self.model.predict(x, tt)[..., : self.domain.dim].movedim(-1, 1)

    def field(self, t: Tensor, n: int | Sequence[int] | None = None) -> Tensor:
        """The projected velocity on the periodic grid at times ``t``: ``(T, d, n_1, ..., n_d)``."""
        u = self._raw(self._times(t), self.grid if n is None else n)
        return leray_project(u, dim=self.domain.dim, lengths=self.domain.lengths)

    def forward(self, x: Tensor, t: Tensor | None = None) -> Tensor:
        """The projected velocity at points ``x (*points, d)``, ``t (*points,)`` -> ``(*points, d)``."""
        def at_grid(times: Tensor, pts: Tensor) -> Tensor:
            u = self.field(times)  # (1, d, n, ..., n)
            return fourier_interpolate(u[0], pts[0], dim=self.domain.dim, lengths=self.domain.lengths,
                                       lower=self.domain.lower).movedim(0, -1).unsqueeze(0)

        return self._per_time(x, t, at_grid)

    @torch.no_grad()
    def divergence_error(self, t: Tensor, n: int | Sequence[int] | None = None) -> tuple[float, float]:
        """Max spectral divergence of the raw and of the projected velocity on the grid."""
        n = self.grid if n is None else n
        raw = self._raw(self._times(t), n)
        d, lengths = self.domain.dim, self.domain.lengths
        before = spectral_divergence(raw, dim=d, lengths=lengths).abs().max()
        after = spectral_divergence(leray_project(raw, dim=d, lengths=lengths), dim=d, lengths=lengths).abs().max()
        return float(before), float(after)


class StreamFunctionPINN(ConservativePINN):
    r"""A velocity field that is divergence-free at every point: the curl of a learned potential.

    The model predicts a stream function :math:`\psi` (2-D, ``out_dim = 1``) or a vector potential
    :math:`A` (3-D, ``out_dim = 3``) and the velocity is :math:`u = (\partial_y\psi, -\partial_x\psi)` or
    :math:`u = \nabla\times A`, identically divergence-free on any domain (the documented alternative
    to :class:`LerayPINN` for walls), by reverse-mode derivatives at the points.

    Args:
        model: a :class:`PINN` or :class:`SeparablePINN` with ``out_dim`` 1 (2-D) or 3 (3-D).

    Raises:
        ValueError: a model with the wrong ``out_dim`` or a non-2-D/3-D domain.

    Example:
        >>> from physwm.pde import Box
        >>> flow = StreamFunctionPINN(PINN(Box([0.0, 0.0], [1.0, 1.0]), (0.0, 1.0), hidden=(16,)))
        >>> flow(torch.rand(4, 2), torch.rand(4)).shape
        torch.Size([4, 2])
    """

    def __init__(self, model: nn.Module):
        d = model.domain.dim if isinstance(model, Field) else 0
        super().__init__(model, d, periodic=False)
        need = 1 if d == 2 else 3
        if model.out_dim != need:
            raise ArgumentValueError(f"StreamFunctionPINN in {d}-D needs a model with out_dim={need} (the potential), "
                                     f"got {model.out_dim}")

    def forward(self, x: Tensor, t: Tensor | None = None) -> Tensor:
        """Divergence-free velocity at points ``x (*points, d)`` -> ``(*points, d)``."""
        _check_points(x, t, self.model.domain.dim, self.model.time is not None, self)
        with torch.enable_grad():
            x = x if x.requires_grad else x.detach().requires_grad_()
            potential = self.model.predict(x, t)
            if x.shape[-1] == 2:
                return torch.stack([ad.partial(potential, x, 1), -ad.partial(potential, x, 0)], dim=-1)
            dA = [ad.partial(potential, x, a) for a in range(3)]  # dA[a][..., i] = d A_i / d x_a
            return torch.stack([dA[1][..., 2] - dA[2][..., 1], dA[2][..., 0] - dA[0][..., 2],
                                dA[0][..., 1] - dA[1][..., 0]], dim=-1)

    def field(self, t: Tensor, n: int | Sequence[int] | None = None) -> Tensor:
        """The velocity on the periodic grid of ``n`` points per axis (default 64): ``(T, d, n_1, ..., n_d)``."""
        x, tt, _ = self.grid_points(self._times(t), 64 if n is None else n)
        return self(x, tt).movedim(-1, 1)


class IntegralPINN(ConservativePINN):
    r"""A scalar field whose total :math:`\int u\,dx = Q(t)` holds to round-off, on a periodic box.

    At each time the model's field is shifted by the smallest constant that gives the prescribed total
    (:func:`physwm.pde.project_integral`, rectangle rule on the periodic grid, spectrally accurate):
    :math:`u = u_\theta + (Q(t) - \int u_\theta\,dx)/|\Omega|`. Use it for the heat of a periodic or
    insulated body.

    Args:
        model: a periodic :class:`PINN` or :class:`SeparablePINN` with ``out_dim = 1``.
        total: :math:`Q`, a number or a function ``total(t) -> (T,)``.
        grid: points per axis of the quadrature grid.

    Raises:
        ValueError: a model that is not periodic or not scalar.

    Example:
        >>> from physwm.pde import Box
        >>> box = Box([0.0, 0.0], [1.0, 1.0])
        >>> heat = IntegralPINN(PINN(box, (0.0, 1.0), periodic=True).double(), total=2.0, grid=16)
        >>> u = heat.field(torch.tensor([0.0, 1.0], dtype=torch.float64))
        >>> torch.allclose(u.mean((-2, -1)), torch.full((2,), 2.0, dtype=torch.float64))
        True
    """

    def __init__(self, model: nn.Module, total: float | Callable[[Tensor], Tensor], *, grid: int | Sequence[int] = 64):
        super().__init__(model, 1, periodic=True)
        if model.out_dim != 1:
            raise ArgumentValueError(f"IntegralPINN needs a scalar model (out_dim=1), got out_dim={model.out_dim}")
        if total is None:
            raise ArgumentValueError("IntegralPINN needs the conserved `total` (a number or total(t))")
        self.total, self.grid = total, grid

    def _shift(self, t: Tensor, n) -> tuple[Tensor, Tensor]:
        """Raw grid values ``(T, *grid)`` and the constant shift ``(T,)`` that gives each time its total."""
        x, tt, shape = self.grid_points(t, n)
        u = self.model.predict(x, tt)
        q = self.total(t) if callable(self.total) else self.total
        d = self.domain.dim
        shifted = project_integral(u, q, weights=self.domain.volume / math.prod(shape), dims=tuple(range(-d, 0)))
        return u, (shifted - u).flatten(1)[:, 0]

    def field(self, t: Tensor, n: int | Sequence[int] | None = None) -> Tensor:
        """The corrected field on the periodic grid at times ``t``: ``(T, n_1, ..., n_d)``."""
        u, shift = self._shift(self._times(t), self.grid if n is None else n)
        return u + shift.reshape(-1, *([1] * (u.dim() - 1)))

    def forward(self, x: Tensor, t: Tensor | None = None) -> Tensor:
        """The corrected field at points ``x (*points, d)``, ``t (*points,)`` -> ``(*points,)``."""
        def at_grid(times: Tensor, pts: Tensor) -> Tensor:
            _, shift = self._shift(times, self.grid)
            tt = None if self.time is None else times.expand(pts.shape[:-1])
            return self.model.predict(pts, tt) + shift.reshape(-1, 1)

        return self._per_time(x, t, at_grid)
