"""Episode statistics kept by every environment the factory builds."""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym


class EpisodeStats(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Accumulate one episode's statistics and put them in ``info["episode"]`` at its end.

    Keys: ``r`` (the return trained on), ``raw_r`` (the game's own return: the
    emulator's reward for Mario, the unclipped score for Atari; ``r`` otherwise),
    ``l`` (agent steps), ``frames`` (emulator frames), ``x_pos`` (max x position, Mario
    only, else 0), ``flag`` (1.0 when the flag was reached, Mario only), ``restored``
    (1.0 when the episode began from an archived state, :class:`wrappers.explore.FrontierStarts`,
    else 0.0), ``game`` (the true score of the whole game that ended here: with
    ``games=True``, for Atari, whose training episodes end at each lost life, NaN when
    only a life ended; else ``raw_r``).

    Example:
        >>> env = EpisodeStats(gym.make("CartPole-v1"))
        >>> _ = env.reset(seed=0)
    """

    def __init__(self, env: gym.Env, games: bool = False):
        gym.utils.RecordConstructorArgs.__init__(self, games=games)
        gym.Wrapper.__init__(self, env)
        self._games = games
        self._clear()

    def _clear(self) -> None:
        self._ret = self._raw = 0.0
        self._len = self._frames = 0
        self._x = 0
        self._flag = False
        self._restored = False

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        self._clear()
        obs, info = self.env.reset(seed=seed, options=options)
        self._restored = bool(info.get("restored", False))
        return obs, info

    def step(self, action: Any):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._ret += float(reward)
        self._raw += float(info.get("raw_reward", reward))
        self._len += 1
        self._frames += int(info.get("frames", 1))
        self._x = max(self._x, int(info.get("x_pos", 0)))
        self._flag = self._flag or bool(info.get("flag_get", False))
        if terminated or truncated:
            info["episode"] = {
                "r": self._ret,
                "raw_r": self._raw,
                "l": self._len,
                "frames": self._frames,
                "x_pos": self._x,
                "flag": float(self._flag),
                "restored": float(self._restored),
                "game": float(info.get("game_score", math.nan)) if self._games else self._raw,
            }
        return obs, reward, terminated, truncated, info
