"""Learning curves as PNG from a run's progress.csv (the trainer calls this at the end)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from mario_a3c.config import ATARI_GAMES  # noqa: E402
from mario_a3c.progress import read_progress  # noqa: E402


def _running_mean(values: np.ndarray, window: int = 100) -> np.ndarray:
    if len(values) == 0:
        return values
    c = np.cumsum(np.insert(values, 0, 0.0))
    n = np.minimum(np.arange(1, len(values) + 1), window)
    return (c[1:] - c[np.maximum(0, np.arange(1, len(values) + 1) - window)]) / n


def plot_run(
    run_dir: Path, threshold: float | None = None, out: Path | None = None, atari: bool = False
) -> Path | None:
    """curve.png: return (and x_pos for Mario, the true game score for Atari) against frames
    (top) and wall time (bottom), with the solved threshold as a line when there is one."""
    if not (run_dir / "progress.csv").exists():
        return None
    data = read_progress(run_dir)
    train, ev = data["train"], data["eval"]
    mario = bool(len(train["x_pos"]) and train["x_pos"].max() > 0)
    metrics = [("return", "episode return (trained on)")] + ([("x_pos", "max x_pos")] if mario else [])
    if atari:  # training episodes end at lost lives with clipped rewards: show whole games' scores too
        metrics.append(("game_score", "game score (true, whole games)"))
    fig, axes = plt.subplots(2, len(metrics), figsize=(6 * len(metrics), 7), squeeze=False)
    for col, (key, label) in enumerate(metrics):
        for row, (axis, scale, xlabel) in enumerate(
            [("frames", 1e6, "frames (M)"), ("seconds", 60, "wall time (min)")]
        ):
            ax = axes[row][col]
            if len(train[key]):
                ok = np.isfinite(train[key])
                window = ATARI_GAMES if key == "game_score" else 100  # each panel's solved window
                ax.plot(
                    train[axis][ok] / scale,
                    train[key][ok],
                    ".",
                    ms=2,
                    alpha=0.3,
                    color="tab:blue",
                    label="training episode",
                )
                ax.plot(
                    train[axis][ok] / scale,
                    _running_mean(train[key][ok], window),
                    color="tab:blue",
                    label=f"mean of last {window}",
                )
            if len(ev[key]):
                ax.plot(ev[axis] / scale, ev[key], "o-", ms=3, color="tab:orange", label="greedy evaluation")
                flags = ev["flag"] > 0
                if flags.any():
                    ax.plot(ev[axis][flags] / scale, ev[key][flags], "*", ms=12, color="tab:red", label="flag reached")
            if key == ("game_score" if atari else "return") and threshold is not None:
                ax.axhline(threshold, color="green", ls="--", label=f"solved ({threshold:g})")
            ax.set_xlabel(xlabel)
            ax.set_ylabel(label)
            ax.grid(alpha=0.3)
    axes[0][0].legend(loc="best", fontsize=8)
    fig.suptitle(run_dir.name)
    fig.tight_layout()
    out = out or run_dir / "curve.png"
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out
