"""Vector-state agents on the same engine: MLP models, Gaussian policies, A2C and A3C learning."""

import dataclasses
import json
import math

import gymnasium as gym
import numpy as np
import pytest
import torch
from conftest import ROOT, run_cli, tensorboard_scalars

from mario_a3c.config import Config
from mario_a3c.video import count_frames
from models import Policy, build_model, to_env
from models.distributions import gaussian_entropy_per_dim
from wrappers import make_env, space_signature


def test_model_follows_the_spaces():
    cart = build_model(space_signature(make_env("CartPole-v1")))
    pend = build_model(space_signature(make_env("Pendulum-v1")))
    assert cart.lstm is None and cart.log_std is None and cart.policy.out_features == 2
    assert pend.lstm is None and pend.log_std is not None and pend.policy.out_features == 1


def test_gaussian_log_prob_entropy_and_bounds():
    mean = torch.tensor([[0.5, -1.0]])
    log_std = torch.tensor([0.0, math.log(2.0)])
    policy = Policy((mean, log_std))
    a = torch.tensor([[1.5, 3.0]])
    expected = sum(
        -0.5 * ((x - m) / s) ** 2 - math.log(s) - 0.5 * math.log(2 * math.pi)
        for x, m, s in [(1.5, 0.5, 1.0), (3.0, -1.0, 2.0)]
    )
    assert policy.log_prob(a).item() == pytest.approx(expected, abs=1e-5)
    assert policy.entropy().item() == pytest.approx(
        gaussian_entropy_per_dim(0.0) + gaussian_entropy_per_dim(math.log(2.0)), abs=1e-5
    )
    low, high = np.array([-2.0, -2.0], np.float32), np.array([2.0, 2.0], np.float32)
    assert to_env(a, low, high).tolist() == [[1.5, 2.0]]  # clipped into the bounds for the env only
    assert torch.equal(policy.greedy(), mean)


def _train(tmp_path, *args):
    """A real run under ``tmp_path/out``, started from ``tmp_path``: without --log-dir its
    TensorBoard events go inside the run directory, not to ./runs of where it started."""
    save = tmp_path / "out"
    proc = run_cli(str(ROOT / "train.py"), *args, "--save-dir", str(save), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    run = next(p for p in save.iterdir() if p.is_dir())
    return run, json.loads((run / "summary.json").read_text())


RANDOM_CARTPOLE = 22.0  # mean episode length of uniformly random actions


@pytest.mark.slow
def test_a2c_learns_cartpole_deterministically(tmp_path):
    """One learner, 8 envs in lock-step, seed 0: the run is the same every time."""
    run, s = _train(tmp_path, "--env", "CartPole-v1", "--algo", "a2c", "--num-envs", "8", "--max-frames", "60000")
    assert s["config"]["algo"] == "a2c" and s["frames"] >= 60000
    assert s["last_100_mean_return"] > 4 * RANDOM_CARTPOLE
    assert (run / "curve.png").stat().st_size > 10_000 and list((run / "tb").glob("events.*"))


@pytest.mark.slow
def test_a3c_learns_cartpole_with_two_workers(tmp_path):
    run, s = _train(tmp_path, "--env", "CartPole-v1", "--num-processes", "2", "--max-frames", "60000")
    assert s["config"]["algo"] == "a3c" and s["config"]["num_envs"] == 8  # per worker, the preset's
    assert s["last_100_mean_return"] > 3 * RANDOM_CARTPOLE
    out = tmp_path / "cartpole.mp4"
    play = run_cli("test.py", "--env", "CartPole-v1", "--save-dir", str(tmp_path / "out"), "--output", str(out))
    assert play.returncode == 0, play.stderr
    assert count_frames(out) >= 20 and "return" in play.stdout


@pytest.mark.slow
def test_epochs_make_that_many_optimizer_steps_per_rollout_and_count_its_frames_once(tmp_path):
    from mario_a3c.checkpoint import load_checkpoint

    run, s = _train(
        tmp_path, "--env", "CartPole-v1", "--algo", "a2c", "--num-envs", "4", "--num-local-steps", "16",
        "--epochs", "3", "--max-frames", "20000",
    )  # fmt: skip
    rollouts = math.ceil(20000 / (4 * 16))
    assert s["frames"] == rollouts * 4 * 16  # the frames of each rollout once, not once per epoch
    _, _, optimizer = load_checkpoint(run / "last.pt")
    assert int(optimizer["steps"]) == 3 * rollouts
    assert s["last_100_mean_return"] > 2 * RANDOM_CARTPOLE


@pytest.mark.slow
def test_the_learner_follows_the_entropy_and_rollout_schedules(tmp_path):
    """--entropy-anneal-frames in the real learner: the weight each update used (TensorBoard
    losses/entropy_coef, as the worker reports it) falls from --entropy-coef to 0 at the
    scheduled frames and stays there; --late-frames: the workers' rollouts (losses/rollout_steps)
    grow from --num-local-steps to --late-num-local-steps there."""
    run, s = _train(
        tmp_path, "--env", "CartPole-v1", "--entropy-coef", "0.04", "--entropy-anneal-frames", "20000",
        "--late-frames", "30000", "--late-num-local-steps", "32", "--max-frames", "40000",
    )  # fmt: skip
    assert s["config"]["entropy_anneal_frames"] == 20000 and s["config"]["num_local_steps"] == 16
    slack = 4000  # each line is the mean of the updates since the last one: a line can span thousands of frames
    steps = sorted(tensorboard_scalars(run / "tb", "losses/rollout_steps"))
    assert {t for f, t in steps if f < 30000} == {16}
    assert {t for f, t in steps if f >= 30000 + slack} == {32}
    logged = sorted(tensorboard_scalars(run / "tb", "losses/entropy_coef"))
    assert len(logged) >= 3 and logged[0][1] > 0.02  # the first updates: little annealed yet
    for frames, beta in logged:
        assert beta == pytest.approx(0.04 * max(0.0, 1 - frames / 20000), abs=0.04 * slack / 20000)
    late = [beta for frames, beta in logged if frames >= 20000 + slack]
    assert late and all(b == 0.0 for b in late)


@pytest.mark.slow
def test_pendulum_continuous_actions_train_and_play(tmp_path):
    run, s = _train(tmp_path, "--env", "Pendulum-v1", "--num-processes", "1", "--max-frames", "4800")
    assert s["config"]["num_envs"] == 8 and s["frames"] >= 4800
    assert s["episodes"] == 8 * (s["frames"] // 8 // 200)  # 8 envs in lock-step, 200-step episodes
    out = tmp_path / "pendulum.mp4"
    play = run_cli(
        "test.py", "--env", "Pendulum-v1", "--save-dir", str(tmp_path / "out"), "--output", str(out), "--episodes", "2"
    )
    assert play.returncode == 0, play.stderr
    assert count_frames(out) == 201  # every step of the first 200-step episode, and the last frame
    summary = play.stdout.splitlines()[-2]  # vector envs report the share at or above the threshold
    assert summary.startswith("summary: ") and " at or above -200 | mean return " in summary


def test_solved_thresholds():
    from mario_a3c.cli import config_from_args
    from mario_a3c.config import solved_threshold

    assert gym.spec("Pendulum-v1").reward_threshold is None  # so the preset supplies it
    expected = {"CartPole-v1": 475.0, "LunarLander-v3": 200.0, "Pendulum-v1": -200.0, "MountainCarContinuous-v0": 90.0}
    for env_id, threshold in expected.items():
        assert solved_threshold(config_from_args(["--env", env_id]), gym.make(env_id)) == threshold


def _cartpole_rollout(steps=16, envs=2):
    from functools import partial

    from mario_a3c.rollout import RolloutCollector, make_vector_env

    torch.manual_seed(0)
    model = build_model(space_signature(make_env("CartPole-v1")))
    vec = make_vector_env(partial(make_env, "CartPole-v1"), envs)
    return model, RolloutCollector(vec, model, steps, 0.99, seed=0).collect()


def test_a_separate_learner_on_a_moved_rollout_computes_the_same_loss():
    """The --device cuda path (learner copy + Rollout.to), exercised on the CPU."""
    from mario_a3c.loss import actor_critic_loss
    from models import copy_weights

    model, rollout = _cartpole_rollout(steps=10, envs=3)
    learner = build_model(space_signature(make_env("CartPole-v1")))
    copy_weights(learner, model)
    cfg = Config(gamma=0.99, gae_lambda=0.95)
    a, *_ = actor_critic_loss(model, rollout, cfg)
    b, *_ = actor_critic_loss(learner, rollout.to("cpu"), cfg)
    assert rollout.frames == 30 and torch.equal(a, b)


@pytest.mark.slow
def test_stop_when_solved_ends_the_run_at_the_threshold(tmp_path):
    run, s = _train(
        tmp_path, "--env", "CartPole-v1", "--algo", "a2c", "--solved-return", "40",
        "--stop-when-solved", "--max-frames", "1000000",
    )  # fmt: skip
    assert s["solved"] and s["stopped_by"] == "solved"
    assert s["solved_at_frames"] <= s["frames"] < 1_000_000
    assert s["solved_at_seconds"] <= s["wall_seconds"]


def test_reward_scale_changes_what_is_trained_on_not_what_is_logged():
    from functools import partial

    from mario_a3c.rollout import RolloutCollector, make_vector_env

    envs = make_vector_env(partial(make_env, "CartPole-v1"), 2)
    model = build_model(space_signature(make_env("CartPole-v1")))
    rollout = RolloutCollector(envs, model, 200, 0.99, seed=0, reward_scale=0.5).collect()
    assert rollout.episodes and all(ep["r"] == ep["l"] for ep in rollout.episodes)  # CartPole: 1 per step
    not_cut = ~rollout.dones  # (truncations add a bootstrap to their last reward)
    assert torch.all(rollout.rewards[not_cut] == 0.5)


def test_normalized_advantages_enter_the_policy_loss_standardized():
    from mario_a3c.gae import compute_gae
    from mario_a3c.loss import actor_critic_loss

    model, rollout = _cartpole_rollout()
    with torch.no_grad():
        params, values = model.forward_sequence(rollout.obs, rollout.state0, rollout.starts)
        adv, _ = compute_gae(rollout.rewards, values, rollout.last_value, rollout.dones, 0.99, 0.95)
        log_probs = Policy(params).log_prob(rollout.actions)
    cfg = Config(gamma=0.99, gae_lambda=0.95, entropy_coef=0.0)
    _, plain, plain_targets = actor_critic_loss(model, rollout, cfg)
    _, normed, normed_targets = actor_critic_loss(model, rollout, dataclasses.replace(cfg, normalize_advantages=True))
    z = (adv - adv.mean()) / (adv.std() + 1e-8)
    assert torch.allclose(plain_targets.advantages, adv, atol=1e-6)
    assert torch.allclose(normed_targets.advantages, z, atol=1e-5)
    assert torch.allclose(normed_targets.log_probs, log_probs)
    assert torch.equal(normed_targets.returns, plain_targets.returns)
    assert plain.policy_loss == pytest.approx(-adv.mean().item(), rel=1e-5)  # the surrogate at ratio 1
    assert normed.policy_loss == pytest.approx(0.0, abs=1e-6)
    assert normed.value_loss == plain.value_loss  # only the policy term changes


def test_first_pass_gradient_is_the_plain_actor_critic_one():
    """epochs=1 is A3C as published: the clipped surrogate's gradient at ratio 1 is -A grad log pi."""
    from mario_a3c.loss import actor_critic_loss

    model, rollout = _cartpole_rollout()
    cfg = Config(gamma=0.99, gae_lambda=0.95, entropy_coef=0.0, value_coef=0.0)
    loss, stats, targets = actor_critic_loss(model, rollout, cfg)
    surrogate = torch.autograd.grad(loss, list(model.parameters()), allow_unused=True)
    params, _ = model.forward_sequence(rollout.obs, rollout.state0, rollout.starts)
    plain = -(Policy(params).log_prob(rollout.actions) * targets.advantages).mean()
    reference = torch.autograd.grad(plain, list(model.parameters()), allow_unused=True)
    assert any(g is not None and g.abs().sum() > 0 for g in surrogate)
    for a, b, p in zip(surrogate, reference, model.parameters(), strict=True):
        zero = torch.zeros_like(p)  # a head the term does not reach: None in one, zeros in the other
        assert torch.allclose(zero if a is None else a, zero if b is None else b, atol=1e-7)
    assert stats.clip_fraction == 0.0


def test_later_passes_stop_pushing_a_policy_that_left_the_clip_range():
    """--epochs > 1: once a step's ratio is past 1 + clip in its advantage's direction, its gradient is 0."""
    from mario_a3c.loss import actor_critic_loss

    model, rollout = _cartpole_rollout()
    cfg = Config(gamma=0.99, gae_lambda=0.95, entropy_coef=0.0, value_coef=0.0, clip_coef=0.1)
    _, _, targets = actor_critic_loss(model, rollout, cfg)
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    for _ in range(20):  # big steps on the unclipped loss: the policy moves far from the acting one
        optimizer.zero_grad()
        params, _ = model.forward_sequence(rollout.obs, rollout.state0, rollout.starts)
        (-(Policy(params).log_prob(rollout.actions) * targets.advantages).mean()).backward()
        optimizer.step()
    loss, stats, again = actor_critic_loss(model, rollout, cfg, targets)
    assert again is targets and stats.clip_fraction > 0.3
    params, _ = model.forward_sequence(rollout.obs, rollout.state0, rollout.starts)
    ratio = (Policy(params).log_prob(rollout.actions) - targets.log_probs).exp()
    beyond = ((ratio > 1.1) & (targets.advantages > 0)) | ((ratio < 0.9) & (targets.advantages < 0))
    assert beyond.any()
    # the loss's gradient is the unclipped surrogate's over the steps still inside the range only
    (got,) = torch.autograd.grad(loss, [model.policy.weight])
    inside = -(ratio * targets.advantages)[~beyond].sum() / ratio.numel()
    (want,) = torch.autograd.grad(inside, [model.policy.weight])
    assert torch.allclose(got, want, atol=1e-6)


def test_every_env_of_every_worker_has_a_seed_of_its_own():
    """2 workers x 8 envs: 16 different seeds, so 16 different CartPole starts."""
    from functools import partial

    from mario_a3c.rollout import RolloutCollector, make_vector_env

    cfg = Config(env_id="CartPole-v1", num_envs=8, seed=3)
    model = build_model(space_signature(make_env("CartPole-v1")))
    starts = []
    for rank in range(2):
        envs = make_vector_env(partial(make_env, "CartPole-v1"), cfg.envs_per_worker)
        collector = RolloutCollector(envs, model, 1, 0.99, seed=cfg.env_seed(rank))
        starts += [tuple(o.tolist()) for o in collector.obs]
    assert len(set(starts)) == 16


class _FallsOnItsLastStep(gym.Env):
    """A one-number env whose episode terminates exactly on the step its time limit ends it."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(1, np.float32), {}

    def step(self, action):
        self.t += 1
        return np.full(1, 0.5, np.float32), 1.0, self.t == 3, False, {}


def test_a_terminal_step_on_the_time_limit_is_not_bootstrapped():
    from mario_a3c.rollout import RolloutCollector, make_vector_env

    make = lambda: gym.wrappers.TimeLimit(_FallsOnItsLastStep(), max_episode_steps=3)  # noqa: E731
    envs = make_vector_env(make, 2)
    model = build_model(space_signature(make()))
    torch.nn.init.constant_(model.value.bias, 5.0)  # V(final obs) far from 0: a bootstrap would show
    rollout = RolloutCollector(envs, model, 6, 0.9, seed=0).collect()
    assert rollout.dones[2].all() and rollout.dones[5].all()
    assert torch.all(rollout.rewards == 1.0)  # terminated and truncated on step 3: just the reward


def test_the_entropy_bonus_enters_the_loss_at_the_scheduled_weight():
    """--entropy-anneal-frames: the worker hands the loss the bonus's weight at the run's
    frames; the loss is policy + value - beta * entropy with that beta, not cfg's."""
    from mario_a3c.loss import actor_critic_loss
    from mario_a3c.schedule import linear_anneal

    model, rollout = _cartpole_rollout()
    cfg = Config(gamma=0.99, gae_lambda=0.95, entropy_coef=0.02, entropy_anneal_frames=1000)
    full, stats, _ = actor_critic_loss(model, rollout, cfg)
    half, _, _ = actor_critic_loss(model, rollout, cfg, entropy_coef=linear_anneal(0.02, 1000, 500))
    none, _, _ = actor_critic_loss(model, rollout, cfg, entropy_coef=linear_anneal(0.02, 1000, 1500))
    assert stats.entropy > 0.5
    assert (half - full).item() == pytest.approx(0.01 * stats.entropy, rel=1e-4)
    assert (none - full).item() == pytest.approx(0.02 * stats.entropy, rel=1e-4)


def test_late_frames_bring_longer_rollouts_and_no_entropy_bonus():
    from mario_a3c.schedule import entropy_weight, rollout_steps

    cfg = Config(entropy_coef=0.02, entropy_anneal_frames=4000, late_frames=1000, late_num_local_steps=64)
    assert [rollout_steps(cfg, f) for f in (0, 999, 1000, 10**9)] == [10, 10, 64, 64]
    assert [entropy_weight(cfg, f) for f in (0, 500, 1000, 10**9)] == pytest.approx([0.02, 0.0175, 0.0, 0.0])
    never = Config(entropy_coef=0.02)  # --late-frames 0: the rollout length and the bonus stay
    assert (rollout_steps(never, 10**9), entropy_weight(never, 10**9)) == (10, 0.02)


def test_a_resized_collector_carries_on_the_same_games():
    """RolloutCollector.resize: the next rollout has the new length and begins where the last
    one ended (same observation, same recurrent state), the envs not reset."""
    from mario_a3c.rollout import RolloutCollector, make_vector_env

    envs = make_vector_env(lambda: gym.make("CartPole-v1"), 3)
    model = build_model(space_signature(make_env("CartPole-v1")), lstm_size=8)
    collector = RolloutCollector(envs, model, 4, 0.99, seed=0)
    first = collector.collect()
    last_obs, last_state = collector.obs.clone(), tuple(s.clone() for s in collector.state)
    collector.resize(7)
    second = collector.collect()
    assert first.obs.shape[0] == 4 and second.obs.shape[0] == 7 and second.rewards.shape == (7, 3)
    assert torch.equal(second.obs[0], last_obs)
    kept = ~second.starts[0]  # an env whose game ended on the last step starts afresh
    assert len(last_state) == 2  # the LSTMCell's h and c
    assert all(torch.equal(s0[kept], s[kept]) for s0, s in zip(second.state0, last_state, strict=True))
    envs.close()


def test_linear_anneal_reaches_zero_at_its_frames_and_stays_there():
    from mario_a3c.schedule import linear_anneal

    assert [linear_anneal(0.01, 1000, f) for f in (0, 250, 1000, 5000)] == pytest.approx([0.01, 0.0075, 0.0, 0.0])
    assert linear_anneal(0.01, 0, 10**9) == linear_anneal(0.01, None, 10**9) == 0.01  # 0 / None: constant
