"""Published numbers physwm compares itself with: each with its paper, where in the paper, and the protocol.

One module holds them all, so a comparison in ``physwm bench``, an example or a notebook always
quotes the same value with the same source. These are other people's measurements, not physwm's; the
benchmark prints them beside its own, measured on the protocol stated here (see ``docs/benchmarks.md``
for where ours differs).

Example:
    >>> from physwm.references import CHARGED_NBODY_MSE
    >>> CHARGED_NBODY_MSE["EGNN"].value
    0.0071
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Reference", "HNN_PAPER", "EGNN_PAPER", "SEGNN_PAPER", "LNN_PAPER", "SPINN_PAPER", "REAL_PENDULUM",
           "CHARGED_NBODY_MSE", "GRAVITY_NBODY_MSE", "LNN_DOUBLE_PENDULUM_ENERGY", "SPINN_SPEEDUP"]

HNN_PAPER = "Greydanus, Dzamba & Yosinski, Hamiltonian Neural Networks, NeurIPS 2019"
EGNN_PAPER = "Satorras, Hoogeboom & Welling, E(n) Equivariant Graph Neural Networks, ICML 2021"
SEGNN_PAPER = ("Brandstetter, Hesselink, van der Pol, Bekkers & Welling, Geometric and Physical Quantities "
               "Improve E(3) Equivariant Message Passing, ICLR 2022")
LNN_PAPER = "Cranmer, Greydanus, Hoyer, Battaglia, Spergel & Ho, Lagrangian Neural Networks, ICLR DeepDiffEq workshop 2020"
SPINN_PAPER = "Cho, Nam, Yang, Yun, Hong & Park, Separable Physics-Informed Neural Networks, NeurIPS 2023"


@dataclass(frozen=True)
class Reference:
    """One published number.

    Attributes:
        value: the number, in the units of ``metric``.
        paper: authors, title, venue and year.
        source: where in the paper (or its code release) the number is.
        metric: what was measured, on which protocol.
    """

    value: float
    paper: str
    source: str
    metric: str


_REAL = ("real pendulum of Schmidt & Lipson (real_pend_h_1.txt), first 80% of the recording to train, last 20% "
         "to test; derivative-matching MLPs")
#: HNN paper, real pendulum: test loss (derivative MSE) and energy MSE of RK4 rollouts, per model.
REAL_PENDULUM = {
    model: {
        "test_loss": Reference(loss, HNN_PAPER, "README of the authors' code release (hamiltonian-nn), real pendulum",
                               f"test derivative MSE; {_REAL}"),
        "energy_mse": Reference(energy, HNN_PAPER, "README of the authors' code release (hamiltonian-nn), real pendulum",
                                f"energy MSE of an RK4 rollout over the test window; {_REAL}"),
    }
    for model, loss, energy in (("NeuralODE", 2.19e-3, 3.86e-1), ("HNN", 5.96e-3, 1.45e-2))
}

_CHARGED = "charged 5-body set (3000 training systems), positions at frame 40 from the state at frame 30"
#: Test MSE on the charged 5-body set: the EGNN paper's table, and SEGNN's own number.
CHARGED_NBODY_MSE = {
    **{name: Reference(value, EGNN_PAPER, "Table 2", f"test MSE of positions; {_CHARGED}")
       for name, value in (("Linear", 0.0819), ("SE(3)-Transformer", 0.0244), ("TFN", 0.0155), ("GNN", 0.0107),
                           ("Radial Field", 0.0104), ("EGNN", 0.0071))},
    "SEGNN": Reference(0.0043, SEGNN_PAPER, "charged N-body results", f"test MSE of positions; {_CHARGED}"),
}

#: SEGNN on the gravitational 100-body task.
GRAVITY_NBODY_MSE = Reference(0.265, SEGNN_PAPER, "gravitational N-body results",
                              "position MSE at t = 4 from the state at t = 3, 100 bodies, k = 6 nearest neighbours")

#: LNN paper, double pendulum: energy error at t = 100 in % of the maximal potential energy.
LNN_DOUBLE_PENDULUM_ENERGY = {
    "t": 100.0,
    "LNN": Reference(0.4, LNN_PAPER, "double pendulum experiment", "energy error at t = 100, % of the max potential energy"),
    "baseline": Reference(8.0, LNN_PAPER, "double pendulum experiment",
                          "energy error at t = 100, % of the max potential energy, unstructured baseline"),
}

#: SPINN paper: speed-up per training iteration of a SPINN over a PINN of the same width and depth.
SPINN_SPEEDUP = Reference(62.0, SPINN_PAPER, "(2+1)-d Klein-Gordon experiment",
                          "wall time per iteration, PINN / SPINN, 64^3 collocation points, one GPU")
