"""Integrators (layer L1): torch and torchdiffeq only; nothing about networks or systems.

Use :func:`physwm.solve`; :func:`methods` lists the registry.
"""

from physwm.integrate._base import Integrator, Solution, step_plan
from physwm.integrate._hamiltonian import autograd_gradient, grad_kinetic, grad_potential, split_state
from physwm.integrate.runge_kutta import TorchdiffeqMethod
from physwm.integrate.solve import get_method, methods, register_method, solve
from physwm.integrate.symplectic import (
    YOSHIDA4,
    YOSHIDA6,
    FixedStepIntegrator,
    ImplicitMidpoint,
    SplittingMethod,
    composition,
)

__all__ = [
    "solve", "methods", "get_method", "register_method", "Integrator", "Solution", "step_plan",
    "TorchdiffeqMethod", "FixedStepIntegrator", "SplittingMethod", "ImplicitMidpoint", "composition",
    "YOSHIDA4", "YOSHIDA6", "autograd_gradient", "grad_kinetic", "grad_potential", "split_state",
]
