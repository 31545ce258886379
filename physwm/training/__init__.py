"""Training (layer L5): one engine, :func:`fit`, and the objectives plugged into it; no framework coupling."""

from physwm.training.checkpoint import load_checkpoint, save_checkpoint
from physwm.training.engine import FitResult, fit
from physwm.training.objectives import (
    PINN_TERMS,
    DerivativeMatching,
    Objective,
    ParticlePrediction,
    PINNResidual,
    RolloutMatching,
    derivative_loss,
    pinn_loss_terms,
    rollout_loss,
)

__all__ = ["fit", "FitResult", "Objective", "DerivativeMatching", "RolloutMatching", "ParticlePrediction",
           "PINNResidual", "derivative_loss", "rollout_loss", "pinn_loss_terms", "PINN_TERMS", "save_checkpoint",
           "load_checkpoint"]
