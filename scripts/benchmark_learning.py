"""Time to the first greedy clear of a Mario stage, over seeds: the learning benchmark.

    python scripts/benchmark_learning.py --seeds 3 --limit 2700 --json docs/runs/learning/defaults.json
    python scripts/benchmark_learning.py --seeds 3 --json b.json -- --num-envs 4 --lr 2e-4   # an A/B arm

Each seed is a real ``train.py --stop-when-solved --seed S --max-seconds LIMIT`` run, one
after the other (two runs at once on a small machine would halve each other's speed).
Per seed: cleared or not, frames and wall seconds at the first greedy clear (the tester's),
mean training frames/s, and the agent steps of that clearing greedy episode; then the
medians, where a seed that did not clear counts as slower than every seed that did.

With ``--json``, each seed's result is written as soon as it ends and a seed already in
the file (same train.py flags) is not run again; a seed whose run was interrupted (Ctrl-C,
the end of a session, a kill) continues that run with ``--resume`` for what is left of
``--limit`` (the wall time is the training time the run recorded): an interrupted
benchmark continues where it stopped. The run directories stay under ``--out`` (clearing checkpoints included).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from mario_a3c.checkpoint import load_checkpoint
from mario_a3c.progress import first_greedy_clear
from mario_a3c.rundir import SIGNAL_STOPS, interrupted, write_json

ROOT = Path(__file__).resolve().parent.parent
ARGS_FILE = "benchmark_args.json"  # the train.py flags a seed's runs were started with


def run_seed(args, seed: int, extra: list[str]) -> dict:
    out = Path(args.out) / f"seed{seed}"
    cmd = [sys.executable, str(ROOT / "train.py"), "--world", str(args.world), "--stage", str(args.stage)]
    cmd += ["--seed", str(seed), "--stop-when-solved", "--save-dir", str(out), "--log-dir", str(out), *extra]
    spent, unfinished = 0.0, _unfinished(out, extra)
    if unfinished is not None:  # a seed interrupted (Ctrl-C, end of a session, a kill) continues its own run
        spent = load_checkpoint(unfinished / "last.pt")[0].get("wall_seconds", 0.0)
        cmd += ["--resume", str(unfinished)]
    cmd += ["--max-seconds", str(max(1.0, args.limit - spent))]
    print(f"seed {seed}: {' '.join(cmd[1:])}", file=sys.stderr, flush=True)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / ARGS_FILE, {"train_args": extra})
    started = time.time()
    code = _run_to_the_end(cmd)
    if code != 0:
        raise SystemExit(f"benchmark_learning: seed {seed}: train.py exited {code}")
    run_dir = unfinished or max(out.glob("*/summary.json"), key=lambda p: p.stat().st_mtime).parent
    s = json.loads((run_dir / "summary.json").read_text())
    if s["stopped_by"] in SIGNAL_STOPS:  # not a result yet: the next call continues this run
        raise SystemExit(
            f"benchmark_learning: seed {seed} was interrupted ({s['stopped_by']}); run again to continue it"
        )
    return {
        "seed": seed,
        "cleared": bool(s["solved"]),
        "clear_frames": s["solved_at_frames"] if s["solved"] else None,
        "clear_seconds": s["solved_at_seconds"] if s["solved"] else None,
        "clear_agent_steps": (first_greedy_clear(run_dir) or {}).get("length") if s["solved"] else None,
        "frames": s["frames"],
        "wall_seconds": s["wall_seconds"],
        "train_fps": round(s["frames"] / s["wall_seconds"], 1),
        "best_x_pos": s["best_x_pos"],
        "run_dir": str(run_dir),
        "elapsed": round(time.time() - started, 1),
    }


def _run_to_the_end(cmd: list[str]) -> int:
    """Run train.py; Ctrl-C or SIGTERM to the benchmark is passed on to it as Ctrl-C, and
    waited for, so the run saves its checkpoint and summary (and continues next time)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, env=dict(os.environ, OMP_NUM_THREADS="1"))

    def forward(signum, _frame):
        proc.send_signal(signal.SIGINT)

    old = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        return proc.wait()
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


def _unfinished(out: Path, extra: list[str]) -> Path | None:
    """This seed's interrupted run (a signal, a kill), if it was started with these flags."""
    args = out / ARGS_FILE
    if not args.is_file() or json.loads(args.read_text())["train_args"] != extra:
        return None
    return next((run.parent for run in sorted(out.glob("*/last.pt")) if interrupted(run.parent)), None)


def median_clear(results: list[dict], key: str) -> float:
    """The median of ``key`` over seeds; a seed that did not clear counts as infinitely slow."""
    return statistics.median(r[key] if r["cleared"] else math.inf for r in results)


def fmt(value, spec: str = ",.0f") -> str:
    return "not cleared" if value is None or value == math.inf else format(value, spec)


def table(results: list[dict]) -> str:
    lines = [
        "| seed | cleared | frames to clear | minutes to clear | training frames/s | clearing episode agent steps |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        minutes = r["clear_seconds"] / 60 if r["cleared"] else None
        lines.append(
            f"| {r['seed']} | {'yes' if r['cleared'] else 'no'} | {fmt(r['clear_frames'])} | {fmt(minutes, '.1f')}"
            f" | {r['train_fps']:,.0f} | {fmt(r['clear_agent_steps'])} |"
        )
    frames, seconds = median_clear(results, "clear_frames"), median_clear(results, "clear_seconds")
    fps = statistics.median(r["train_fps"] for r in results)
    lines.append(
        f"| median | {sum(r['cleared'] for r in results)}/{len(results)} | {fmt(frames)}"
        f" | {fmt(seconds / 60, '.1f')} | {fps:,.0f} | |"
    )
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, default=3, help="how many seeds (0, 1, ... unless --first-seed)")
    p.add_argument("--first-seed", type=int, default=0)
    p.add_argument("--world", type=int, default=1)
    p.add_argument("--stage", type=int, default=1)
    p.add_argument("--limit", type=float, default=2700.0, help="wall seconds each seed may train")
    p.add_argument("--out", default=None, help="where the seeds' runs go (default runs/benchmark_learning/<json name>)")
    p.add_argument("--json", default=None, help="write (and continue) the results here")
    p.add_argument("train_args", nargs=argparse.REMAINDER, help="after --: extra train.py flags")
    args = p.parse_args()
    extra = [a for a in args.train_args if a != "--"]
    args.out = args.out or f"runs/benchmark_learning/{Path(args.json).stem if args.json else 'unnamed'}"
    if args.seeds < 1 or args.limit <= 0:
        p.error("--seeds and --limit must be positive")
    done: dict[int, dict] = {}
    if args.json and Path(args.json).exists():
        old = json.loads(Path(args.json).read_text())
        same = (old.get(k) for k in ("train_args", "world", "stage", "limit"))
        if tuple(same) == (extra, args.world, args.stage, args.limit):
            done = {r["seed"]: r for r in old["seeds"]}
    results = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        results.append(done[seed] if seed in done else run_seed(args, seed, extra))
        if args.json:
            report = {"world": args.world, "stage": args.stage, "limit": args.limit, "train_args": extra}
            report.update(seeds=results, median_clear_frames=median_clear(results, "clear_frames"))
            report["median_clear_seconds"] = median_clear(results, "clear_seconds")
            write_json(Path(args.json), {k: (None if v == math.inf else v) for k, v in report.items()})
    print(table(results))


if __name__ == "__main__":
    main()
