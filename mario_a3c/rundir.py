"""Run directories: a new one per run (never overwriting), a lock per run, and lookup.

runs/mario_1_1/            the first run of 1-1 (runs/mario_1_1-2/ the next, ...)
    config.json  last.pt  best.pt  summary.json  curve.png  videos/  tb/  .lock
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

from mario_a3c.atomic import atomic_open
from mario_a3c.errors import UserError

SHIPPED_DIR = Path(__file__).resolve().parent.parent / "trained_models"


def _is_run_of(name: str, slug: str) -> bool:
    return name == slug or (name.startswith(f"{slug}-") and name[len(slug) + 1 :].isdigit())


def _runs_of(save_dir: Path, slug: str) -> list[Path]:
    """This env's run directories under ``save_dir``, oldest first."""
    if not save_dir.is_dir():
        return []
    found = [p for p in save_dir.iterdir() if p.is_dir() and _is_run_of(p.name, slug)]
    return sorted(found, key=lambda p: p.stat().st_mtime)


def ensure_writable_dir(directory: Path, what: str) -> None:
    """Create ``directory`` if needed; UserError naming ``what`` (a flag) if it cannot be written."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"{what}: cannot create {directory} ({err.strerror})") from None
    if not os.access(directory, os.W_OK):
        raise UserError(f"{what}: directory {directory} is not writable")


def new_run_dir(save_dir: str, slug: str) -> Path:
    """Create ``save_dir/slug`` or, if taken, the first free ``slug-N``."""
    base = Path(save_dir)
    ensure_writable_dir(base, f"--save-dir {base}")
    n = 1
    while True:
        run = base / (slug if n == 1 else f"{slug}-{n}")
        try:
            run.mkdir()
            return run
        except FileExistsError:
            n += 1


def resume_target(save_dir: str, slug: str, resume: str) -> Path:
    """The checkpoint --resume means: a path (dir or .pt) or, if empty, the newest run's last.pt."""
    if resume:
        path = Path(resume)
        ckpt = path / "last.pt" if path.is_dir() else path
    else:
        runs = [r for r in _runs_of(Path(save_dir), slug) if (r / "last.pt").is_file()]
        if not runs:
            raise UserError(
                f"--resume: no run of {slug} with a checkpoint under {save_dir}/; start one without --resume"
            )
        ckpt = runs[-1] / "last.pt"
    if not ckpt.is_file():
        raise UserError(f"--resume: no checkpoint at {ckpt}")
    return ckpt


def tensorboard_dir(run_dir: Path, log_dir: str | None, save_dir: str) -> Path:
    """Where a run's TensorBoard events go: its own ``tb/``, or ``<log_dir>/<run>/tb`` when
    --log-dir names another place (runs stored before log_dir could be None say "inside the
    run" with log_dir equal to save_dir; a resumed one keeps writing where it did)."""
    if not log_dir or Path(log_dir) == Path(save_dir):
        return run_dir / "tb"
    return Path(log_dir) / run_dir.name / "tb"


SIGNAL_STOPS = ("SIGINT", "SIGTERM")  # a summary's stopped_by for a run that a signal stopped (it can go on)


def interrupted(run: Path) -> bool:
    """A run that can go on with --resume: it has a last.pt, and either no final summary
    (killed) or one saying a signal stopped it (Ctrl-C, SIGTERM, the end of a session)."""
    if not (run / "last.pt").is_file():
        return False
    summary = run / "summary.json"
    return not summary.exists() or json.loads(summary.read_text())["stopped_by"] in SIGNAL_STOPS


def shipped_model(slug: str) -> Path:
    """The shipped model of a run slug: ``trained_models/mario_1_1.pt``, an Atari game by its
    name (``ALE-Pong-v5`` -> ``trained_models/pong.pt``)."""
    if slug.startswith("ALE-"):
        slug = slug.split("-")[1].lower()
    return SHIPPED_DIR / f"{slug}.pt"


def find_checkpoint(save_dir: str, slug: str) -> tuple[Path | None, str]:
    """test.py's default: the newest run's best.pt (else its last.pt), else the shipped model."""
    for run in reversed(_runs_of(Path(save_dir), slug)):
        if (run / "best.pt").is_file():
            return run / "best.pt", "your newest training run"
        if (run / "last.pt").is_file():
            return run / "last.pt", "your newest training run (its final weights: no evaluation was kept)"
    shipped = shipped_model(slug)
    if shipped.is_file():
        return shipped, "the model shipped with the repository"
    return None, ""


class RunLock:
    """An exclusive flock on ``run/.lock`` held for the life of the trainer."""

    def __init__(self, run: Path):
        self.path = run / ".lock"
        self.fd: int | None = None

    def acquire(self) -> None:
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.fd)
            self.fd = None
            raise UserError(
                f"{self.path.parent} is in use by another training run; wait for it or resume a different run"
            ) from None
        os.ftruncate(self.fd, 0)
        os.write(self.fd, str(os.getpid()).encode())

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def write_json(path: Path, data: dict) -> None:
    """Atomic JSON write (temporary file, fsync, rename: ``atomic.atomic_open``)."""
    with atomic_open(path, "w") as f:
        f.write(json.dumps(data, indent=2) + "\n")
