"""The Klein-Gordon problem of the SPINN paper: its residual, the initial-velocity term a second-order-in-time
problem needs (forward mode on a SPINN, reverse mode on a PINN), and older PINNResidual checkpoints."""

import pytest
import torch

from physwm.models import PINN, SeparablePINN
from physwm.pde import Box, PDEProblem
from physwm.pde import autodiff as ad
from physwm.systems import KleinGordon
from physwm.training import PINN_TERMS, PINNResidual, fit, pinn_loss_terms

F64 = torch.float64


class _Field(torch.nn.Module):
    """A pointwise field ``exact(x, t) + offset * (t - t0)``, with the PINN interface."""

    separable = False

    def __init__(self, kg: KleinGordon, offset: float, t0: float = 0.0):
        super().__init__()
        self.kg, self.offset, self.t0 = kg, offset, t0
        self.w = torch.nn.Parameter(torch.zeros((), dtype=F64))  # gives the field a dtype and device

    def forward(self, x, t):
        return self.kg(x[..., 0], x[..., 1], t) + self.offset * (t - self.t0) + 0 * self.w

    def collocation(self, x, t):
        x, t = x.detach().requires_grad_(), t.detach().requires_grad_()
        return self(x, t), x, t


@pytest.mark.parametrize("power", [2, 3])
def test_klein_gordon_problem_vanishes_on_the_exact_solution_and_sees_a_wrong_velocity(power):
    kg = KleinGordon(power=power)
    problem = kg.pde_problem()
    assert tuple(problem.spacetime.lower) == (-1.0, -1.0, 0.0) and tuple(problem.spacetime.upper) == (1.0, 1.0, 10.0)
    exact = pinn_loss_terms(_Field(kg, 0.0), problem, 8, generator=torch.Generator().manual_seed(0))
    assert set(exact) == set(PINN_TERMS)
    assert all(float(v.detach()) < 1e-20 for v in exact.values()), exact
    # u + a (t - t0): the value at t0 and the walls' data at t0 are right, the initial velocity is off by a
    # exactly, and u_tt is unchanged, so the residual sees only the nonlinearity
    wrong = pinn_loss_terms(_Field(kg, 0.3), problem, 8, generator=torch.Generator().manual_seed(0))
    assert float(wrong["initial_velocity"]) == pytest.approx(0.09, rel=1e-12)
    assert float(wrong["initial"]) < 1e-20 and float(wrong["residual"]) > 1e-2 and float(wrong["boundary"]) > 1e-2
    # a later start: the data follow t0
    late = kg.pde_problem((1.0, 2.0))
    assert all(float(v) < 1e-20 for v in pinn_loss_terms(_Field(kg, 0.0), late, 6).values())
    assert float(pinn_loss_terms(_Field(kg, 0.2, t0=1.0), late, 6)["initial_velocity"]) == pytest.approx(0.04, rel=1e-12)


def test_klein_gordon_nonlinearity_is_the_one_asked_for():
    x, y, t = torch.tensor(0.3, dtype=F64), torch.tensor(-0.4, dtype=F64), torch.tensor(0.7, dtype=F64)
    u = KleinGordon()(x, y, t)
    assert float(KleinGordon().source(x, y, t)) == pytest.approx(float(u**2 - 4 * u), rel=1e-14)
    assert float(KleinGordon(power=3).source(x, y, t)) == pytest.approx(float(u**3 - 4 * u), rel=1e-14)
    tt = t.clone().requires_grad_()
    (du,) = torch.autograd.grad(KleinGordon()(x, y, tt), tt)
    assert float(KleinGordon().velocity(x, y, t)) == pytest.approx(float(du), rel=1e-14)
    with pytest.raises(ValueError, match=r"`power` must be an int >= 2, got 1"):
        KleinGordon(power=1)


@pytest.mark.parametrize("shift", [0.0, 0.1])
def test_spinn_initial_velocity_term_is_its_time_derivative_at_t0(shift):
    """The SPINN's forward-mode u_t at t0 against reverse mode on its pointwise evaluation."""
    torch.manual_seed(0)
    domain = Box([-1.0, -1.0], [1.0, 1.0])
    spinn = SeparablePINN(domain, (0.5, 2.0), rank=4, hidden=(8, 8), architecture="modified").double()

    def reverse_velocity(x):
        t = torch.full(x.shape[:-1], 0.5, dtype=F64, requires_grad=True)
        (du,) = torch.autograd.grad(spinn.predict(x, t).sum(), t)
        return du.detach() + shift

    problem = PDEProblem(residual=lambda u, x, t: ad.partial(u, t, order=2), domain=domain, time=(0.5, 2.0),
                         initial_velocity=reverse_velocity)
    terms = pinn_loss_terms(spinn, problem, 5, generator=torch.Generator().manual_seed(1))
    assert set(terms) == {"residual", "initial_velocity"}
    assert float(terms["initial_velocity"]) == pytest.approx(shift**2, rel=1e-10, abs=1e-24)
    terms["initial_velocity"].backward()  # the term trains the time network
    assert shift == 0.0 or float(spinn.nets[2].out.weight.grad.abs().sum()) > 0


def test_klein_gordon_trains_both_models_on_a_smoke_budget():
    problem = KleinGordon().pde_problem((0.0, 1.0))
    for model in (PINN(problem.domain, problem.time, hidden=(32,) * 3, architecture="modified", normalize_inputs=False),
                  SeparablePINN(problem.domain, problem.time, rank=16, hidden=(32,) * 3, architecture="modified",
                                normalize_inputs=False)):
        torch.manual_seed(0)
        result = fit(model, PINNResidual(problem, points_per_axis=6 if not model.separable else 12, eval_points=12),
                     steps=150, lr=3e-3, eval_every=50, progress=False)
        assert set(result.terms) == set(PINN_TERMS)
        assert result.terms["initial_velocity"][-1] < 0.2 * result.terms["initial_velocity"][0]
        # 150 steps of either lower the error of the untrained field (about 1); measured 0.05-0.25
        assert result.metrics["rel_l2"][-1] < 0.5, (type(model).__name__, result.metrics)
        assert len(result.val_seconds) == 3 and result.val_seconds == sorted(result.val_seconds)
        assert 0 < result.val_seconds[-1] <= result.seconds


def test_initial_velocity_needs_time_and_a_callable():
    domain = Box([0.0], [1.0])
    with pytest.raises(ValueError, match="`initial_velocity` needs a `time` interval"):
        PDEProblem(residual=lambda u, x, t: u, domain=domain, initial_velocity=lambda x: x[..., 0])
    with pytest.raises(TypeError, match="`initial_velocity` must be callable or None, got float"):
        PDEProblem(residual=lambda u, x, t: u, domain=domain, time=(0.0, 1.0), initial_velocity=1.0)


def test_pinn_residual_loads_checkpoints_from_before_the_velocity_term():
    objective = PINNResidual(KleinGordon().pde_problem())
    objective.load_state_dict({"weights": {"residual": 1.0, "initial": 4.0, "boundary": 2.0}})
    assert objective.weights() == {"residual": 1.0, "initial": 4.0, "boundary": 2.0, "initial_velocity": 1.0}
    objective.load_state_dict(objective.state_dict())
    for bad in ({"weights": {"residual": 1.0}}, {"weights": {**objective.weights(), "pde": 1.0}},
                {"weights": {**objective.weights(), "initial": -1.0}}, {"weights": {**objective.weights(), "initial": "x"}},
                {"weights": 3}, [1]):
        with pytest.raises(ValueError, match="a PINNResidual checkpoint holds"):
            objective.load_state_dict(bad)
    assert objective.weights()["initial"] == 4.0  # a refused state changes nothing
