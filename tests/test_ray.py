"""--backend ray on real Ray: a local instance, a head started with `ray start`, a killed
worker actor, Ctrl-C, a bad address, and the parameter server's staleness accounting."""

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, gone, run_cli, start_training, trained_some, wait_for

from mario_a3c.checkpoint import load_checkpoint
from mario_a3c.config import Config
from mario_a3c.messages import Staleness
from mario_a3c.ray_server import ParameterServer
from mario_a3c.video import count_frames

RAY = str(Path(sys.executable).parent / "ray")


def processes(prefix: str) -> dict[int, str]:
    """pid -> comm of every process whose name starts with ``prefix``."""
    out = {}
    for entry in Path("/proc").iterdir():
        try:
            comm = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if entry.name.isdigit() and comm.startswith(prefix) and not gone(int(entry.name)):
            out[int(entry.name)] = comm
    return out


def worker_pid(rank: int) -> int | None:
    """The pid of the Ray actor running worker ``rank`` (a child of a raylet, not of a trainer)."""
    for pid, comm in processes("a3c-worker-").items():
        try:
            parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
            parent_comm = Path(f"/proc/{parent}/comm").read_text().strip()
        except OSError:
            continue
        if comm == f"a3c-worker-{rank}" and parent_comm == "raylet":
            return pid
    return None


def ours(before: set[int]) -> set[int]:
    """a3c- processes that were not running when the test began (another run's are not ours)."""
    return set(processes("a3c-")) - before


def ray_daemons() -> dict[int, str]:
    return {**processes("raylet"), **processes("gcs_server")}


def test_staleness_is_measured_and_stale_gradients_are_dropped():
    cfg = Config(env_id="CartPole-v1", lstm_size=0, max_staleness=2)
    sig = {"obs_shape": [4], "obs_dtype": "float32", "action_kind": "discrete", "n_actions": 2}
    server = ParameterServer(dataclasses.asdict(cfg), sig, None, None, frames=0, best=0.0)
    ones = [np.ones_like(w) for w in server.pull()[1]]
    # (weights version the gradient was computed from, the server's version when it arrives)
    for version, expect_lag in [(0, 0), (0, 1), (1, 1), (0, 3), (3, 0)]:
        before = [w.copy() for w in server.pull()[1]]
        assert server.version - version == expect_lag
        total, stopped = server.push(version, ones, frames=10)
        moved = any(not np.array_equal(a, b) for a, b in zip(before, server.pull()[1], strict=True))
        assert moved == (expect_lag <= 2), f"lag {expect_lag}"
    assert server.version == 4 and total == 50 and not stopped
    assert server.drain() == ([Staleness([0, 1, 1, 3, 0], 1)], False)
    assert server.drain() == ([], False)  # each gradient is reported once
    assert int(server.optimizer.steps) == 4  # the dropped gradient never reached Adam
    server.push(4, None, frames=7)  # an update the worker skipped (non-finite): frames only
    assert server.frames == 57 and server.drain() == ([], False)
    server.stop()
    assert server.push(4, ones, frames=1) == (58, True)  # workers learn of the stop on their next push


def test_bad_ray_address_is_one_line_and_exit_2(tmp_path):
    began = time.time()
    proc = run_cli("train.py", "--backend", "ray", "--ray-address", "127.0.0.1:1", "--save-dir", str(tmp_path))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "--ray-address 127.0.0.1:1: no Ray cluster answers there" in proc.stderr
    assert time.time() - began < 30 and not list(tmp_path.iterdir())
    proc = run_cli("train.py", "--ray-address", "auto", "--save-dir", str(tmp_path))
    assert proc.returncode == 2 and "add --backend ray" in proc.stderr


@pytest.mark.slow
def test_local_ray_run_survives_a_killed_worker_stops_on_ctrl_c_plays_and_resumes(tmp_path):
    before = set(processes("a3c-"))
    proc = start_training(tmp_path, "--backend", "ray", "--max-frames", "10000000", "--eval-interval", "3")
    run_dir = tmp_path / "mario_1_1"
    wait_for(lambda: trained_some(run_dir), timeout=180, what="a first training episode")
    victim = worker_pid(0)
    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: worker_pid(0) not in (None, victim), timeout=90, what="Ray to restart worker 0")
    sent = time.time()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert time.time() - sent < 10 and proc.returncode == 0, err[-2000:]
    assert "worker 0 died (actor died" in out and "restarting it (1/3)" in out
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["stopped_by"] == "SIGINT" and summary["config"]["backend"] == "ray"
    assert sum(summary["staleness"]["counts"].values()) > 0 and summary["dropped_gradients"] == 0
    assert list((run_dir / "tb").glob("events.*")) and (run_dir / "best.pt").exists()
    wait_for(lambda: not ray_daemons() and not ours(before), timeout=20, what="every Ray process to exit")

    played = run_cli("test.py", "--checkpoint", str(run_dir / "last.pt"), "--output", str(tmp_path / "ray.mp4"))
    assert played.returncode == 0, played.stderr
    assert count_frames(tmp_path / "ray.mp4") > 20

    # What a Ray run saved continues on the multiprocessing backend, from its frame count.
    budget = str(summary["frames"] + 2000)
    resumed = run_cli("train.py", "--resume", str(run_dir), "--backend", "mp", "--max-frames", budget)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    meta, _, _ = load_checkpoint(run_dir / "last.pt")
    assert meta["frames"] >= int(budget) and meta["config"]["backend"] == "mp"


@pytest.mark.slow
def test_a_dead_parameter_server_stops_the_run_and_keeps_the_last_checkpoint(tmp_path):
    before = set(processes("a3c-"))
    proc = start_training(
        tmp_path, "--backend", "ray", "--max-frames", "10000000", "--eval-interval", "3600",
        "--checkpoint-interval", "2",
    )  # fmt: skip
    run_dir = tmp_path / "mario_1_1"
    wait_for(lambda: trained_some(run_dir), timeout=180, what="a first training episode")
    wait_for(lambda: load_checkpoint(run_dir / "last.pt")[0]["frames"] > 0, timeout=30, what="a checkpoint")
    (server,) = processes("ray::ParameterS")  # Ray's name for the actor (/proc/<pid>/comm: 15 chars)
    os.kill(server, signal.SIGKILL)
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == 1, err[-2000:]
    assert err.strip().splitlines()[-1].startswith("error: the parameter server died"), err[-2000:]
    assert "last.pt keeps the last periodic checkpoint" in out
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["stopped_by"].startswith("the parameter server died") and "--resume" in summary["stopped_by"]
    meta, _, _ = load_checkpoint(run_dir / "last.pt")  # intact, loadable, ready for --resume
    assert 0 < meta["frames"] <= summary["frames"]
    wait_for(lambda: not ray_daemons() and not ours(before), timeout=30, what="every Ray process to exit")


@pytest.mark.slow
def test_joins_a_running_head_and_ctrl_c_stops_only_this_run(tmp_path):
    env = dict(os.environ, RAY_worker_niceness="0")
    subprocess.run(
        [RAY, "start", "--head", "--num-cpus", "2", "--include-dashboard", "false", "--disable-usage-stats"],
        check=True,
        capture_output=True,
        env=env,
        timeout=120,
    )
    before = set(processes("a3c-"))
    try:
        head = ray_daemons()
        assert head
        proc = start_training(tmp_path, "--backend", "ray", "--ray-address", "auto", "--max-frames", "10000000")
        run_dir = tmp_path / "mario_1_1"
        wait_for(lambda: trained_some(run_dir), timeout=180, what="a first training episode")
        assert {"a3c-worker-0", "a3c-worker-1", "a3c-tester"} <= set(processes("a3c-").values())
        sent = time.time()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        assert time.time() - sent < 10 and proc.returncode == 0
        summary = json.loads((run_dir / "summary.json").read_text())
        assert summary["stopped_by"] == "SIGINT" and summary["frames"] > 0
        assert load_checkpoint(run_dir / "last.pt")[0]["frames"] == summary["frames"]
        wait_for(lambda: not ours(before), timeout=20, what="this run's actors to exit")
        assert set(head) <= set(ray_daemons())  # the cluster itself keeps running
    finally:
        subprocess.run([RAY, "stop", "--force"], capture_output=True, timeout=120, cwd=ROOT)


@pytest.mark.slow
def test_a2c_on_a_vector_env_runs_on_ray_and_learns(tmp_path):
    """With --epochs 2 each rollout pushes two gradients, each from the weights the last one made."""
    from mario_a3c.checkpoint import load_checkpoint

    proc = run_cli(
        "train.py",
        *("--env", "CartPole-v1", "--backend", "ray", "--algo", "a2c", "--epochs", "2", "--max-frames", "60000"),
        *("--save-dir", str(tmp_path)),
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads((tmp_path / "CartPole-v1" / "summary.json").read_text())
    assert summary["frames"] >= 60000 and summary["config"]["backend"] == "ray"
    assert summary["last_100_mean_return"] > 4 * 22.0  # random actions last 22 steps on average
    rollouts = summary["frames"] // (8 * 8)  # the CartPole A2C preset: 8 envs x 8 steps
    _, _, optimizer = load_checkpoint(tmp_path / "CartPole-v1" / "last.pt")
    assert int(optimizer["steps"]) == 2 * rollouts and summary["dropped_gradients"] == 0
