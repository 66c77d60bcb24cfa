"""A real Gymnasium env that raises inside a worker, to test how the trainer handles it.

Used as ``--env tests.crash_env:CrashingCartPole-v0`` (Gymnasium imports the module, which
registers the id, in every process that makes the env).
"""

import gymnasium as gym
import numpy as np
from gymnasium.envs.classic_control import CartPoleEnv


class CrashingCartPole(CartPoleEnv):
    """CartPole whose 200th step raises RuntimeError; renders a blank frame without pygame."""

    def __init__(self, render_mode=None):
        super().__init__(render_mode=render_mode)
        self.steps = 0

    def step(self, action):
        self.steps += 1
        if self.steps == 200:
            raise RuntimeError("deliberate crash at step 200")
        return super().step(action)

    def render(self):
        return np.zeros((64, 64, 3), dtype=np.uint8)


gym.register("CrashingCartPole-v0", entry_point=CrashingCartPole, max_episode_steps=500)
