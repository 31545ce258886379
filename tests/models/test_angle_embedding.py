"""Angular coordinates seen as (cos θ, sin θ): smooth and periodic models across θ = ±π."""

import math

import pytest
import torch

from physwm.diagnostics import normalized_error, valid_prediction_time
from physwm.models import HNN, LNN, NeuralODE
from physwm.state import angle_features


def test_angle_features():
    q = torch.tensor([[0.5, 2.0, -1.0]], dtype=torch.float64)
    out = angle_features(q, (0, 2), "cos_sin")
    assert torch.allclose(out, torch.tensor([[2.0, math.cos(0.5), math.cos(-1.0), math.sin(0.5), math.sin(-1.0)]],
                                            dtype=torch.float64))
    assert torch.equal(angle_features(q, (), "cos_sin"), q)
    assert torch.allclose(angle_features(q + 2 * math.pi, (0,), "wrap")[..., 0], q[..., 0])  # wrapped back
    with pytest.raises(TypeError, match="angle_embedding"):
        angle_features(q, (0,), None)
    with pytest.raises(ValueError, match="angle_embedding"):
        angle_features(q, (0,), "fourier")
    with pytest.raises(ValueError, match="angles"):
        angle_features(q, (3,), "cos_sin")


def _models(embedding):
    torch.manual_seed(0)
    return {"HNN": HNN(2, hidden=(16,), angles=(0, 1), angle_embedding=embedding).double(),
            "LNN": LNN(2, hidden=(16,), angles=(0, 1), angle_embedding=embedding).double(),
            "NeuralODE": NeuralODE(4, hidden=(16,), angles=(0, 1), angle_embedding=embedding).double()}


@pytest.mark.parametrize("name", ["HNN", "LNN", "NeuralODE"])
def test_cos_sin_models_are_periodic_and_continuous_across_the_cut(name):
    """A whole turn changes nothing, and the fields at θ = π - ε and θ = -π + ε (states 2ε apart on the
    circle) agree to O(ε); with the wrap, a network jumps there, which is the check failing."""
    y = torch.tensor([[0.3, -1.2, 0.7, -0.4]], dtype=torch.float64)
    turn = torch.tensor([[2 * math.pi, -4 * math.pi, 0.0, 0.0]], dtype=torch.float64)
    eps = 1e-7
    below = torch.tensor([[math.pi - eps, 0.2, 0.5, 0.1]], dtype=torch.float64)
    above = below - torch.tensor([[2 * math.pi - 2 * eps, 0.0, 0.0, 0.0]], dtype=torch.float64)
    smooth, wrapped = _models("cos_sin")[name], _models("wrap")[name]
    t = torch.tensor(0.0)
    assert torch.allclose(smooth(t, y + turn), smooth(t, y), atol=1e-10)
    assert float((smooth(t, below) - smooth(t, above)).abs().max()) < 1e-5
    assert float((wrapped(t, below) - wrapped(t, above)).abs().max()) > 1e-3


def test_angle_embedding_is_checked_and_widens_the_input():
    assert HNN(2, hidden=(8,), angles=(0, 1), angle_embedding="cos_sin").net.net[0].in_features == 6
    assert LNN(2, hidden=(8,), angles=(1,), angle_embedding="cos_sin").net.net[0].in_features == 5
    assert NeuralODE(4, hidden=(8,), angles=(0, 1), angle_embedding="cos_sin").net.net[0].in_features == 6
    with pytest.raises(ValueError, match="angle_embedding"):
        HNN(2, hidden=(8,), angles=(0,), angle_embedding="cos")
    with pytest.raises(ValueError, match="angle_embedding"):
        NeuralODE(4, hidden=(8,), angles=(0,), angle_embedding="cos")


def test_errors_compare_angles_on_the_circle():
    ref = torch.zeros(5, 3, 2, dtype=torch.float64)
    pred = ref.clone()
    pred[..., 0] = 2 * math.pi + 0.1  # one turn ahead, and 0.1 rad off
    expected = torch.full((5, 3), 0.1 / math.sqrt(2), dtype=torch.float64)
    assert torch.allclose(normalized_error(pred, ref, torch.ones(2), angles=(0,)), expected)
    assert float(normalized_error(pred, ref, torch.ones(2)).min()) > 4  # without: a whole turn counts
    t = torch.linspace(0, 1, 5, dtype=torch.float64)
    assert torch.equal(valid_prediction_time(pred, ref, t, scale=torch.ones(2), angles=(0,)), torch.ones(3, dtype=torch.float64))
    assert torch.equal(valid_prediction_time(pred, ref, t, scale=torch.ones(2)), torch.zeros(3, dtype=torch.float64))
    with pytest.raises(ValueError, match="angles"):
        normalized_error(pred, ref, torch.ones(2), angles=(2,))
