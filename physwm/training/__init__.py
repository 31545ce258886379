"""Training (layer L5): a plain loop, no framework coupling."""

from physwm.training.checkpoint import load_checkpoint, save_checkpoint
from physwm.training.fit import FitResult, derivative_loss, fit, rollout_loss
from physwm.training.particles import ParticleFitResult, fit_particles, particle_mse

__all__ = ["fit", "FitResult", "derivative_loss", "rollout_loss", "save_checkpoint", "load_checkpoint",
           "fit_particles", "ParticleFitResult", "particle_mse"]
