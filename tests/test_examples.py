"""The CLI benchmark, the examples and the notebooks run end to end on a tiny budget.

The benchmark and the examples run in this process (their ``main(argv)``, as the console script and
``python examples/<name>.py`` call it): a subprocess would pay the imports of torch, e3nn and
torch_geometric again for each (about 10 s apiece on a 2-core CPU). The console script itself is
run as a subprocess by ``test_cli_methods_lists_registry``.
"""

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _example(name: str, argv: list[str]) -> None:
    """Run ``examples/<name>`` as ``python examples/<name> *argv`` would, in this process."""
    runpy.run_path(str(REPO / "examples" / name))["main"](argv)


def test_bench_smoke_writes_table_json_and_plots(tmp_path, monkeypatch, capfd):
    """The main job with nothing beside the repository: shipped measured data, a generated charged set."""
    from physwm.cli import main

    monkeypatch.delenv("PHYSWM_DATA", raising=False)
    monkeypatch.setenv("KINETO_LOG_LEVEL", "6")  # what main sets (restored afterwards); see the test below
    monkeypatch.chdir(tmp_path)
    assert main(["bench", "--smoke", "--out", str(tmp_path), "--no-progress"]) == 0
    out = capfd.readouterr().out
    assert "real_pendulum" in out and "leapfrog" in out
    res = json.loads((tmp_path / "results.json").read_text())
    conservation = res["integrators"]["rows"]
    assert {r["method"] for r in conservation} == {"euler", "rk4", "dopri5", "symplectic_euler", "leapfrog", "yoshida4",
                                                    "implicit_midpoint"}
    assert {r["system"] for r in conservation} == {"harmonic_oscillator", "pendulum", "kepler_e0.5", "figure_eight"}
    assert {(r["task"], r["model"]) for r in res["pendulum"]["rows"]} >= {("real_pendulum", "HNN"), ("real_pendulum", "NeuralODE")}
    lf = next(r for r in conservation if r["system"] == "figure_eight" and r["method"] == "leapfrog")
    assert lf["momentum_error"] < 1e-12
    assert all((tmp_path / p).is_file() for p in res["plots"]) and len(res["plots"]) >= 8
    pb = res["port_hamiltonian"]["power_balance"]
    assert {r["system"] for r in pb} == {"damped_pendulum", "mass_spring_damper", "duffing", "duffing_chaotic"}
    msd = next(r for r in pb if r["system"] == "mass_spring_damper" and r["method"] == "implicit_midpoint")
    assert msd["max_power_balance_residual"] < 1e-12  # implicit midpoint closes a quadratic H's power balance exactly
    assert {r["model"] for r in res["port_hamiltonian"]["phnn"]} == {"PHNN", "ActionMLP"}
    dp = res["double_pendulum"]
    assert {r["model"] for r in dp["measured"]["rows"]} == {"LNN", "HNN", "NeuralODE"}
    chaos = {r["model"]: r for r in dp["chaotic"]["rows"]}
    assert set(chaos) == {"LNN", "HNN", "NeuralODE", "HNN + rollout", "NeuralODE + rollout"}
    assert chaos["HNN + rollout"]["rollout"].startswith("implicit_midpoint")  # trained and rolled out symplectically
    assert all(r["vpt"] >= 0 and r["states"] == 2 and len(r["vpt_lyapunov_times_per_state"]) == 2 for r in chaos.values())
    assert min(dp["chaotic"]["lambda_max_per_state"]) > 0
    split = {r["model"]: r for r in dp["measured_split"]["rows"]}
    assert set(split) == {"point-mass fit", "LNN", "HNN", "NeuralODE", "grey box (L + R)"}
    assert all(r["vpt"] > 0 and r["rollouts"] == 2 for r in split.values())
    assert set(split["grey box (L + R)"]["parameters"]) == {"b", "c", "d", "e", "o1", "o2"}
    assert "first 70% of both trials" in out
    assert "VPT" in out and "SPINN vs PINN" in out
    assert "generated" in res["nbody"]["charged_source"] and {r["model"] for r in res["nbody"]["charged"]} >= {"EGNN", "SEGNN"}
    pinn = res["pinn"]
    assert {r["model"] for r in pinn["accuracy"]} == {"PINN", "SPINN"}
    assert all(r["speedup"] > 0 and r["pinn_s_per_it"] > 0 and r["pinn_peak_mib"] > 0 for r in pinn["scaling"])
    proj = {(r["case"], r["model"]): r for r in pinn["projection"]}
    assert proj[("Taylor-Green", "LerayPINN")]["max_divergence"] < 1e-12
    assert proj[("Taylor-Green", "PINN")]["max_divergence"] > 1e-6
    assert proj[("heat (periodic)", "IntegralPINN")]["max_invariant_error"] < 1e-12
    assert set(res["seconds"]) == {"integrators", "pendulum", "port_hamiltonian", "double_pendulum", "nbody", "pinn"}


def test_bench_uses_the_published_charged_set_when_given(data_dir, tmp_path):
    from physwm import ArgumentValueError
    from physwm.bench import BenchConfig
    from physwm.bench.nbody import charged_sets

    sets, source = charged_sets(BenchConfig(mode="smoke", data=str(data_dir), progress=False))
    assert "published" in source and len(sets["train"]) == 100 and sets["test"].interval == 1.0
    # a data folder without nbody-charged/: the generated set; a data folder that does not exist: refused up front
    _, source = charged_sets(BenchConfig(mode="smoke", data=str(tmp_path), progress=False))
    assert "generated" in source
    with pytest.raises(ArgumentValueError, match="`data` .* is not a folder"):
        BenchConfig(mode="smoke", data=str(data_dir / "missing"), progress=False)


def test_bench_rejects_missing_cuda(tmp_path, capsys):
    import torch

    from physwm.cli import main

    if torch.cuda.is_available():
        pytest.skip("CUDA present")
    assert main(["bench", "--smoke", "--device", "cuda", "--out", str(tmp_path)]) == 2
    assert "CUDA is not available" in capsys.readouterr().err


def test_pendulum_example_smoke(tmp_path, capsys):
    _example("pendulum.py", ["--smoke", "--out", str(tmp_path)])
    assert "HNN" in capsys.readouterr().out and (tmp_path / "pendulum.png").is_file()


@pytest.mark.parametrize("name,expected", [("01_pendulum.ipynb", "HNN: energy MSE"), ("02_double_pendulum.ipynb", "VPT"),
                                           ("03_nbody.ipynb", "position RMSE"),
                                           ("04_heat_equation.ipynb", "total heat exact to round-off: True")])
def test_notebook_executes(tmp_path, name, expected):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(REPO / "notebooks" / name, as_version=4)
    os.environ["PHYSWM_SMOKE"] = "1"
    try:
        nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        os.environ.pop("PHYSWM_SMOKE", None)
    outputs = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert expected in outputs


def test_cli_quiets_the_profilers_logs():
    """kineto reads its log level once per process, at the first profiled call: so in a fresh one. Without
    ``quiet_profiler_logs`` the memory measurement prints its start/stop lines ("USDT: ...") to stderr."""
    code = ("import sys, torch; from physwm.cli import quiet_profiler_logs; from physwm.diagnostics import peak_memory; "
            "quiet = sys.argv[1] == '1'; quiet and quiet_profiler_logs(); peak_memory(torch.ones, 1000)")
    env = {k: v for k, v in os.environ.items() if k != "KINETO_LOG_LEVEL"}
    runs = {q: subprocess.run([sys.executable, "-c", code, q], capture_output=True, text=True, env=env) for q in "01"}
    assert all(p.returncode == 0 for p in runs.values()), runs["1"].stderr[-2000:]
    assert "profiler_start" in runs["0"].stderr and "USDT" not in runs["1"].stderr


def test_cli_methods_lists_registry():
    proc = subprocess.run(["physwm", "methods"], capture_output=True, text=True)
    assert proc.returncode == 0 and "yoshida6" in proc.stdout and "symplectic" in proc.stdout


def test_import_physwm_stays_light():
    code = ("import sys, physwm, physwm.models, physwm.data, physwm.nn, physwm.training; "
            "bad = [m for m in ('e3nn', 'torch_geometric', 'matplotlib', 'sympy') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip()
    assert out == "[]"


def test_double_pendulum_example_smoke(tmp_path, capsys):
    _example("double_pendulum.py", ["--mode", "smoke", "--measured", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "Lyapunov times" in out and "measured rig fitted" in out
    res = json.loads((tmp_path / "double_pendulum.json").read_text())
    assert {"LNN", "HNN", "NeuralODE", "measured LNN"} <= set(res) and res["lambda_max"] > 0
    assert {"HNN + rollout", "NeuralODE + rollout"} <= set(res) and len(res["lambda_max_per_state"]) == 2
    assert all(res[k]["vpt"] >= 0 for k in res if not k.startswith("lambda_max")) and (tmp_path / "double_pendulum.png").is_file()


def test_lnn_energy_example_smoke(tmp_path, capsys):
    _example("lnn_energy.py", ["--mode", "smoke", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "published (Cranmer et al. 2020)" in out
    res = json.loads((tmp_path / "lnn_energy.json").read_text())
    assert {"LNN", "HNN", "NeuralODE"} <= set(res) and res["protocol"]["batch"] == 512
    assert all(len(res[k]["energy_error_pct_per_state"]) == 2 for k in ("LNN", "HNN", "NeuralODE"))
    # the structured models conserve their own energy along their RK4 rollouts (the LNN's includes its ε term)
    assert all(0 <= res[k]["own_energy_drift_pct_median"] < 1e-6 for k in ("LNN", "HNN"))
    assert res["NeuralODE"]["own_energy_drift_pct_median"] is None


def test_gravity_pair_forces_example_smoke(tmp_path, capsys):
    _example("gravity_pair_forces.py", ["--mode", "smoke", "--out", str(tmp_path)])
    res = json.loads((tmp_path / "gravity_pair_forces.json").read_text())
    for variant in ("raw distance", "radial features"):
        assert len(res[variant]["learned_force"]) == len(res["r"])
        assert res[variant]["energy_error_leapfrog"] >= 0 and res[variant]["energy_error_rk4"] >= 0


def test_nbody_example_smoke_and_resume(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("PHYSWM_DATA", raising=False)
    argv = ["--mode", "smoke", "--out", str(tmp_path)]
    _example("nbody.py", argv)
    out = capsys.readouterr().out
    assert "generated" in out and "rolled forward" in out
    assert (tmp_path / "checkpoints" / "charged_EGNN_smoke.pt").is_file()
    first = json.loads((tmp_path / "nbody.json").read_text())
    # a second run resumes from the finished checkpoints: same trained models, same test MSE
    _example("nbody.py", argv)
    second = json.loads((tmp_path / "nbody.json").read_text())
    for name in ("EGNN", "SEGNN"):
        assert first["models"][name]["test_mse"] == second["models"][name]["test_mse"]
    assert first["rollout"]["equivariance_error"] < 1e-10


def test_heat_example_smoke(tmp_path):
    for boundary in ("dirichlet", "periodic"):
        _example("heat.py", ["--mode", "smoke", "--boundary", boundary, "--out", str(tmp_path)])
        res = json.loads((tmp_path / f"heat_{boundary}.json").read_text())
        assert {r["model"] for r in res["rows"]} == {"PINN", "SPINN"} and (tmp_path / f"heat_{boundary}.png").is_file()
        # ten steps of training must lower the error of the untrained field (about 1), and cannot reach round-off
        assert all(1e-3 < r["rel_l2"] < r["rel_l2_initial"] for r in res["rows"]), res["rows"]
        assert all(r["iterations"] == 10 and r["peak_mib"] > 0 for r in res["rows"])


def test_incompressible_flow_example_smoke(tmp_path):
    _example("incompressible_flow.py", ["--mode", "smoke", "--out", str(tmp_path)])
    res = json.loads((tmp_path / "incompressible_flow.json").read_text())
    assert res["solver_error"] < 1e-10
    assert max(res["curves"]["LerayPINN"]["divergence"]) < 1e-12 < min(res["curves"]["PINN"]["divergence"])
    assert all(c <= p + 1e-12 for c, p in zip(res["curves"]["LerayPINN"]["rel_l2"], res["curves"]["PINN"]["rel_l2"]))


def test_bench_threads_are_validated_and_restored():
    import torch

    from physwm.bench import BenchConfig
    from physwm.bench.runner import pick_threads

    for bad in (0, -2, True, "two"):
        with pytest.raises(ValueError, match="threads"):
            BenchConfig(mode="smoke", threads=bad)
    before = torch.get_num_threads()
    try:
        assert pick_threads(1) == 1 and torch.get_num_threads() == 1
        assert pick_threads(before) in (1, before)
    finally:
        torch.set_num_threads(before)


def test_spinn_vs_pinn_example_smoke_and_resume(tmp_path, capsys):
    argv = ["--mode", "smoke", "--out", str(tmp_path), "--problems", "klein_gordon"]
    _example("spinn_vs_pinn.py", argv)
    path = tmp_path / "spinn_vs_pinn_smoke_modified.json"
    res = json.loads(path.read_text())
    assert set(res["runs"]) == {"klein_gordon/PINN/4", "klein_gordon/SPINN/8"}
    for run in res["runs"].values():
        seconds = [s for s, _ in run["curve"]]
        assert seconds == sorted(seconds) and 0 < seconds[-1] <= run["seconds"] and run["steps"] >= 2
        assert all(0 < e < 10 for _, e in run["curve"])
    rows = res["summary"]["klein_gordon"]
    assert [r["budget_s"] for r in rows] == [0.5, 1.0] and isinstance(res["spinn_better_at_every_budget"], bool)
    assert (tmp_path / "spinn_vs_pinn_smoke_modified.png").is_file()
    capsys.readouterr()
    _example("spinn_vs_pinn.py", argv)  # finished runs are kept, not run again
    assert "steps" not in capsys.readouterr().out.split("relative L2")[0]
    assert json.loads(path.read_text())["runs"] == res["runs"]
