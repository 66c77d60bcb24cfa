"""GAE and the actor-critic loss: the one implementation A3C and A2C both call."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from models import Policy


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


@dataclass
class LossStats:
    policy_loss: float
    value_loss: float
    entropy: float


def actor_critic_loss(
    model,
    rollout,
    gamma: float,
    lam: float,
    value_coef: float,
    entropy_coef: float,
    normalize_advantages: bool = False,
):
    """Re-forward the rollout with autograd and form policy + value_coef * value - beta * entropy.

    The rollout was collected without autograd under the same weights, so this re-forward
    reproduces its values and LSTM states exactly while running the convolution once,
    batched over all T*B frames.
    """
    params, values = model.forward_sequence(rollout.obs, rollout.state0, rollout.starts)
    policy = Policy(params)
    log_probs = policy.log_prob(rollout.actions)  # (T, B)
    entropy = policy.entropy().mean()
    advantages, returns = compute_gae(rollout.rewards, values.detach(), rollout.last_value, rollout.dones, gamma, lam)
    if normalize_advantages and advantages.numel() > 1:
        advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
    policy_loss = -(log_probs * advantages).mean()
    value_loss = 0.5 * (returns - values).pow(2).mean()
    loss = policy_loss + value_coef * value_loss - entropy_coef * entropy
    return loss, LossStats(policy_loss.item(), value_loss.item(), entropy.item())
