"""Mario-specific wrappers: the shaped reward we train on, and a stuck guard.

The reward (per agent step of ``skip`` frames, after :class:`MaxAndSkip`)::

    r = clip((dx + dscore / 40 + 50 * flag - 50 * death) / 10, -15, 15)

where ``dx`` is the change of Mario's x position over the step (clipped to [-25, 25]
so that pipes and resets cannot produce a jump), ``dscore`` the change of the in-game
score, ``flag`` 1 on the step that reaches the flag and ``death`` 1 on the step where
Mario dies (falls, is hit, or the clock runs out). The emulator's own reward
(gym-super-mario-bros 9.x: progress, clock, score, coins, power-ups, completion,
death; unclipped) is summed into ``info["raw_reward"]`` for logging only.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
from nes_py.wrappers import JoypadSpace

# The keys kept from the ~40 the emulator builds every frame: everything logged downstream.
INFO_KEYS = ("x_pos", "flag_get", "world", "stage", "score", "life", "time")


class MarioReward(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Replace the emulator's reward with the shaped one above and trim the info dict.

    Example:
        >>> env = MarioReward(MaxAndSkip(JoypadSpace(base, RIGHT_ONLY)))  # doctest: +SKIP
    """

    def __init__(self, env: gym.Env, scale: float = 10.0, clip: float = 15.0):
        gym.utils.RecordConstructorArgs.__init__(self, scale=scale, clip=clip)
        gym.Wrapper.__init__(self, env)
        if scale <= 0 or clip <= 0:
            raise ValueError(f"scale and clip must be positive, got {scale}, {clip}")
        self._scale = scale
        self._clip = clip
        self.death_reward = max(-clip, -50.0 / scale)  # the reward of the step Mario dies on (no flag)
        self._x = 0
        self._score = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        self._x, self._score = int(info["x_pos"]), int(info["score"])
        return obs, self._trim(info, 0.0)

    def step(self, action: Any):
        obs, raw_reward, terminated, truncated, info = self.env.step(action)
        x, score, flag = int(info["x_pos"]), int(info["score"]), bool(info["flag_get"])
        dx = max(-25, min(25, x - self._x))
        death = terminated and not flag
        shaped = (dx + (score - self._score) / 40.0 + 50.0 * flag - 50.0 * death) / self._scale
        self._x, self._score = x, score
        reward = max(-self._clip, min(self._clip, shaped))
        return obs, reward, terminated, truncated, self._trim(info, raw_reward)

    @staticmethod
    def _trim(info: dict[str, Any], raw_reward: float) -> dict[str, Any]:
        out = {key: info[key] for key in INFO_KEYS}
        out["frames"] = info.get("frames", 0)
        out["raw_reward"] = float(raw_reward)
        if "restored" in info:  # a reset's: began from an archived state (FrontierStarts)
            out["restored"] = info["restored"]
        return out


class StuckTruncation(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Truncate an episode when ``info["x_pos"]`` sets no new maximum for ``patience`` steps.

    An agent pressed against a pipe would otherwise burn the whole in-game clock
    (about 2,400 agent steps). By default this is a truncation, not a death: the learner
    bootstraps from the value of the last state. With ``death_reward`` (``--stuck-death``)
    it ends the episode as the clock running out would, a terminal step with that reward:
    a trap Mario cannot leave with right-only actions is then worth a death, not a rest.
    In the whole game (several stages and lives in one episode) the maximum starts afresh
    with each stage and each life.
    """

    def __init__(self, env: gym.Env, patience: int = 200, death_reward: float | None = None):
        gym.utils.RecordConstructorArgs.__init__(self, patience=patience, death_reward=death_reward)
        gym.Wrapper.__init__(self, env)
        if patience < 1:
            raise ValueError(f"patience must be >= 1, got {patience}")
        self._patience = patience
        self._death_reward = death_reward
        self._best = 0
        self._since = 0
        self._where: tuple = ()

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        self._best, self._since, self._where = int(info["x_pos"]), 0, _where(info)
        return obs, info

    def step(self, action: Any):
        obs, reward, terminated, truncated, info = self.env.step(action)
        if _where(info) != self._where:  # a new stage or a new life: x_pos starts again
            self._best, self._since, self._where = int(info["x_pos"]), 0, _where(info)
        elif info["x_pos"] > self._best:
            self._best, self._since = int(info["x_pos"]), 0
        else:
            self._since += 1
        if self._since >= self._patience and not terminated:
            info["stuck"] = True
            if self._death_reward is None:
                truncated = True
            else:
                terminated, truncated, reward = True, False, self._death_reward
        return obs, reward, terminated, truncated, info


def _where(info: dict) -> tuple:
    return info["world"], info["stage"], info["life"]


class WorldEnd(gym.Wrapper):
    """The whole game, cut at the end of a world: the step that enters a stage past
    ``world``-``last_stage`` (the next world's first, say) is a truncation."""

    def __init__(self, env: gym.Env, world: int, last_stage: int = 4):
        super().__init__(env)
        self.world, self.last_stage = world, last_stage

    def step(self, action: Any):
        obs, reward, terminated, truncated, info = self.env.step(action)
        past = info["world"] != self.world or info["stage"] > self.last_stage
        return obs, reward, terminated, truncated or past, info


class Joypad(JoypadSpace, gym.utils.RecordConstructorArgs):
    """nes-py's JoypadSpace, made re-creatable from its spec (as ``check_env`` requires)."""

    def __init__(self, env: gym.Env, actions: list[list[str]]):
        gym.utils.RecordConstructorArgs.__init__(self, actions=actions)
        JoypadSpace.__init__(self, env, actions)
