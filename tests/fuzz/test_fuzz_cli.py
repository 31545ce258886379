"""Property tests of ``physwm bench``'s command line: random devices, output folders, seeds, thread counts and
flags. Either the settings are accepted (the run is handed a valid configuration) or the command exits with
code 2 and a one-line ``error:`` before any task runs; never a traceback."""

import contextlib
import io
import tempfile
from pathlib import Path
from unittest import mock

from hypothesis import given
from hypothesis import strategies as st

import physwm.bench
from physwm.cli import main
from tests.fuzz.oracle import mostly, time_limit

devices = mostly(st.sampled_from(["cpu", "cpu"]), st.sampled_from(["bogus", "cuda", "cuda:7", "meta", "mps", "", "cpu:0x"]))
outs = mostly(st.just("{tmp}/out"), st.sampled_from(["/proc/physwm", "{tmp}/file", "{tmp}/file/sub", "{tmp}", ""]))
seeds = mostly(st.integers(0, 2**32 - 1).map(str), st.sampled_from(["-1", str(2**70), "1.5", "x", ""]))
threads = mostly(st.sampled_from(["auto", "1", "2"]), st.sampled_from(["0", "-2", "many", "1.5", ""]))
modes = st.sampled_from([[], ["--quick"], ["--full"], ["--smoke"], ["--quick", "--full"]])


@given(device=devices, out=outs, seed=seeds, threads=threads, mode=modes, checkpoint_dir=st.sampled_from([None, "{tmp}/ck",
                                                                                                        "{tmp}/file"]))
def test_bench_command_line(device, out, seed, threads, mode, checkpoint_dir):
    calls = []

    def fake_run(cfg):
        calls.append(cfg)
        return {"seconds": {}, "threads": {}, "plots": [], "wall_seconds": 0.0,
                "results_file": str(Path(cfg.out) / "results.json")}

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "file").write_text("a user's file")
        argv = ["bench", *mode, "--no-progress", "--device", device, "--out", out.format(tmp=tmp), "--seed", seed,
                "--threads", threads]
        if checkpoint_dir is not None:
            argv += ["--checkpoint-dir", checkpoint_dir.format(tmp=tmp)]
        err = io.StringIO()
        with mock.patch.object(physwm.bench, "run_benchmark", fake_run), contextlib.redirect_stderr(err), \
                contextlib.redirect_stdout(io.StringIO()), time_limit(30):
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse's own usage errors
                code = exc.code
        assert (Path(tmp) / "file").read_text() == "a user's file"
    text = err.getvalue()
    assert "Traceback" not in text
    if code == 0:
        assert len(calls) == 1 and calls[0].device == device and calls[0].seed == int(seed)
    else:
        assert code == 2 and not calls, (code, text)
        assert "error:" in text.strip().splitlines()[-1], text
