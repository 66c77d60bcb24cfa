"""Playing one episode with a model: the tester and test.py both call ``play_episode``."""

from __future__ import annotations

import gymnasium as gym
import torch

from models import Policy, to_env


@torch.no_grad()
def play_episode(
    env: gym.Env,
    model,
    *,
    greedy: bool = True,
    seed: int | None = None,
    writer=None,
    device: str = "cpu",
    should_stop=None,
    switch=None,
) -> dict:
    """Play until the episode ends; return its ``info["episode"]`` stats.

    ``writer`` (an ``Mp4Writer``) receives ``env.render()`` before every step and after the
    last; ``should_stop()`` returning True abandons the episode (its stats say ``aborted``).
    ``switch(info)``, called after every step, may return another model to play on with
    (a fresh recurrent state): the whole game changes models when the stage changes.
    """
    act = env.action_space
    low, high = (act.low, act.high) if isinstance(act, gym.spaces.Box) else (None, None)
    obs, _ = env.reset(seed=seed)
    state = tuple(s.to(device) for s in model.initial_state(1))
    while True:
        if writer is not None:
            writer.append(env.render())
        x = torch.as_tensor(obs, device=device).unsqueeze(0)
        params, _, state = model(x, state)
        policy = Policy(params)
        action = policy.greedy() if greedy else policy.sample()
        env_action = to_env(action.cpu(), low, high)[0]
        obs, _, terminated, truncated, info = env.step(env_action if low is not None else int(env_action))
        if switch is not None and (other := switch(info)) is not None and other is not model:
            model, state = other, tuple(s.to(device) for s in other.initial_state(1))
        if terminated or truncated:
            if writer is not None:
                writer.append(env.render())
            return dict(info["episode"], aborted=False, terminated=bool(terminated))
        if should_stop is not None and should_stop():
            return {"r": 0.0, "raw_r": 0.0, "l": 0, "frames": 0, "x_pos": 0, "flag": 0.0, "aborted": True}
