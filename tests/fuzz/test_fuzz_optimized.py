"""The checks must not rely on ``assert`` (gone under ``python -O``): the property suite and the integrator
error tests run again with optimisations on, with fewer examples."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_boundary_checks_hold_under_python_O():
    if sys.flags.optimize:
        pytest.skip("already running under python -O")
    env = dict(os.environ, PHYSWM_FUZZ_EXAMPLES="25")
    proc = subprocess.run([sys.executable, "-O", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/fuzz",
                           "tests/integrate/test_errors.py"], capture_output=True, text=True, env=env, cwd=REPO)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert " passed" in proc.stdout and " failed" not in proc.stdout
