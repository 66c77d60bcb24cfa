"""The Mario wrapper stack on the real NES emulator."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from wrappers import make_env
from wrappers.frames import GrayResize, MaxAndSkip
from wrappers.mario import Joypad, MarioReward

RIGHT, RIGHT_JUMP_RUN = 1, 4


@pytest.fixture(scope="module")
def env():
    e = make_env("SuperMarioBros-1-1-v0")
    yield e
    e.close()


def test_passes_gymnasium_env_checker():
    env = make_env("SuperMarioBros-1-1-v0")
    check_env(env, skip_render_check=True)
    env.close()


def test_observations_are_stacked_uint8_frames_in_space(env):
    obs, info = env.reset(seed=0)
    assert obs.shape == (4, 84, 84) and obs.dtype == np.uint8
    assert env.action_space == gym.spaces.Discrete(5)
    for _ in range(60):
        obs, reward, terminated, truncated, info = env.step(RIGHT)
        assert obs in env.observation_space
        assert info["frames"] == 4
        if terminated or truncated:
            break
    # The newest frame is the last channel and differs from the oldest while Mario runs.
    assert not np.array_equal(obs[0], obs[3])
    assert 20 < obs.mean() < 235


def test_observation_arrays_are_not_reused(env):
    first, _ = env.reset(seed=0)
    second, *_ = env.step(RIGHT)
    assert first is not second and not np.shares_memory(first, second)


def test_skip_sums_rewards_and_max_pools_last_two_frames():
    base = Joypad(gym.make("SuperMarioBros-1-1-v0"), [["NOOP"], ["right"]])
    skip = MaxAndSkip(base, skip=4)
    ref = Joypad(gym.make("SuperMarioBros-1-1-v0"), [["NOOP"], ["right"]])
    skip.reset(seed=0)
    ref.reset(seed=0)
    frames, total = [], 0.0
    for _ in range(4):
        o, r, *_ = ref.step(1)
        frames.append(o.copy())
        total += r
    obs, reward, *_, info = skip.step(1)
    assert reward == pytest.approx(total)
    assert np.array_equal(obs, np.maximum(frames[2], frames[3]))
    assert info["frames"] == 4
    skip.close()
    ref.close()


def test_shaped_reward_follows_x_progress_and_penalises_death():
    env = MarioReward(MaxAndSkip(Joypad(gym.make("SuperMarioBros-1-1-v0"), [["NOOP"], ["right"]]), skip=4))
    _, info = env.reset(seed=0)
    x = info["x_pos"]
    total_dx = 0
    terminated = False
    while not terminated:  # running right without jumping meets the first goomba
        _, reward, terminated, truncated, info = env.step(1)
        dx = info["x_pos"] - x
        x = info["x_pos"]
        if not terminated:
            assert reward == pytest.approx(dx / 10.0, abs=1e-6)
            total_dx += dx
    assert reward == pytest.approx((dx - 50.0) / 10.0, abs=0.05)
    assert total_dx > 100 and not info["flag_get"]
    assert set(info) >= {"x_pos", "flag_get", "world", "stage", "raw_reward"}
    env.close()


def test_episode_statistics_and_stuck_truncation():
    env = make_env("SuperMarioBros-1-1-v0", stuck_patience=20)
    env.reset(seed=0)
    steps = 0
    while True:  # NOOP: Mario stands still until the stuck guard cuts the episode
        _, _, terminated, truncated, info = env.step(0)
        steps += 1
        if terminated or truncated:
            break
    assert truncated and not terminated and info.get("stuck")
    ep = info["episode"]
    assert ep["l"] == steps == 20 and ep["frames"] == 80 and ep["flag"] == 0.0
    assert ep["x_pos"] == 40
    env.close()


def test_stuck_death_ends_a_stuck_episode_as_a_death():
    env = make_env("SuperMarioBros-1-1-v0", stuck_patience=20, stuck_death=True)
    env.reset(seed=0)
    rewards = []
    while True:  # NOOP: stuck after 20 steps, now a terminal step with the death's reward
        _, reward, terminated, truncated, info = env.step(0)
        rewards.append(reward)
        if terminated or truncated:
            break
    assert terminated and not truncated and info.get("stuck") and not info["flag_get"]
    assert len(rewards) == 20 and rewards[-1] == -5.0 and all(r == 0.0 for r in rewards[:-1])
    assert info["episode"]["l"] == 20
    env.close()


def test_grayscale_resize_declares_its_space():
    env = GrayResize(gym.make("SuperMarioBros-1-1-v0"), size=42)
    obs, _ = env.reset(seed=0)
    assert env.observation_space.shape == (42, 42) and obs.shape == (42, 42) and obs.dtype == np.uint8
    with pytest.raises(ValueError, match="size"):
        GrayResize(gym.make("SuperMarioBros-1-1-v0"), size=2)
    env.close()
