"""scripts/benchmark_learning.py: real train.py runs per seed, results kept and continued."""

import json

import pytest
from conftest import run_cli


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
