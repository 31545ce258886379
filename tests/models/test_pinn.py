"""PINN, SPINN and the conservation-corrected fields (Leray, stream function, integral): derivatives,
periodicity, projections, pointwise evaluation."""

import math

import pytest
import torch

from physwm.models import PINN, ConservativePINN, IntegralPINN, LerayPINN, SeparablePINN, StreamFunctionPINN
from physwm.pde import Box, divergence
from physwm.pde import autodiff as ad

F64 = torch.float64
UNIT = Box([0.0, 0.0], [1.0, 2.0])
PERIODIC = Box([0.0, 0.0], [2 * math.pi, 2 * math.pi])


def _axes(sizes, box=UNIT, time=(0.0, 1.0), seed=0):
    return box.product(Box([time[0]], [time[1]])).sample_axes(sizes, generator=torch.Generator().manual_seed(seed), dtype=F64)


@pytest.mark.parametrize("out_dim", [1, 2])
def test_spinn_forward_mode_derivatives_match_reverse_mode(out_dim):
    torch.manual_seed(0)
    spinn = SeparablePINN(UNIT, (0.0, 1.0), out_dim=out_dim, rank=6, hidden=(12, 12)).double()
    axes = _axes([4, 5, 3])
    u, x, t = spinn.collocation(axes)
    fwd = [ad.partial(u, x, 0, 2), ad.partial(u, x, 1), ad.partial(u, t), ad.partial(ad.partial(u, x, 0), t), ad.laplacian(u, x)]
    X, T = spinn.mesh(axes)
    X, T = X.clone().requires_grad_(), T.clone().requires_grad_()
    up = spinn.predict(X, T)  # the same function, pointwise, differentiated by reverse mode
    rev = [ad.partial(up, X, 0, 2), ad.partial(up, X, 1), ad.partial(up, T), ad.partial(ad.partial(up, X, 0), T), ad.laplacian(up, X)]
    assert torch.allclose(u, up, atol=1e-14)
    for a, b in zip(fwd, rev):
        assert a.shape == b.shape == u.shape
        assert torch.allclose(a, b, atol=1e-12, rtol=1e-10)
    # multi-index API agrees with the helpers
    (uxx,) = spinn.derivatives(axes, (2, 0, 0))
    assert torch.allclose(uxx, fwd[0])


def test_spinn_residual_gradients_reach_every_axis_network():
    torch.manual_seed(0)
    spinn = SeparablePINN(UNIT, (0.0, 1.0), rank=4, hidden=(8,)).double()
    u, x, t = spinn.collocation(_axes([3, 3, 3]))
    ((ad.partial(u, t) - ad.laplacian(u, x)) ** 2).mean().backward()
    for net in spinn.nets:
        assert all(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in net.parameters())


def test_gradcheck_through_spinn_forward_and_derivative():
    torch.manual_seed(0)
    spinn = SeparablePINN(UNIT, (0.0, 1.0), rank=3, hidden=(5,)).double()
    axes = [a.requires_grad_() for a in _axes([3, 2, 2])]
    assert torch.autograd.gradcheck(lambda a, b, c: spinn([a, b, c]), tuple(axes))
    w = spinn.nets[0].net[0].weight
    assert torch.autograd.gradcheck(lambda w_: torch.func.functional_call(
        spinn, {"nets.0.net.0.weight": w_}, ([c.detach() for c in axes],)), (w.detach().clone().requires_grad_(),))


def test_pinn_shapes_scaling_and_periodic_embedding():
    torch.manual_seed(0)
    pinn = PINN(PERIODIC, (0.0, 1.0), out_dim=3, hidden=(16,), periodic=True, fourier_modes=2).double()
    x = torch.rand(7, 2, dtype=F64) * 6
    t = torch.rand(7, dtype=F64)
    u = pinn(x, t)
    assert u.shape == (7, 3)
    shifted = x + torch.tensor([2 * math.pi, -4 * math.pi], dtype=F64)
    assert torch.allclose(pinn(shifted, t), u, atol=1e-12)  # exactly periodic
    spinn = SeparablePINN(PERIODIC, None, hidden=(8,), rank=4, periodic=[True, False]).double()
    assert torch.allclose(spinn.predict(x + torch.tensor([2 * math.pi, 0.0], dtype=F64)), spinn.predict(x), atol=1e-12)
    assert spinn([torch.rand(4, dtype=F64), torch.rand(5, dtype=F64)]).shape == (4, 5)


def test_model_input_errors():
    pinn = PINN(UNIT, (0.0, 1.0), hidden=(4,))
    with pytest.raises(ValueError, match=r"`x` must have shape \(\*batch, 2\), got \(5, 3\)"):
        pinn(torch.rand(5, 3), torch.rand(5))
    with pytest.raises(ValueError, match="`t` must have shape"):
        pinn(torch.rand(5, 2), torch.rand(4))
    with pytest.raises(ValueError, match="no time axis"):
        PINN(UNIT, None, hidden=(4,))(torch.rand(5, 2), torch.rand(5))
    spinn = SeparablePINN(UNIT, (0.0, 1.0), rank=2, hidden=(4,))
    with pytest.raises(ValueError, match="list of 3 1-D"):
        spinn([torch.rand(3), torch.rand(3)])
    with pytest.raises(ValueError, match=r"axes\[1\]"):
        spinn([torch.rand(3), torch.rand(3, 2), torch.rand(3)])
    with pytest.raises(ValueError, match="one flag per spatial axis"):
        PINN(UNIT, periodic=[True])
    with pytest.raises(ValueError, match=r"`rank` must be an int >= 1, got 0"):
        SeparablePINN(UNIT, rank=0)
    other = SeparablePINN(UNIT, (0.0, 1.0), rank=2, hidden=(4,))
    u, _, _ = spinn.collocation([torch.rand(2), torch.rand(2), torch.rand(2)])
    _, x2, _ = other.collocation([torch.rand(2), torch.rand(2), torch.rand(2)])
    with pytest.raises(ValueError, match="same\\s+model call"):
        ad.partial(u, x2, 0)


def _taylor_green(x, t, nu=0.1):
    decay = torch.exp(-2 * nu * t)[..., None]
    return torch.stack([torch.cos(x[..., 0]) * torch.sin(x[..., 1]), -torch.sin(x[..., 0]) * torch.cos(x[..., 1])], -1) * decay


def test_leray_projection_is_divergence_free_and_never_farther_from_the_solution():
    torch.manual_seed(0)
    pinn = PINN(PERIODIC, (0.0, 1.0), out_dim=2, hidden=(32, 32), periodic=True).double()
    flow = LerayPINN(pinn, grid=64)
    t = torch.tensor([0.0, 0.5, 1.0], dtype=F64)
    before, after = flow.divergence_error(t, 64)
    assert before > 1e-3 and after < 1e-12
    u = flow.field(t, 64)
    assert u.shape == (3, 2, 64, 64)
    # the projection is orthogonal and fixes the divergence-free exact field: the error cannot grow
    x = torch.stack(torch.meshgrid(*PERIODIC.grid(64, endpoint=False, dtype=F64), indexing="ij"), -1)
    exact = _taylor_green(x.expand(3, 64, 64, 2), t[:, None, None].expand(3, 64, 64)).movedim(-1, 1)
    with torch.no_grad():
        raw = pinn(x.expand(3, 64, 64, 2), t[:, None, None].expand(3, 64, 64)).movedim(-1, 1)
        u = u.detach()
    assert float(((u - exact) ** 2).sum()) <= float(((raw - exact) ** 2).sum())
    assert divergence(u, dim=2).abs().max() < 1e-12


@pytest.mark.parametrize("dim", [2, 3])
def test_stream_function_velocity_is_divergence_free_pointwise(dim):
    torch.manual_seed(0)
    box = Box([0.0] * dim, [1.0] * dim)
    flow = StreamFunctionPINN(PINN(box, (0.0, 1.0), out_dim=1 if dim == 2 else 3, hidden=(16, 16)).double())
    x = torch.rand(40, dim, dtype=F64, requires_grad=True)
    u = flow(x, torch.rand(40, dtype=F64))
    assert u.shape == (40, dim) and u.abs().max() > 1e-3
    assert ad.divergence(u, x).abs().max() < 1e-12


def test_integral_projection_enforces_the_total_exactly():
    torch.manual_seed(0)
    pinn = PINN(PERIODIC, (0.0, 1.0), hidden=(16,), periodic=True).double()
    flow = IntegralPINN(pinn, total=lambda t: 3.0 + t, grid=32)
    t = torch.tensor([0.0, 1.0], dtype=F64)
    u = flow.field(t)
    totals = u.sum((-2, -1)) * (2 * math.pi / 32) ** 2
    assert torch.allclose(totals, 3.0 + t, atol=1e-12)
    assert flow.field(t, 16).shape == (2, 16, 16)


def _spread(n, box=PERIODIC, seed=0):
    """``n`` scattered points in ``box`` at a few distinct times (the pointwise forward groups them by time)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 2, generator=g, dtype=F64) * torch.tensor(box.lengths, dtype=F64) + torch.tensor(box.lower, dtype=F64)
    t = torch.tensor([0.1, 0.6, 0.9], dtype=F64)[torch.randint(0, 3, (n,), generator=g)]
    return x, t


def test_leray_pointwise_forward_is_divergence_free_and_interpolates_the_grid_field():
    torch.manual_seed(0)
    box = Box([-1.0, 0.0], [1.0, 3.0])  # not the unit torus: lengths and lower corner matter
    pinn = PINN(box, (0.0, 1.0), out_dim=3, hidden=(16, 16), periodic=True).double()  # a third output (pressure) dropped
    flow = LerayPINN(pinn, grid=16)
    x, t = _spread(40, box)
    x.requires_grad_(True)
    u = flow(x, t)
    assert u.shape == (40, 2) and float(u.detach().abs().max()) > 1e-2
    assert float(ad.divergence(u, x).detach().abs().max()) < 1e-12  # by autograd, at scattered points
    xr = x.detach().clone().requires_grad_(True)
    raw = pinn(xr, t)[..., :2]
    assert float(ad.divergence(raw, xr).detach().abs().max()) > 1e-2  # the raw field is not: the check can fail
    assert float((u - raw).detach().abs().max()) > 1e-3  # the projection changed the field
    # at the grid points it is the grid field, up to the grid field's Nyquist modes (which it leaves out)
    tt = torch.tensor([0.6], dtype=F64)
    xg, tg, shape = flow.grid_points(tt, 16)
    on_grid = flow(xg.reshape(-1, 2), tg.reshape(-1)).detach().reshape(*shape, 2).movedim(-1, 0)
    field = flow.field(tt)[0].detach()
    m = torch.fft.fftfreq(16, d=1 / 16, dtype=F64)
    keep = (m.abs() != 8).to(F64)
    band_limited = torch.fft.ifftn(torch.fft.fftn(field, dim=(-2, -1)) * keep[:, None] * keep[None, :], dim=(-2, -1)).real
    assert torch.allclose(on_grid, band_limited, atol=1e-12)
    assert float((on_grid - field).abs().max()) < 1e-2 * float(field.abs().max())
    # the same points in another order give the same values (grouping by time is internal)
    perm = torch.randperm(40, generator=torch.Generator().manual_seed(2))
    assert torch.allclose(flow(x.detach()[perm], t[perm]), u.detach()[perm], atol=1e-14)


def test_integral_pinn_pointwise_forward_keeps_the_total():
    torch.manual_seed(0)
    box = Box([0.0, -1.0], [2.0, 1.0])
    pinn = PINN(box, (0.0, 1.0), hidden=(16,), periodic=True).double()
    total = lambda t: 2.0 - t  # noqa: E731
    heat = IntegralPINN(pinn, total=total, grid=16)
    times = torch.tensor([0.0, 0.3, 1.0], dtype=F64)
    xg, tg, shape = heat.grid_points(times, 16)
    on_grid = heat(xg, tg).detach()  # the pointwise forward evaluated at the grid points
    assert on_grid.shape == (3, 16, 16)
    cell = box.volume / 256
    assert torch.allclose(on_grid.sum((-2, -1)) * cell, total(times), atol=1e-12)
    assert torch.allclose(on_grid, heat.field(times).detach(), atol=1e-13)
    # at scattered points: the raw model shifted by one constant per time
    x, t = _spread(30, box)
    with torch.no_grad():
        shift = heat(x, t) - pinn(x, t)
    for tv in t.unique():
        s = shift[t == tv]
        assert torch.allclose(s, s[:1].expand_as(s), atol=1e-13)
    assert float(shift.abs().max()) > 1e-3


def test_conservative_pinn_errors():
    with pytest.raises(ValueError, match="out_dim >= 2"):
        LerayPINN(PINN(PERIODIC, periodic=True))
    with pytest.raises(ValueError, match="periodic=True"):
        LerayPINN(PINN(PERIODIC, out_dim=2))
    with pytest.raises(ValueError, match="periodic=True"):
        IntegralPINN(PINN(PERIODIC), total=1.0)
    with pytest.raises(ValueError, match="total"):
        IntegralPINN(PINN(PERIODIC, periodic=True), total=None)
    with pytest.raises(ValueError, match="out_dim=1"):
        IntegralPINN(PINN(PERIODIC, out_dim=2, periodic=True), total=1.0)
    with pytest.raises(ValueError, match="out_dim=1"):
        StreamFunctionPINN(PINN(PERIODIC, out_dim=2))
    with pytest.raises(ValueError, match="2-D or 3-D"):
        StreamFunctionPINN(PINN(Box([0.0], [1.0])))
    with pytest.raises(TypeError, match="must be a field"):
        LerayPINN(torch.nn.Linear(2, 2))
    flow = LerayPINN(PINN(PERIODIC, (0.0, 1.0), out_dim=2, periodic=True, hidden=(4,)), grid=8)
    assert isinstance(flow, ConservativePINN)
    with pytest.raises(ValueError, match="1-D tensor of times"):
        flow.field(torch.tensor(0.0))
    with pytest.raises(ValueError, match="`t` must have shape"):
        flow(torch.rand(3, 2), torch.rand(4))


@pytest.mark.cuda
def test_spinn_and_projection_on_cuda():
    spinn = SeparablePINN(UNIT, (0.0, 1.0), rank=4, hidden=(8,)).cuda()
    u, x, t = spinn.collocation([torch.rand(8, device="cuda") for _ in range(3)])
    r = ad.partial(u, t) - ad.laplacian(u, x)
    assert r.device.type == "cuda" and r.shape == (8, 8, 8)
    flow = LerayPINN(PINN(PERIODIC, (0.0, 1.0), out_dim=2, periodic=True).cuda().double())
    assert flow.divergence_error(torch.tensor([0.0], device="cuda", dtype=F64), 32)[1] < 1e-12


def test_modified_mlp_gates_break_the_odd_symmetry_of_a_zero_bias_tanh_mlp():
    """With zero biases a tanh MLP is an odd function of a centred input, the modified MLP is not."""
    from physwm.nn import MLP, ModifiedMLP

    torch.manual_seed(0)
    x = torch.linspace(-1, 1, 9, dtype=F64)[:, None]
    plain, modified = MLP(1, 3, (16, 16)).double(), ModifiedMLP(1, 3, (16, 16, 16)).double()
    assert torch.allclose(plain(-x), -plain(x), atol=1e-14)
    assert float((modified(-x) + modified(x)).abs().max()) > 1e-3
    assert modified(torch.zeros(4, 2, 1, dtype=F64)).shape == (4, 2, 3)
    assert len(modified.gates) == 2 and all(float(p.abs().sum()) == 0 for n, p in modified.named_parameters() if "bias" in n)
    with pytest.raises(ValueError, match=r"`hidden` must be one or more equal widths .* got \(16, 8\)"):
        ModifiedMLP(1, 1, (16, 8))
    with pytest.raises(ValueError, match=r"`hidden` must be one or more equal widths"):
        ModifiedMLP(1, 1, ())
    with pytest.raises(ValueError, match=r"must have shape \(\*batch, 1\)"):
        modified(torch.zeros(3, 2, dtype=F64))


@pytest.mark.parametrize("cls", [PINN, SeparablePINN])
def test_architecture_and_unnormalized_inputs(cls):
    box = Box([-1.0, 0.0], [1.0, 4.0])
    torch.manual_seed(0)
    model = cls(box, (0.0, 10.0), hidden=(8, 8), architecture="modified", normalize_inputs=False).double()
    nets = model.nets if cls is SeparablePINN else [model.net]
    assert all(type(n).__name__ == "ModifiedMLP" for n in nets)
    c = torch.tensor([0.0, 2.5, 10.0], dtype=F64)
    assert torch.equal(model.inputs.axis(2, c)[..., 0], c)  # the coordinate in its own units
    scaled = cls(box, (0.0, 10.0), hidden=(8, 8))
    assert torch.allclose(scaled.inputs.axis(2, c.float())[..., 0], torch.tensor([-1.0, -0.5, 1.0]))
    # the field is the same function pointwise and on a grid
    axes = [torch.tensor([-0.5, 0.5], dtype=F64), torch.tensor([1.0, 3.0], dtype=F64), torch.tensor([2.0, 7.0], dtype=F64)]
    if cls is SeparablePINN:
        X, T = model.mesh(axes)
        assert torch.allclose(model(axes), model.predict(X, T), atol=1e-14)
    with pytest.raises(ValueError, match="`architecture` must be one of 'mlp', 'modified', got 'resnet'"):
        cls(box, (0.0, 1.0), architecture="resnet")
    with pytest.raises(TypeError, match="`normalize_inputs` must be a bool, got"):
        cls(box, (0.0, 1.0), normalize_inputs="no")
