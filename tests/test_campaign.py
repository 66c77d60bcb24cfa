"""World 1 as a whole: a campaign of stages (restartable), and test.py --stage all."""

import json
import signal

import imageio.v2 as imageio
import pytest
from conftest import ROOT, run_cli, start_training, trained_some, wait_for

from mario_a3c.checkpoint import load_checkpoint
from mario_a3c.video import Mp4Writer, clip_gif, count_frames


@pytest.mark.slow
def test_a_campaign_skips_what_clears_trains_on_from_its_weights_and_continues_after_ctrl_c(tmp_path):
    tmp_path = tmp_path / "runs"  # as in a fresh clone: the save dir does not exist yet
    shipped = ROOT / "trained_models" / "mario_1_1.pt"
    # 1-1 is shipped and clears: skipped; 1-2 trains from its weights until Ctrl-C.
    proc = start_training(tmp_path, "--stages", "1-1", "1-2", "--stage-limit", "600", "--eval-interval", "1000")
    wait_for(lambda: trained_some(tmp_path / "mario_1_2"), timeout=240, what="1-2 to train")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err[-2000:]
    assert "the shipped mario_1_1.pt clears it" in out and "campaign stopped at 1-2" in out
    assert len(imageio.mimread(tmp_path / "mario_1_1_greedy.gif")) > 10  # the clear's last seconds
    book = json.loads((tmp_path / "campaign.json").read_text())
    row = book["1-2"]
    assert row["from"] == str(shipped) and row["run_dir"] == str(tmp_path / "mario_1_2") and not row["cleared"]
    assert row["stopped_by"] == "SIGINT" and row["frames"] > 0 and "1-1" not in book
    first = load_checkpoint(tmp_path / "mario_1_2" / "last.pt")[0]
    assert first["config"]["from_stage"] == str(shipped)

    # The same command continues 1-2's own run, for what is left of its budget, then goes on.
    budget = first["wall_seconds"] + 15
    again = run_cli(
        "train.py", "--stages", "1-1", "1-2", "--stage-limit", str(budget), "--eval-interval", "1000",
        "--num-processes", "2", "--save-dir", str(tmp_path), "--log-dir", str(tmp_path),
    )  # fmt: skip
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"continuing {tmp_path / 'mario_1_2'}" in again.stdout
    meta = load_checkpoint(tmp_path / "mario_1_2" / "last.pt")[0]
    assert meta["frames"] > first["frames"] and meta["wall_seconds"] >= budget - 1
    assert not (tmp_path / "mario_1_2-2").exists()  # no second run of the stage
    book = json.loads((tmp_path / "campaign.json").read_text())
    assert book["1-2"]["stopped_by"] == "time budget" and "| 1-2 | mario_1_1.pt | no |" in again.stdout

    # Its budget spent, a third call does not train 1-2 again.
    third = run_cli("train.py", "--stages", "1-2", "--stage-limit", str(budget), "--save-dir", str(tmp_path))
    assert third.returncode == 0 and f"not cleared (--stage-limit {budget:g} s)" in third.stdout
    assert load_checkpoint(tmp_path / "mario_1_2" / "last.pt")[0]["frames"] == meta["frames"]


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
