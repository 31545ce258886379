"""Spectral operators on periodic grids: manufactured solutions, projection properties, gradients, errors."""

import math

import pytest
import torch

from physwm.pde import divergence, gradient, grid, laplacian, leray_project, poisson_solve, wavenumbers

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
    u = torch.randn(2, 8, 6, dtype=F64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda v: leray_project(v, dim=2), (u,))
    rho = torch.randn(8, 6, dtype=F64)
    rho = (rho - rho.mean()).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda r: poisson_solve(r, dim=2, subtract_mean=True), (rho,))


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
