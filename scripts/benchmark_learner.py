"""The model's cost in one worker: milliseconds per acting step and per learner update,
float32 against bfloat16 autocast, on a real rollout of the env.

    python scripts/benchmark_learner.py                       # Mario 1-1 at the defaults
    python scripts/benchmark_learner.py --num-envs 8 --lstm-size 256
    python scripts/benchmark_learner.py --env ALE/Pong-v5 --lstm-size 0

One process, one torch thread (as a worker). An "update" is the learner's re-forward of a
T x B rollout with autograd plus its backward (``actor_critic_loss`` + ``backward``); an
"act" is one batched forward of B frames without autograd. Rounds alternate float32 and
bfloat16 so a drifting machine hurts both alike; the medians are printed.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
from functools import partial

import torch

from mario_a3c.config import Config, preset_for
from mario_a3c.loss import actor_critic_loss
from mario_a3c.rollout import RolloutCollector, make_vector_env
from models import build_model
from wrappers import make_env, mario_id, space_signature


def _timed(fn, n: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n * 1000.0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--env", default=mario_id(1, 1))
    p.add_argument("--num-envs", type=int, default=None, help="B (default: the env's preset)")
    p.add_argument("--num-local-steps", type=int, default=None, help="T (default: the env's preset)")
    p.add_argument("--lstm-size", type=int, default=None, help="0: feed-forward (default: the preset's)")
    p.add_argument("--encoder", default=None, help="pixel torso: conv4 or nature (default: the preset's)")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--iters", type=int, default=20, help="timed calls per round")
    args = p.parse_args()
    torch.set_num_threads(1)
    flags = ("num_envs", "num_local_steps", "lstm_size", "encoder")
    given = {k: v for k, v in vars(args).items() if k in flags and v is not None}
    cfg = dataclasses.replace(Config(env_id=args.env, **preset_for(args.env)), **given)
    make_one = partial(make_env, cfg.env_id, **cfg.env_kwargs())
    envs = make_vector_env(make_one, cfg.num_envs)
    model = build_model(space_signature(make_one()), **cfg.model_kwargs())
    rollout = RolloutCollector(envs, model, cfg.num_local_steps, cfg.gamma, seed=0).collect()
    state = model.initial_state(cfg.num_envs)

    def update(bf16: bool) -> None:
        model.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss, _, _ = actor_critic_loss(model, rollout, cfg)
        loss.backward()

    def act(bf16: bool) -> None:
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            model(rollout.obs[0], state)

    print(
        f"{cfg.env_id}: B={cfg.num_envs} T={cfg.num_local_steps} lstm={cfg.lstm_size} encoder={cfg.encoder}, "
        f"{sum(p.numel() for p in model.parameters()):,} parameters, one thread"
    )
    for name, fn in (("act", act), ("update", update)):
        times: dict[bool, list[float]] = {False: [], True: []}
        for bf16 in (False, True):
            _timed(partial(fn, bf16), 3)  # warm-up (oneDNN picks its kernels)
        for _ in range(args.rounds):
            for bf16 in (False, True):
                times[bf16].append(_timed(partial(fn, bf16), args.iters))
        f32, b16 = statistics.median(times[False]), statistics.median(times[True])
        print(f"{name:7s} float32 {f32:7.1f} ms   bfloat16 {b16:7.1f} ms   ratio {b16 / f32:.2f}")
    envs.close()


if __name__ == "__main__":
    main()
