"""Property tests of the training entry points: ``fit`` and the objectives' constructors over random budgets,
learning rates, intervals, seeds, batch sizes, horizons and checkpoint paths. A run returns a history of
finite losses with the steps asked for, or is refused with a named argument error, or (a valid run whose
learning rate blows it up) raises ``TrainingError``."""

import math
import tempfile
from pathlib import Path

import torch
from hypothesis import given
from hypothesis import strategies as st

from physwm import TrainingError
from physwm.data import make_trajectories
from physwm.models import HNN
from physwm.systems import HarmonicOscillator
from physwm.training import DerivativeMatching, RolloutMatching, fit
from tests.fuzz.oracle import check_call, mostly, not_tensors

DATA = make_trajectories(HarmonicOscillator(), 3, torch.linspace(0, 1, 6, dtype=torch.float64),
                         generator=torch.Generator().manual_seed(0))
bad_ints = st.sampled_from([0, -1, 2.5, "3", None, True, 2**70])
bad_reals = st.sampled_from([0.0, -1.0, math.nan, math.inf, "0.1", None])


@given(steps=mostly(st.integers(1, 3), bad_ints), lr=mostly(st.floats(1e-4, 1e-1), bad_reals),
       weight_decay=mostly(st.floats(0, 1e-2), bad_reals), eval_every=mostly(st.one_of(st.none(), st.integers(1, 3)), bad_ints),
       checkpoint_every=mostly(st.one_of(st.none(), st.integers(1, 3)), bad_ints),
       seed=mostly(st.integers(0, 2**32 - 1), bad_ints), keep_best=st.booleans(),
       checkpoint=mostly(st.sampled_from([None, "run.pt"]), st.sampled_from(["missing/run.pt", ".", 3])),
       objective=mostly(st.sampled_from(["derivative", "rollout", "data"]), st.one_of(not_tensors(), st.just("tuple"))))
def test_fit(steps, lr, weight_decay, eval_every, checkpoint_every, seed, keep_best, checkpoint, objective):
    torch.manual_seed(0)
    model = HNN(1, hidden=(4,)).double()
    if objective == "derivative":
        objective = DerivativeMatching(DATA, batch_size=4)
    elif objective == "rollout":
        objective = RolloutMatching(DATA, horizon=2)
    elif objective == "data":
        objective = DATA
    elif objective == "tuple":
        objective = (DATA.ys, DATA.dydt)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / checkpoint if isinstance(checkpoint, str) else checkpoint

        def history(result):
            assert result.steps == steps and len(result.train_loss) == steps
            assert all(math.isfinite(v) for v in result.train_loss + result.val_loss)

        check_call(lambda: fit(model, objective, steps=steps, lr=lr, weight_decay=weight_decay, eval_every=eval_every,
                               checkpoint_every=checkpoint_every, seed=seed, keep_best=keep_best, checkpoint=path,
                               progress=False),
                   ["`steps`", "`lr`", "`weight_decay`", "`eval_every`", "`checkpoint_every`", "`seed`", "`objective`",
                    "checkpoint", "`checkpoint`"], finite_input=True, runtime_errors=(TrainingError,), check=history)


@given(batch_size=mostly(st.one_of(st.none(), st.integers(1, 40)), bad_ints),
       horizon=mostly(st.integers(1, 5), st.one_of(bad_ints, st.integers(6, 50))),
       method=mostly(st.sampled_from(["rk4", "dopri5", "implicit_midpoint"]), st.sampled_from(["leapfrog", "rk45", 4])),
       dt=mostly(st.one_of(st.none(), st.floats(0.05, 0.5)), bad_reals))
def test_objective_constructors(batch_size, horizon, method, dt):
    names = ["`batch_size`", "`horizon`", "`method`", "`dt`", "gap-free window"]
    check_call(lambda: DerivativeMatching(DATA, batch_size=batch_size), names, finite_input=True)
    check_call(lambda: RolloutMatching(DATA, horizon=horizon, method=method, dt=dt, batch_size=batch_size), names,
               finite_input=True)
