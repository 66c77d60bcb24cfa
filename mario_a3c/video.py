"""MP4 writing through imageio's ffmpeg, streamed to disk and renamed into place at the end."""

from __future__ import annotations

import os
from collections import deque
from pathlib import Path

import imageio.v2 as imageio
import numpy as np

from mario_a3c.atomic import atomic_open


def video_fps(env, frame_skip: int) -> int:
    """Frames per second of a video of agent steps: the env's own rate over its frame skip."""
    return max(1, int(env.metadata.get("render_fps") or 60) // frame_skip)


class Tee:
    """Sends each rendered frame to an mp4 writer and, with --render, to a window (either may be None)."""

    def __init__(self, writer, viewer):
        self.writer, self.viewer = writer, viewer

    def append(self, frame: np.ndarray) -> None:
        if self.writer is not None:
            self.writer.append(frame)
        if self.viewer is not None:
            self.viewer(frame)


class Mp4Writer:
    """Append RGB frames; ``close(keep=True)`` renames the temporary file to ``path``.

    Frames stream to a temporary file as they come, so a long episode never sits in
    memory, and an interrupted recording never leaves a half-written ``path``.
    """

    def __init__(self, path: Path, fps: int = 15):
        self.path = Path(path)
        self.tmp = self.path.with_name(f".{self.path.stem}.{os.getpid()}.tmp.mp4")
        self._writer = imageio.get_writer(
            self.tmp, fps=fps, codec="libx264", quality=7, macro_block_size=2, ffmpeg_log_level="error"
        )
        self.frames = 0

    def append(self, frame: np.ndarray) -> None:
        self._writer.append_data(frame)
        self.frames += 1

    def close(self, keep: bool = True) -> Path | None:
        self._writer.close()
        if keep and self.frames > 0:
            os.replace(self.tmp, self.path)
            return self.path
        self.tmp.unlink(missing_ok=True)
        return None


def count_frames(path: Path) -> int:
    """Decode an mp4 and count its frames (used by tests and by test.py's report)."""
    reader = imageio.get_reader(path)
    try:
        return sum(1 for _ in reader)
    finally:
        reader.close()


def clip_gif(mp4: Path, gif: Path, seconds: float = 6.0, step: int = 2, scale: int = 2) -> Path:
    """The last ``seconds`` of ``mp4`` as a looping GIF (every ``step``-th frame, each side
    divided by ``scale``): a clear's run to the flag, small enough for a README."""
    reader = imageio.get_reader(mp4)
    try:
        fps = float(reader.get_meta_data().get("fps") or 15)
        # only the tail is kept, small: a time-out episode's video is thousands of frames
        kept = deque((frame[::scale, ::scale].copy() for frame in reader), maxlen=max(1, int(seconds * fps)))
    finally:
        reader.close()
    if not kept:
        raise ValueError(f"{mp4} has no frames")
    tail = list(kept)[::step]
    with atomic_open(Path(gif)) as f:
        imageio.mimsave(f, tail, format="GIF", duration=1000.0 * step / fps, loop=0)
    return Path(gif)
