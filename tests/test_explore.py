"""Frontier starts (--explore-starts) on the real emulator: archived states, restored resets,
episodes marked as restored, and a training run that keeps them apart in its statistics."""

import csv
import json

from conftest import run_cli

from wrappers import make_env
from wrappers.explore import FrontierStarts

RUN_JUMP = 4  # right + A + B in the "right" action set
RUN = 3  # right + B: lets go of A, so that the next press jumps again
HOP = (RUN_JUMP,) * 6 + (RUN,) * 2  # over 1-1's goombas and pipes for 80 steps (seed 0)


def _chain(env):
    while hasattr(env, "env"):
        yield env
        env = env.env


def _frontier(env) -> FrontierStarts:
    return next(w for w in _chain(env) if isinstance(w, FrontierStarts))


def test_resets_begin_where_earlier_episodes_got_to():
    env = make_env("SuperMarioBros-1-1-v0", explore_starts=0.9)
    _, info = env.reset(seed=0)
    start = info["x_pos"]
    assert info["restored"] is False  # an empty archive: the stage start
    for step in range(60):
        _, _, terminated, truncated, info = env.step(HOP[step % len(HOP)])
        assert not (terminated or truncated)
    reached = info["x_pos"]
    assert reached > start + 200
    archive = _frontier(env)
    assert len(archive.snapshots) >= 3  # cells of 64 px passed on the ground

    restored = []
    for _ in range(20):
        _, info = env.reset()
        if info["restored"]:
            restored.append(info["x_pos"])
            assert start <= info["x_pos"] <= reached
            for step in range(300):
                _, _, terminated, truncated, step_info = env.step(HOP[step % len(HOP)])
                if step == 0:  # the game goes on from there: x moves on from the restored place
                    assert abs(step_info["x_pos"] - info["x_pos"]) < 30
                if terminated or truncated:
                    assert step_info["episode"]["restored"] == 1.0
                    assert step_info["episode"]["x_pos"] >= info["x_pos"]
                    break
            reached = max(reached, step_info["x_pos"])  # the archive grows from restored episodes too
    assert len(restored) >= 10  # about 90 % of 20 resets
    assert len(set(restored)) >= 2 and max(restored) > start + 64  # several cells, not only the first


def test_plain_resets_are_marked_and_evaluation_envs_never_restore():
    env = make_env("SuperMarioBros-1-1-v0", explore_starts=0.5, training=False)
    assert not any(isinstance(w, FrontierStarts) for w in _chain(env))
    plain = make_env("SuperMarioBros-1-1-v0")
    assert not any(isinstance(w, FrontierStarts) for w in _chain(plain))
    plain.reset(seed=0)
    for _ in range(2000):
        _, _, terminated, truncated, info = plain.step(0)
        if terminated or truncated:
            assert info["episode"]["restored"] == 0.0
            break
    else:
        raise AssertionError("a NOOP episode should end by the stuck guard")


def test_training_keeps_archive_episodes_out_of_the_stage_statistics(tmp_path):
    proc = run_cli(
        "train.py",
        "--world", "1", "--stage", "1",
        "--num-processes", "1",
        "--num-envs", "2",
        "--explore-starts", "0.5",
        "--stuck-patience", "20",
        "--max-frames", "12000",
        "--eval-interval", "1000",
        "--save-dir", str(tmp_path),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    run = tmp_path / "mario_1_1"
    with open(run / "progress.csv") as f:
        kinds = [row["kind"] for row in csv.DictReader(f)]
    summary = json.loads((run / "summary.json").read_text())
    assert kinds.count("archive") == summary["archive_episodes"] > 0
    assert kinds.count("train") == summary["episodes"] > 0
    assert summary["config"]["explore_starts"] == 0.5
