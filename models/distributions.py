"""Action distributions built from the policy head's output.

Discrete actions use a categorical over logits. Continuous actions use a diagonal
Gaussian whose mean is the head's output and whose log standard deviation is a
learned, state-independent parameter. The Gaussian is *unsquashed*: log-probabilities
and entropy are exact for the sampled action, and the environment receives the action
clipped into its bounds (``to_env``), as SB3 and cleanrl do; clipping changes only what
the environment sees, never the probability the loss uses.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch
from torch.distributions import Normal

_TINY = torch.finfo(torch.float32).tiny


def gumbel_noise(u: torch.Tensor) -> torch.Tensor:
    """Standard Gumbel noise ``-log(-log U)`` from uniforms in [0, 1), in place. ``rand``
    draws 0 about once in 2^24 draws: moved to the smallest float, so U is in (0, 1) and the
    noise stays finite."""
    return u.clamp_(min=_TINY).log_().neg_().log_().neg_()


class Policy:
    """A batch of action distributions with the verbs the worker and learner need.

    Discrete sampling is the Gumbel-max trick, ``argmax(logits + G)`` with standard Gumbel
    noise ``G = -log(-log U)``: an exact sample of ``softmax(logits)`` in a few elementwise
    ops, where ``Categorical`` normalises the logits and calls ``multinomial`` (three times
    the cost per step on a CPU, which a vector-state worker pays at every step).
    """

    def __init__(self, params: torch.Tensor | tuple[torch.Tensor, torch.Tensor]):
        self.continuous = isinstance(params, tuple)
        if self.continuous:
            mean, log_std = params
            self.dist = Normal(mean, log_std.exp().expand_as(mean), validate_args=False)
        else:
            self.logits = params

    def sample(self) -> torch.Tensor:
        if self.continuous:
            return self.dist.sample()
        return (self.logits + gumbel_noise(torch.rand_like(self.logits))).argmax(-1)

    def greedy(self) -> torch.Tensor:
        return self.dist.mean if self.continuous else self.logits.argmax(-1)

    @functools.cached_property
    def _log_softmax(self) -> torch.Tensor:
        """Normalised log-probabilities, formed only when the learner asks (acting never does)."""
        return self.logits.log_softmax(-1)

    def log_prob(self, actions: torch.Tensor) -> torch.Tensor:
        if self.continuous:
            return self.dist.log_prob(actions).sum(-1)
        return self._log_softmax.gather(-1, actions.unsqueeze(-1)).squeeze(-1)

    def entropy(self) -> torch.Tensor:
        if self.continuous:
            return self.dist.entropy().sum(-1)
        logp = self._log_softmax
        return -(logp.exp() * logp).sum(-1)


def to_env(actions: torch.Tensor, low: np.ndarray | None, high: np.ndarray | None) -> np.ndarray:
    """Actions as the environment takes them: ints, or floats clipped into ``[low, high]``."""
    out = actions.numpy()
    if low is None:
        return out.astype(np.int64)
    return np.clip(out, low, high).astype(np.float32)


def gaussian_entropy_per_dim(log_std: float) -> float:
    """Entropy of one Gaussian dimension, 0.5 * log(2 pi e sigma^2) (used in tests)."""
    return 0.5 * math.log(2 * math.pi * math.e) + log_std
