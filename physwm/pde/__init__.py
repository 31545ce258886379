"""PDE building blocks (layer L1): spectral operators on periodic grids."""

from physwm.pde.spectral import divergence, gradient, grid, laplacian, leray_project, poisson_solve, wavenumbers

__all__ = ["wavenumbers", "grid", "gradient", "divergence", "laplacian", "poisson_solve", "leray_project"]
