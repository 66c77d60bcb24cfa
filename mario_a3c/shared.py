"""What the trainer shares with its child processes, and the setup every child runs first.

``SharedRun`` is the interface the worker and tester loops see; ``Shared`` is its
transport over shared memory on one machine (--backend mp), ``ray_server.RemoteShared``
its transport over a parameter server (--backend ray).
"""

from __future__ import annotations

import ctypes
import os
import signal
import time
from dataclasses import dataclass
from typing import Any, Protocol

import torch

from mario_a3c.shared_adam import SharedAdam


class StopFlag:
    """A stop signal in shared memory, polled.

    Not an ``mp.Event``: its ``set()`` waits for every process blocked in ``wait()`` to
    acknowledge, so a child SIGKILLed while waiting would hang the trainer forever.
    A plain shared byte has no lock for a dead process to hold.
    """

    def __init__(self, ctx):
        self._flag = ctx.RawValue("b", 0)

    def set(self) -> None:
        self._flag.value = 1

    def is_set(self) -> bool:
        return bool(self._flag.value)

    def wait(self, timeout: float) -> bool:
        """Sleep up to ``timeout`` seconds, waking within 0.2 s of ``set()``; return ``is_set()``."""
        deadline = time.monotonic() + timeout
        while not self.is_set() and (left := deadline - time.monotonic()) > 0:
            time.sleep(min(0.2, left))
        return self.is_set()


class FrameCounter:
    """Frames trained on, one shared slot per worker plus the resumed total; no lock.

    Each worker adds only to its own slot, so no process can die holding a lock that
    the others need; the total is the sum.
    """

    def __init__(self, ctx, workers: int, start: int):
        self._slots = ctx.RawArray("q", workers + 1)
        self._slots[workers] = start

    def add(self, worker: int, frames: int) -> int:
        self._slots[worker] += frames
        return self.value

    @property
    def value(self) -> int:
        return int(sum(self._slots))


class SharedRun(Protocol):
    """What a worker or the tester may ask of the run it belongs to."""

    trainer_pid: int  # the supervising process (0: none to watch, Ray)

    @property
    def model(self) -> torch.nn.Module:
        """The global weights (read them with ``copy_weights``)."""
        ...

    @property
    def stop(self) -> StopFlag:
        """``set()``, ``is_set()``, ``wait(seconds)``."""
        ...

    @property
    def frames(self) -> FrameCounter:
        """``value``: the run's emulator frames so far."""
        ...

    @property
    def best_eval(self) -> Any:
        """``value``: the best greedy return so far (the tester reads and writes it)."""
        ...

    @property
    def queue(self) -> Any:
        """``put(message)``: a ``messages`` type to the trainer."""
        ...

    def push(self, rank: int, grads: list[torch.Tensor] | None, frames: int) -> int:
        """Apply one gradient (None: a skipped update) to the global model and count
        ``frames``; returns the run's total frames."""
        ...


@dataclass
class Shared:
    """Objects created once by the trainer and handed to every process (``SharedRun`` over shared memory)."""

    model: torch.nn.Module  # global weights, in shared memory
    optimizer: SharedAdam  # moments and step count, in shared memory
    frames: FrameCounter  # emulator frames trained on so far
    best_eval: Any  # ctx.RawValue('d'): best greedy evaluation return so far (written by the tester only)
    stop: StopFlag  # set to end every loop
    queue: Any = None  # this child's own mp.Queue to the trainer (updates, episodes, evals, errors)
    trainer_pid: int = 0  # the supervising process; children exit if it is gone (0: not our child, Ray)

    def push(self, rank: int, grads: list[torch.Tensor] | None, frames: int) -> int:
        total = self.frames.add(rank, frames)
        if grads is not None:
            self.optimizer.step(grads, slot=rank, frames=total)
        return total


def child_setup(seed: int, name: str, trainer_pid: int) -> None:
    """One torch thread, seeded, named (``a3c-worker-0`` in ps/top), Ctrl-C left to the trainer."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _prctl()
    _prctl_name(name)
    if trainer_pid and os.getppid() != trainer_pid:  # the trainer died before we could ask to die with it
        os._exit(1)
    os.environ["OMP_NUM_THREADS"] = "1"
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    keep_freed_memory()


def keep_freed_memory() -> None:
    """Let glibc's malloc reuse freed blocks instead of returning them to the kernel.

    By default every block over 128 KB (each activation of the learner's batched
    convolution, ~11 MB) is a fresh ``mmap``: thousands of page faults and zeroed pages
    per update, about 8 % of a learner's time. Serving them from the heap and never
    trimming it costs only the peak memory of one update, which a process keeps anyway.
    """
    if libc := _libc():
        libc.mallopt(-3, 32 * 1024 * 1024)  # M_MMAP_THRESHOLD: glibc's maximum
        libc.mallopt(-1, 1 << 30)  # M_TRIM_THRESHOLD


def _libc():
    try:
        return ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        return None  # not Linux: the stop event and daemon flag still end children on a normal exit


def _prctl() -> None:
    """Ask Linux to SIGKILL this process when the trainer dies, so no orphan outlives a kill -9."""
    if libc := _libc():
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _prctl_name(name: str) -> None:
    if libc := _libc():
        libc.prctl(15, ctypes.c_char_p(name.encode()[:15]), 0, 0, 0)  # PR_SET_NAME
