"""Atari wrappers that Gymnasium does not have: life-loss episodes, game scores, clipping.

The factory stacks them around Gymnasium's own ``AtariPreprocessing`` (no-op starts,
frame skip 4 with max-pooling, 84x84 grayscale)::

    ALE (frameskip=1) -> AtariPreprocessing -> FrameCount -> GameScore
      -> [training: EpisodicLife -> ClipReward] -> FrameStackObservation(4) -> EpisodeStats
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np


class FrameCount(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """``info["frames"]``: emulator frames the agent step ran (ALE's episode frame counter)."""

    def __init__(self, env: gym.Env):
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.Wrapper.__init__(self, env)
        self._last = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        self._last = int(info.get("episode_frame_number", 0))
        info["frames"] = 0
        return obs, info

    def step(self, action: Any):
        obs, reward, terminated, truncated, info = self.env.step(action)
        now = int(info.get("episode_frame_number", self._last + 1))
        info["frames"] = max(1, now - self._last)
        self._last = now
        return obs, reward, terminated, truncated, info


class GameScore(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """The true, unclipped score of a whole game: ``info["game_score"]`` on the step it ends.

    Sits below :class:`EpisodicLife`, so it sees real games however often the learner's
    episodes are cut at lost lives. ``info["raw_reward"]`` is the step's unclipped reward.
    """

    def __init__(self, env: gym.Env):
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.Wrapper.__init__(self, env)
        self._score = 0.0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        self._score = 0.0
        return self.env.reset(seed=seed, options=options)

    def step(self, action: Any):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._score += float(reward)
        info["raw_reward"] = float(reward)
        if terminated or truncated:
            info["game_score"] = self._score
        return obs, reward, terminated, truncated, info


class EpisodicLife(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Training only: a lost life ends the learner's episode; the game goes on.

    ``reset`` after a lost life does not restart the game, nor step it: it hands back the
    observation the life was lost on, and the next ``step`` carries on from there. (The
    DeepMind convention takes a no-op step here instead; when that step ended the game,
    its score was lost to the statistics.) So the value of losing a life is learned
    without the agent ever seeing more than one life's worth of episode, and every whole
    game ends in a ``step``, where :class:`GameScore` reports it.
    """

    def __init__(self, env: gym.Env):
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.Wrapper.__init__(self, env)
        self._lives = 0
        self._last: tuple[Any, dict] | None = None  # (obs, info) of the step a life was lost on, game not over

    def step(self, action: Any):
        obs, reward, terminated, truncated, info = self.env.step(action)
        lives = int(info.get("lives", 0))
        self._last = None
        if 0 < lives < self._lives and not (terminated or truncated):
            terminated = True
            self._last = (obs, info)
        self._lives = lives
        return obs, reward, terminated, truncated, info

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        if seed is not None or self._last is None:  # a new game
            obs, info = self.env.reset(seed=seed, options=options)
        else:  # on from the lost life
            obs, info = self._last
        self._last = None
        self._lives = int(info.get("lives", 0))
        return obs, info


class ClipReward(gym.RewardWrapper, gym.utils.RecordConstructorArgs):
    """Training only: the reward's sign, as the A3C paper trains Atari (scores in ``raw_reward``)."""

    def __init__(self, env: gym.Env):
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.RewardWrapper.__init__(self, env)

    def reward(self, reward: float) -> float:
        return float(np.sign(reward))


def game_score(info: dict) -> float:
    """The finished game's true score, or NaN when this episode end was only a lost life."""
    return float(info.get("game_score", math.nan))
