"""``physwm bench`` with bad settings: a one-line ``error:`` and exit code 2 before the first task; results
written after every section and never lost to a late write error."""

import json
import os
import re
from pathlib import Path

import pytest

import physwm.bench
from physwm.bench import BenchConfig, runner
from physwm.cli import main


@pytest.mark.parametrize("args, message", [
    (["--device", "bogus"], "`device` must be a torch device such as 'cpu'"),
    (["--device", "meta"], "`device` must be 'cpu' or a CUDA device"),
    (["--out", "/proc/physwm-bench"], "`out` '/proc/physwm-bench' cannot be written"),
    (["--seed", str(2**70)], r"`seed` must be an int >= 0 and <= 4294967295"),
    (["--seed", "-1"], r"`seed` must be an int >= 0"),
    (["--threads", "0"], "`threads` must be 'auto' or an int >= 1"),
    (["--threads", "many"], "`--threads` must be 'auto' or a positive integer"),
])
def test_bad_settings_exit_2_with_one_error_line(args, message, capsys, monkeypatch):
    monkeypatch.setattr(physwm.bench, "run_benchmark", lambda cfg: pytest.fail("a task ran before the settings were checked"))
    assert main(["bench", "--smoke", "--no-progress", *args]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("physwm bench: error: "), lines
    assert re.search(message, lines[0]), lines[0]


def test_out_at_a_file_or_under_one(tmp_path, capsys):
    a_file = tmp_path / "results"
    a_file.write_text("mine")
    for out, message in ((a_file, "is a file, not a folder"), (a_file / "sub", "cannot be written")):
        assert main(["bench", "--smoke", "--no-progress", "--out", str(out)]) == 2
        assert message in capsys.readouterr().err
    assert a_file.read_text() == "mine"  # nothing of the user's is touched


def test_checkpoint_dir_is_checked_too(tmp_path, capsys):
    a_file = tmp_path / "ck"
    a_file.write_text("")
    assert main(["bench", "--smoke", "--no-progress", "--checkpoint-dir", str(a_file)]) == 2
    assert "`checkpoint_dir`" in capsys.readouterr().err


class _Section:
    def __init__(self, fail: bool):
        self.fail = fail

    def run(self, cfg):
        if self.fail:
            raise KeyboardInterrupt("stopped by the user")
        return {"rows": [1, 2, 3]}

    def table(self, result):
        return "table"


def test_results_are_written_after_every_section(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "SECTIONS", {"first": _Section(False), "second": _Section(True)})
    with pytest.raises(KeyboardInterrupt):
        runner.run_benchmark(BenchConfig(mode="smoke", out=str(tmp_path), progress=False, threads=1))
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["first"] == {"rows": [1, 2, 3]} and saved["complete"] is False and "second" not in saved
    assert not [p for p in tmp_path.iterdir() if p.name != "results.json"]  # no temporary file left


def test_a_late_write_error_does_not_lose_the_results(tmp_path, capsys):
    gone = tmp_path / "gone"
    path = runner.write_results({"answer": 42}, gone)  # the folder vanished during the run
    assert path != gone / "results.json" and json.loads(Path(path).read_text()) == {"answer": 42}
    assert f"the results are in {path}" in capsys.readouterr().err
    os.unlink(path)
    assert runner.write_results({"answer": 42}, tmp_path) == tmp_path / "results.json"  # the check can fail
