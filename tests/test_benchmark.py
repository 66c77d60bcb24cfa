"""scripts/benchmark.py: the raw leg steps the env that training builds, from --train-args."""

import json

import pytest
from conftest import run_cli


@pytest.mark.slow
def test_raw_and_training_legs_measure_the_same_game(tmp_path):
    report = tmp_path / "bench.json"
    args = ["scripts/benchmark.py", "--env", "ALE/Pong-v5", "--processes", "1", "--seconds", "10", "--warmup", "1"]
    proc = run_cli(*args, "--train-args", "--sticky-actions 0 --num-envs 2", "--json", str(report))
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads(report.read_text())
    assert data["env_kwargs"] == {"sticky_actions": 0.0} and data["train_args"] == [
        "--sticky-actions",
        "0",
        "--num-envs",
        "2",
    ]
    assert data["raw_fps"] > 1000 and data["train_fps"] > 0 and data["ratio"] == data["train_fps"] / data["raw_fps"]
    assert "| 1 | " in proc.stdout


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--seconds", "2"], "--seconds 2: at least 10"),
        (["--train-args", "--sticky-actions 1"], "--train-args: --sticky-actions 1.0: must lie in [0, 1)"),
        (["--train-args", "--bogus 1"], "unrecognized arguments: --bogus 1 (see train.py --help)"),
        (["--train-args", "--lr 1e-3 --help"], "--train-args: --help is train.py's own (python train.py --help)"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(extra, message):
    proc = run_cli("scripts/benchmark.py", "--env", "ALE/Pong-v5", *extra)
    assert proc.returncode == 2 and message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
