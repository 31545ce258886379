"""Prediction errors and cost: relative L2 (pure tensors and of a field), velocity-field errors, peak memory."""

import math

import pytest
import torch

from physwm.diagnostics import field_relative_l2, peak_memory, relative_l2, velocity_field_errors
from physwm.pde import Box, PDEProblem, grid

F64 = torch.float64


def test_relative_l2_over_all_entries_and_over_dims():
    ref = torch.tensor([[3.0, 4.0], [1.0, 0.0]], dtype=F64)
    pred = ref + torch.tensor([[0.0, 5.0], [0.0, 1.0]], dtype=F64)
    assert float(relative_l2(pred, ref)) == pytest.approx(math.sqrt(26 / 26))
    per_row = relative_l2(pred, ref, dims=(1,))
    assert per_row.shape == (2,) and torch.allclose(per_row, torch.tensor([1.0, 1.0], dtype=F64))
    assert float(relative_l2(ref, ref)) == 0.0
    assert torch.isfinite(relative_l2(torch.ones(3), torch.zeros(3)))  # no division by zero
    with pytest.raises(ValueError, match="same shape"):
        relative_l2(pred, ref[0])
    with pytest.raises(TypeError, match="`pred` must be a torch.Tensor"):
        relative_l2([1.0], ref)


class _Field(torch.nn.Module):
    """A field with predict(x, t) whose error against the exact solution is known in closed form."""

    def __init__(self, eps):
        super().__init__()
        self.eps = torch.nn.Parameter(torch.tensor(eps, dtype=F64))

    def predict(self, x, t):
        return (1 + self.eps) * torch.sin(math.pi * x[..., 0]) * torch.exp(-t)


def test_field_relative_l2_against_the_exact_solution():
    problem = PDEProblem(residual=lambda u, x, t: u, domain=Box([0.0], [1.0]), time=(0.0, 1.0),
                         exact=lambda x, t: torch.sin(math.pi * x[..., 0]) * torch.exp(-t))
    # prediction = (1 + eps) * exact: the relative error is |eps| on any grid, evaluated in chunks or not
    assert field_relative_l2(_Field(0.1), problem, 9) == pytest.approx(0.1, rel=1e-12)
    assert field_relative_l2(_Field(-0.03), problem, 9, chunk=7) == pytest.approx(0.03, rel=1e-12)
    with pytest.raises(ValueError, match="exact"):
        field_relative_l2(_Field(0.1), PDEProblem(residual=problem.residual, domain=problem.domain, time=problem.time))


def test_velocity_field_errors():
    x, y = grid((16, 16))
    ref = torch.stack([torch.sin(x) * torch.cos(y), -torch.cos(x) * torch.sin(y)]).unsqueeze(0)  # divergence-free
    err = velocity_field_errors(1.1 * ref, ref)
    assert float(err["divergence"][0]) < 1e-12
    assert float(err["energy_error"][0]) == pytest.approx(0.21, rel=1e-10)  # 1.1^2 - 1
    assert float(err["rel_l2"][0]) == pytest.approx(0.1, rel=1e-10)
    compressible = torch.stack([torch.sin(x), torch.zeros_like(y)]).unsqueeze(0)
    assert float(velocity_field_errors(compressible, ref)["divergence"][0]) == pytest.approx(1.0, rel=1e-10)


def test_peak_memory_of_the_tensors_a_call_allocates():
    def work(n):
        a = torch.ones(n, n, dtype=torch.float32)  # 4 MiB for n = 1024
        return float(a.sum())

    out, mib = peak_memory(work, 1024)
    assert out == 1024.0**2
    assert 3.9 < mib < 4.5
    _, small = peak_memory(work, 256)
    assert small < 0.5
