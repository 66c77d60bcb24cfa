"""What the trainer shares with its child processes, and the setup every child runs first."""

from __future__ import annotations

import ctypes
import os
import signal
from dataclasses import dataclass
from typing import Any

import torch

from mario_a3c.shared_adam import SharedAdam


@dataclass
class Shared:
    """Objects created once by the trainer and handed to every process."""

    model: torch.nn.Module  # global weights, in shared memory
    optimizer: SharedAdam  # moments and step count, in shared memory
    frames: Any  # mp.Value('q'): emulator frames trained on so far
    best_eval: Any  # mp.Value('d'): best greedy evaluation return so far
    stop: Any  # mp.Event: set to end every loop
    queue: Any  # mp.Queue: children -> trainer messages (updates, episodes, evals, errors)
    trainer_pid: int = 0  # the supervising process; children exit if it is gone


def child_setup(seed: int, name: str, trainer_pid: int) -> None:
    """One torch thread, seeded, named (``a3c-worker-0`` in ps/top), Ctrl-C left to the trainer."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _prctl()
    _prctl_name(name)
    if os.getppid() != trainer_pid:  # the trainer died before we could ask to die with it
        os._exit(1)
    os.environ["OMP_NUM_THREADS"] = "1"
    torch.set_num_threads(1)
    torch.manual_seed(seed)


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
