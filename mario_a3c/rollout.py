"""Collecting a rollout from a Gymnasium vector env without autograd.

Every learner (an A3C worker, A2C's one learner) steps a vector env of ``num_envs``
environments, one for a Mario worker: the same code. Actions
are chosen under ``torch.no_grad()``; the learner re-forwards the stored frames with
autograd afterwards (see ``loss.actor_critic_loss``). Buffers are allocated once and
overwritten every rollout: the hot loop allocates no tensors for the frames it keeps.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np
import torch

from models import Policy, State, to_env


@dataclass
class Rollout:
    obs: torch.Tensor  # (T, B, *obs_shape), uint8 for pixels
    actions: torch.Tensor  # (T, B) long, or (T, B, A) float
    rewards: torch.Tensor  # (T, B), truncations already bootstrapped
    dones: torch.Tensor  # (T, B) bool: the episode ended after step t
    starts: torch.Tensor  # (T, B) bool: obs t opens an episode (state zeroed before it)
    state0: State  # recurrent state before step 0
    last_value: torch.Tensor  # (B,) value of the state after the rollout
    frames: int = 0  # emulator frames stepped
    episodes: list[dict] = field(default_factory=list)  # stats of episodes that ended

    def to(self, device: str) -> Rollout:
        """The tensors on ``device`` (for a learner on a GPU); counts and stats unchanged."""
        move = lambda t: t.to(device, non_blocking=True)  # noqa: E731
        return dataclasses.replace(
            self,
            obs=move(self.obs),
            actions=move(self.actions),
            rewards=move(self.rewards),
            dones=move(self.dones),
            starts=move(self.starts),
            state0=tuple(move(s) for s in self.state0),
            last_value=move(self.last_value),
        )


def make_vector_env(make_one, n: int) -> gym.vector.SyncVectorEnv:
    """``n`` copies of ``make_one()`` in lock-step, reset in the same step they end."""
    return gym.vector.SyncVectorEnv([make_one] * n, copy=False, autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)


def _masked(info: dict, key: str) -> tuple[np.ndarray, np.ndarray] | None:
    if key not in info:
        return None
    return info[key], info[f"_{key}"]


class RolloutCollector:
    """Steps ``envs`` with ``model`` for ``steps`` steps at a time, carrying obs and state."""

    def __init__(
        self, envs: gym.vector.VectorEnv, model, steps: int, gamma: float, seed: int, reward_scale: float = 1.0
    ):
        self.envs, self.model, self.gamma = envs, model, gamma
        self.reward_scale = reward_scale
        act = envs.single_action_space
        self.continuous = isinstance(act, gym.spaces.Box)
        self.low = act.low if self.continuous else None
        self.high = act.high if self.continuous else None
        self.steps = 0
        self.resize(steps)
        obs, _ = envs.reset(seed=seed)
        self.obs = torch.as_tensor(obs)
        self.state = model.initial_state(envs.num_envs)
        self.start = torch.ones(envs.num_envs, dtype=torch.bool)

    def resize(self, steps: int) -> None:
        """Rollouts of ``steps`` steps from the next one on (buffers allocated anew only when
        the length changes); the envs, their observations and the recurrent state carry on."""
        if steps == self.steps:
            return
        space, act, B = self.envs.single_observation_space, self.envs.single_action_space, self.envs.num_envs
        obs_dtype = torch.uint8 if space.dtype == np.uint8 else torch.float32
        self.buf_obs = torch.zeros((steps, B, *space.shape), dtype=obs_dtype)
        act_shape = (steps, B, *act.shape) if self.continuous else (steps, B)
        self.buf_actions = torch.zeros(act_shape, dtype=torch.float32 if self.continuous else torch.int64)
        self.buf_rewards = torch.zeros((steps, B))
        self.buf_dones = torch.zeros((steps, B), dtype=torch.bool)
        self.buf_starts = torch.zeros((steps, B), dtype=torch.bool)
        self.steps = steps

    def _reset_state(self, state: State, start: torch.Tensor) -> State:
        if not state or not start.any():
            return state
        keep = (~start).float().unsqueeze(-1)
        return tuple(s * keep for s in state)

    @torch.no_grad()
    def collect(self) -> Rollout:
        state0 = self._reset_state(self.state, self.start)
        state = state0
        frames = 0
        episodes: list[dict] = []
        for t in range(self.steps):
            self.buf_obs[t].copy_(self.obs)
            self.buf_starts[t] = self.start
            state = self._reset_state(state, self.start)
            params, _, state = self.model(self.buf_obs[t], state)
            action = Policy(params).sample()
            self.buf_actions[t] = action
            obs, reward, terminated, truncated, info = self.envs.step(to_env(action, self.low, self.high))
            done = np.logical_or(terminated, truncated)
            reward = torch.as_tensor(reward, dtype=torch.float32) * self.reward_scale
            if done.any():
                final = info["final_info"]
                cut = truncated & ~terminated  # a time limit can end a terminal step too: no bootstrap there
                if cut.any():
                    reward += self._truncation_bootstrap(info, cut, state)
                frames += self._frames(final, done)
                frames += self._frames(info, ~done)
                episodes += self._episodes(final)
            else:
                frames += self._frames(info, ~done)
            self.buf_rewards[t] = reward
            self.buf_dones[t] = torch.from_numpy(done)
            self.obs = torch.as_tensor(obs)
            self.start = self.buf_dones[t].clone()
        self.state = state
        _, last_value, _ = self.model(self.obs, self._reset_state(state, self.start))
        return Rollout(
            self.buf_obs,
            self.buf_actions,
            self.buf_rewards,
            self.buf_dones,
            self.buf_starts,
            state0,
            last_value,
            frames,
            episodes,
        )

    def _truncation_bootstrap(self, info: dict, truncated: np.ndarray, state: State) -> torch.Tensor:
        """gamma * V(final_obs) for envs cut off by a time limit, 0 elsewhere."""
        final_obs = torch.as_tensor(
            np.stack([o if o is not None else np.zeros_like(self.obs[0].numpy()) for o in info["final_obs"]])
        )
        _, value, _ = self.model(final_obs, state)
        return self.gamma * value * torch.from_numpy(truncated).float()

    @staticmethod
    def _frames(info: dict, mask: np.ndarray) -> int:
        got = _masked(info, "frames")
        if got is None:
            return int(mask.sum())
        values, present = got
        return int(np.where(mask & present, values, np.where(mask, 1, 0)).sum())

    @staticmethod
    def _episodes(final: dict) -> list[dict]:
        got = _masked(final, "episode")
        if got is None:
            return []
        stats, present = got
        return [{k: float(v[i]) for k, v in stats.items() if not k.startswith("_")} for i in np.flatnonzero(present)]
