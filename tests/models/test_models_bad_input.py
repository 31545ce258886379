"""Regressions of the hostile-input review of the models: every public model refuses NaN/inf input, an
input in another dtype than its parameters, and integer input, each with an error naming the argument."""

import math

import pytest
import torch

import physwm
from physwm import ArgumentTypeError, ArgumentValueError, IntegrationError
from physwm.models import EGNN, HNN, LNN, HamiltonianGNN
from tests.model_catalogue import MODELS, build


def _with(args, index, value):
    args = list(args)
    args[index] = value
    return args


@pytest.mark.parametrize("name", [n for n in MODELS if MODELS[n]()[2]])
def test_non_finite_input_is_refused_and_named(name):
    model, inputs, checked = build(name)
    args = inputs(2, torch.Generator().manual_seed(0))
    for index in checked:
        bad = args[index].clone()
        bad.view(-1)[0] = math.nan
        with pytest.raises(ArgumentValueError, match=r"must be finite, got 1 NaN or inf entries"):
            model(*_with(args, index, bad))
    out = model(*args)  # the check can fail: the intact input goes through
    assert all(bool(torch.isfinite(o).all()) for o in (out if isinstance(out, tuple) else (out,)))


def test_separable_pinn_refuses_a_non_finite_axis():
    model, inputs, _ = build("SeparablePINN")
    (axes,) = inputs(3, torch.Generator().manual_seed(0))
    axes[1] = axes[1].clone()
    axes[1][0] = math.inf
    with pytest.raises(ArgumentValueError, match=r"`axes\[1\]` must be finite"):
        model(axes)


@pytest.mark.parametrize("name", list(MODELS))
def test_input_in_another_dtype_names_both_dtypes(name):
    model, inputs, checked = build(name, torch.float32)
    args = inputs(2, torch.Generator().manual_seed(0))
    if name == "SeparablePINN":
        with pytest.raises(ArgumentTypeError, match=r"`axes\[0\]` has dtype torch.float64 but SeparablePINN's parameters "
                                                    r"are torch.float32"):
            model([a.double() for a in args[0]])
        return
    index = checked[0]
    with pytest.raises(ArgumentTypeError, match=r"has dtype torch.float64 but .* parameters are torch.float32"):
        model(*_with(args, index, args[index].double()))


@pytest.mark.parametrize("name", ["HNN", "NeuralODE", "LNN", "HamiltonianGNN", "PINN", "EGNN"])
def test_integer_input_is_a_type_error(name):
    model, inputs, checked = build(name)
    args = inputs(2, torch.Generator().manual_seed(0))
    index = checked[0]
    with pytest.raises(ArgumentTypeError, match="must have a floating dtype"):
        model(*_with(args, index, args[index].round().to(torch.int64)))


def test_inside_solve_a_blow_up_is_an_integration_error_not_an_input_error():
    # inside solve the model skips its own finiteness check (solve checks once, not per evaluation): a state that
    # turns NaN part way (at the midpoint stages of step 0) is reported by the integrator, with the step
    model = HNN(1, hidden=(8,)).double()

    def f(t, y):
        return model(t, y * math.nan if float(t) >= 0.5 else y)

    with pytest.raises(IntegrationError, match=r"rk4: the state became non-finite .*at t=0, step 0"):
        physwm.solve(f, torch.ones(2, dtype=torch.float64), torch.linspace(0, 1, 3, dtype=torch.float64), method="rk4",
                     dt=0.5)
    with pytest.raises(ArgumentValueError, match="`y` must be finite"):  # the same call outside solve is refused
        f(torch.tensor(0.5), torch.ones(2, dtype=torch.float64))


def test_energy_of_a_requires_grad_state_under_no_grad():
    model = LNN(1, hidden=(8,)).double()
    y = torch.randn(3, 2, dtype=torch.float64, requires_grad=True)
    with torch.no_grad():
        assert model.energy(y).shape == (3,)


def test_gradient_with_respect_to_y0_through_a_hamiltonian_gnn():
    torch.manual_seed(0)
    model = HamiltonianGNN([1.0, 1.0], hidden=8, n_rbf=4).double()
    y0 = torch.randn(12, dtype=torch.float64, requires_grad=True)
    physwm.solve(model, y0, torch.linspace(0, 0.2, 3, dtype=torch.float64), method="rk4", dt=0.1).ys[-1].sum().backward()
    assert y0.grad is not None and float(y0.grad.abs().sum()) > 0


@pytest.mark.parametrize("build_model, match", [
    (lambda: EGNN(1, hidden=-1), "`hidden` must be an int >= 1, got -1"),
    (lambda: HNN(0), "`dof` must be an int >= 1"),
    (lambda: HNN(1.5), "`dof` must be an int"),
])
def test_bad_constructor_arguments(build_model, match):
    with pytest.raises((ArgumentValueError, ArgumentTypeError), match=match):
        build_model()


def test_edge_index_out_of_range_is_named():
    model, inputs, _ = build("EGNN")
    x, v, h, edge_index, edge_attr = inputs(1, torch.Generator().manual_seed(0))
    bad = edge_index.clone()
    bad[0, 0] = 99
    with pytest.raises(ArgumentValueError, match=r"`edge_index` refers to nodes outside 0\.\.3"):
        model(x, v, h, bad, edge_attr)
