"""Linear schedules over the run's frame count: ``--lr-anneal`` and ``--entropy-anneal-frames``.

Both follow the frames the run has trained on (not this session's), so a ``--resume``
continues them exactly where the run stopped.
"""

from __future__ import annotations


def linear_anneal(value: float, end_frames: int | None, frames: int) -> float:
    """``value`` after ``frames`` frames: falling linearly to 0 at ``end_frames`` and 0
    after it (None or 0: ``value``, constant)."""
    if not end_frames:
        return value
    return value * max(0.0, 1.0 - frames / end_frames)
