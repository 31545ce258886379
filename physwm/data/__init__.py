"""Datasets (layer L5): simulated trajectories from any system, and measured data loaders."""

from physwm.data.particles import (
    NBODY_CHARGED_SPLITS,
    PUBLISHED_CHARGED_MSE,
    PUBLISHED_GRAVITY_SEGNN_MSE,
    ParticleData,
    ParticleGraph,
    load_nbody_charged,
    make_gravity_dataset,
)
from physwm.data.schmidt_lipson import load_schmidt_lipson
from physwm.data.trajectories import TrajectoryData, make_trajectories

__all__ = ["TrajectoryData", "make_trajectories", "load_schmidt_lipson", "ParticleData", "ParticleGraph",
           "load_nbody_charged", "make_gravity_dataset", "NBODY_CHARGED_SPLITS", "PUBLISHED_CHARGED_MSE",
           "PUBLISHED_GRAVITY_SEGNN_MSE"]
