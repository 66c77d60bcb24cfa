"""What one parameter server can take: the numbers behind docs/scaling.md.

    python scripts/benchmark_ray_server.py                # the Mario conv+LSTM model
    python scripts/benchmark_ray_server.py --updates 200 --json server.json

Measures, for the default model: the bytes of one gradient (what a worker pushes per
update) and of one set of weights (what it pulls per rollout); the server's own time per
update (the Adam step on a pushed gradient) and per pull, in-process; and the same two
calls as round trips through a real local Ray actor from another process. From those:
how many updates per second one server applies, and so how many Mario workers it feeds
at the per-worker update rate measured by training (``--worker-fps``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import time
from pathlib import Path

import numpy as np

from mario_a3c.config import Config
from mario_a3c.ray_server import ParameterServer

ROOT = Path(__file__).resolve().parent.parent

MARIO_SIG = {"obs_shape": [4, 84, 84], "obs_dtype": "uint8", "action_kind": "discrete", "n_actions": 5}


def _median_ms(fn, n: int) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--updates", type=int, default=100, help="calls timed per figure")
    p.add_argument("--worker-fps", type=float, default=500.0, help="one worker's training frames/s (measured)")
    p.add_argument("--json", default=None)
    args = p.parse_args()
    import torch

    torch.set_num_threads(1)
    cfg = dataclasses.asdict(Config())
    server = ParameterServer(cfg, MARIO_SIG, None, None, frames=0, best=0.0)
    grads = [np.random.default_rng(0).standard_normal(w.shape).astype(np.float32) * 1e-3 for w in server.pull()[1]]
    res = {"parameters": int(sum(g.size for g in grads)), "gradient_bytes": int(sum(g.nbytes for g in grads))}
    res["weights_bytes"] = res["gradient_bytes"]
    res["server_push_ms"] = _median_ms(lambda: server.push(server.version, grads, 200), args.updates)
    res["server_pull_ms"] = _median_ms(server.pull, args.updates)

    import ray

    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR")
    remote = ray.remote(ParameterServer).options(num_cpus=0).remote(cfg, MARIO_SIG, None, None, 0, 0.0)
    ray.get(remote.pull.remote())
    res["ray_push_ms"] = _median_ms(lambda: ray.get(remote.push.remote(0, grads, 200)), args.updates)
    res["ray_pull_ms"] = _median_ms(lambda: ray.get(remote.pull.remote()), args.updates)
    ray.shutdown()

    per_update_ms = res["ray_push_ms"] + res["ray_pull_ms"]  # the server is busy for at most this per update
    res["server_updates_per_s"] = 1000.0 / per_update_ms
    frames_per_update = cfg["num_local_steps"] * cfg["num_envs"] * 4  # a rollout: T steps x B envs x skip 4
    res["worker_updates_per_s"] = args.worker_fps / frames_per_update
    res["workers_one_server_feeds"] = res["server_updates_per_s"] / res["worker_updates_per_s"]
    print(f"model: {res['parameters']:,} parameters; gradient {res['gradient_bytes'] / 1e6:.1f} MB per push,")
    print(f"       weights {res['weights_bytes'] / 1e6:.1f} MB per pull")
    print(f"server, in-process: push (Adam step) {res['server_push_ms']:.1f} ms, pull {res['server_pull_ms']:.2f} ms")
    print(f"through Ray (round trip): push {res['ray_push_ms']:.1f} ms, pull {res['ray_pull_ms']:.1f} ms")
    print(f"one server: {res['server_updates_per_s']:.0f} updates/s; a worker at {args.worker_fps:.0f} frames/s")
    feeds = res["workers_one_server_feeds"]
    print(f"sends {res['worker_updates_per_s']:.1f} updates/s -> one server feeds about {feeds:.0f} workers")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2) + "\n")


if __name__ == "__main__":
    main()
