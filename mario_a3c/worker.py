"""The A3C worker: roll out, compute the loss, hand the gradient to the shared Adam."""

from __future__ import annotations

import traceback
from functools import partial

import torch

from mario_a3c.config import Config
from mario_a3c.gae import actor_critic_loss
from mario_a3c.play import copy_weights
from mario_a3c.rollout import RolloutCollector, make_vector_env
from mario_a3c.shared import Shared, child_setup
from models import build_model
from wrappers import make_env


def train_worker(rank: int, cfg: Config, sig: dict, shared: Shared) -> None:
    """Process entry point; reports any exception to the trainer before dying with it."""
    try:
        _train(rank, cfg, sig, shared)
    except Exception as err:
        shared.queue.put(("error", f"worker {rank}", f"{type(err).__name__}: {err}", traceback.format_exc()))
        raise


def _train(rank: int, cfg: Config, sig: dict, shared: Shared) -> None:
    child_setup(cfg.seed + rank)
    envs = make_vector_env(partial(make_env, cfg.env_id, **cfg.env_kwargs()), 1)
    model = build_model(sig, cfg.lstm_size)
    params = list(model.parameters())
    collector = RolloutCollector(envs, model, cfg.num_local_steps, cfg.gamma, seed=cfg.seed + rank)
    while not shared.stop.is_set():
        copy_weights(model, shared.model)
        rollout = collector.collect()
        loss, stats = actor_critic_loss(model, rollout, cfg.gamma, cfg.gae_lambda, cfg.value_coef, cfg.entropy_coef)
        model.zero_grad(set_to_none=True)
        loss.backward()
        norm = float(torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm))
        finite = torch.isfinite(loss).item() and norm == norm and norm != float("inf")
        if finite:
            shared.optimizer.step([p.grad for p in params])
        with shared.frames.get_lock():
            shared.frames.value += rollout.frames
            total = shared.frames.value
        shared.queue.put(("update", rank, rollout.frames, stats.__dict__, norm, not finite, rollout.episodes))
        if total >= cfg.max_frames:
            shared.stop.set()
    envs.close()
