"""A real 2-worker Mario training run, then test.py on its checkpoint (marked slow)."""

import json

import pytest
from conftest import run_cli

from mario_a3c.checkpoint import load_checkpoint
from mario_a3c.video import count_frames

pytestmark = pytest.mark.slow


def test_training_writes_checkpoints_events_video_and_summary(mario_run):
    run_dir, proc = mario_run
    summary = json.loads((run_dir / "summary.json").read_text())
    for key in (
        "env_id",
        "frames",
        "wall_seconds",
        "episodes",
        "best_eval_return",
        "best_x_pos",
        "solved",
        "solved_at_frames",
        "solved_at_seconds",
        "config",
    ):
        assert key in summary
    assert summary["env_id"] == "SuperMarioBros-1-1-v0"
    assert summary["frames"] >= 6000 and summary["episodes"] >= 1 and summary["best_x_pos"] > 40
    assert summary["config"]["num_processes"] == 2
    meta, model, optimizer = load_checkpoint(run_dir / "last.pt")
    assert meta["frames"] == summary["frames"]
    rollout = 4 * summary["config"]["num_local_steps"] * summary["config"]["num_envs"]  # frames per rollout
    assert int(optimizer["steps"]) >= 6000 // rollout - 2  # one Adam step per rollout of T steps x B envs
    assert "encoder.net.0.weight" in model
    assert (run_dir / "best.pt").is_file() and (run_dir / "curve.png").stat().st_size > 10_000
    assert list((run_dir / "tb").glob("events.out.tfevents.*"))
    videos = sorted((run_dir / "videos").glob("eval_*.mp4"))
    assert videos, "the tester kept no video of its first (best-so-far) evaluation"
    assert count_frames(videos[0]) >= 10
    assert "frames" in proc.stderr and "f/s" in proc.stderr  # the progress line


def test_test_py_plays_the_checkpoint_and_writes_a_video(mario_run, tmp_path):
    run_dir, _ = mario_run
    out = tmp_path / "play.mp4"
    js = tmp_path / "play.json"
    proc = run_cli(
        "test.py",
        "--checkpoint",
        str(run_dir / "best.pt"),
        "--output",
        str(out),
        "--episodes",
        "2",
        "--sample",
        "--json",
        str(js),
    )
    assert proc.returncode == 0, proc.stderr
    assert "max x_pos" in proc.stdout and "clear rate" in proc.stdout
    report = json.loads(js.read_text())
    assert report["episodes"] == 2 and 0.0 <= report["clear_rate"] <= 1.0
    assert count_frames(out) == report["video_frames"] >= 10


def test_test_py_prefers_the_users_newest_run(mario_run, tmp_path):
    run_dir, _ = mario_run
    out = tmp_path / "v.mp4"
    proc = run_cli("test.py", "--save-dir", str(run_dir.parent), "--output", str(out))
    assert proc.returncode == 0, proc.stderr
    assert str(run_dir / "best.pt") in proc.stdout and "your newest training run" in proc.stdout
    assert count_frames(out) >= 10


def test_from_stage_starts_another_stage_from_these_weights(mario_run, tmp_path):
    run_dir, _ = mario_run
    proc = run_cli(
        "train.py",
        "--world",
        "1",
        "--stage",
        "2",
        "--from-stage",
        str(run_dir / "best.pt"),
        "--num-processes",
        "1",
        "--max-frames",
        "400",
        "--eval-interval",
        "1000",
        "--save-dir",
        str(tmp_path),
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((tmp_path / "mario_1_2" / "summary.json").read_text())
    assert summary["env_id"] == "SuperMarioBros-1-2-v0" and summary["frames"] >= 400
    bad = run_cli(
        "train.py",
        "--stage",
        "2",
        "--from-stage",
        str(run_dir / "best.pt"),
        "--action-type",
        "simple",
        "--save-dir",
        str(tmp_path / "x"),
    )
    assert bad.returncode == 2 and "action type 'right'" in bad.stderr


def test_fresh_clone_plays_the_shipped_model(tmp_path):
    out = tmp_path / "shipped.mp4"
    proc = run_cli(
        "test.py", "--world", "1", "--stage", "1", "--save-dir", str(tmp_path / "no-runs"), "--output", str(out)
    )
    assert proc.returncode == 0, proc.stderr
    assert "trained_models/mario_1_1.pt" in proc.stdout and "the model shipped with the repository" in proc.stdout
    assert "max x_pos" in proc.stdout and count_frames(out) >= 10
