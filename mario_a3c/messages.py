"""What children send the trainer: one small named type per message, so the sender and the
receiver read the same field names (workers and the tester put them on their queue; under
``--backend ray`` they travel through the parameter server)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Update:
    """A worker's rollout has been trained on."""

    rank: int
    frames: int  # emulator frames of the rollout
    losses: dict  # LossStats of its last pass, as a dict
    grad_norm: float
    skipped: bool  # a non-finite loss or gradient: not applied
    episodes: list[dict] = field(default_factory=list)  # stats of the episodes that ended in it


@dataclass(frozen=True)
class Evaluation:
    """The tester's greedy episode of the global model."""

    frames: int  # training frames when the weights were taken
    episode: dict
    video: str | None  # the kept video, if any
    seconds: float  # time it took


@dataclass(frozen=True)
class ChildError:
    """A child's exception, sent before it dies with it."""

    process: str  # "worker 0", "tester"
    message: str  # "ValueError: ..."
    traceback: str


@dataclass(frozen=True)
class Staleness:
    """--backend ray: how many versions behind the server each gradient was; drops past the bound."""

    lags: list[int]
    dropped: int


Message = Update | Evaluation | ChildError | Staleness
"""Any of them: what a child's queue (or the Ray server's mailbox) carries."""
