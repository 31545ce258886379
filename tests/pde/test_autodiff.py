"""Reverse-mode derivative helpers and collocation samplers."""

import math

import pytest
import torch

from physwm.pde import SAMPLERS, Box, PDEProblem
from physwm.pde import autodiff as ad

F64 = torch.float64


def _points(n=50, d=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, d, generator=g, dtype=F64).requires_grad_(), torch.rand(n, generator=g, dtype=F64).requires_grad_()


def test_partial_matches_analytic_derivatives():
    x, t = _points()
    u = torch.sin(2 * x[..., 0]) * torch.exp(x[..., 1]) * torch.cos(t)
    assert torch.allclose(ad.partial(u, x, 0), 2 * torch.cos(2 * x[..., 0]) * torch.exp(x[..., 1]) * torch.cos(t))
    assert torch.allclose(ad.partial(u, x, 0, order=2), -4 * u)
    assert torch.allclose(ad.partial(u, x, 1, order=3), u)
    assert torch.allclose(ad.partial(u, t), -torch.sin(2 * x[..., 0]) * torch.exp(x[..., 1]) * torch.sin(t))
    assert torch.allclose(ad.laplacian(u, x), -3 * u)
    assert torch.allclose(ad.grad(u, x)[..., 1], u)
    assert ad.partial(u, x, 0, order=0) is u


def test_vector_field_derivatives_and_divergence():
    x, _ = _points(d=3)
    u = torch.stack([x[..., 0] ** 2, x[..., 1] * x[..., 2], torch.sin(x[..., 2])], dim=-1)
    assert torch.allclose(ad.divergence(u, x), 2 * x[..., 0] + x[..., 2] + torch.cos(x[..., 2]))
    d1 = ad.partial(u, x, 1)
    assert d1.shape == u.shape
    assert torch.allclose(d1, torch.stack([torch.zeros_like(x[..., 0]), x[..., 2], torch.zeros_like(x[..., 0])], -1))


def test_residual_is_trainable():
    """create_graph: the residual's derivatives reach the parameters."""
    w = torch.tensor(1.5, dtype=F64, requires_grad=True)
    x, _ = _points(d=1)
    u = torch.sin(w * x[..., 0])
    r = ad.partial(u, x, 0, order=2) + w**2 * u  # zero for any w
    (g,) = torch.autograd.grad((ad.partial(u, x, 0) ** 2).sum(), w)
    assert torch.isfinite(g) and g != 0
    assert r.abs().max() < 1e-12


def test_autodiff_errors():
    x, t = _points()
    u = x[..., 0] ** 2
    with pytest.raises(ValueError, match="axis"):
        ad.partial(u, x)
    with pytest.raises(ValueError, match="axis"):
        ad.partial(u, x, 2)
    with pytest.raises(ValueError, match="order"):
        ad.partial(u, x, 0, order=-1)
    with pytest.raises(ValueError, match="requires_grad|require grad"):
        ad.partial(u.detach(), x.detach(), 0)
    with pytest.raises(ValueError, match="shape"):
        ad.partial(torch.zeros(7, dtype=F64), x, 0)
    with pytest.raises(TypeError, match="`u`"):
        ad.partial([1.0], x, 0)
    with pytest.raises(ValueError, match="vector field"):
        ad.divergence(u, x)


def test_box_samplers():
    box = Box([0.0, -1.0, 2.0], [1.0, 1.0, 5.0])
    lo, hi = torch.tensor(box.lower), torch.tensor(box.upper)
    for sampler in SAMPLERS:
        z = box.sample(64, sampler=sampler, generator=torch.Generator().manual_seed(1), dtype=F64)
        assert z.shape == (64, 3) and z.dtype == F64
        assert bool(((z >= lo) & (z <= hi)).all())
    a = box.sample(100, sampler="sobol", generator=torch.Generator().manual_seed(3))
    b = box.sample(100, sampler="sobol", generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    # Sobol points fill the cube more evenly than i.i.d. points: lower error of the mean of a smooth function
    f = lambda z: torch.cos(z).prod(-1)  # noqa: E731
    exact = math.sin(1.0) ** 3
    unit = Box([0.0] * 3, [1.0] * 3)
    errs = {m: abs(float(f(unit.sample(1024, sampler=m, generator=torch.Generator().manual_seed(0), dtype=F64)).mean()) - exact)
            for m in ("uniform", "sobol")}
    assert errs["sobol"] < errs["uniform"] / 5
    axes = box.sample_axes([4, 5, 6], generator=torch.Generator().manual_seed(0))
    assert [c.shape[0] for c in axes] == [4, 5, 6] and all(bool((c.diff() >= 0).all()) for c in axes)
    zb = box.sample_boundary(200, axes=[0, 1], generator=torch.Generator().manual_seed(0), dtype=F64)
    on_face = ((zb[:, :2] - lo[:2]).abs() < 1e-12) | ((zb[:, :2] - hi[:2]).abs() < 1e-12)
    assert bool(on_face.any(-1).all())
    grid = box.grid(4, endpoint=False)
    assert torch.allclose(grid[1], torch.tensor([-1.0, -0.5, 0.0, 0.5]))


def test_box_and_problem_errors():
    with pytest.raises(ValueError, match="upper > lower"):
        Box([0.0], [0.0])
    with pytest.raises(ValueError, match="same non-zero length"):
        Box([0.0, 1.0], [1.0])
    box = Box([0.0, 0.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="k\\*\\*2"):
        box.sample(10, sampler="grid")
    with pytest.raises(ValueError, match="`sampler` must be one of 'uniform', 'sobol', 'grid', got 'halton'"):
        box.sample(10, sampler="halton")
    with pytest.raises(ValueError, match="`sampler` must be one of 'uniform', 'sobol', 'grid', got 'halton'"):
        box.sample_axes(3, sampler="halton")
    with pytest.raises(ValueError, match="'grid'"):
        box.sample_boundary(10, sampler="grid")
    with pytest.raises(TypeError, match="`n` must be an int >= 1, got 2.0"):
        box.sample(2.0)
    with pytest.raises(ValueError, match="`n` must be an int >= 1, got 0"):
        box.sample(0)
    with pytest.raises(ValueError, match="one count per axis"):
        box.sample_axes([3, 3, 3])
    with pytest.raises(ValueError, match="t1 > t0"):
        PDEProblem(residual=lambda u, x, t: u, domain=box, time=(1.0, 0.0))
    with pytest.raises(TypeError, match="Box"):
        PDEProblem(residual=lambda u, x, t: u, domain=[0, 1])
    with pytest.raises(ValueError, match="`initial` needs"):
        PDEProblem(residual=lambda u, x, t: u, domain=box, initial=lambda x: x)
