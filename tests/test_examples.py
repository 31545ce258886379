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
    assert all((tmp_path / p).is_file() for p in res["plots"]) and len(res["plots"]) >= 8
    assert {r["system"] for r in res["power_balance"]} == {"damped_pendulum", "mass_spring_damper", "duffing",
                                                           "duffing_chaotic"}
    msd = next(r for r in res["power_balance"] if r["system"] == "mass_spring_damper" and r["method"] == "implicit_midpoint")
    assert msd["max_power_balance_residual"] < 1e-12  # implicit midpoint closes a quadratic H's power balance exactly
    assert {r["model"] for r in res["chaos"]} >= {"PHNN", "ActionMLP", "LNN", "HNN", "NeuralODE"}
    assert "VPT" in proc.stdout
    assert "SPINN vs PINN" in proc.stdout
    pinn = res["pinn"]
    assert {r["model"] for r in pinn["accuracy"]} == {"PINN", "SPINN"}
    assert all(r["speedup"] > 0 and r["pinn_s_per_it"] > 0 for r in pinn["scaling"])
    proj = {(r["case"], r["model"]): r for r in pinn["projection"]}
    assert proj[("Taylor-Green", "ConservativePINN")]["max_divergence"] < 1e-12
    assert proj[("Taylor-Green", "PINN")]["max_divergence"] > 1e-6
    assert proj[("heat (periodic)", "ConservativePINN")]["max_invariant_error"] < 1e-12


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


@pytest.mark.parametrize("name,expected", [("01_pendulum.ipynb", "HNN: energy MSE"), ("02_double_pendulum.ipynb", "VPT"),
                                           ("03_nbody.ipynb", "position RMSE"),
                                           ("04_heat_equation.ipynb", "total heat exact to round-off: True")])
def test_notebook_executes(data_dir, tmp_path, name, expected):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(REPO / "notebooks" / name, as_version=4)
    os.environ["PHYSWM_SMOKE"] = "1"
    os.environ["PHYSWM_DATA"] = str(data_dir)
    try:
        nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        os.environ.pop("PHYSWM_SMOKE", None)
    outputs = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert expected in outputs


def test_cli_methods_lists_registry():
    proc = subprocess.run(["physwm", "methods"], capture_output=True, text=True)
    assert proc.returncode == 0 and "yoshida6" in proc.stdout and "symplectic" in proc.stdout


def test_import_physwm_stays_light():
    code = ("import sys, physwm, physwm.models, physwm.data, physwm.nn, physwm.training; "
            "bad = [m for m in ('e3nn', 'torch_geometric', 'matplotlib', 'sympy') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip()
    assert out == "[]"


def test_double_pendulum_example_smoke(tmp_path, data_dir):
    proc = subprocess.run([sys.executable, str(REPO / "examples" / "double_pendulum.py"), "--mode", "smoke", "--data",
                           str(data_dir), "--out", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "real_double_pendulum" in proc.stdout and "fitted rig" in proc.stdout
    for name in ("double_pendulum_energy.png", "double_pendulum_error_sim.png", "double_pendulum_error_real.png"):
        assert (tmp_path / name).is_file()
    res = json.loads((tmp_path / "double_pendulum.json").read_text())
    rows = res["simulated"]["rows"] + res["measured"]["rows"]
    assert {r["model"] for r in rows} == {"LNN", "HNN", "NeuralODE"}
    assert all(r["vpt"] >= 0 and r["lambda_max"] == r["lambda_max"] for r in rows)


def test_double_pendulum_rig_fit_recovers_simulated_parameters():
    import torch

    from physwm.bench.double_pendulum import fit_rig, velocity_derivative
    from physwm.data import TrajectoryData
    from physwm.systems import DoublePendulum

    true = DoublePendulum(1.0, 0.8, 0.15, 0.12)
    y = true.sample_initial_state(200, generator=torch.Generator().manual_seed(0))
    x = true.to_velocities(y)
    data = TrajectoryData(torch.arange(200, dtype=torch.float64), x.unsqueeze(1), velocity_derivative(true, y).unsqueeze(1))
    rig = fit_rig(data)
    assert (rig.m2, rig.l1, rig.l2) == pytest.approx((0.8, 0.15, 0.12), rel=1e-6)


def test_nbody_example_smoke_and_resume(tmp_path, data_dir):
    cmd = [sys.executable, str(REPO / "examples" / "nbody.py"), "--mode", "smoke", "--data", str(data_dir),
           "--out", str(tmp_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Charged 5-body" in proc.stdout and "HamiltonianGNN" in proc.stdout
    for name in ("nbody_gravity_invariants.png", "nbody_charged_mse.png", "checkpoints/charged_EGNN_smoke.pt"):
        assert (tmp_path / name).is_file()
    first = json.loads((tmp_path / "nbody.json").read_text())
    # a second run resumes from the finished checkpoints: same trained models, same test MSE
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    second = json.loads((tmp_path / "nbody.json").read_text())
    for a, b in zip(first["charged"], second["charged"]):
        assert a["test_mse"] == b["test_mse"]
    grav = {r["model"]: r for r in first["gravity"]}
    assert grav["HamiltonianGNN"]["momentum_error"] < 1e-12 and grav["PairForceNet"]["momentum_error"] < 1e-12


def test_heat_example_smoke(tmp_path):
    for boundary in ("dirichlet", "periodic"):
        proc = subprocess.run([sys.executable, str(REPO / "examples" / "heat.py"), "--mode", "smoke", "--boundary", boundary,
                               "--out", str(tmp_path)], capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-2000:]
        res = json.loads((tmp_path / f"heat_{boundary}.json").read_text())
        assert {r["model"] for r in res["rows"]} == {"PINN", "SPINN"} and (tmp_path / f"heat_{boundary}.png").is_file()
        assert all(0 < r["rel_l2"] < 2 for r in res["rows"])


def test_incompressible_flow_example_smoke(tmp_path):
    proc = subprocess.run([sys.executable, str(REPO / "examples" / "incompressible_flow.py"), "--mode", "smoke",
                           "--out", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    res = json.loads((tmp_path / "incompressible_flow.json").read_text())
    assert res["solver_error"] < 1e-10
    assert max(res["curves"]["ConservativePINN"]["divergence"]) < 1e-12 < min(res["curves"]["PINN"]["divergence"])
    assert all(c <= p + 1e-12 for c, p in zip(res["curves"]["ConservativePINN"]["rel_l2"], res["curves"]["PINN"]["rel_l2"]))
