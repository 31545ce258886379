"""Learnable physics (layer L3). Never imports :mod:`physwm.systems`.

The particle-graph models (:class:`EGNN`, :class:`SEGNN`, :class:`PairForceNet`,
:class:`HamiltonianGNN`, :class:`NewtonianDynamics`) load torch_geometric and e3nn, so they are
imported on first access.
"""

import importlib

from physwm.models.hamiltonian import HNN, NeuralODE, SeparableHNN
from physwm.models.lagrangian import LNN, euler_lagrange
from physwm.models.pinn import PINN, ConservativePINN, IntegralPINN, LerayPINN, SeparablePINN, StreamFunctionPINN
from physwm.models.port_hamiltonian import PHNN
from physwm.models.symbolic import SymbolicLagrangian

_LAZY = {"EGNN": "egnn", "EGNNLayer": "egnn", "SEGNN": "segnn", "balanced_irreps": "segnn",
         "PairForceNet": "particles", "HamiltonianGNN": "particles", "NewtonianDynamics": "particles",
         "unordered_pairs": "particles"}

__all__ = ["HNN", "SeparableHNN", "NeuralODE", "LNN", "euler_lagrange", "PHNN", "SymbolicLagrangian",
           "PINN", "SeparablePINN", "ConservativePINN", "LerayPINN", "StreamFunctionPINN", "IntegralPINN", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f"physwm.models.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'physwm.models' has no attribute {name!r}")
