"""Wall time and steps to solve the vector-state envs, A3C and A2C, optionally beside SB3 PPO.

    python scripts/benchmark_vector.py                               # all four envs, a3c + a2c, seed 0
    python scripts/benchmark_vector.py --envs CartPole-v1 --seeds 5 --vs-sb3
    python scripts/benchmark_vector.py --envs LunarLander-v3 --seeds 3 --vs-sb3 --sb3-seeds 1
    python scripts/benchmark_vector.py --json bench_vector.json
    python scripts/benchmark_vector.py --envs Pendulum-v1 --train-args "--lr 3e-3"   # try flags

Each run is a real ``train.py --stop-when-solved`` with the env's preset defaults; solved
means the mean return of the last 100 training episodes reaches the env's threshold
(``summary.json``'s ``solved_at_*``). ``--vs-sb3`` also runs Stable-Baselines3 PPO with
rl-baselines3-zoo's tuned hyperparameters (one torch thread, same criterion), when
stable-baselines3 is installed (a development extra: ``pip install stable-baselines3``).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENVS = {  # env: (solved threshold, default time limit per run in seconds)
    "CartPole-v1": (475.0, 300),
    "LunarLander-v3": (200.0, 1800),
    "Pendulum-v1": (-200.0, 600),
    "MountainCarContinuous-v0": (90.0, 600),
}


def run_ours(env_id: str, algo: str, seed: int, limit: float, extra: tuple[str, ...] = ()) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, str(ROOT / "train.py"), "--env", env_id, "--algo", algo, "--seed", str(seed), *extra]
        cmd += ["--stop-when-solved", "--max-seconds", str(limit), "--max-frames", str(10**9)]
        cmd += ["--save-dir", tmp, "--log-dir", tmp, "--eval-interval", "3600"]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
        if proc.returncode != 0:
            raise SystemExit(f"train.py failed for {env_id} {algo}: {proc.stderr.strip()[-500:]}")
        s = json.loads(next(Path(tmp).glob("*/summary.json")).read_text())
    return {
        "solved": s["solved"],
        "steps": s["solved_at_frames"],
        "seconds": s["solved_at_seconds"],
        "ran": s["frames"],
        "last_100_mean": s["last_100_mean_return"],
    }


# rl-baselines3-zoo's hyperparameters/ppo.yml for these envs ("lin_x": linear decay from x).
ZOO_PPO = {
    "CartPole-v1": dict(
        n_envs=8,
        n_steps=32,
        batch_size=256,
        gae_lambda=0.8,
        gamma=0.98,
        n_epochs=20,
        ent_coef=0.0,
        learning_rate="lin_0.001",
        clip_range="lin_0.2",
    ),
    "LunarLander-v3": dict(
        n_envs=16, n_steps=1024, batch_size=64, gae_lambda=0.98, gamma=0.999, n_epochs=4, ent_coef=0.01
    ),
    "Pendulum-v1": dict(
        n_envs=4,
        n_steps=1024,
        gae_lambda=0.95,
        gamma=0.9,
        n_epochs=10,
        ent_coef=0.0,
        learning_rate=1e-3,
        clip_range=0.2,
        use_sde=True,
        sde_sample_freq=4,
    ),
    "MountainCarContinuous-v0": dict(
        n_envs=1,
        batch_size=256,
        n_steps=8,
        gamma=0.9999,
        learning_rate=7.77e-05,
        ent_coef=0.00429,
        clip_range=0.1,
        n_epochs=10,
        gae_lambda=0.9,
        max_grad_norm=5,
        vf_coef=0.19,
        use_sde=True,
        policy_kwargs=dict(log_std_init=-3.29, ortho_init=False),
    ),
}


def _sb3_child(env_id: str, seed: int, limit: float, threshold: float) -> None:
    """Runs in a subprocess: SB3 PPO until the last 100 episodes average ``threshold``."""
    import numpy as np
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env

    torch.set_num_threads(1)
    hp = dict(ZOO_PPO[env_id])
    n_envs = hp.pop("n_envs")
    for key in ("learning_rate", "clip_range"):
        if isinstance(hp.get(key), str):
            start = float(hp[key].split("_")[1])
            hp[key] = lambda progress, s=start: progress * s
    env = make_vec_env(env_id, n_envs=n_envs, seed=seed)
    returns: list[float] = []
    began = time.time()
    result = {"solved": False, "steps": None, "seconds": None}

    class Stop(BaseCallback):
        def _on_step(self) -> bool:
            for info in self.locals["infos"]:
                if "episode" in info:
                    returns.append(info["episode"]["r"])
            if len(returns) >= 100 and np.mean(returns[-100:]) >= threshold:
                result.update(solved=True, steps=self.num_timesteps, seconds=round(time.time() - began, 1))
                return False
            return time.time() - began < limit

    PPO("MlpPolicy", env, seed=seed, device="cpu", **hp).learn(total_timesteps=10**8, callback=Stop())
    result["ran"] = None
    print(json.dumps(result))


def run_sb3(env_id: str, seed: int, limit: float) -> dict:
    code = f"import sys; sys.path.insert(0, {str(ROOT / 'scripts')!r}); import benchmark_vector as b; "
    code += f"b._sb3_child({env_id!r}, {seed}, {limit}, {ENVS[env_id][0]})"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS="1")
    )
    if proc.returncode != 0:
        raise SystemExit(f"SB3 PPO failed on {env_id}: {proc.stderr.strip()[-500:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _median(runs: list[dict], key: str, fmt: str = ",.0f") -> str:
    values = [r[key] for r in runs if r["solved"]]
    if len(values) * 2 <= len(runs):  # the median run did not solve
        return "not solved"
    return format(statistics.median(values + [float("inf")] * (len(runs) - len(values))), fmt)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--envs", nargs="+", default=list(ENVS), choices=list(ENVS))
    p.add_argument("--algos", nargs="+", default=["a3c", "a2c"], choices=["a3c", "a2c"])
    p.add_argument("--seeds", type=int, default=1, help="seeds 0..N-1 per env and algorithm")
    p.add_argument("--limit", type=float, default=None, help="seconds per run (default: per env)")
    p.add_argument("--vs-sb3", action="store_true", help="also run SB3 PPO (zoo hyperparameters)")
    p.add_argument(
        "--sb3-seeds", type=int, default=None, help="seeds for SB3 PPO, when fewer than --seeds (its runs are long)"
    )
    p.add_argument("--train-args", default="", help='extra train.py flags for our runs, e.g. "--lr 1e-3 --gamma 0.9"')
    p.add_argument("--json", default=None)
    args = p.parse_args()
    contenders = list(args.algos)
    if args.vs_sb3:
        try:
            import stable_baselines3  # noqa: F401
        except ImportError:
            print("--vs-sb3: stable-baselines3 is not installed (pip install stable-baselines3); skipping it")
        else:
            contenders.append("sb3-ppo")
    extra = tuple(shlex.split(args.train_args))
    rows, raw = [], {}
    for env_id in args.envs:
        threshold, default_limit = ENVS[env_id]
        limit = args.limit or default_limit
        for who in contenders:
            runs = []
            seeds = args.sb3_seeds if who == "sb3-ppo" and args.sb3_seeds is not None else args.seeds
            for seed in range(seeds):
                r = run_sb3(env_id, seed, limit) if who == "sb3-ppo" else run_ours(env_id, who, seed, limit, extra)
                runs.append(r)
                print(f"  {env_id} {who} seed {seed}: {r}", file=sys.stderr, flush=True)
            raw[f"{env_id}/{who}"] = runs
            solved = sum(r["solved"] for r in runs)
            rows.append(
                (
                    env_id,
                    threshold,
                    who,
                    f"{solved}/{len(runs)}",
                    _median(runs, "steps"),
                    _median(runs, "seconds", ",.1f"),
                )
            )
    print("\nmedian over the seeds run; solved = mean of the last 100 training episodes >= threshold\n")
    print("| env | threshold | algorithm | solved | steps to solve | seconds to solve |\n|---|---|---|---|---|---|")
    for env_id, threshold, who, solved, steps, secs in rows:
        print(f"| {env_id} | {threshold:g} | {who} | {solved} | {steps} | {secs} |")
    if args.json:
        Path(args.json).write_text(json.dumps(raw, indent=2) + "\n")


if __name__ == "__main__":
    main()
