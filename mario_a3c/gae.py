"""Generalised advantage estimation over a (T, B) rollout."""

from __future__ import annotations

import torch


def compute_gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    last_value: torch.Tensor,
    dones: torch.Tensor,
    gamma: float,
    lam: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimation over a (T, B) rollout.

    delta_t = r_t + gamma * V(s_{t+1}) * (1 - done_t) - V(s_t)
    A_t     = delta_t + gamma * lam * (1 - done_t) * A_{t+1}
    returns = A + V  (the value targets)

    ``dones[t]`` ends the episode after step t, so nothing flows back across it.
    A truncated episode (time limit, stuck guard) is not a death: the rollout has
    already added ``gamma * V(final_obs)`` to its last reward, so treating it as done
    here is exact. ``last_value`` is V of the state after the rollout. lam = 1 gives
    plain n-step returns, lam = 0 one-step TD.
    """
    advantages = torch.zeros_like(rewards)
    running = torch.zeros_like(last_value)
    next_value = last_value
    for t in reversed(range(rewards.shape[0])):
        nonterminal = 1.0 - dones[t].float()
        delta = rewards[t] + gamma * next_value * nonterminal - values[t]
        running = delta + gamma * lam * nonterminal * running
        advantages[t] = running
        next_value = values[t]
    return advantages, advantages + values
