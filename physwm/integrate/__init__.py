"""Integrators (layer L1): torch and torchdiffeq only; nothing about networks or systems.

Use :func:`physwm.solve`; :func:`methods` lists the registry. The module docstring of
:mod:`physwm.integrate._base` states the device-synchronisation policy of the fixed-step paths.
"""

from physwm.integrate._base import Integrator, Solution, step_plan, time_grid
from physwm.integrate._hamiltonian import grad_kinetic, grad_potential
from physwm.integrate.runge_kutta import TorchdiffeqMethod
from physwm.integrate.solve import get_method, methods, register_method, rollout, solve
from physwm.integrate.symplectic import (
    YOSHIDA4,
    YOSHIDA6,
    FixedStepIntegrator,
    ImplicitMidpoint,
    SplittingMethod,
    composition,
)

__all__ = [
    "solve", "rollout", "methods", "get_method", "register_method", "Integrator", "Solution", "step_plan", "time_grid",
    "TorchdiffeqMethod", "FixedStepIntegrator", "SplittingMethod", "ImplicitMidpoint", "composition",
    "YOSHIDA4", "YOSHIDA6", "grad_kinetic", "grad_potential",
]
