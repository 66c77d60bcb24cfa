"""Greedy play is repeatable: the tester records its videos by replaying an episode."""

import torch

from mario_a3c.play import play_episode
from mario_a3c.video import Mp4Writer, count_frames
from models import build_model
from wrappers import make_env, space_signature


def test_greedy_replay_repeats_the_episode_and_records_it(tmp_path):
    env = make_env("SuperMarioBros-1-1-v0", render_mode="rgb_array", stuck_patience=30)
    torch.manual_seed(3)
    model = build_model(space_signature(env)).eval()
    first = play_episode(env, model, greedy=True, seed=0)
    writer = Mp4Writer(tmp_path / "replay.mp4", fps=15)
    replay = play_episode(env, model, greedy=True, seed=0, writer=writer)
    writer.close()
    assert first == replay and first["l"] >= 20
    assert count_frames(tmp_path / "replay.mp4") == first["l"] + 1  # every step, and the last frame
    env.close()
