"""Bad input: one clear line on stderr, exit code 2, no traceback, nothing written."""

import json
import os
import shutil

import pytest
from conftest import ROOT, run_cli

from mario_a3c.video import count_frames


@pytest.mark.parametrize(
    "args, expected",
    [
        (["train.py", "--world", "9"], "worlds 1-8"),
        (["train.py", "--stage", "5"], "stages 1-4"),
        (["train.py", "--action-type", "diagonal"], "right, simple or complex"),
        (["train.py", "--env", "NoSuchEnv-v0"], "unknown environment"),
        (["train.py", "--num-processes", "0"], "--num-processes 0: must be positive"),
        (["train.py", "--num-local-steps", "-5"], "--num-local-steps -5: must be positive"),
        (["train.py", "--lr", "0"], "--lr 0.0: must be positive"),
        (["test.py", "--world", "9"], "worlds 1-8"),
        (["train.py", "--algo", "ppo"], "invalid choice: 'ppo'"),
        (["train.py", "--lr", "fast"], "invalid float value: 'fast'"),
        (["test.py", "--episodes", "many"], "invalid int value: 'many'"),
        (["train.py", "--normalize-advantages", "maybe"], "'maybe': say on or off"),
        (["train.py", "--max-grad-norm", "0"], "--max-grad-norm 0.0: must be positive"),
        (["train.py", "--max-grad-norm", "-40"], "--max-grad-norm -40.0: must be positive"),
        (["train.py", "--stuck-patience", "0"], "--stuck-patience 0: must be positive"),
        (["train.py", "--value-coef", "-0.5"], "--value-coef -0.5: must be 0 or more"),
        (["train.py", "--entropy-coef", "-0.01"], "--entropy-coef -0.01: must be 0 or more"),
        (["train.py", "--entropy-anneal-frames", "-5"], "--entropy-anneal-frames -5: must be 0 or more"),
        (["train.py", "--late-frames", "-1"], "--late-frames -1: must be 0 or more"),
        (["train.py", "--late-num-local-steps", "0"], "--late-num-local-steps 0: must be positive"),
        (["train.py", "--seed", "-1"], "--seed -1: must be 0 or more"),
        (["train.py", "--explore-starts", "1"], "--explore-starts 1.0: must lie in [0, 1)"),
        (["train.py", "--env", "CartPole-v1", "--explore-starts", "0.5"], "Mario stages only"),
        (["train.py", "--env", "ALE/Pong-v5", "--sticky-actions", "1"], "--sticky-actions 1.0: must lie in [0, 1)"),
        (["train.py", "--sticky-actions", "0"], "ALE/ games only"),
        (["test.py", "--env", "ALE/Pong-v5", "--sticky-actions", "-1"], "--sticky-actions -1.0: must lie in [0, 1)"),
        (["test.py", "--env", "CartPole-v1", "--sticky-actions", "0"], "ALE/ games only"),
        (["train.py", "--env", "ALE/Pong-v5", "--encoder", "resnet"], "--encoder 'resnet': choose conv4 or nature"),
        (["train.py", "--env", "FrozenLake-v1"], "observation space Discrete(16) is not supported"),
        (["train.py", "--env", "Taxi-v3"], "observation space Discrete(500) is not supported"),
        (["train.py", "--env", "Blackjack-v1"], "observation space Tuple("),
    ],
)
def test_bad_flags_exit_2_with_one_line(args, expected, tmp_path):
    proc = run_cli(*args, "--save-dir", str(tmp_path / "runs"), timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_test_py_without_checkpoint_says_how_to_train(tmp_path):
    proc = run_cli("test.py", "--world", "8", "--stage", "4", "--save-dir", str(tmp_path))
    assert proc.returncode == 2
    assert "python train.py --world 8 --stage 4" in proc.stderr and "Traceback" not in proc.stderr


def test_corrupt_and_truncated_checkpoints_are_refused(tmp_path, mario_run):
    run_dir, _ = mario_run
    good = (run_dir / "best.pt").read_bytes()
    for name, data in [("trunc.pt", good[: len(good) // 2]), ("junk.pt", b"not a checkpoint at all")]:
        path = tmp_path / name
        path.write_bytes(data)
        proc = run_cli("test.py", "--checkpoint", str(path), "--output", str(tmp_path / "x.mp4"))
        assert proc.returncode == 2 and "not a readable checkpoint" in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr and not (tmp_path / "x.mp4").exists()


def test_checkpoint_for_another_game_or_action_set_is_refused(tmp_path, mario_run):
    run_dir, _ = mario_run
    ckpt = str(run_dir / "best.pt")
    proc = run_cli("test.py", "--checkpoint", ckpt, "--stage", "2", "--output", str(tmp_path / "x.mp4"))
    assert proc.returncode == 2 and "trained on SuperMarioBros-1-1-v0, not SuperMarioBros-1-2-v0" in proc.stderr
    proc = run_cli("test.py", "--checkpoint", ckpt, "--action-type", "complex", "--output", str(tmp_path / "x.mp4"))
    assert proc.returncode == 2 and "action type 'right', not 'complex'" in proc.stderr


def test_unwritable_output_directory_is_refused(tmp_path, mario_run):
    run_dir, _ = mario_run
    blocker = tmp_path / "a-file"  # a directory that cannot be made (tests run as root, so no chmod)
    blocker.write_text("user data")
    proc = run_cli("test.py", "--checkpoint", str(run_dir / "best.pt"), "--output", str(blocker / "v.mp4"))
    assert proc.returncode == 2 and "--output" in proc.stderr and "Traceback" not in proc.stderr
    assert blocker.read_text() == "user data"


def test_unwritable_save_dir_is_refused(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("user data")
    proc = run_cli("train.py", "--save-dir", str(blocker / "runs"), timeout=120)
    assert proc.returncode == 2 and "--save-dir" in proc.stderr and "Traceback" not in proc.stderr
    assert blocker.read_text() == "user data"


def _one_line(proc, expected: str) -> None:
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0] and "Traceback" not in proc.stderr, proc.stderr


def test_render_without_a_display_is_refused_and_writes_nothing(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER")}
    out = tmp_path / "v.mp4"
    proc = run_cli("test.py", "--render", "--save-dir", str(tmp_path / "none"), "--output", str(out), env=env)
    _one_line(proc, "--render: no display for a window")
    assert not out.exists() and not list(tmp_path.glob("*.tmp*"))


@pytest.mark.slow
def test_render_shows_every_frame_in_a_window_where_sdl_has_one(tmp_path):
    """SDL's dummy driver stands in for a screen: the real pygame window code runs."""
    out = tmp_path / "v.mp4"
    env = dict(os.environ, SDL_VIDEODRIVER="dummy")
    proc = run_cli("test.py", "--render", "--save-dir", str(tmp_path / "none"), "--output", str(out), env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "CLEARED" in proc.stdout and count_frames(out) > 100


def test_from_stage_with_another_network_names_both(tmp_path):
    shipped = str(ROOT / "trained_models" / "mario_1_1.pt")
    proc = run_cli(
        "train.py", "--stage", "2", "--from-stage", shipped, "--lstm-size", "256", "--save-dir", str(tmp_path / "runs")
    )
    _one_line(proc, "holds a network of LSTM 512, 5 actions")
    assert "this run builds one of LSTM 256, 5 actions" in proc.stderr
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_atomic_open_leaves_the_old_file_when_writing_fails(tmp_path):
    from mario_a3c.atomic import atomic_open
    from mario_a3c.rundir import write_json

    path = tmp_path / "summary.json"
    write_json(path, {"frames": 1})
    with pytest.raises(RuntimeError), atomic_open(path, "w") as f:
        f.write('{"frames": ')
        raise RuntimeError("killed half way")
    assert json.loads(path.read_text()) == {"frames": 1} and [p.name for p in tmp_path.iterdir()] == ["summary.json"]


@pytest.mark.slow
def test_a_damaged_progress_csv_costs_the_curve_not_the_run(tmp_path, mario_run):
    run_dir, _ = mario_run
    copy = tmp_path / "mario_1_1"
    shutil.copytree(run_dir, copy, ignore=shutil.ignore_patterns(".lock"))
    with open(copy / "progress.csv", "ab") as f:
        f.write(b"train,12\xff\xfe\x00garbage\n")  # not even text
    frames = json.loads((copy / "summary.json").read_text())["frames"]
    proc = run_cli("train.py", "--resume", str(copy), "--max-frames", str(frames + 400), "--eval-interval", "1000")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert "curve.png not drawn" in proc.stdout
    assert json.loads((copy / "summary.json").read_text())["frames"] >= frames + 400


@pytest.mark.slow
def test_images_laid_out_height_width_channels_are_turned_channels_first(tmp_path):
    from wrappers import make_env, space_signature

    env = make_env("CarRacing-v3")
    obs, _ = env.reset(seed=0)
    assert obs.shape == (3, 96, 96) and space_signature(env)["obs_shape"] == [3, 96, 96]
    raw = env.unwrapped.state if hasattr(env.unwrapped, "state") else None
    if raw is not None:  # the same pixels, moved: channel c of obs is raw[..., c]
        assert (obs[1] == raw[..., 1]).all()
    proc = run_cli(
        "train.py", "--env", "CarRacing-v3", "--num-processes", "1", "--num-envs", "2", "--max-frames", "300",
        "--eval-interval", "1000", "--save-dir", str(tmp_path), timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads((tmp_path / "CarRacing-v3" / "summary.json").read_text())["frames"] >= 300


@pytest.mark.slow
def test_resume_refuses_a_changed_learning_flag_and_keeps_the_runs_own_budget(tmp_path, mario_run):
    run_dir, _ = mario_run
    copy = tmp_path / "mario_1_1"
    shutil.copytree(run_dir, copy, ignore=shutil.ignore_patterns(".lock"))
    before = (copy / "last.pt").read_bytes()

    proc = run_cli("train.py", "--resume", str(copy), "--lr", "0.001", "--gamma", "0.9")  # gamma as stored: fine
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "trains with --lr 0.0003" in proc.stderr and "drop --lr 0.001" in proc.stderr
    assert "--gamma" not in proc.stderr

    proc = run_cli("train.py", "--resume", str(copy))  # no --max-frames: the run's own 6,000, spent
    assert proc.returncode == 2 and "the --max-frames budget (6,000)" in proc.stderr, proc.stderr
    assert (copy / "last.pt").read_bytes() == before
