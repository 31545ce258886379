r"""Spectral (FFT) differential operators on periodic grids in 2-D and 3-D.

Fields live on a uniform periodic grid of ``n_1 x ... x n_d`` points covering a box of side
lengths ``L_1, ..., L_d`` (default ``2π``), point ``j`` of axis ``a`` at ``x = j L_a / n_a``:

- a *scalar field* has shape ``(*batch, n_1, ..., n_d)``;
- a *vector field* has shape ``(*batch, d, n_1, ..., n_d)`` (components first).

Derivatives are exact for every resolved Fourier mode (spectral accuracy). For an even ``n_a`` the
Nyquist mode ``k = n_a/2`` has no well-defined odd derivative on a real field; it is set to zero in
first derivatives (gradient, divergence, projection), the usual convention (Trefethen, *Spectral
Methods in MATLAB*, ch. 3), and kept in the Laplacian. All functions are batched, work on CPU and CUDA
in float32 and float64, and are differentiable (``torch.fft``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

from physwm._errors import ArgumentTypeError, ArgumentValueError

__all__ = ["wavenumbers", "gradient", "divergence", "laplacian", "poisson_solve", "leray_project", "grid",
           "fourier_interpolate", "project_integral"]

Lengths = float | Sequence[float]


def _check_dim(dim: int) -> int:
    if dim not in (2, 3) or isinstance(dim, bool):
        raise ArgumentValueError(f"`dim` must be 2 or 3 (spatial dimensions), got {dim!r}")
    return dim


def _lengths(lengths: Lengths, dim: int) -> tuple[float, ...]:
    if isinstance(lengths, (int, float)) and not isinstance(lengths, bool):
        out = (float(lengths),) * dim
    else:
        out = tuple(float(v) for v in lengths)
        if len(out) != dim:
            raise ArgumentValueError(f"`lengths` must give one box length per axis ({dim}), got {len(out)}: {list(out)}")
    if not all(v > 0 and math.isfinite(v) for v in out):
        raise ArgumentValueError(f"`lengths` must be positive and finite, got {list(out)}")
    return out


def _check_field(name: str, f: Tensor, dim: int, vector: bool) -> Tensor:
    if not isinstance(f, Tensor):
        raise ArgumentTypeError(f"`{name}` must be a torch.Tensor, got {type(f).__name__}")
    if not f.is_floating_point():
        raise ArgumentTypeError(f"`{name}` must have a real floating dtype, got {f.dtype}")
    need = dim + int(vector)
    if f.dim() < need:
        layout = f"(*batch, {dim}, n_1, ..., n_{dim})" if vector else f"(*batch, n_1, ..., n_{dim})"
        raise ArgumentValueError(f"`{name}` must have shape {layout}, got {tuple(f.shape)}")
    if vector and f.shape[-dim - 1] != dim:
        raise ArgumentValueError(f"`{name}` must be a vector field (*batch, {dim}, n_1, ..., n_{dim}) with {dim} components, "
                         f"got {f.shape[-dim - 1]} components in shape {tuple(f.shape)}")
    if any(n < 2 for n in f.shape[-dim:]):
        raise ArgumentValueError(f"`{name}` needs at least 2 grid points per axis, got grid {tuple(f.shape[-dim:])}")
    return f


def wavenumbers(shape: Sequence[int], lengths: Lengths = 2 * math.pi, *, dtype: torch.dtype = torch.float64,
                device: torch.device | str | None = None, zero_nyquist: bool = False) -> list[Tensor]:
    r"""Angular wavenumbers :math:`k_a = 2\pi m / L_a` of the real FFT of a grid of ``shape``.

    Returns one tensor per axis, shaped to broadcast against ``torch.fft.rfftn`` output: axis ``a``
    has ``n_a`` entries (``n_d // 2 + 1`` for the last, halved axis) and size 1 elsewhere.

    Args:
        shape: grid sizes ``(n_1, ..., n_d)``, ``d`` = 2 or 3.
        lengths: box side lengths (a number for a cube).
        dtype: real dtype of the result.
        device: device of the result.
        zero_nyquist: set the Nyquist wavenumber of even axes to 0 (for odd derivatives).

    Raises:
        ValueError: bad ``shape`` or ``lengths``.

    Example:
        >>> kx, ky = wavenumbers((8, 6))
        >>> tuple(kx.shape), tuple(ky.shape)
        ((8, 1), (1, 4))
    """
    shape = tuple(int(n) for n in shape)
    dim = _check_dim(len(shape))
    if any(n < 2 for n in shape):
        raise ArgumentValueError(f"`shape` needs at least 2 points per axis, got {shape}")
    lens = _lengths(lengths, dim)
    ks = []
    for a, (n, length) in enumerate(zip(shape, lens)):
        last = a == dim - 1
        m = torch.fft.rfftfreq(n, d=1.0 / n, dtype=dtype, device=device) if last else \
            torch.fft.fftfreq(n, d=1.0 / n, dtype=dtype, device=device)
        if zero_nyquist and n % 2 == 0:
            m = torch.where(m.abs() == n // 2, torch.zeros_like(m), m)
        view = [1] * dim
        view[a] = m.numel()
        ks.append((2 * math.pi / length * m).reshape(view))
    return ks


def grid(shape: Sequence[int], lengths: Lengths = 2 * math.pi, *, dtype: torch.dtype = torch.float64,
         device: torch.device | str | None = None) -> list[Tensor]:
    """Coordinates ``x_a = j L_a / n_a`` of the periodic grid, as ``torch.meshgrid(..., indexing="ij")``.

    Example:
        >>> x, y = grid((4, 4))
        >>> x.shape
        torch.Size([4, 4])
    """
    shape = tuple(int(n) for n in shape)
    lens = _lengths(lengths, _check_dim(len(shape)))
    axes = [torch.arange(n, dtype=dtype, device=device) * (length / n) for n, length in zip(shape, lens)]
    return list(torch.meshgrid(*axes, indexing="ij"))


def _spectral(f: Tensor, dim: int, lengths: Lengths, zero_nyquist: bool) -> tuple[Tensor, list[Tensor], tuple[int, ...]]:
    shape = tuple(f.shape[-dim:])
    ks = wavenumbers(shape, lengths, dtype=f.dtype, device=f.device, zero_nyquist=zero_nyquist)
    return torch.fft.rfftn(f, dim=tuple(range(-dim, 0))), ks, shape


def _inverse(fh: Tensor, shape: tuple[int, ...]) -> Tensor:
    return torch.fft.irfftn(fh, s=shape, dim=tuple(range(-len(shape), 0)))


def gradient(f: Tensor, *, dim: int, lengths: Lengths = 2 * math.pi) -> Tensor:
    r"""Spectral gradient :math:`\nabla f`, :math:`\widehat{\partial_a f} = i k_a \hat f`.

    Args:
        f: scalar field ``(*batch, n_1, ..., n_d)``.
        dim: number of spatial dimensions ``d`` (2 or 3).
        lengths: box side lengths.

    Shapes:
        ``(*batch, n_1, ..., n_d)`` -> ``(*batch, d, n_1, ..., n_d)``.

    Raises:
        ValueError: bad shape, ``dim`` or ``lengths``.
        TypeError: a non-tensor or non-floating field.

    Example:
        >>> x, y = grid((16, 16))
        >>> g = gradient(torch.sin(x), dim=2)
        >>> bool((g[0] - torch.cos(x)).abs().max() < 1e-12)
        True
    """
    f = _check_field("f", f, _check_dim(dim), vector=False)
    fh, ks, shape = _spectral(f, dim, lengths, zero_nyquist=True)
    return torch.stack([_inverse(1j * k * fh, shape) for k in ks], dim=-dim - 1)


def divergence(u: Tensor, *, dim: int, lengths: Lengths = 2 * math.pi) -> Tensor:
    r"""Spectral divergence :math:`\nabla\cdot u`, :math:`\widehat{\nabla\cdot u} = i k \cdot \hat u`.

    Args:
        u: vector field ``(*batch, d, n_1, ..., n_d)``.
        dim: number of spatial dimensions ``d``.
        lengths: box side lengths.

    Shapes:
        ``(*batch, d, n_1, ..., n_d)`` -> ``(*batch, n_1, ..., n_d)``.

    Raises:
        ValueError: bad shape (not ``d`` components), ``dim`` or ``lengths``.
        TypeError: a non-tensor or non-floating field.
    """
    u = _check_field("u", u, _check_dim(dim), vector=True)
    uh, ks, shape = _spectral(u, dim, lengths, zero_nyquist=True)
    return _inverse(sum(1j * k * uh.select(-dim - 1, a) for a, k in enumerate(ks)), shape)


def laplacian(f: Tensor, *, dim: int, lengths: Lengths = 2 * math.pi) -> Tensor:
    r"""Spectral Laplacian :math:`\nabla^2 f`, :math:`\widehat{\nabla^2 f} = -|k|^2 \hat f`.

    Applies to scalar fields, or componentwise to any leading dimensions.

    Shapes:
        ``(*batch, n_1, ..., n_d)`` -> same.

    Raises:
        ValueError: bad shape, ``dim`` or ``lengths``.
        TypeError: a non-tensor or non-floating field.
    """
    f = _check_field("f", f, _check_dim(dim), vector=False)
    fh, ks, shape = _spectral(f, dim, lengths, zero_nyquist=False)
    return _inverse(-sum(k**2 for k in ks) * fh, shape)


def poisson_solve(rhs: Tensor, *, dim: int, lengths: Lengths = 2 * math.pi, subtract_mean: bool = False) -> Tensor:
    r"""Solve :math:`\nabla^2 \phi = \rho` on the periodic box, in the zero-mean gauge.

    :math:`\hat\phi(k) = -\hat\rho(k) / |k|^2` for :math:`k \ne 0`; the :math:`k = 0` mode is set
    explicitly to 0 (the solution is unique up to a constant, fixed by :math:`\int\phi = 0`). A
    periodic solution exists only if :math:`\int\rho = 0`; a right-hand side with a mean larger than
    round-off is an error unless ``subtract_mean`` solves for :math:`\rho - \bar\rho` instead.

    Args:
        rhs: scalar field :math:`\rho` ``(*batch, n_1, ..., n_d)``.
        dim: number of spatial dimensions ``d``.
        lengths: box side lengths.
        subtract_mean: remove the mean of ``rhs`` instead of raising.

    Shapes:
        ``(*batch, n_1, ..., n_d)`` -> same.

    Raises:
        ValueError: bad shape, ``dim`` or ``lengths``; a right-hand side with non-zero mean.
        TypeError: a non-tensor or non-floating field.

    Example:
        >>> x, y = grid((32, 32))
        >>> phi = poisson_solve(-2 * torch.sin(x) * torch.sin(y), dim=2)
        >>> bool((phi - torch.sin(x) * torch.sin(y)).abs().max() < 1e-13)
        True
    """
    rhs = _check_field("rhs", rhs, _check_dim(dim), vector=False)
    fh, ks, shape = _spectral(rhs, dim, lengths, zero_nyquist=False)
    if not subtract_mean:
        spatial = tuple(range(-dim, 0))
        mean = rhs.detach().mean(spatial).abs()
        scale = rhs.detach().abs().amax(spatial).clamp_min(torch.finfo(rhs.dtype).tiny)
        worst = float((mean / scale).max()) if mean.numel() else 0.0
        if worst > 100 * torch.finfo(rhs.dtype).eps * math.prod(shape) ** 0.5:
            raise ArgumentValueError(f"`rhs` must have zero mean for a periodic solution to exist (mean/max = {worst:.2e}); "
                             "pass subtract_mean=True to solve for rhs - mean(rhs)")
    k2 = sum(k**2 for k in ks)
    inv = torch.where(k2 > 0, -1.0 / torch.where(k2 > 0, k2, torch.ones_like(k2)), torch.zeros_like(k2))
    return _inverse(inv * fh, shape)


def leray_project(u: Tensor, *, dim: int, lengths: Lengths = 2 * math.pi) -> Tensor:
    r"""Leray projection onto divergence-free fields: :math:`\hat u \leftarrow \hat u - k (k\cdot\hat u)/|k|^2`.

    Equivalent to :math:`u + \nabla\phi` with :math:`\nabla^2\phi = -\nabla\cdot u` (the Helmholtz-Hodge
    decomposition), done in one FFT pass. The result has zero spectral divergence to round-off, the
    projection is idempotent and orthogonal (in :math:`L^2`), and leaves divergence-free fields and the
    mean flow (:math:`k = 0`) unchanged. Nyquist modes of even axes follow the first-derivative
    convention of the module, so :func:`divergence` of the result vanishes; the identity with
    ``u + gradient(poisson_solve(-divergence(u)))`` is exact for fields without Nyquist content (at the
    Nyquist mode the Laplacian keeps :math:`-k^2` while first derivatives vanish).

    Args:
        u: vector field ``(*batch, d, n_1, ..., n_d)``.
        dim: number of spatial dimensions ``d``.
        lengths: box side lengths.

    Shapes:
        ``(*batch, d, n_1, ..., n_d)`` -> same.

    Raises:
        ValueError: bad shape, ``dim`` or ``lengths``.
        TypeError: a non-tensor or non-floating field.

    Example:
        >>> u = torch.randn(2, 64, 64, dtype=torch.float64)
        >>> bool(divergence(leray_project(u, dim=2), dim=2).abs().max() < 1e-12)
        True
    """
    u = _check_field("u", u, _check_dim(dim), vector=True)
    uh, ks, shape = _spectral(u, dim, lengths, zero_nyquist=True)
    k2 = sum(k**2 for k in ks)
    safe = torch.where(k2 > 0, k2, torch.ones_like(k2))
    k_dot_u = sum(k * uh.select(-dim - 1, a) for a, k in enumerate(ks)) / safe
    out = torch.stack([uh.select(-dim - 1, a) - k * k_dot_u for a, k in enumerate(ks)], dim=-dim - 1)
    return _inverse(out, shape)


def fourier_interpolate(f: Tensor, x: Tensor, *, dim: int, lengths: Lengths = 2 * math.pi,
                        lower: float | Sequence[float] = 0.0, chunk: int = 4096) -> Tensor:
    r"""Evaluate the band-limited trigonometric interpolant of periodic grid fields at scattered points.

    .. math:: f(x) = \frac{1}{N} \sum_{|m_a| < n_a/2} \hat f_m \, e^{i k_m \cdot (x - x_0)}, \qquad k_m = 2\pi m / L,

    the Fourier series of the grid values with the Nyquist modes of even axes left out (they have no
    well-defined derivative, as in the rest of this module). The result is a smooth periodic field
    whose derivatives are those of the series, so a field projected with :func:`leray_project` stays
    divergence-free at every point; at the grid points it reproduces the values up to their Nyquist
    component.

    Args:
        f: grid fields ``(*batch, n_1, ..., n_d)`` (leading dimensions, e.g. components, are kept).
        x: points ``(P, d)`` (the same for every batch entry) or ``(*batch, P, d)``.
        dim: number of spatial dimensions ``d`` (2 or 3).
        lengths: box side lengths.
        lower: the box's lower corner :math:`x_0` (the grid point ``j = 0``).
        chunk: points per evaluation block (memory ``chunk * n^(d-1)`` complex numbers).

    Shapes:
        returns ``(*batch, P)``.

    Raises:
        ValueError: bad shapes, ``dim`` or ``lengths``.

    Example:
        >>> xg, yg = grid((16, 16))
        >>> pts = torch.rand(5, 2, dtype=torch.float64) * 2 * math.pi
        >>> f = fourier_interpolate(torch.sin(xg) * torch.cos(2 * yg), pts, dim=2)
        >>> bool((f - torch.sin(pts[:, 0]) * torch.cos(2 * pts[:, 1])).abs().max() < 1e-12)
        True
    """
    f = _check_field("f", f, _check_dim(dim), vector=False)
    lens = _lengths(lengths, dim)
    x0 = [float(lower)] * dim if isinstance(lower, (int, float)) else [float(v) for v in lower]
    shape = tuple(f.shape[-dim:])
    batch = f.shape[:-dim]
    if not isinstance(x, Tensor) or x.dim() < 2 or x.shape[-1] != dim:
        raise ArgumentValueError(f"`x` must have shape (P, {dim}) or (*batch, P, {dim}), got "
                         f"{tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__}")
    x = x.to(f.dtype).expand(*batch, *x.shape[-2:])
    fh = torch.fft.fftn(f, dim=tuple(range(-dim, 0)))
    ms = [torch.fft.fftfreq(n, d=1.0 / n, dtype=f.dtype, device=f.device) for n in shape]
    for a, (n, m) in enumerate(zip(shape, ms)):
        if n % 2 == 0:
            keep = (m.abs() != n // 2).to(fh.dtype)
            view = [1] * dim
            view[a] = n
            fh = fh * keep.reshape(view)
    out = []
    for start in range(0, x.shape[-2], chunk):
        xc = x[..., start: start + chunk, :]
        g = fh.unsqueeze(-dim - 1)  # (*batch, 1, n_1, ..., n_d): the point axis broadcasts
        for a in reversed(range(dim)):  # contract the last grid axis with exp(i k_a (x_a - x0_a)), one at a time
            phase = torch.exp(1j * (2 * math.pi / lens[a]) * (xc[..., a: a + 1] - x0[a]) * ms[a])  # (*batch, p, n_a)
            g = (g * phase.reshape(*phase.shape[:-1], *([1] * a), shape[a])).sum(-1)
        out.append(g.real / math.prod(shape))
    return torch.cat(out, dim=-1)


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
        raise ArgumentValueError("`dims` must name at least one grid dimension")
    w = torch.as_tensor(weights, dtype=u.dtype, device=u.device) * torch.ones_like(u)
    wsum = w.sum(dims, keepdim=True)
    if not bool((wsum > 0).all()):
        raise ArgumentValueError("`weights` must have a positive sum")
    q = torch.as_tensor(total, dtype=u.dtype, device=u.device)
    q = q.reshape(*q.shape, *([1] * len(dims)))
    return u + (q - (w * u).sum(dims, keepdim=True)) / wsum
