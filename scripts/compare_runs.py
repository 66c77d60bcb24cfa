"""Two or more runs side by side at equal frames: did a change cost learning?

    python scripts/compare_runs.py docs/runs/mario_1_1 runs/mario_1_1-2
    python scripts/compare_runs.py RUN_A RUN_B --at 500000 1000000 2000000 --png compare.png

For each run and each frame mark it prints the mean over the last 100 training episodes
(return, and max x_pos for Mario, true game score for Atari), how many of those reached
the flag, the best greedy evaluation so far and the wall time the run took to get there,
all read from the runs' ``progress.csv``. ``--png`` overlays the running means against
frames (equal frames: learning per frame) and against wall time (equal time: what a user
waits), a star at each run's first greedy clear.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mario_a3c.plots import _running_mean
from mario_a3c.progress import read_progress


def at_frames(data: dict, mark: float) -> dict | None:
    """The run's state once it had trained ``mark`` frames (None if it never got there)."""
    train, ev = data["train"], data["eval"]
    upto = train["frames"] <= mark
    if not len(train["frames"]) or train["frames"].max() < mark:
        return None
    last = {k: v[upto][-100:] for k, v in train.items()}
    evals = ev["return"][ev["frames"] <= mark]
    return {
        "minutes": last["seconds"][-1] / 60,
        "return": last["return"].mean(),
        "x_pos": last["x_pos"].mean(),
        "game_score": last["game_score"].mean(),
        "flags": int(last["flag"].sum()),
        "best_eval": evals.max() if len(evals) else float("nan"),
    }


def env_id(run: Path) -> str:
    """The run's env id, from its summary.json (or config.json while it is still running)."""
    for name in ("summary.json", "config.json"):
        if (run / name).exists():
            data = json.loads((run / name).read_text())
            return data.get("env_id") or data.get("config", {}).get("env_id", "")
    return ""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs", nargs="+", type=Path, help="run directories (each with progress.csv)")
    p.add_argument("--at", nargs="+", type=float, default=None, help="frame marks (default: 5 up to the shortest run)")
    p.add_argument("--png", type=Path, default=None, help="also write an overlay of the running means")
    args = p.parse_args()
    for run in args.runs:
        if not (run / "progress.csv").exists():
            print(f"error: {run}/progress.csv not found (give run directories)", file=sys.stderr)
            raise SystemExit(2)
    data = {run: read_progress(run) for run in args.runs}
    shortest = min(d["train"]["frames"].max() for d in data.values())
    marks = args.at or [round(shortest * k / 5, -3) for k in range(1, 6)]
    mario = any(d["train"]["x_pos"].max() > 0 for d in data.values())
    atari = all(env_id(run).startswith("ALE/") for run in args.runs)
    extra = "mean x_pos | flags | " if mario else ("mean game score | " if atari else "")
    print(f"| frames | run | minutes | mean return | {extra}best greedy eval |")
    print("|---" * (5 + extra.count("|")) + "|")
    for mark in marks:
        for run, d in data.items():
            s = at_frames(d, mark)
            if s is None:
                continue
            cols = f"{s['x_pos']:,.0f} | {s['flags']} | " if mario else (f"{s['game_score']:.1f} | " if atari else "")
            print(f"| {mark:,.0f} | {run} | {s['minutes']:.1f} | {s['return']:.1f} | {cols}{s['best_eval']:.1f} |")
    if args.png:
        import matplotlib.pyplot as plt

        key = "x_pos" if mario else ("game_score" if atari else "return")
        fig, axes = plt.subplots(1, 2, figsize=(13, 4.5), sharey=True)
        for (axis, scale, label), ax in zip(
            [("frames", 1e6, "frames (M)"), ("seconds", 60, "wall time (min)")], axes, strict=True
        ):
            for run, d in data.items():
                (line,) = ax.plot(d["train"][axis] / scale, _running_mean(d["train"][key]), label=str(run))
                clears = d["eval"]["flag"] > 0
                if clears.any():
                    first = d["eval"][axis][clears][0] / scale
                    ax.plot([first], [d["eval"][key][clears][0]], "*", ms=14, color=line.get_color())
            ax.set_xlabel(label)
            ax.grid(alpha=0.3)
        star = " (star: 1st greedy clear)" if mario else ""
        axes[0].set_ylabel(f"{key}, mean of the last 100 episodes{star}")
        axes[0].legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(args.png, dpi=90)
        print(f"wrote {args.png}")


if __name__ == "__main__":
    main()
