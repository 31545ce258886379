"""Training (layer L5): a plain loop, no framework coupling."""

from physwm.training.checkpoint import load_checkpoint, resume_training_state, save_checkpoint, save_training_state
from physwm.training.fit import FitResult, derivative_loss, fit, rollout_loss
from physwm.training.particles import ParticleFitResult, fit_particles, particle_mse
from physwm.training.pinn import PINNFitResult, fit_pinn, pinn_loss_terms, relative_l2

__all__ = ["fit", "FitResult", "derivative_loss", "rollout_loss", "save_checkpoint", "load_checkpoint",
           "fit_particles", "ParticleFitResult", "particle_mse", "save_training_state", "resume_training_state",
           "fit_pinn", "PINNFitResult", "pinn_loss_terms", "relative_l2"]
