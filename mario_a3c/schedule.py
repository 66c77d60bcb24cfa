"""Schedules over the run's frame count: ``--lr-anneal``, ``--entropy-anneal-frames`` and
``--late-frames``.

All follow the frames the run has trained on (not this session's), so a ``--resume``
continues them exactly where the run stopped.
"""

from __future__ import annotations

from mario_a3c.config import Config


def linear_anneal(value: float, end_frames: int | None, frames: int) -> float:
    """``value`` after ``frames`` frames: falling linearly to 0 at ``end_frames`` and 0
    after it (None or 0: ``value``, constant)."""
    if not end_frames:
        return value
    return value * max(0.0, 1.0 - frames / end_frames)


def late(cfg: Config, frames: int) -> bool:
    """Whether ``--late-frames`` has come: longer rollouts and no entropy bonus from there on."""
    return bool(cfg.late_frames) and frames >= cfg.late_frames


def rollout_steps(cfg: Config, frames: int) -> int:
    """The rollout length at ``frames``."""
    return cfg.late_num_local_steps if late(cfg, frames) else cfg.num_local_steps


def entropy_weight(cfg: Config, frames: int) -> float:
    """The entropy bonus's weight at ``frames``: 0 once late, else the annealed one."""
    return 0.0 if late(cfg, frames) else linear_anneal(cfg.entropy_coef, cfg.entropy_anneal_frames, frames)
