"""Frontier starts: begin some Mario training episodes where earlier episodes got to.

A stage like 1-3 has one spot (the jump onto its tall tree) where every sampled attempt
dies the same way, and the policy, which only ever meets that spot after the same run-up,
rarely tries the move that passes it, nor learns what lies beyond. Go-Explore's remedy
(Ecoffet et al., 2021) is to return to promising states and explore from there; the
emulator makes the return exact: nes-py dumps and loads its whole state in microseconds.

:class:`FrontierStarts` keeps an archive of such snapshots, one per cell (x in steps of
64 pixels, height in steps of 32), taken only while Mario stands on solid ground and
replaced when an episode reaches the cell with more time on the clock. With probability
``prob`` a reset loads a cell's snapshot instead of the stage start, choosing cell ``c``
with weight ``1 / sqrt(1 + emulator frames spent in c)``: cells every episode runs through fade,
rarely reached ones (the frontier) dominate. Only training envs get it; the tester and
``test.py`` always start at the beginning, so a greedy clear still means the whole stage.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np

CELL_X, CELL_Y = 64, 32  # pixels per archive cell
ON_GROUND, NORMAL = 0x00, 0x08  # RAM 0x001D (float state) and 0x000E (player state) values


class FrontierStarts(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Start an episode from an archived emulator state with probability ``prob``.

    Wraps the gym-super-mario-bros env directly (below the joypad). The reset's info
    carries ``restored`` (whether the episode began from the archive), so statistics can
    tell the two kinds of episode apart.

    Example:
        >>> env = FrontierStarts(gym.make("SuperMarioBros-1-3-v0"), prob=0.5, seed=0)  # doctest: +SKIP
    """

    def __init__(self, env: gym.Env, prob: float, seed: int | None = None):
        gym.utils.RecordConstructorArgs.__init__(self, prob=prob, seed=seed)
        gym.Wrapper.__init__(self, env)
        if not 0.0 <= prob < 1.0:
            raise ValueError(f"prob must be in [0, 1), got {prob}")
        self.prob = prob
        self.rng = np.random.default_rng(seed)
        self.snapshots: dict[tuple[int, int], tuple[int, Any]] = {}  # cell -> (clock, state)
        self.seen: dict[tuple[int, int], int] = {}  # cell -> emulator frames spent there

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        obs, info = self.env.reset(seed=seed, options=options)
        restored = bool(self.snapshots) and self.rng.random() < self.prob
        if restored:
            smb = self.env.unwrapped
            smb.load_state(self._pick())
            smb._did_reset()  # the env's own reward bookkeeping (clock, x, score) from the loaded state
            obs, info = smb.screen.copy(), smb._get_info()
        info["restored"] = restored
        return obs, info

    def step(self, action: Any):
        obs, reward, terminated, truncated, info = self.env.step(action)
        if not (terminated or truncated):
            self._visit(info)
        return obs, reward, terminated, truncated, info

    def _visit(self, info: dict) -> None:
        smb = self.env.unwrapped
        cell = (int(info["x_pos"]) // CELL_X, int(smb._y_position) // CELL_Y)
        self.seen[cell] = self.seen.get(cell, 0) + 1
        if smb.ram[0x001D] != ON_GROUND or smb.ram[0x000E] != NORMAL:
            return
        clock = int(info["time"])
        if cell not in self.snapshots or clock > self.snapshots[cell][0]:
            self.snapshots[cell] = (clock, smb.dump_state())

    def _pick(self) -> Any:
        cells = list(self.snapshots)
        weights = np.array([1.0 / math.sqrt(1 + self.seen.get(c, 0)) for c in cells])
        cell = cells[self.rng.choice(len(cells), p=weights / weights.sum())]
        return self.snapshots[cell][1]
