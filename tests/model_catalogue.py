"""Every public model with a small instance and valid inputs for it: the regression tests and the property
suite call each one the same way.

``MODELS[name](dtype)`` returns ``(model, inputs, checked)``: ``inputs(batch, generator)`` gives the
positional arguments of ``model(...)`` for a batch of ``batch`` samples, and ``checked`` names the floating
inputs (by position) that the model must check.
"""

from __future__ import annotations

import math

import torch

from physwm.models import (
    EGNN,
    HNN,
    LNN,
    PHNN,
    PINN,
    SEGNN,
    EGNNLayer,
    HamiltonianGNN,
    LerayPINN,
    NeuralODE,
    NewtonianDynamics,
    PairForceNet,
    SeparableHNN,
    SeparablePINN,
    StreamFunctionPINN,
    SymbolicLagrangian,
)
from physwm.nn import fully_connected_graph
from physwm.pde import Box


def _state(dim):
    def inputs(batch, gen, dtype):
        return torch.zeros((), dtype=dtype), torch.randn(batch, dim, generator=gen, dtype=dtype)
    return inputs


def _graph(node_dim, hidden_features=None):
    def inputs(batch, gen, dtype):
        n = 4 * max(batch, 1)
        edge_index = fully_connected_graph(4, max(batch, 1))
        h = torch.rand(n, hidden_features or node_dim, generator=gen, dtype=dtype)
        return (torch.randn(n, 3, generator=gen, dtype=dtype), torch.randn(n, 3, generator=gen, dtype=dtype), h,
                edge_index, torch.rand(edge_index.shape[1], 1, generator=gen, dtype=dtype))
    return inputs


def _points(dim, with_time=True):
    def inputs(batch, gen, dtype):
        x = torch.rand(batch, dim, generator=gen, dtype=dtype) * (2 * math.pi)
        return (x, torch.rand(batch, generator=gen, dtype=dtype)) if with_time else (x,)
    return inputs


def _axes(batch, gen, dtype):
    return ([torch.rand(max(batch, 1), generator=gen, dtype=dtype) for _ in range(3)],)


def _phnn_inputs(batch, gen, dtype):
    t, y = _state(2)(batch, gen, dtype)
    return t, y, torch.randn(batch, 1, generator=gen, dtype=dtype)


BOX = Box([0.0, 0.0], [2 * math.pi, 2 * math.pi])


def _grey_box_pendulum():
    import sympy as sp

    th, w, k = sp.symbols("theta omega k")
    return SymbolicLagrangian(w**2 / 2 + k * sp.cos(th), th, w, params={"k": 9.0}, dissipation="state", angles=(0,),
                              hidden=(8,))


MODELS = {
    "HNN": lambda: (HNN(1, hidden=(8,)), _state(2), (1,)),
    "SeparableHNN": lambda: (SeparableHNN(1, hidden=(8,)), _state(2), (1,)),
    "NeuralODE": lambda: (NeuralODE(2, hidden=(8,)), _state(2), (1,)),
    "LNN": lambda: (LNN(1, hidden=(8,)), _state(2), (1,)),
    "PHNN": lambda: (PHNN(1, action_dim=1, hidden=(8,)), _phnn_inputs, (1, 2)),
    "SymbolicLagrangian": lambda: (_grey_box_pendulum(), _state(2), (1,)),
    "HamiltonianGNN": lambda: (HamiltonianGNN([1.0, 2.0], hidden=8, n_rbf=4), _state(12), (1,)),
    "NewtonianDynamics": lambda: (NewtonianDynamics(PairForceNet(1, hidden=(8,)), [1.0, 2.0]), _state(12), (1,)),
    "PairForceNet": lambda: (PairForceNet(1, edge_dim=1, hidden=(8,)), _graph(1), (0, 1, 2, 4)),
    "EGNN": lambda: (EGNN(1, edge_dim=1, hidden=8, layers=1), _graph(1), (0, 1, 2, 4)),
    "EGNNLayer": lambda: (EGNNLayer(4, edge_dim=1), _graph(1, hidden_features=4), (0, 1, 2, 4)),
    "SEGNN": lambda: (SEGNN(1, edge_dim=1, hidden_irreps="4x0e+2x1o", layers=1), _graph(1), (0, 1, 2, 4)),
    "PINN": lambda: (PINN(BOX, (0.0, 1.0), hidden=(8,)), _points(2), (0, 1)),
    "SeparablePINN": lambda: (SeparablePINN(BOX, (0.0, 1.0), rank=4, hidden=(8,)), _axes, ()),
    "StreamFunctionPINN": lambda: (StreamFunctionPINN(PINN(BOX, (0.0, 1.0), hidden=(8,))), _points(2), (0, 1)),
    "LerayPINN": lambda: (LerayPINN(PINN(BOX, (0.0, 1.0), out_dim=2, periodic=True, hidden=(8,)), grid=8), _points(2),
                          (0, 1)),
}


def build(name: str, dtype: torch.dtype = torch.float64):
    """``(model, inputs, checked)`` with the model in ``dtype`` and ``inputs(batch, generator)`` in it too."""
    model, inputs, checked = MODELS[name]()
    model = model.to(dtype)
    return model, (lambda batch, gen: inputs(batch, gen, dtype)), checked
