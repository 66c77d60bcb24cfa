"""Reading a run's progress.csv (one row per training episode and per greedy evaluation,
written by the monitor): for the curves, the benchmarks and the campaign."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np


def read_progress(run_dir: Path) -> dict[str, dict[str, np.ndarray]]:
    keys = ("frames", "seconds", "return", "raw_return", "x_pos", "flag", "game_score")
    rows: dict[str, list] = {"train": [], "eval": [], "archive": []}  # archive: --explore-starts episodes
    with open(run_dir / "progress.csv") as f:
        for r in csv.DictReader(f):
            try:  # a row cut short by a kill, or edited by hand, is skipped
                rows[r["kind"]].append([float(r.get(k) or r["raw_return"]) for k in keys])
            except (KeyError, TypeError, ValueError):
                continue
    return {kind: {k: np.array([row[i] for row in data]) for i, k in enumerate(keys)} for kind, data in rows.items()}


def first_greedy_clear(run_dir: Path) -> dict | None:
    """The first greedy evaluation that reached the flag: frames, seconds, agent steps, x_pos."""
    with open(Path(run_dir) / "progress.csv", newline="") as f:
        for row in csv.DictReader(f):
            try:
                if row["kind"] == "eval" and float(row["flag"]) > 0:
                    keys = ("frames", "length", "x_pos")
                    return {"seconds": float(row["seconds"]), **{k: int(float(row[k])) for k in keys}}
            except (KeyError, TypeError, ValueError):
                continue
    return None
