"""What the trainer shares with its child processes, and the setup every child runs first."""

from __future__ import annotations

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


def child_setup(seed: int) -> None:
    """One torch thread, seeded, and Ctrl-C left to the trainer (which stops us via ``stop``)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ["OMP_NUM_THREADS"] = "1"
    torch.set_num_threads(1)
    torch.manual_seed(seed)
