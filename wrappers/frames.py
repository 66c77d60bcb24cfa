"""Pixel wrappers: frame skip with max-pooling and grayscale + resize."""

from __future__ import annotations

from typing import Any

import cv2
import gymnasium as gym
import numpy as np


class MaxAndSkip(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Repeat each action ``skip`` frames, sum the rewards, max-pool the last two frames.

    The max over the last two frames removes the flicker of sprites that the NES and
    the Atari draw only on every other frame. Stepping stops early when the episode
    ends. ``info["frames"]`` says how many emulator frames the step really ran, so
    frame counters stay exact at episode ends.

    Example:
        >>> env = MaxAndSkip(gym.make("SuperMarioBros-1-1-v0"), skip=4)  # doctest: +SKIP
    """

    def __init__(self, env: gym.Env, skip: int = 4):
        gym.utils.RecordConstructorArgs.__init__(self, skip=skip)
        gym.Wrapper.__init__(self, env)
        if skip < 1:
            raise ValueError(f"skip must be >= 1, got {skip}")
        self._skip = skip
        shape = env.observation_space.shape
        self._buffer = np.zeros((2, *shape), dtype=env.observation_space.dtype)

    def step(self, action: Any):
        total = 0.0
        terminated = truncated = False
        info: dict[str, Any] = {}
        frames = 0
        for i in range(self._skip):
            obs, reward, terminated, truncated, info = self.env.step(action)
            frames += 1
            total += float(reward)
            if i >= self._skip - 2:
                # The emulator hands back the same array every frame: copy what we keep.
                self._buffer[i - (self._skip - 2)] = obs
            if terminated or truncated:
                if i < self._skip - 2:
                    self._buffer[1] = obs
                    self._buffer[0] = obs
                elif i == self._skip - 2:
                    self._buffer[1] = obs
                break
        info["frames"] = frames
        return self._buffer.max(axis=0), total, terminated, truncated, info

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        info["frames"] = 0
        return np.array(obs, copy=True), info


class GrayResize(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """RGB (H, W, 3) uint8 -> grayscale (size, size) uint8, resized with area averaging.

    Example:
        >>> env = GrayResize(MaxAndSkip(base_env), size=84)  # doctest: +SKIP
        >>> env.observation_space.shape
        (84, 84)
    """

    def __init__(self, env: gym.Env, size: int = 84):
        gym.utils.RecordConstructorArgs.__init__(self, size=size)
        gym.ObservationWrapper.__init__(self, env)
        space = env.observation_space
        if not (isinstance(space, gym.spaces.Box) and len(space.shape) == 3 and space.shape[2] == 3):
            raise ValueError(f"GrayResize needs an (H, W, 3) image space, got {space}")
        if size < 8:
            raise ValueError(f"size must be >= 8, got {size}")
        self._size = size
        self.observation_space = gym.spaces.Box(0, 255, (size, size), dtype=np.uint8)

    def observation(self, observation: np.ndarray) -> np.ndarray:
        gray = cv2.cvtColor(observation, cv2.COLOR_RGB2GRAY)
        return cv2.resize(gray, (self._size, self._size), interpolation=cv2.INTER_AREA)


class ChannelsFirst(gym.ObservationWrapper):
    """Images laid out height x width x channels (CarRacing) as channels x height x width,
    the layout the convolutional encoder reads."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        space = env.observation_space
        self.observation_space = gym.spaces.Box(
            np.transpose(space.low, (2, 0, 1)), np.transpose(space.high, (2, 0, 1)), dtype=space.dtype
        )

    def observation(self, observation: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(np.transpose(observation, (2, 0, 1)))


def is_channels_last(space: gym.Space) -> bool:
    """An image Box whose last axis is 1-4 channels and whose first is not."""
    shape = getattr(space, "shape", None) or ()
    return isinstance(space, gym.spaces.Box) and len(shape) == 3 and shape[-1] <= 4 < shape[0]
