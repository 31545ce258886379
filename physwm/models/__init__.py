"""Learnable physics (layer L3). Never imports :mod:`physwm.systems`."""

from physwm.models.hamiltonian import HNN, NeuralODE, SeparableHNN
from physwm.models.lagrangian import LNN, euler_lagrange
from physwm.models.port_hamiltonian import PHNN

__all__ = ["HNN", "SeparableHNN", "NeuralODE", "LNN", "euler_lagrange", "PHNN"]
