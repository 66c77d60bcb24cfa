"""Bad input: one clear line on stderr, exit code 2, no traceback, nothing written."""

import pytest
from conftest import run_cli


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
