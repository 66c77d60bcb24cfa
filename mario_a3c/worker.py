"""The learner loop: roll out, compute the loss, hand the gradient to the shared Adam.

A3C runs several of these processes, A2C runs one; each steps ``num_envs`` environments
in lock-step (one per Mario worker, eight for the vector-state presets). The loop is the
same code.
"""

from __future__ import annotations

import math
import traceback
from functools import partial

import torch

from mario_a3c.config import Config
from mario_a3c.loss import actor_critic_loss
from mario_a3c.messages import ChildError, Update
from mario_a3c.rollout import RolloutCollector, make_vector_env
from mario_a3c.schedule import entropy_weight, rollout_steps
from mario_a3c.shared import SharedRun, child_setup
from models import build_model, copy_weights
from wrappers import make_env


def clipped_gradients(model, params: list, loss: torch.Tensor, max_norm: float) -> tuple[float, list | None]:
    """Backward and clip: (grad norm, exactly this loss's gradient, one per parameter).

    A non-finite loss or gradient norm gives None instead of gradients, so the global
    model never receives NaN or Inf; the caller counts the skip.
    """
    model.zero_grad(set_to_none=True)
    loss.backward()
    norm = float(torch.nn.utils.clip_grad_norm_(params, max_norm))
    if not (math.isfinite(norm) and math.isfinite(loss.item())):
        return norm, None
    return norm, [p.grad for p in params]


def train_worker(rank: int, cfg: Config, sig: dict, shared: SharedRun) -> None:
    """Process entry point; reports any exception to the trainer before dying with it."""
    try:
        _train(rank, cfg, sig, shared)
    except Exception as err:
        shared.queue.put(ChildError(f"worker {rank}", f"{type(err).__name__}: {err}", traceback.format_exc()))
        raise


def _train(rank: int, cfg: Config, sig: dict, shared: SharedRun) -> None:
    child_setup(cfg.seed + rank, f"a3c-worker-{rank}", shared.trainer_pid)
    envs = make_vector_env(partial(make_env, cfg.env_id, **cfg.env_kwargs()), cfg.envs_per_worker)
    model = build_model(sig, **cfg.model_kwargs())  # acts: batch-1 steps stay on the CPU
    # --device cuda: the batched re-forward and backward of each rollout run on the GPU
    # (one transfer of the uint8 frames each way in, gradients back to the shared Adam).
    learner = model if cfg.device == "cpu" else build_model(sig, **cfg.model_kwargs()).to(cfg.device)
    params = list(learner.parameters())
    total = shared.frames.value  # the run's frames (a resumed run's too): where the schedules stand
    collector = RolloutCollector(
        envs, model, rollout_steps(cfg, total), cfg.gamma, seed=cfg.env_seed(rank), reward_scale=cfg.reward_scale
    )
    # --bf16: acting and the learner's re-forward under bfloat16 autocast; backward follows
    acting = partial(torch.autocast, "cpu", dtype=torch.bfloat16, enabled=cfg.bf16)
    learning = partial(torch.autocast, torch.device(cfg.device).type, dtype=torch.bfloat16, enabled=cfg.bf16)
    while not shared.stop.is_set():
        collector.resize(rollout_steps(cfg, total))  # --late-frames: longer rollouts from there on
        copy_weights(model, shared.model)
        with acting():
            rollout = collector.collect()
        if learner is not model:
            copy_weights(learner, model)
            rollout = rollout.to(cfg.device)
        targets, skipped = None, False
        # the bonus's weight at the frames counted with this rollout, as the learning rate's
        beta = entropy_weight(cfg, total + rollout.frames)
        for epoch in range(cfg.epochs):
            if epoch:  # a later pass starts from the shared weights this rollout's first step moved
                copy_weights(learner, shared.model)
            with learning():
                loss, stats, targets = actor_critic_loss(learner, rollout, cfg, targets, beta)
            norm, grads = clipped_gradients(learner, params, loss, cfg.max_grad_norm)
            skipped |= grads is None
            total = shared.push(rank, grads, rollout.frames if epoch == 0 else 0)
        shared.queue.put(Update(rank, rollout.frames, stats.__dict__, norm, skipped, rollout.episodes))
        if total >= cfg.max_frames:
            shared.stop.set()
    envs.close()
