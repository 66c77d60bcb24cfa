"""Training speed against the emulator's own: raw frames/s vs A3C training frames/s.

    python scripts/benchmark.py                     # N = cores, 60 s each after 20 s warm-up
    python scripts/benchmark.py --seconds 30 --json bench.json
    python scripts/benchmark.py --ray                # also training with --backend ray
    python scripts/benchmark.py --repeat 3           # medians of three rounds
    python scripts/benchmark.py --device cuda        # training runs with --device cuda (a GPU machine)
    python scripts/benchmark.py --env ALE/Pong-v5     # an Atari game (its preset) instead of Mario
    python scripts/benchmark.py --train-args "--num-envs 1"   # extra train.py flags: an A/B in one command

(a) raw: N processes step the factory's env (Mario's or the game's, same wrappers, built with the
    settings --train-args give it: action set, sticky actions) with random actions;
(b) train: a real ``train.py`` run with N workers (tester included) for the same time;
(c) ratio b / a; the same for one process. Frames are emulator frames.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch.multiprocessing as mp

from mario_a3c.cli import build_parser, config_from_namespace
from mario_a3c.errors import ArgumentParser, UserError

ROOT = Path(__file__).resolve().parent.parent


def _raw_worker(env_id: str, env_kwargs: dict, warmup: float, seconds: float, seed: int, out) -> None:
    import torch

    from mario_a3c.shared import keep_freed_memory
    from wrappers import make_env

    torch.set_num_threads(1)
    keep_freed_memory()  # the same process set-up as a training worker's
    env = make_env(env_id, **env_kwargs)
    env.action_space.seed(seed)
    env.reset(seed=seed)
    frames, t_start, started = 0, time.time() + warmup, False
    while True:
        _, _, terminated, truncated, info = env.step(env.action_space.sample())
        now = time.time()
        if not started and now >= t_start:
            started, frames, t0 = True, 0, now
        frames += info["frames"]
        if terminated or truncated:
            env.reset()
        if started and now - t0 >= seconds:
            out.put(frames / (now - t0))
            return


def raw_fps(env_id: str, env_kwargs: dict, n: int, warmup: float, seconds: float) -> float:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_raw_worker, args=(env_id, env_kwargs, warmup, seconds, i, out)) for i in range(n)]
    for p in procs:
        p.start()
    total = sum(out.get() for _ in procs)
    for p in procs:
        p.join()
    return total


def train_fps(
    env_args: list[str],
    n: int,
    warmup: float,
    seconds: float,
    backend: str = "mp",
    device: str = "cpu",
    extra: tuple[str, ...] = (),
) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            sys.executable,
            str(ROOT / "train.py"),
            *env_args,
            "--num-processes",
            str(n),
            "--max-seconds",
            str(warmup + seconds + 5),
            "--save-dir",
            tmp,
            "--log-dir",
            tmp,
            "--max-frames",
            str(10**9),
            "--backend",
            backend,
            "--device",
            device,
            *extra,
        ]
        subprocess.run(cmd, check=True, capture_output=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
        summary = json.loads(next(Path(tmp).glob("*/summary.json")).read_text())
    timeline = summary["fps_timeline"]  # (seconds, frames) every ~5 s
    begin = next(p for p in timeline if p[0] >= warmup)
    end = timeline[-1]
    return (end[1] - begin[1]) / (end[0] - begin[0])


def measure_round(args, env_id: str, n: int) -> dict:
    """One measurement of every figure, each training run right after its raw run."""
    r = {"raw_fps": raw_fps(env_id, args.env_kwargs, n, args.warmup, args.seconds)}
    r["train_fps"] = train_fps(args.env_args, n, args.warmup, args.seconds, device=args.device, extra=args.extra)
    r["ratio"] = r["train_fps"] / r["raw_fps"]
    if n != 1:
        r["raw_fps_1"] = raw_fps(env_id, args.env_kwargs, 1, args.warmup, args.seconds)
        r["train_fps_1"] = train_fps(args.env_args, 1, args.warmup, args.seconds, device=args.device, extra=args.extra)
    else:
        r["raw_fps_1"], r["train_fps_1"] = r["raw_fps"], r["train_fps"]
    r["ratio_1"] = r["train_fps_1"] / r["raw_fps_1"]
    if args.ray:
        r["train_fps_ray"] = train_fps(args.env_args, n, args.warmup, args.seconds, backend="ray", extra=args.extra)
        r["ratio_ray"] = r["train_fps_ray"] / r["raw_fps"]
    return r


def main() -> None:
    p = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    p.add_argument("--seconds", type=float, default=60.0, help="measuring time of each figure")
    p.add_argument("--warmup", type=float, default=20.0)
    p.add_argument("--repeat", type=int, default=1, help="rounds of every figure; the table shows medians")
    p.add_argument("--world", type=int, default=1)
    p.add_argument("--stage", type=int, default=1)
    p.add_argument("--ray", action="store_true", help="also train with --backend ray (N processes)")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="train.py --device for the training runs")
    p.add_argument("--env", default=None, help="a Gymnasium id (ALE/Pong-v5) instead of Mario's --world/--stage")
    p.add_argument("--train-args", default="", help="extra train.py flags for the training runs, in one string")
    p.add_argument("--json", default=None)
    args = p.parse_args()
    args.env_args = ["--env", args.env] if args.env else ["--world", str(args.world), "--stage", str(args.stage)]
    args.extra = tuple(args.train_args.split())
    if {"-h", "--help"} & set(args.extra):  # argparse would print train.py's help and exit 0: no benchmark
        p.error("--train-args: --help is train.py's own (python train.py --help)")
    if args.seconds < 10:  # training frames are sampled every 5 s: fewer than two samples measure nothing
        p.error(f"--seconds {args.seconds:g}: at least 10")
    train_parser = build_parser()
    train_parser.prog = "train.py"  # a flag in --train-args it does not know: "(see train.py --help)"
    try:  # the env the training runs build (--train-args may name the game, its action set, sticky actions)
        cfg = config_from_namespace(train_parser.parse_args([*args.env_args, *args.extra]))
    except UserError as err:
        p.error(f"--train-args: {err}")
    env_id, args.env_kwargs = cfg.env_id, cfg.env_kwargs()
    n = args.processes
    rounds = []
    for i in range(args.repeat):
        rounds.append(measure_round(args, env_id, n))
        print(f"  round {i + 1}: " + ", ".join(f"{k} {v:,.2f}" for k, v in rounds[-1].items()), file=sys.stderr)
    res = {"env_id": env_id, "n_processes": n, "seconds": args.seconds, "device": args.device}
    res["train_args"] = list(args.extra)
    res["env_kwargs"] = args.env_kwargs
    res.update({key: statistics.median(r[key] for r in rounds) for key in rounds[0]})
    if args.repeat > 1:
        res["rounds"] = rounds
    print(f"median of {args.repeat} round(s); ratio = training / raw frames/s of the same round")
    print("| processes | raw frames/s | training frames/s | ratio |\n|---|---|---|---|")
    print(f"| {n} | {res['raw_fps']:,.0f} | {res['train_fps']:,.0f} | {res['ratio']:.2f} |")
    if n != 1:
        print(f"| 1 | {res['raw_fps_1']:,.0f} | {res['train_fps_1']:,.0f} | {res['ratio_1']:.2f} |")
    if args.ray:
        print(f"| {n}, --backend ray | {res['raw_fps']:,.0f} | {res['train_fps_ray']:,.0f} | {res['ratio_ray']:.2f} |")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2) + "\n")


if __name__ == "__main__":
    main()
