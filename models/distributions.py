"""Action distributions built from the policy head's output.

Discrete actions use a categorical over logits. Continuous actions use a diagonal
Gaussian whose mean is the head's output and whose log standard deviation is a
learned, state-independent parameter. The Gaussian is *unsquashed*: log-probabilities
and entropy are exact for the sampled action, and the environment receives the action
clipped into its bounds (``to_env``), as SB3 and cleanrl do; clipping changes only what
the environment sees, never the probability the loss uses.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch.distributions import Categorical, Normal


class Policy:
    """A batch of action distributions with the three verbs the learner needs."""

    def __init__(self, params: torch.Tensor | tuple[torch.Tensor, torch.Tensor]):
        if isinstance(params, tuple):
            mean, log_std = params
            self.dist = Normal(mean, log_std.exp().expand_as(mean), validate_args=False)
            self.continuous = True
        else:
            self.dist = Categorical(logits=params, validate_args=False)
            self.continuous = False

    def sample(self) -> torch.Tensor:
        return self.dist.sample()

    def greedy(self) -> torch.Tensor:
        return self.dist.mean if self.continuous else self.dist.probs.argmax(-1)

    def log_prob(self, actions: torch.Tensor) -> torch.Tensor:
        lp = self.dist.log_prob(actions)
        return lp.sum(-1) if self.continuous else lp

    def entropy(self) -> torch.Tensor:
        ent = self.dist.entropy()
        return ent.sum(-1) if self.continuous else ent


def to_env(actions: torch.Tensor, low: np.ndarray | None, high: np.ndarray | None) -> np.ndarray:
    """Actions as the environment takes them: ints, or floats clipped into ``[low, high]``."""
    out = actions.numpy()
    if low is None:
        return out.astype(np.int64)
    return np.clip(out, low, high).astype(np.float32)


def gaussian_entropy_per_dim(log_std: float) -> float:
    """Entropy of one Gaussian dimension, 0.5 * log(2 pi e sigma^2) (used in tests)."""
    return 0.5 * math.log(2 * math.pi * math.e) + log_std
