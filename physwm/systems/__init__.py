"""Ground-truth systems (layer L2): the catalogue doubles as the test-problem suite.

Every system is itself the dynamics ``f(t, y)``, documents its parameters and units, lists the
quantities it conserves in ``invariants()``, samples initial states reproducibly and, where one
exists, gives the exact solution.
"""

from physwm.systems.base import HamiltonianSystem, ParticleSystem, SeparableHamiltonianSystem, System
from physwm.systems.charged import ChargedParticles
from physwm.systems.fluids import NavierStokes2D
from physwm.systems.kepler import Kepler
from physwm.systems.lorenz import Lorenz
from physwm.systems.mechanics import DoublePendulum, HarmonicOscillator, HenonHeiles, Pendulum
from physwm.systems.nbody import FIGURE_EIGHT_PERIOD, NBody, figure_eight
from physwm.systems.pde import HeatEquation, KleinGordon
from physwm.systems.port_hamiltonian import DampedPendulum, Duffing, MassSpringDamper, PortHamiltonianSystem
from physwm.systems.symbolic import (
    LagrangianSystem,
    SymbolicHamiltonianSystem,
    SymbolicSeparableHamiltonianSystem,
    from_hamiltonian,
    from_lagrangian,
)

__all__ = [
    "System", "HamiltonianSystem", "SeparableHamiltonianSystem", "ParticleSystem", "HarmonicOscillator", "Pendulum",
    "DoublePendulum", "Kepler", "NBody", "ChargedParticles", "figure_eight", "FIGURE_EIGHT_PERIOD", "HenonHeiles", "Lorenz",
    "PortHamiltonianSystem", "DampedPendulum", "MassSpringDamper", "Duffing",
    "from_lagrangian", "from_hamiltonian", "LagrangianSystem", "SymbolicHamiltonianSystem", "SymbolicSeparableHamiltonianSystem",
    "HeatEquation", "KleinGordon", "NavierStokes2D",
]
