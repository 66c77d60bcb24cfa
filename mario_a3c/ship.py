"""Shipping a model: a run's checkpoint as its env's ``trained_models/`` file, float16, no optimizer.

The run's directories are reset to the defaults in the stored config, so the shipped
file names no path of the machine it was trained on. test.py loads it as it is.
"""

from __future__ import annotations

from pathlib import Path

from mario_a3c.checkpoint import load_checkpoint, save_checkpoint
from mario_a3c.config import Config, config_from_dict
from mario_a3c.rundir import shipped_model


def ship(checkpoint: Path, out: Path | None = None) -> Path:
    """Write ``checkpoint``'s weights to ``out`` (default ``rundir.shipped_model``); return it."""
    meta, model, _ = load_checkpoint(Path(checkpoint))
    cfg = config_from_dict(meta["config"])
    meta["config"].update(save_dir=Config.save_dir, log_dir=Config.log_dir, resume=None, from_stage=None)
    meta["config"].update(max_seconds=None, stop_when_solved=False)
    out = Path(out or shipped_model(cfg.slug))
    out.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(out, model, meta, None, half=True)
    return out
