"""The trainer's view of the run: TensorBoard, progress.csv, the live console line, summary.json.

Only the trainer's main process writes here; children send messages on the queue.
Metric names follow cleanrl: ``charts/*``, ``losses/*``, plus ``eval/*`` for the tester.
"""

from __future__ import annotations

import csv
import sys
import time
from collections import deque
from pathlib import Path

import numpy as np
from tensorboardX import SummaryWriter

from mario_a3c.config import ATARI_GAMES
from mario_a3c.messages import Update
from mario_a3c.schedule import linear_anneal
from wrappers import is_mario

CSV_FIELDS = ["kind", "frames", "seconds", "return", "raw_return", "length", "x_pos", "flag", "game_score"]


class Monitor:
    def __init__(
        self,
        run_dir: Path,
        tb_dir: Path,
        env_id: str,
        start_frames: int,
        start_seconds: float,
        solved_threshold: float | None,
        state: dict | None = None,
        lr: tuple[float, int | None] | None = None,
    ):
        self.run_dir, self.env_id = run_dir, env_id
        self.mario = is_mario(env_id)
        self.atari = env_id.startswith("ALE/")
        self.tb = SummaryWriter(str(tb_dir))
        new = not (run_dir / "progress.csv").exists()
        self._csv_file = open(run_dir / "progress.csv", "a", newline="")
        self._csv = csv.writer(self._csv_file)
        if new:
            self._csv.writerow(CSV_FIELDS)
        self.t0 = time.time() - start_seconds  # wall clock of the run, across resumes
        self.frames = start_frames
        self.threshold = solved_threshold
        self.lr = lr  # (lr, frames where --lr-anneal reaches 0 or None): charts/learning_rate
        s = state or {}
        self.games: deque = deque(s.get("games", []), maxlen=ATARI_GAMES)  # Atari: the last whole games' true scores
        self.episodes = int(s.get("episodes", 0))
        self.best_x = int(s.get("best_x_pos", 0))
        self.best_eval = s.get("best_eval_return")
        self.solved_at = s.get("solved_at")  # {"frames":..., "seconds":...} or None
        self.first_flag = s.get("first_train_flag")
        # --explore-starts: episodes begun from an archived state, kept out of the statistics above
        self.archive_episodes = int(s.get("archive_episodes", 0))
        self.archive_best_x = int(s.get("archive_best_x_pos", 0))
        self.archive_flags = int(s.get("archive_flags", 0))
        self.skipped = int(s.get("skipped_updates", 0))
        self.recent = deque(maxlen=100)  # (return, flag) of the last 100 training episodes
        self.last_eval: dict | None = None
        self.lags: deque = deque(maxlen=100_000)  # --backend ray: staleness of recent gradients
        self.dropped = int(s.get("dropped_gradients", 0))
        self._losses: list = []
        self._fps_mark = (time.time(), start_frames)
        self.fps = 0.0
        self._last_line = 0.0
        self.timeline: list[tuple[float, int]] = []  # (run seconds, frames) every 5 s of this session

    @property
    def mean_return(self) -> float:
        """Mean return of the last 100 training episodes (the solved criterion's number)."""
        return float(np.mean([r for r, _ in self.recent])) if self.recent else float("nan")

    @property
    def game_mean(self) -> float:
        """Atari: mean true score of the last ATARI_GAMES whole games (its solved criterion's number)."""
        return float(np.mean(self.games)) if self.games else float("nan")

    def _solved(self) -> bool:
        """Whether the solved criterion holds now: Atari over its last ATARI_GAMES whole games,
        other envs over their last 100 training episodes."""
        window = self.games if self.atari else self.recent
        full = len(window) == window.maxlen
        mean = self.game_mean if self.atari else self.mean_return
        return self.threshold is not None and full and mean >= self.threshold

    @property
    def seconds(self) -> float:
        return time.time() - self.t0

    def update(self, u: Update) -> None:
        self.frames += u.frames
        self.skipped += int(u.skipped)
        self._losses.append((u.losses, u.grad_norm))
        for ep in u.episodes:
            self.episode(ep)

    def episode(self, ep: dict) -> None:
        if ep.get("restored"):
            self._archive_episode(ep)
            return
        self.episodes += 1
        self.best_x = max(self.best_x, int(ep["x_pos"]))
        self.recent.append((ep["r"], ep["flag"]))
        f = self.frames
        self.tb.add_scalar("charts/episodic_return", ep["r"], f)
        self.tb.add_scalar("charts/episodic_raw_return", ep["raw_r"], f)
        self.tb.add_scalar("charts/episodic_length", ep["l"], f)
        self.tb.add_scalar("charts/x_pos", ep["x_pos"], f)
        self.tb.add_scalar("charts/flag_rate", float(np.mean([fl for _, fl in self.recent])), f)
        self.tb.add_scalar("charts/return_mean100", self.mean_return, f)
        if self.atari and np.isfinite(ep.get("game", np.nan)):
            self.games.append(ep["game"])
            self.tb.add_scalar("charts/game_score", ep["game"], f)
        self._row("train", ep)
        if ep["flag"] and self.first_flag is None:
            self.first_flag = {"frames": f, "seconds": round(self.seconds, 1)}
        if not self.mario and self.solved_at is None and self._solved():
            self.solved_at = {"frames": f, "seconds": round(self.seconds, 1)}

    def _archive_episode(self, ep: dict) -> None:
        """An episode begun from an archived state (--explore-starts): its own row kind and
        counters, so that x reached, flags and returns still describe whole-stage episodes."""
        self.archive_episodes += 1
        self.archive_best_x = max(self.archive_best_x, int(ep["x_pos"]))
        self.archive_flags += int(ep["flag"])
        self.tb.add_scalar("explore/x_pos", ep["x_pos"], self.frames)
        self.tb.add_scalar("explore/flags", self.archive_flags, self.frames)
        self._row("archive", ep)

    def evaluation(self, frames: int, ep: dict, video: str | None, mario: bool) -> None:
        self.last_eval = dict(ep, frames=frames, at=time.time(), video=video)
        if self.best_eval is None or ep["r"] > self.best_eval:
            self.best_eval = ep["r"]
        self.best_x = max(self.best_x, int(ep["x_pos"]))
        self.tb.add_scalar("eval/return", ep["r"], frames)
        self.tb.add_scalar("eval/raw_return", ep["raw_r"], frames)
        self.tb.add_scalar("eval/x_pos", ep["x_pos"], frames)
        self.tb.add_scalar("eval/flag", ep["flag"], frames)
        self._row("eval", ep, frames)
        if mario and ep["flag"] and self.solved_at is None:
            self.solved_at = {"frames": frames, "seconds": round(self.seconds, 1)}

    def staleness(self, lags: list[int], dropped: int) -> None:
        """--backend ray: how many versions behind the server each gradient was; drops past the bound."""
        self.lags.extend(lags)
        self.dropped += dropped
        self.tb.add_histogram("ray/staleness", np.asarray(lags), self.frames)
        self.tb.add_scalar("ray/staleness_mean", float(np.mean(lags)), self.frames)
        self.tb.add_scalar("ray/staleness_max", max(lags), self.frames)
        self.tb.add_scalar("ray/dropped_gradients", self.dropped, self.frames)

    def _row(self, kind: str, ep: dict, frames: int | None = None) -> None:
        self._csv.writerow(
            [
                kind,
                frames if frames is not None else self.frames,
                round(self.seconds, 1),
                round(ep["r"], 3),
                round(ep["raw_r"], 3),
                int(ep["l"]),
                int(ep["x_pos"]),
                int(ep["flag"]),
                round(ep.get("game", ep["raw_r"]), 3),
            ]
        )

    def flush(self) -> None:
        """Write averaged losses and frames/s; called about once a second."""
        now = time.time()
        t, f = self._fps_mark
        if now - t >= 5.0:  # frames/s over the last 5 s: steady enough to read
            self.fps = (self.frames - f) / (now - t)
            self._fps_mark = (now, self.frames)
            self.timeline.append((round(self.seconds, 1), self.frames))
            self.tb.add_scalar("charts/fps", self.fps, self.frames)
            if self.lr is not None:
                self.tb.add_scalar("charts/learning_rate", linear_anneal(*self.lr, self.frames), self.frames)
        if self._losses:
            for key in ("policy_loss", "value_loss", "entropy", "entropy_coef", "clip_fraction", "rollout_steps"):
                mean = float(np.mean([losses[key] for losses, _ in self._losses]))
                self.tb.add_scalar(f"losses/{key}", mean, self.frames)
            self.tb.add_scalar("losses/grad_norm", float(np.mean([n for _, n in self._losses])), self.frames)
            self.tb.add_scalar("losses/skipped_updates", self.skipped, self.frames)
            self._losses.clear()
        self._csv_file.flush()

    def progress_line(self, force: bool = False) -> None:
        """A live line on a terminal (every second); a plain line every 30 s otherwise."""
        tty = sys.stderr.isatty()
        now = time.time()
        if not force and now - self._last_line < (1.0 if tty else 30.0):
            return
        self._last_line = now
        ev = "none yet"
        if self.last_eval is not None:
            e = self.last_eval
            where = f"x {int(e['x_pos'])} " if self.mario else ""
            ev = f"{where}r {e['r']:.1f}{' FLAG' if e['flag'] else ''} ({now - e['at']:.0f}s ago)"
        if self.mario:
            flags = sum(fl for _, fl in self.recent)
            score = f"best x {self.best_x} | flags {flags:.0f}/{len(self.recent)}"
            if self.archive_episodes:
                a = f"{self.archive_episodes:,}: best x {self.archive_best_x}, flags {self.archive_flags}"
                score += f" | archive starts {a}"
        else:
            goal = f" (solved at {self.threshold:g})" if self.threshold is not None else ""
            if self.atari:
                mean = f"game score mean {self.game_mean:.1f} ({len(self.games)} games)"
            else:
                mean = f"return mean100 {self.mean_return:.1f}"
            score = f"{mean}{goal}{' SOLVED' if self.solved_at else ''}"
        line = (
            f"{_clock(self.seconds)} | frames {self.frames:,} | {self.fps:,.0f} f/s | episodes {self.episodes:,} "
            f"| {score} | eval: {ev}"
        )
        sys.stderr.write(("\r\033[K" + line) if tty else (line + "\n"))
        sys.stderr.flush()

    def state(self) -> dict:
        """What a checkpoint keeps so that --resume continues these statistics."""
        return {
            "episodes": self.episodes,
            "best_x_pos": self.best_x,
            "best_eval_return": self.best_eval,
            "solved_at": self.solved_at,
            "first_train_flag": self.first_flag,
            "skipped_updates": self.skipped,
            "dropped_gradients": self.dropped,
            "games": list(self.games),
            "archive_episodes": self.archive_episodes,
            "archive_best_x_pos": self.archive_best_x,
            "archive_flags": self.archive_flags,
        }

    def summary(self, config: dict, stopped_by: str) -> dict:
        s = self.solved_at or {}
        return {
            "env_id": self.env_id,
            "frames": self.frames,
            "wall_seconds": round(self.seconds, 1),
            "episodes": self.episodes,
            "best_eval_return": self.best_eval,
            "best_x_pos": self.best_x,
            "solved": self.solved_at is not None,
            "solved_at_frames": s.get("frames"),
            "solved_at_seconds": s.get("seconds"),
            "first_train_flag": self.first_flag,
            "archive_episodes": self.archive_episodes,
            "archive_best_x_pos": self.archive_best_x,
            "archive_flags": self.archive_flags,
            "skipped_updates": self.skipped,
            "stopped_by": stopped_by,
            "dropped_gradients": self.dropped,
            "staleness": _staleness(self.lags),
            "last_100_mean_return": self.mean_return if self.recent else None,
            f"last_{ATARI_GAMES}_game_mean": self.game_mean if self.games else None,
            "fps_timeline": self.timeline,
            "config": config,
        }

    def close(self) -> None:
        self.tb.close()
        self._csv_file.close()
        if sys.stderr.isatty():
            sys.stderr.write("\n")


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600:d}:{s // 60 % 60:02d}:{s % 60:02d}"


def _staleness(lags: deque) -> dict | None:
    """Mean, max and counts by lag of the gradients a Ray run received (None for --backend mp)."""
    if not lags:
        return None
    values, counts = np.unique(np.asarray(lags), return_counts=True)
    return {
        "mean": round(float(np.mean(lags)), 3),
        "max": int(values[-1]),
        "counts": {int(v): int(c) for v, c in zip(values, counts, strict=True)},
    }
