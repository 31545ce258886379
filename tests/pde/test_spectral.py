"""Spectral operators on periodic grids: manufactured solutions, projection properties, gradients, errors."""

import math

import pytest
import torch

from physwm.pde import (
    divergence,
    fourier_interpolate,
    gradient,
    grid,
    laplacian,
    leray_project,
    poisson_solve,
    project_integral,
    wavenumbers,
)

F64 = torch.float64


def _field2(n=32, lengths=(2 * math.pi, 4 * math.pi)):
    x, y = grid((n, n), lengths)
    kx, ky = 2 * math.pi / lengths[0], 2 * math.pi / lengths[1]
    f = torch.sin(3 * kx * x) * torch.cos(2 * ky * y) + 0.5 * torch.cos(kx * x + 5 * ky * y)
    fx = 3 * kx * torch.cos(3 * kx * x) * torch.cos(2 * ky * y) - 0.5 * kx * torch.sin(kx * x + 5 * ky * y)
    fy = -2 * ky * torch.sin(3 * kx * x) * torch.sin(2 * ky * y) - 2.5 * ky * torch.sin(kx * x + 5 * ky * y)
    lap = -(9 * kx**2 + 4 * ky**2) * torch.sin(3 * kx * x) * torch.cos(2 * ky * y) \
        - 0.5 * (kx**2 + 25 * ky**2) * torch.cos(kx * x + 5 * ky * y)
    return f, torch.stack([fx, fy]), lap, lengths


def test_derivatives_of_trigonometric_fields_to_round_off_2d():
    f, grad, lap, L = _field2()
    assert (gradient(f, dim=2, lengths=L) - grad).abs().max() < 1e-12
    assert (laplacian(f, dim=2, lengths=L) - lap).abs().max() < 1e-11
    assert (divergence(grad, dim=2, lengths=L) - lap).abs().max() < 1e-11


def test_derivatives_3d_and_batched():
    x, y, z = grid((16, 12, 10), (1.0, 2.0, 3.0))
    f = torch.sin(2 * math.pi * x) * torch.cos(2 * math.pi * y / 2.0) * torch.sin(2 * math.pi * 2 * z / 3.0)
    fb = torch.stack([f, 2 * f])  # batch of 2
    g = gradient(fb, dim=3, lengths=(1.0, 2.0, 3.0))
    assert g.shape == (2, 3, 16, 12, 10)
    expect_x = 2 * math.pi * torch.cos(2 * math.pi * x) * torch.cos(math.pi * y) * torch.sin(4 * math.pi * z / 3)
    assert (g[1, 0] - 2 * expect_x).abs().max() < 1e-12
    k2 = (2 * math.pi) ** 2 + math.pi**2 + (4 * math.pi / 3) ** 2
    assert (laplacian(fb, dim=3, lengths=(1.0, 2.0, 3.0)) + k2 * fb).abs().max() < 1e-10


@pytest.mark.parametrize("dim,n", [(2, 64), (3, 16)])
def test_poisson_solves_manufactured_solutions_to_round_off(dim, n):
    xs = grid((n,) * dim)
    phi = torch.sin(xs[0]) * torch.cos(2 * xs[1]) + 0.3 * torch.cos(3 * xs[-1])
    phi = phi - phi.mean()
    rhs = laplacian(phi, dim=dim)
    assert (poisson_solve(rhs, dim=dim) - phi).abs().max() < 1e-13


def test_poisson_zero_mean_gauge_and_compatibility():
    x, y = grid((32, 32))
    with pytest.raises(ValueError, match="`rhs` must have zero mean"):
        poisson_solve(torch.sin(x) + 1.0, dim=2)
    phi = poisson_solve(torch.sin(x) + 1.0, dim=2, subtract_mean=True)
    assert abs(float(phi.mean())) < 1e-15
    assert (phi + torch.sin(x)).abs().max() < 1e-13


def test_leray_projection_at_256_squared():
    g = torch.Generator().manual_seed(0)
    u = torch.randn(3, 2, 256, 256, generator=g, dtype=F64)
    w = leray_project(u, dim=2)
    assert divergence(w, dim=2).abs().max() <= 1e-12
    assert (leray_project(w, dim=2) - w).abs().max() < 1e-13  # idempotent
    # the removed part is a gradient: u = w + grad(phi) with lap(phi) = div(u) (on a field without Nyquist
    # modes, where first derivatives vanish by convention while the Laplacian keeps -k^2)
    kx, ky = wavenumbers((256, 256), zero_nyquist=False)
    keep = (kx.abs() < 128) & (ky.abs() < 128)
    ub = torch.fft.irfftn(torch.fft.rfftn(u, dim=(-2, -1)) * keep, s=(256, 256), dim=(-2, -1))
    phi = poisson_solve(divergence(ub, dim=2), dim=2)
    assert (ub - leray_project(ub, dim=2) - gradient(phi, dim=2)).abs().max() < 1e-12
    # orthogonal: <w, u - w> = 0
    assert abs(float((w * (u - w)).sum())) < 1e-9 * float((u * u).sum())
    # mean flow kept
    assert (w.mean((-1, -2)) - u.mean((-1, -2))).abs().max() < 1e-14


def test_leray_leaves_divergence_free_fields_unchanged_3d():
    x, y, z = grid((16, 16, 16))
    # Taylor-Green-like, divergence-free: u = (sin x cos y cos z, -cos x sin y cos z, 0)
    u = torch.stack([torch.sin(x) * torch.cos(y) * torch.cos(z), -torch.cos(x) * torch.sin(y) * torch.cos(z),
                     torch.zeros_like(x)])
    assert divergence(u, dim=3).abs().max() < 1e-13
    assert (leray_project(u, dim=3) - u).abs().max() < 1e-14
    g = torch.Generator().manual_seed(1)
    r = torch.randn(3, 16, 16, 15, generator=g, dtype=F64)  # an odd axis too
    assert divergence(leray_project(r, dim=3), dim=3).abs().max() < 1e-12


def test_float32_is_accurate_to_its_round_off():
    u = torch.randn(2, 64, 64)
    w = leray_project(u, dim=2)
    assert w.dtype == torch.float32
    assert divergence(w, dim=2).abs().max() < 1e-4


def test_gradcheck_through_leray_project_and_poisson():
    u = torch.randn(2, 6, 5, dtype=F64, requires_grad=True)  # an even and an odd axis
    assert torch.autograd.gradcheck(lambda v: leray_project(v, dim=2), (u,))
    rho = torch.randn(6, 5, dtype=F64)
    rho = (rho - rho.mean()).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda r: poisson_solve(r, dim=2, subtract_mean=True), (rho,))


@pytest.mark.parametrize("n", [(16, 12), (15, 9)])
def test_fourier_interpolate_is_exact_for_band_limited_fields(n):
    lengths, lower = (2.0, 3.0), (-1.0, 0.5)
    x, y = grid(n, lengths)
    x, y = x + lower[0], y + lower[1]
    kx, ky = 2 * math.pi / lengths[0], 2 * math.pi / lengths[1]

    def f(a, b):
        return torch.sin(2 * kx * a) * torch.cos(3 * ky * b) + 0.3 * torch.cos(kx * a - ky * b) + 0.7

    g = torch.Generator().manual_seed(0)
    pts = torch.rand(50, 2, generator=g, dtype=F64) * torch.tensor(lengths, dtype=F64) + torch.tensor(lower, dtype=F64)
    pts.requires_grad_(True)
    fields = torch.stack([f(x, y), 2 * f(x, y)])  # a leading batch dimension is kept
    out = fourier_interpolate(fields, pts, dim=2, lengths=lengths, lower=lower, chunk=7)  # several chunks
    ref = f(pts[:, 0], pts[:, 1])
    assert out.shape == (2, 50)
    assert torch.allclose(out[0], ref, atol=1e-12) and torch.allclose(out[1], 2 * ref, atol=1e-12)
    # derivatives of the interpolant are those of the series: compare with the exact gradient
    (grad,) = torch.autograd.grad(out[0].sum(), pts)
    (exact,) = torch.autograd.grad(ref.sum(), pts)
    assert torch.allclose(grad, exact, atol=1e-11)


def test_fourier_interpolate_drops_only_the_nyquist_mode():
    n = 8
    x, y = grid((n, n))
    nyq = torch.cos(4 * x)  # the Nyquist mode of an 8-point axis: +1, -1, ... on the grid
    smooth = torch.sin(x) * torch.cos(3 * y)
    pts = torch.stack([x.flatten(), y.flatten()], -1)
    at_grid = fourier_interpolate(smooth + nyq, pts, dim=2).reshape(n, n)
    assert torch.allclose(at_grid, smooth, atol=1e-13)


def test_fourier_interpolate_errors():
    with pytest.raises(ValueError, match=r"`x` must have shape \(P, 2\)"):
        fourier_interpolate(torch.zeros(8, 8, dtype=F64), torch.zeros(5, 3, dtype=F64), dim=2)


def test_project_integral_is_the_smallest_shift_to_the_total():
    g = torch.Generator().manual_seed(0)
    v = torch.rand(5, 8, generator=g, dtype=F64)
    w = torch.rand(8, generator=g, dtype=F64)
    target = torch.arange(5, dtype=F64)
    p = project_integral(v, target, weights=w, dims=(-1,))
    assert torch.allclose((p * w).sum(-1), target, atol=1e-13)
    shift = p - v
    assert torch.allclose(shift, shift[:, :1].expand(5, 8), atol=1e-15)  # a constant per batch entry
    # the smallest correction in the weighted norm: any other constant c with the same total is c = shift
    assert torch.allclose(shift[:, 0], (target - (w * v).sum(-1)) / w.sum(), atol=1e-14)
    assert torch.allclose(project_integral(p, target, weights=w, dims=(-1,)), p, atol=1e-14)  # idempotent
    u = torch.rand(3, 4, 4, generator=g, dtype=F64)
    q = project_integral(u, 2.0, weights=1 / 16, dims=(-2, -1))
    assert torch.allclose(q.mean((-2, -1)), torch.full((3,), 2.0, dtype=F64), atol=1e-14)
    with pytest.raises(ValueError, match="`dims`"):
        project_integral(u, 1.0, weights=1.0, dims=())
    with pytest.raises(ValueError, match="positive sum"):
        project_integral(u, 1.0, weights=0.0, dims=(-1,))


def test_wavenumbers_layout():
    kx, ky = wavenumbers((8, 6), (2 * math.pi, math.pi))
    assert kx.shape == (8, 1) and ky.shape == (1, 4)
    assert kx.flatten().tolist() == [0, 1, 2, 3, -4, -3, -2, -1]
    assert ky.flatten().tolist() == [0, 2, 4, 6]
    kx, _ = wavenumbers((8, 6), zero_nyquist=True)
    assert kx.flatten().tolist()[4] == 0


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="`dim` must be 2 or 3"):
        gradient(torch.zeros(8, 8), dim=1)
    with pytest.raises(ValueError, match="vector field .* with 2 components, got 3"):
        leray_project(torch.zeros(3, 8, 8), dim=2)
    with pytest.raises(ValueError, match="`lengths` must give one box length per axis \\(3\\)"):
        laplacian(torch.zeros(4, 4, 4), dim=3, lengths=(1.0, 1.0))
    with pytest.raises(ValueError, match="`lengths` must be positive"):
        laplacian(torch.zeros(4, 4), dim=2, lengths=-1.0)
    with pytest.raises(TypeError, match="real floating dtype"):
        divergence(torch.zeros(2, 4, 4, dtype=torch.long), dim=2)
    with pytest.raises(ValueError, match="at least 2 grid points"):
        laplacian(torch.zeros(1, 8), dim=2)
    with pytest.raises(ValueError, match="`f` must have shape"):
        gradient(torch.zeros(8), dim=2)


@pytest.mark.cuda
def test_leray_on_cuda():
    u = torch.randn(2, 2, 128, 128, device="cuda", dtype=F64)
    assert divergence(leray_project(u, dim=2), dim=2).abs().max() < 1e-12
