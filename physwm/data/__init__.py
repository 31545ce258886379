"""Datasets (layer L5): simulated trajectories from any system, and measured data loaders."""

from physwm.data.schmidt_lipson import load_schmidt_lipson
from physwm.data.trajectories import TrajectoryData, make_trajectories

__all__ = ["TrajectoryData", "make_trajectories", "load_schmidt_lipson"]
