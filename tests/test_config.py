"""Flags, presets and the predecessor's aliases."""

from pathlib import Path

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


def test_the_atari_preset_is_feed_forward_and_pong_is_solved_at_18_with_a_late_switch():
    pong = config_from_args(["--env", "ALE/Pong-v5"])
    assert (pong.lstm_size, pong.encoder, pong.num_envs, pong.bf16, pong.solved_return) == (0, "nature", 8, True, 18.0)
    assert (pong.late_frames, pong.late_num_local_steps) == (20_000_000, 128)  # long rollouts, no bonus once it plays
    assert config_from_args(["--env", "ALE/Pong-v5", "--late-frames", "0"]).late_frames == 0  # switch off
    assert config_from_args(["--env", "ALE/Breakout-v5"]).late_frames == 0  # measured on Pong only
    assert config_from_args([]).encoder == "conv4"  # Mario's network stays
    breakout = config_from_args(["--env", "ALE/Breakout-v5", "--lstm-size", "512"])
    assert breakout.lstm_size == 512 and breakout.solved_return is None  # the recurrent one still selectable


def test_environments_per_learner():
    """Each Mario A3C worker steps 8 emulators with one batched forward per step, and so
    do vector envs' workers, Atari's and A2C's one learner; --num-envs overrides any of them."""
    assert config_from_args(["--num-processes", "2"]).envs_per_worker == 8
    assert config_from_args(["--algo", "a2c"]).envs_per_worker == 8
    assert config_from_args(["--env", "ALE/Pong-v5"]).envs_per_worker == 8
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


def test_resume_keeps_the_runs_settings_applies_run_now_flags_and_refuses_learning_ones(tmp_path):
    import dataclasses

    from mario_a3c.checkpoint import make_meta, save_checkpoint
    from mario_a3c.start import resolve_start

    run = config_from_args(["--lr", "3e-4", "--max-frames", "9000", "--stop-when-solved", "--eval-interval", "5"])
    save_checkpoint(tmp_path / "last.pt", {}, make_meta(dataclasses.asdict(run), {}, frames=4000, wall_seconds=60.0))

    def resume(*flags):
        return resolve_start(config_from_args(["--resume", str(tmp_path), *flags])).cfg

    same = resume("--lr", "0.0003", "--num_global_steps", "3000")  # the same lr in other digits
    assert same.lr == 3e-4 and same.max_frames == 12000 and same.stop_when_solved and same.eval_interval == 5
    assert same.given == ("eval_interval", "lr", "max_frames")  # the run's first flags are kept on record
    kept = resume("--eval-interval", "30", "--solved-return", "1000")  # how often / when solved: applied
    assert kept.max_frames == 9000 and kept.eval_interval == 30 and kept.solved_return == 1000
    with pytest.raises(UserError, match=r"trains with --bf16 off --gamma 0.9; .* drop --bf16 on --gamma 0.99 .*them"):
        resume("--gamma", "0.99", "--bf16", "on", "--entropy-coef", "0.01")  # entropy as stored: not named
    # the seed, the algorithm and the action set are the run's as well: the same is accepted, another refused
    assert resume("--seed", "0", "--algo", "a3c", "--action-type", "right").given == (
        "action_type",
        "algo",
        "eval_interval",
        "lr",
        "max_frames",
        "seed",
    )
    with pytest.raises(
        UserError,
        match=r"trains with --action-type right --algo a3c --seed 0; .* drop --action-type simple --algo a2c --seed 7",
    ):
        resume("--seed", "7", "--algo", "a2c", "--action-type", "simple")
    with pytest.raises(UserError, match=r"trains with --encoder conv4; .* drop --encoder nature"):
        resume("--encoder", "nature")  # another network could not take the run's weights
    # the rollout length and the entropy bonus may change: they apply from the checkpoint's
    # frames on, and the run keeps on record when (each resume adds its own line)
    retuned = resume("--num-local-steps", "128", "--entropy-coef", "0", "--lr", "3e-4")
    assert (retuned.num_local_steps, retuned.entropy_coef, retuned.lr) == (128, 0.0, 3e-4)
    assert retuned.retuned == ("at 4,000 frames: --num-local-steps 128 --entropy-coef 0.0",)
    assert resume("--num-local-steps", "10").retuned == ()  # the run's own value: no change


def test_resume_compares_sticky_actions_as_the_emulator_runs_them(tmp_path):
    """A run from before --sticky-actions stored none: on v5 that is 0.25, so resuming it
    with --sticky-actions 0.25 asks for the same game; 0 would change it; Mario has none."""
    import dataclasses

    from mario_a3c.checkpoint import make_meta, save_checkpoint
    from mario_a3c.start import resolve_start

    old = dataclasses.asdict(config_from_args(["--env", "ALE/Pong-v5"]))
    del old["sticky_actions"]  # as such a run's checkpoint has it
    pong, mario = tmp_path / "pong", tmp_path / "mario"
    pong.mkdir(), mario.mkdir()
    save_checkpoint(pong / "last.pt", {}, make_meta(old, {}, frames=4000, wall_seconds=6.0))
    run = dataclasses.asdict(config_from_args([]))
    save_checkpoint(mario / "last.pt", {}, make_meta(run, {}, frames=4000, wall_seconds=6.0))

    def resume(run_dir, *flags):
        return resolve_start(config_from_args(["--resume", str(run_dir), *flags])).cfg

    assert resume(pong, "--sticky-actions", "0.25").sticky_actions is None  # v5's own, as stored
    with pytest.raises(UserError, match=r"trains with --sticky-actions 0.25; .* drop --sticky-actions 0.0 "):
        resume(pong, "--sticky-actions", "0")
    # the flags are checked against the resumed run's env, not the default --world 1 --stage 1
    with pytest.raises(UserError, match=r"repeat_action_probability: ALE/ games only"):
        resume(mario, "--sticky-actions", "0")
    with pytest.raises(UserError, match=r"--explore-starts restores emulator states: Mario stages only"):
        resume(pong, "--explore-starts", "0.3")


def test_num_global_steps_on_resume_counts_the_resumed_runs_agent_steps(tmp_path):
    """--num_global_steps is agent steps of the env that trains: a resumed CartPole run
    (one frame per step) is not converted with Mario's frame skip of 4."""
    import dataclasses

    from mario_a3c.checkpoint import make_meta, save_checkpoint

    run = config_from_args(["--env", "CartPole-v1", "--max-frames", "9000"])
    save_checkpoint(tmp_path / "last.pt", {}, make_meta(dataclasses.asdict(run), {}, frames=4000, wall_seconds=6.0))
    assert config_from_args(["--resume", str(tmp_path), "--num_global_steps", "3000"]).max_frames == 3000
    assert config_from_args(["--num_global_steps", "3000"]).max_frames == 12000  # a new Mario run


def test_tensorboard_events_go_inside_the_run_unless_log_dir_names_another_place(tmp_path):
    from mario_a3c.rundir import tensorboard_dir

    run = tmp_path / "out" / "mario_1_1"
    assert tensorboard_dir(run, None, str(tmp_path / "out")) == run / "tb"  # today's default
    assert tensorboard_dir(run, "runs", "runs") == run / "tb"  # a run stored before: log_dir == save_dir
    assert tensorboard_dir(run, "runs", str(tmp_path / "out")) == Path("runs") / "mario_1_1" / "tb"  # given apart
    assert tensorboard_dir(run, str(tmp_path / "tb"), str(tmp_path / "out")) == tmp_path / "tb" / "mario_1_1" / "tb"
