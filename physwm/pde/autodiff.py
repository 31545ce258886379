r"""Derivatives of a network field at collocation points, for writing PDE residuals as plain functions.

A PINN residual is written the way the PDE reads (DeepXDE style)::

    from physwm.pde import autodiff as ad

    def heat(u, x, t):                      # u_t = alpha (u_xx + u_yy)
        return ad.partial(u, t) - alpha * ad.laplacian(u, x)

with ``u = model(x, t)`` evaluated at points ``x`` of shape ``(*points, d)`` and times ``t`` of shape
``(*points,)``. For a :class:`~physwm.models.PINN` the helpers differentiate by reverse mode
(:func:`torch.autograd.grad` with ``create_graph=True``, so the residual can itself be trained). Each
point's value must depend on that point's coordinates only (true of any pointwise network), since the
derivative of ``u.sum()`` is taken.

The same residual function runs unchanged on a :class:`~physwm.models.SeparablePINN` (SPINN): there
``u``, ``x`` and ``t`` are grid tensors tagged with the model's separable structure, and the helpers take
the derivative along one axis by forward mode (:func:`torch.func.jvp`) on that axis' 1-D network only
(Cho et al., *Separable Physics-Informed Neural Networks*, NeurIPS 2023). Arithmetic on tagged tensors
returns plain tensors, so ``u**3`` or ``x[..., 0]`` behave as usual.

Output conventions: a scalar field has ``u.shape == x.shape[:-1]``; a vector field
``u.shape == (*x.shape[:-1], m)``, and every derivative has the shape of ``u``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import torch
from torch import Tensor

from physwm._errors import ArgumentTypeError, ArgumentValueError
from physwm._validate import integer

__all__ = ["partial", "grad", "laplacian", "divergence", "SeparableContext", "SeparableValue", "SeparableCoordinates"]


class SeparableContext(Protocol):
    """What a separable model provides to the helpers: the field's derivative of a given multi-index."""

    def derivative(self, orders: tuple[int, ...]) -> Tensor:
        """:math:`\\partial^{|\\alpha|} u / \\partial z_1^{\\alpha_1} \\cdots \\partial z_n^{\\alpha_n}` on the grid."""


class _SeparableTensor(Tensor):
    """A grid tensor tagged with the separable model call it came from; arithmetic returns plain tensors."""

    __torch_function__ = torch._C._disabled_torch_function_impl

    @classmethod
    def tag(cls, value: Tensor, context: SeparableContext, index: tuple[int, ...]):
        out = value.as_subclass(cls)
        out._context, out._index = context, index
        return out


class SeparableValue(_SeparableTensor):
    """A grid value of a separable field or of one of its derivatives.

    :meth:`tag` sets ``_context`` (a :class:`SeparableContext`) and ``_index``, the multi-index of the
    derivative it holds (one order per model axis).
    """


class SeparableCoordinates(_SeparableTensor):
    """Grid coordinates of a separable field, ``(*grid, k)`` (or ``(*grid,)`` for one axis).

    :meth:`tag` sets ``_context`` and ``_index``, the model axes of the ``k`` coordinates.
    """


def _check(u: Tensor, x: Tensor) -> None:
    for name, v in (("u", u), ("x", x)):
        if not isinstance(v, Tensor):
            raise ArgumentTypeError(f"`{name}` must be a torch.Tensor, got {type(v).__name__}")


def _scalar_coordinate(u: Tensor, x: Tensor) -> bool:
    """Whether ``x`` has one coordinate per point (shape of the points) rather than a trailing axis."""
    return x.shape == u.shape or (x.shape == u.shape[:-1] and u.dim() > x.dim())


def _components(u: Tensor, x: Tensor, scalar_x: bool) -> int | None:
    """``None`` for a scalar field, else the number of components ``m`` of a vector field."""
    points = x.shape if scalar_x else x.shape[:-1]
    if u.shape == points:
        return None
    if u.shape[:-1] == points:
        return u.shape[-1]
    layout = "(*points,)" if scalar_x else "(*points, d)"
    raise ArgumentValueError(f"`u` must have shape (*points,) or (*points, m) for coordinates `x` of shape {layout}; "
                     f"got u {tuple(u.shape)} and x {tuple(x.shape)}")


def _reverse_partial(u: Tensor, x: Tensor, axis: int | None) -> Tensor:
    if not x.requires_grad:
        raise ArgumentValueError("`x` must require grad and `u` be computed from it (use model.collocation(x, t), "
                         "or x.requires_grad_() before evaluating the model)")
    scalar_x = axis is None
    m = _components(u, x, scalar_x)
    outs = []
    for c in ([None] if m is None else range(m)):
        uc = u if c is None else u[..., c]
        if not uc.requires_grad:  # u does not depend on anything differentiable: its derivative is zero
            outs.append(torch.zeros_like(uc))
            continue
        (g,) = torch.autograd.grad(uc.sum(), x, create_graph=True, allow_unused=True)
        g = torch.zeros_like(x) if g is None else g
        outs.append(g if scalar_x else g[..., axis])
    return outs[0] if m is None else torch.stack(outs, dim=-1)


def partial(u: Tensor, x: Tensor, axis: int | None = None, order: int = 1) -> Tensor:
    r"""The partial derivative :math:`\partial^k u / \partial x_a^k` at every collocation point.

    Args:
        u: field values, ``(*points,)`` or ``(*points, m)``.
        x: the coordinates ``u`` was computed from: ``(*points, d)`` with ``axis`` in ``[0, d)``, or a
            single coordinate per point ``(*points,)`` (such as time ``t``) with ``axis=None``.
        axis: which coordinate of ``x``; ``None`` when ``x`` holds one coordinate per point.
        order: derivative order ``k >= 1`` (``0`` returns ``u``).

    Shapes:
        returns the shape of ``u``.

    Raises:
        ValueError: ``axis`` out of range or missing, negative ``order``, shapes that do not match,
            ``x`` not requiring grad, or a separable field paired with coordinates of another model.
        TypeError: non-tensor input.

    Example:
        >>> x = torch.linspace(0, 1, 5, dtype=torch.float64).reshape(5, 1).requires_grad_()
        >>> u = torch.sin(x[..., 0])
        >>> torch.allclose(partial(u, x, 0, order=2), -u)
        True
    """
    _check(u, x)
    integer("order", order, minimum=0)
    scalar_x = _scalar_coordinate(u, x) if axis is None else False
    if axis is None and not scalar_x:
        raise ArgumentValueError(f"`axis` is required when `x` has a trailing coordinate axis (x {tuple(x.shape)}, "
                         f"u {tuple(u.shape)}); pass axis=None only for one coordinate per point, such as t")
    if axis is not None:
        integer("axis", axis, minimum=0, maximum=x.shape[-1] - 1)
    if order == 0:
        return u
    if isinstance(u, SeparableValue) or isinstance(x, SeparableCoordinates):
        if not (isinstance(u, SeparableValue) and isinstance(x, SeparableCoordinates)) or u._context is not x._context:
            raise ArgumentValueError("a separable field must be differentiated with respect to the coordinates of the same "
                             "model call (the u, x, t that SeparablePINN.collocation returned)")
        orders = list(u._index)
        orders[x._index[0 if axis is None else axis]] += order
        return SeparableValue.tag(u._context.derivative(tuple(orders)), u._context, tuple(orders))
    for _ in range(order):
        u = _reverse_partial(u, x, axis)
    return u


def grad(u: Tensor, x: Tensor) -> Tensor:
    r"""The spatial gradient :math:`\nabla u`, shape ``(*points, d)`` for a scalar field.

    Raises:
        ValueError: ``u`` is not a scalar field of the points of ``x``.
    """
    _check(u, x)
    if u.shape != x.shape[:-1]:
        raise ArgumentValueError(f"`grad` needs a scalar field u of shape {tuple(x.shape[:-1])}, got {tuple(u.shape)}")
    return torch.stack([partial(u, x, a) for a in range(x.shape[-1])], dim=-1)


def laplacian(u: Tensor, x: Tensor, axes: Sequence[int] | None = None) -> Tensor:
    r"""The Laplacian :math:`\sum_a \partial^2 u / \partial x_a^2` over ``axes`` (default: all of ``x``).

    Shapes:
        returns the shape of ``u`` (componentwise for a vector field).
    """
    _check(u, x)
    axes = range(x.shape[-1]) if axes is None else axes
    return sum(partial(u, x, a, order=2) for a in axes)


def divergence(u: Tensor, x: Tensor) -> Tensor:
    r"""The divergence :math:`\nabla\cdot u = \sum_a \partial u_a / \partial x_a` of a vector field.

    Raises:
        ValueError: ``u`` is not a ``(*points, d)`` vector field of the points of ``x``.
    """
    _check(u, x)
    if u.shape != x.shape:
        raise ArgumentValueError(f"`divergence` needs a vector field u of shape {tuple(x.shape)} (one component per axis), "
                         f"got {tuple(u.shape)}")
    return sum(partial(u, x, a)[..., a] for a in range(x.shape[-1]))
