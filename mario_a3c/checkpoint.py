"""The one checkpoint format: tensors via ``torch.save``, metadata as a JSON string.

    {"format": "mario-a3c/1", "meta": "<json>", "model": state_dict, "optimizer": {...} | None}

Writing is atomic (``atomic.atomic_open``: temporary file, fsync, rename), so a kill at
any moment leaves the previous checkpoint intact. Loading uses
``torch.load(weights_only=True)``: a checkpoint can hold tensors and plain data only,
never code to run.
"""

from __future__ import annotations

import json
import pickle
import zipfile
from pathlib import Path

import torch

from mario_a3c.atomic import atomic_open
from mario_a3c.errors import UserError

FORMAT = "mario-a3c/1"


def save_checkpoint(
    path: Path, model_state: dict, meta: dict, optimizer_state: dict | None = None, half: bool = False
) -> None:
    """Atomically write a checkpoint. ``half`` stores float weights as float16 (for shipping)."""
    path = Path(path)
    if half:
        model_state = {k: v.half() if v.is_floating_point() else v for k, v in model_state.items()}
    payload = {"format": FORMAT, "meta": json.dumps(meta), "model": model_state, "optimizer": optimizer_state}
    with atomic_open(path) as f:
        torch.save(payload, f)


def load_checkpoint(path: Path) -> tuple[dict, dict, dict | None]:
    """Return (meta, model_state as float32, optimizer_state) or raise UserError saying why not."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"no checkpoint at {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile, ValueError, OSError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UserError(f"{path} is not a readable checkpoint (truncated or corrupt?): {first[:160]}") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise UserError(f"{path} is not a mario-a3c checkpoint (format {FORMAT} expected)")
    meta = json.loads(payload["meta"])
    model = {k: v.float() if v.is_floating_point() else v for k, v in payload["model"].items()}
    return meta, model, payload.get("optimizer")


def make_meta(cfg_dict: dict, sig: dict, **stats) -> dict:
    """The checkpoint's JSON metadata: the run's config, the env's spaces, and run statistics."""
    return {"config": cfg_dict, "spaces": sig, **stats}
