"""The CLI benchmark, the example and the notebook run end to end on a tiny budget."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_bench_smoke_writes_table_json_and_plots(tmp_path, data_dir):
    proc = subprocess.run(["physwm", "bench", "--quick", "--smoke", "--out", str(tmp_path), "--data", str(data_dir),
                           "--no-progress"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "real_pendulum" in proc.stdout and "leapfrog" in proc.stdout
    res = json.loads((tmp_path / "results.json").read_text())
    methods = {r["method"] for r in res["conservation"]}
    assert methods == {"euler", "rk4", "dopri5", "symplectic_euler", "leapfrog", "yoshida4", "implicit_midpoint"}
    assert {r["system"] for r in res["conservation"]} == {"harmonic_oscillator", "pendulum", "kepler_e0.5",
                                                         "figure_eight"}
    assert {(r["task"], r["model"]) for r in res["learned"]} >= {("real_pendulum", "HNN"), ("real_pendulum", "NeuralODE")}
    lf = next(r for r in res["conservation"] if r["system"] == "figure_eight" and r["method"] == "leapfrog")
    assert lf["momentum_error"] < 1e-12
    assert all((tmp_path / p).is_file() for p in res["plots"]) and len(res["plots"]) >= 5


def test_bench_without_data_says_so(tmp_path, monkeypatch):
    monkeypatch.delenv("PHYSWM_DATA", raising=False)
    from physwm.bench import BenchConfig, run_benchmark

    res = run_benchmark(BenchConfig(mode="smoke", out=str(tmp_path), progress=False))
    assert any("measured data not found" in n for n in res["notes"])
    assert not any(r["task"] == "real_pendulum" for r in res["learned"])


def test_bench_rejects_missing_cuda(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA present")
    proc = subprocess.run(["physwm", "bench", "--smoke", "--device", "cuda", "--out", str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "CUDA is not available" in proc.stderr


def test_pendulum_example_smoke(tmp_path, data_dir):
    proc = subprocess.run([sys.executable, str(REPO / "examples" / "pendulum.py"), "--smoke", "--data", str(data_dir),
                           "--out", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "HNN" in proc.stdout and (tmp_path / "pendulum.png").is_file()


def test_notebook_executes(data_dir):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(REPO / "notebooks" / "01_pendulum.ipynb", as_version=4)
    os.environ["PHYSWM_SMOKE"] = "1"
    os.environ["PHYSWM_DATA"] = str(data_dir)
    try:
        nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                resources={"metadata": {"path": str(REPO / "notebooks")}}).execute()
    finally:
        os.environ.pop("PHYSWM_SMOKE", None)
    outputs = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "HNN: energy MSE" in outputs


def test_cli_methods_lists_registry():
    proc = subprocess.run(["physwm", "methods"], capture_output=True, text=True)
    assert proc.returncode == 0 and "yoshida6" in proc.stdout and "symplectic" in proc.stdout


def test_import_physwm_stays_light():
    code = "import sys, physwm; bad = [m for m in ('e3nn', 'torch_geometric', 'matplotlib', 'sympy') if m in sys.modules]; print(bad)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip()
    assert out == "[]"
