"""Learnable physics (layer L3). Never imports :mod:`physwm.systems`."""

from physwm.models.hamiltonian import HNN, NeuralODE, SeparableHNN

__all__ = ["HNN", "SeparableHNN", "NeuralODE"]
