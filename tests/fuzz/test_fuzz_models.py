"""Property tests of every public model's forward: random batch sizes and dtypes, and one input corrupted at a
time (a NaN, another dtype, integers, a wrong last dimension, not a tensor). The result is finite, or a named
argument error."""

import math

import torch
from hypothesis import given
from hypothesis import strategies as st

from physwm import ArgumentValueError
from tests.fuzz.oracle import check_call, tensors_in
from tests.model_catalogue import MODELS, build

CORRUPTIONS = [None, None, "nan", "inf", "dtype", "integer", "last dim", "not a tensor", "extra dim"]
NAMES = ["`x`", "`v`", "`h`", "`y`", "`u`", "`t`", "`q`", "`p`", "`axes", "`edge_attr`", "`edge_index`", "`qdot`"]
_BUILT: dict = {}


def _model(name, dtype):
    if (name, dtype) not in _BUILT:  # building e3nn layers costs tens of ms: once per model and dtype
        _BUILT[name, dtype] = build(name, dtype)
    return _BUILT[name, dtype]


def _corrupt(x: torch.Tensor, how: str):
    if how in ("nan", "inf"):
        x = x.clone()
        if x.numel():
            x.view(-1)[0] = math.nan if how == "nan" else -math.inf
        return x
    if how == "dtype":
        return x.to(torch.float32 if x.dtype == torch.float64 else torch.float64)
    if how == "integer":
        return x.round().to(torch.int64)
    if how == "last dim":
        return x[..., :-1] if x.dim() and x.shape[-1] > 1 else torch.cat([x, x], -1)
    if how == "extra dim":
        return x.unsqueeze(-1)
    return x.tolist()


@given(name=st.sampled_from(sorted(MODELS)), dtype=st.sampled_from([torch.float32, torch.float64]),
       batch=st.integers(1, 3), corrupt=st.sampled_from(CORRUPTIONS), which=st.integers(0, 4), seed=st.integers(0, 3))
def test_model_forward(name, dtype, batch, corrupt, which, seed):
    model, inputs, checked = _model(name, dtype)
    args = list(inputs(batch, torch.Generator().manual_seed(seed)))
    if name == "SeparablePINN":
        axes = list(args[0])
        if corrupt is not None:
            axes[which % len(axes)] = _corrupt(axes[which % len(axes)], corrupt)
        args = [axes]
    elif corrupt is not None and checked:
        index = checked[which % len(checked)]
        args[index] = _corrupt(args[index], corrupt)

    def finite(out):
        for o in tensors_in(out):
            assert bool(torch.isfinite(o).all()), f"{name}: non-finite output"
            assert o.dtype == dtype, f"{name}: output dtype {o.dtype}, model {dtype}"

    with torch.enable_grad():
        result = check_call(lambda: model(*args), NAMES, finite_input=corrupt not in ("nan", "inf"), check=finite)
    if corrupt in ("nan", "inf") and (checked or name == "SeparablePINN"):  # a non-finite input must be refused
        assert isinstance(result, ArgumentValueError) and "must be finite" in str(result), f"{name}: {result!r}"[:300]
