"""scripts/benchmark_learning.py: real train.py runs per seed, results kept and continued."""

import json
import signal
import subprocess
import sys

import pytest
from conftest import ROOT, run_cli, trained_some, wait_for


@pytest.mark.slow
def test_a_seed_that_does_not_clear_counts_as_slowest_and_is_not_run_twice(tmp_path):
    report = tmp_path / "b.json"
    args = ["scripts/benchmark_learning.py", "--seeds", "1", "--limit", "12", "--out", str(tmp_path / "runs")]
    args += ["--json", str(report), "--", "--num-processes", "1", "--eval-interval", "1000"]
    first = run_cli(*args)
    assert first.returncode == 0, first.stderr[-2000:]
    data = json.loads(report.read_text())
    (seed,) = data["seeds"]
    assert seed["seed"] == 0 and not seed["cleared"] and seed["frames"] > 0 and seed["train_fps"] > 0
    assert data["median_clear_seconds"] is None and data["train_args"] == [
        "--num-processes",
        "1",
        "--eval-interval",
        "1000",
    ]
    assert "| 0 | no | not cleared | not cleared |" in first.stdout and "| median | 0/1 |" in first.stdout
    again = run_cli(*args)  # the seed is in the JSON: printed, not trained again
    assert again.returncode == 0 and "seed 0:" not in again.stderr and json.loads(report.read_text()) == data


@pytest.mark.slow
def test_ctrl_c_is_passed_on_and_the_next_call_continues_the_seeds_own_run(tmp_path):
    report, out = tmp_path / "b.json", tmp_path / "runs"
    args = ["scripts/benchmark_learning.py", "--seeds", "1", "--out", str(out), "--json", str(report)]
    extra = ["--", "--num-processes", "1", "--eval-interval", "1000", "--checkpoint-interval", "5"]
    proc = subprocess.Popen(
        [sys.executable, *args, "--limit", "600", *extra], cwd=ROOT, stderr=subprocess.PIPE, text=True
    )
    wait_for(lambda: trained_some(out / "seed0" / "mario_1_1"), timeout=120, what="seed 0 to train")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0 and "seed 0 was interrupted (SIGINT)" in err, err[-2000:]
    run = out / "seed0" / "mario_1_1"
    first = json.loads((run / "summary.json").read_text())
    assert first["stopped_by"] == "SIGINT" and not report.exists()  # saved by train.py, nothing recorded yet
    again = run_cli(*args, "--limit", str(first["wall_seconds"] + 10), *extra)
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"--resume {run}" in again.stderr and not (out / "seed0" / "mario_1_1-2").exists()
    (seed,) = json.loads(report.read_text())["seeds"]
    assert seed["run_dir"] == str(run) and seed["frames"] > first["frames"]
