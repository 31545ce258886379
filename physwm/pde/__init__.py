"""PDE building blocks (layer L1): spectral operators on periodic grids, derivative helpers for residuals,
collocation samplers and the problem definition a PINN is trained on."""

from physwm.pde import autodiff
from physwm.pde.collocation import SAMPLERS, Box
from physwm.pde.problem import PDEProblem
from physwm.pde.spectral import divergence, gradient, grid, laplacian, leray_project, poisson_solve, wavenumbers

__all__ = ["wavenumbers", "grid", "gradient", "divergence", "laplacian", "poisson_solve", "leray_project",
           "autodiff", "Box", "SAMPLERS", "PDEProblem"]
