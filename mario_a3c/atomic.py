"""Atomic file writes: a kill at any moment leaves either the old file or the new one.

The data goes to a temporary file in the same directory, is flushed and fsynced, renamed
over the target, and the directory entry is fsynced too. Checkpoints, summary.json,
config.json and every JSON the scripts write go through ``atomic_open``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


@contextmanager
def atomic_open(path: Path, mode: str = "wb") -> Iterator[IO]:
    """``with atomic_open(path, "w") as f: f.write(...)``: ``path`` appears complete or not at all."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
