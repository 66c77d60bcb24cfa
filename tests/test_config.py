"""Flags, presets and the predecessor's aliases."""

import pytest

from mario_a3c.cli import config_from_args
from mario_a3c.errors import UserError


def test_defaults_build_the_mario_1_1_run():
    cfg = config_from_args(["--num-processes", "2"])
    assert cfg.env_id == "SuperMarioBros-1-1-v0" and cfg.slug == "mario_1_1"
    assert (cfg.action_type, cfg.gamma, cfg.num_local_steps, cfg.frame_skip) == ("right", 0.9, 10, 4)
    assert (cfg.num_envs, cfg.lr, cfg.eval_interval) == (8, 3e-4, 10.0)


def test_predecessor_spellings_are_aliases():
    cfg = config_from_args(
        [
            "--world",
            "2",
            "--stage",
            "3",
            "--action_type",
            "complex",
            "--num_processes",
            "3",
            "--num_local_steps",
            "20",
            "--num_global_steps",
            "1000",
            "--tau",
            "0.95",
            "--beta",
            "0.02",
            "--saved_path",
            "here",
            "--log_path",
            "there",
        ]
    )
    assert cfg.env_id == "SuperMarioBros-2-3-v0" and cfg.action_type == "complex"
    assert (cfg.num_processes, cfg.num_local_steps, cfg.gae_lambda, cfg.entropy_coef) == (3, 20, 0.95, 0.02)
    assert cfg.max_frames == 4000  # agent steps x frame skip 4
    assert (cfg.save_dir, cfg.log_dir) == ("here", "there")


def test_vector_env_presets_and_frames():
    cfg = config_from_args(["--env", "CartPole-v1", "--num_global_steps", "1000"])
    assert cfg.frame_skip == 1 and cfg.max_frames == 1000 and cfg.lstm_size == 0


def test_environments_per_learner():
    """Each Mario A3C worker steps 8 emulators with one batched forward per step, and so
    do vector envs' workers and A2C's one learner; Atari's A3C workers keep one until a
    Pong run measures more; --num-envs overrides any of them."""
    assert config_from_args(["--num-processes", "2"]).envs_per_worker == 8
    assert config_from_args(["--algo", "a2c"]).envs_per_worker == 8
    assert config_from_args(["--env", "ALE/Pong-v5"]).envs_per_worker == 1
    assert config_from_args(["--env", "ALE/Pong-v5", "--algo", "a2c"]).envs_per_worker == 8
    assert config_from_args(["--env", "CartPole-v1"]).envs_per_worker == 8
    assert config_from_args(["--env", "CartPole-v1", "--num-envs", "3"]).envs_per_worker == 3


@pytest.mark.parametrize("argv", [["--gamma", "1.5"], ["--max-frames", "0"], ["--device", "cuda"], ["--num-envs", "0"]])
def test_invalid_values_raise_user_errors(argv):
    import torch

    if argv[0] == "--device" and torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    with pytest.raises(UserError):
        config_from_args(argv)
