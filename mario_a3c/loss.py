"""The actor-critic loss: the one implementation A3C and A2C (and every --epochs pass) call."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from mario_a3c.gae import compute_gae
from models import Policy


@dataclass
class LossStats:
    policy_loss: float
    value_loss: float
    entropy: float
    entropy_coef: float  # the bonus's weight this update (--entropy-anneal-frames: falling to 0)
    clip_fraction: float  # share of steps whose ratio left [1 - clip, 1 + clip] (0 on a first pass)
    rollout_steps: int  # T, the rollout's length (--late-frames: longer from there on)


@dataclass
class Targets:
    """What a rollout's first pass fixes for the passes after it (``--epochs`` above 1)."""

    advantages: torch.Tensor  # (T, B), standardized if the config says so
    returns: torch.Tensor  # (T, B) value targets
    log_probs: torch.Tensor  # (T, B) log-probabilities of the taken actions under the acting policy


def actor_critic_loss(
    model, rollout, cfg, targets: Targets | None = None, entropy_coef: float | None = None
) -> tuple[torch.Tensor, LossStats, Targets]:
    """Re-forward the rollout with autograd and form policy + value_coef * value - beta * entropy.

    ``beta`` is ``entropy_coef``, the bonus's weight at the run's frame count when
    ``--entropy-anneal-frames`` schedules it (None: the constant ``cfg.entropy_coef``).

    The rollout was collected without autograd under the same weights, so this first pass
    (``targets`` None) reproduces its values and LSTM states exactly while running the
    convolution once, batched over all T*B frames; it fixes the advantages, value targets
    and the acting policy's log-probabilities into the returned ``Targets``.

    The policy term is PPO's clipped surrogate, ``-min(rho A, clip(rho, 1 - eps, 1 + eps) A)``
    with ``rho = pi(a|s) / pi_acting(a|s)``. On the first pass rho is exactly 1, so its
    gradient is the plain actor-critic one, ``-A grad log pi(a|s)``: A3C and A2C as
    published. Later passes over the same rollout (``cfg.epochs`` > 1, given the first
    pass's ``targets``) see rho drift from 1, and the clip stops a step from moving the
    policy further than ``cfg.clip_coef`` away from the one that acted.
    """
    params, values = model.forward_sequence(rollout.obs, rollout.state0, rollout.starts)
    policy = Policy(params)
    log_probs = policy.log_prob(rollout.actions)  # (T, B)
    entropy = policy.entropy().mean()
    if targets is None:
        advantages, returns = compute_gae(
            rollout.rewards, values.detach(), rollout.last_value, rollout.dones, cfg.gamma, cfg.gae_lambda
        )
        if cfg.normalize_advantages and advantages.numel() > 1:
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
        targets = Targets(advantages, returns, log_probs.detach())
    ratio = (log_probs - targets.log_probs).exp()
    eps = cfg.clip_coef
    surrogate = torch.min(ratio * targets.advantages, ratio.clamp(1.0 - eps, 1.0 + eps) * targets.advantages)
    policy_loss = -surrogate.mean()
    value_loss = 0.5 * (targets.returns - values).pow(2).mean()
    beta = cfg.entropy_coef if entropy_coef is None else entropy_coef
    loss = policy_loss + cfg.value_coef * value_loss - beta * entropy
    clipped = ((ratio - 1.0).abs() > eps).float().mean()
    stats = LossStats(policy_loss.item(), value_loss.item(), entropy.item(), beta, clipped.item(), len(rollout.obs))
    return loss, stats, targets
