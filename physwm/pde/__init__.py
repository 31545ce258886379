"""PDE building blocks (layer L1): spectral operators on periodic grids, derivative helpers for residuals,
collocation samplers and the problem definition a PINN is trained on."""

from physwm.pde import autodiff
from physwm.pde.collocation import SAMPLERS, Box
from physwm.pde.problem import PDEProblem
from physwm.pde.spectral import (
    divergence,
    fourier_interpolate,
    gradient,
    grid,
    laplacian,
    leray_project,
    poisson_solve,
    project_integral,
    wavenumbers,
)

__all__ = ["wavenumbers", "grid", "gradient", "divergence", "laplacian", "poisson_solve", "leray_project",
           "fourier_interpolate", "project_integral", "autodiff", "Box", "SAMPLERS", "PDEProblem"]
