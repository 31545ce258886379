import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]


def data_root() -> Path | None:
    for cand in (os.environ.get("PHYSWM_DATA"), REPO.parent / "shared" / "data"):
        if cand and Path(cand, "schmidt-lipson").is_dir():
            return Path(cand).resolve()
    return None


@pytest.fixture
def data_dir() -> Path:
    root = data_root()
    if root is None:
        pytest.skip("measured data not found: set PHYSWM_DATA to a folder laid out like shared/data")
    return root


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


def f64(*xs):
    return torch.tensor(xs, dtype=torch.float64)
