"""World 1 as a whole: a campaign of stages (restartable), and test.py --stage all."""

import json
import os
import signal

import imageio.v2 as imageio
import pytest
from conftest import ROOT, run_cli, start_training, trained_some, wait_for

from mario_a3c.checkpoint import load_checkpoint
from mario_a3c.video import Mp4Writer, clip_gif, count_frames


def _shipped_then_unshipped() -> tuple[str, str]:
    """The last shipped stage and the one after it (1-2 and 1-3 while 1-3 has no model)."""
    order = [f"{w}-{s}" for w in range(1, 9) for s in range(1, 5)]
    has = [(ROOT / "trained_models" / f"mario_{st.replace('-', '_')}.pt").is_file() for st in order]
    i = next(i for i in range(len(order) - 1) if has[i] and not has[i + 1])
    return order[i], order[i + 1]


@pytest.mark.slow
def test_a_campaign_skips_what_clears_trains_on_from_its_weights_and_continues_after_ctrl_c(tmp_path):
    tmp_path = tmp_path / "runs"  # as in a fresh clone: the save dir does not exist yet
    done, todo = _shipped_then_unshipped()
    shipped = ROOT / "trained_models" / f"mario_{done.replace('-', '_')}.pt"
    todo_dir = tmp_path / f"mario_{todo.replace('-', '_')}"
    # The shipped stage clears: skipped; the next one trains from its weights until Ctrl-C.
    # (--save-dir relative to the repository, the working directory of this first call)
    relative = os.path.relpath(tmp_path, ROOT)
    proc = start_training(relative, "--stages", done, todo, "--stage-limit", "600", "--eval-interval", "1000")
    wait_for(lambda: trained_some(todo_dir), timeout=240, what=f"{todo} to train")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err[-2000:]
    assert f"the shipped {shipped.name} clears it" in out and f"campaign stopped at {todo}" in out
    assert len(imageio.mimread(tmp_path / f"{shipped.stem}_greedy.gif")) > 10  # the clear's last seconds
    book = json.loads((tmp_path / "campaign.json").read_text())
    row = book[todo]
    assert row["from"] == str(shipped) and row["run_dir"] == todo_dir.name and not row["cleared"]  # book-relative
    assert row["stopped_by"] == "SIGINT" and row["frames"] > 0 and done not in book
    first = load_checkpoint(todo_dir / "last.pt")[0]
    assert first["config"]["from_stage"] == str(shipped)

    # The same command continues 1-2's own run, for what is left of its budget, then goes on,
    # also from another working directory.
    budget = first["wall_seconds"] + 15
    again = run_cli(
        str(ROOT / "train.py"), "--stages", done, todo, "--stage-limit", str(budget), "--eval-interval", "1000",
        "--num-processes", "2", "--save-dir", str(tmp_path), cwd=tmp_path.parent,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"continuing {todo_dir}" in again.stdout
    meta = load_checkpoint(todo_dir / "last.pt")[0]
    assert meta["frames"] > first["frames"] and meta["wall_seconds"] >= budget - 1
    assert not todo_dir.with_name(todo_dir.name + "-2").exists()  # no second run of the stage
    book = json.loads((tmp_path / "campaign.json").read_text())
    assert book[todo]["stopped_by"] == "time budget" and f"| {todo} | {shipped.name} | no |" in again.stdout
    assert list((todo_dir / "tb").glob("events.*"))  # TensorBoard inside the run, --log-dir not given

    # Its budget spent, a third call does not train the stage again.
    third = run_cli("train.py", "--stages", todo, "--stage-limit", str(budget), "--save-dir", str(tmp_path))
    assert third.returncode == 0 and f"not cleared (--stage-limit {budget:g} s)" in third.stdout
    assert load_checkpoint(todo_dir / "last.pt")[0]["frames"] == meta["frames"]


def test_bad_stage_lists_are_one_line(tmp_path):
    for args, expected in [
        (["--stages", "1-5"], "--stages 1-5: say W-S"),
        (["--stages", "1-1", "1-1"], "a stage is named twice"),
        (["--stages", "1-1", "--stage-limit", "0"], "--stage-limit 0: must be positive"),
        (["--stages", "1-1", "--resume"], "drop --resume"),
        (["--stage", "all"], "test.py plays a whole world"),
    ]:
        proc = run_cli("train.py", *args, "--save-dir", str(tmp_path / "runs"))
        assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert expected in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_the_whole_world_plays_in_one_episode_with_each_stages_model(tmp_path):
    out, report = tmp_path / "world.mp4", tmp_path / "world.json"
    proc = run_cli(
        "test.py", "--world", "1", "--stage", "all", "--save-dir", str(tmp_path / "none"),
        "--output", str(out), "--json", str(report),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads(report.read_text())
    assert summary["stages"]["1-1"]["cleared"] and summary["stages"]["1-1"]["x_pos"] > 3000
    assert "1-1: CLEARED" in proc.stdout and summary["result"] in proc.stdout
    assert count_frames(out) == summary["video_frames"] > 250


def test_a_stage_without_a_model_names_the_shipped_ones(tmp_path):
    proc = run_cli("test.py", "--world", "3", "--stage", "2", "--save-dir", str(tmp_path))
    assert proc.returncode == 2 and "(shipped models: 1-1" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_cli("test.py", "--world", "2", "--stage", "all", "--save-dir", str(tmp_path))
    assert proc.returncode == 2 and "only World 1 plays whole" in proc.stderr and "Traceback" not in proc.stderr


def test_clip_gif_keeps_the_last_seconds_of_a_real_episode_video(tmp_path):
    from wrappers import make_env

    env = make_env("SuperMarioBros-1-1-v0", render_mode="rgb_array", training=False)
    env.reset(seed=0)
    writer = Mp4Writer(tmp_path / "play.mp4", fps=15)
    for _ in range(120):  # 8 s of agent steps: right and jump
        _, _, terminated, truncated, _ = env.step(2)
        writer.append(env.render())
        if terminated or truncated:
            env.reset()
    env.close()
    video = writer.close()
    gif = clip_gif(video, tmp_path / "play.gif", seconds=4.0, step=2, scale=2)
    frames = imageio.mimread(gif)
    assert len(frames) == 30 and frames[0].shape == (120, 128, 3)
    assert not list(tmp_path.glob(".*tmp*"))  # written in place atomically
