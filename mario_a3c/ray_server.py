"""The transport of --backend ray: a parameter server, and ``shared.SharedRun`` over it.

A ``ParameterServer`` actor holds the global model and applies each gradient with the same
``SharedAdam`` as the multiprocessing backend; it hands out the weights tagged with a
version number. ``RemoteShared`` is ``shared.SharedRun`` over that server, so the worker
and tester loops (``worker.train_worker``, ``tester.test_worker``) run unchanged. Per
update a worker pulls the weights once (before its rollout) and pushes one gradient with
its frame count (after it), in one explicit ``push``. A gradient computed from weights more than
``--max-staleness`` versions old is dropped and counted; the lag of every gradient is
reported to the trainer (``ray/staleness_*`` in TensorBoard).
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import ray
import torch

from mario_a3c.config import config_from_dict
from mario_a3c.errors import RunFailed
from mario_a3c.messages import Message, Staleness
from mario_a3c.shared_adam import SharedAdam
from models import build_model


class ParameterServer:
    """The global model and its Adam (a Ray actor: one call at a time, no locks needed)."""

    def __init__(self, cfg: dict, sig: dict, model: dict | None, optimizer: dict | None, frames: int, best: float):
        torch.set_num_threads(1)
        c = config_from_dict(cfg)
        self.model = build_model(sig, **c.model_kwargs())
        if model is not None:
            self.model.load_state_dict(model)
        self.params = list(self.model.parameters())
        # the same Adam, in one process
        self.optimizer = SharedAdam(self.params, lr=c.lr, anneal_frames=c.anneal_frames)
        if optimizer is not None:
            self.optimizer.load_state_dict(optimizer)
        self.max_staleness = c.max_staleness
        self.version, self.frames, self.best_eval, self.stopped = 0, frames, best, False
        self.messages: list[Message] = []
        self.lags: list[int] = []  # staleness of the gradients received since the last drain
        self.dropped = 0  # of those, how many were too stale to apply

    def pull(self) -> tuple[int, list[np.ndarray], bool]:
        """(version, weights, stopped): the weights a worker's next rollout will use."""
        return self.version, [p.detach().numpy() for p in self.params], self.stopped

    def push(self, version: int, grads: list[np.ndarray | None] | None, frames: int) -> tuple[int, bool]:
        """Apply one gradient computed from weights ``version``; count the rollout's frames.

        ``grads`` None is an update the worker skipped (non-finite): frames only.
        Returns (total frames, stopped).
        """
        self.frames += frames
        if grads is not None:
            lag = self.version - version
            self.lags.append(lag)
            if lag > self.max_staleness:
                self.dropped += 1
            else:
                self.optimizer.step([None if g is None else _tensor(g) for g in grads], frames=self.frames)
                self.version += 1
        return self.frames, self.stopped

    def post(self, message: tuple) -> None:
        self.messages.append(message)

    def drain(self) -> tuple[list[Message], bool]:
        """(messages since the last drain, then a ``Staleness`` for the
        gradients since then; whether the run was stopped)."""
        out, self.messages = self.messages, []
        if self.lags:
            out.append(Staleness(self.lags, self.dropped))
            self.lags, self.dropped = [], 0
        return out, self.stopped

    def frames_and_stop(self) -> tuple[int, bool]:
        return self.frames, self.stopped

    def stop(self) -> None:
        self.stopped = True

    def get_best_eval(self) -> float:
        return self.best_eval

    def set_best_eval(self, value: float) -> None:
        self.best_eval = value

    def optimizer_state(self) -> dict:
        return self.optimizer.state_dict()


def _tensor(array: np.ndarray) -> torch.Tensor:
    """A tensor over a numpy array without a copy. Arrays that come out of Ray's object store
    are read-only; they are only ever read here, so torch's warning about that is silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return torch.from_numpy(array)


class RemoteShared:
    """``shared.SharedRun`` over a parameter server, for code in a Ray actor or the driver."""

    def __init__(self, server, sig: dict, model_kwargs: dict):
        self.server = server
        self._mirror = build_model(sig, **model_kwargs)
        self._version = 0
        self.lost = False  # the server died: the weights since the last checkpoint are gone
        self.stop = _Stop(self)
        self.frames = _Frames(self)
        self.optimizer = _Optimizer(self)
        self.queue = _Queue(server)
        self.best_eval = _BestEval(self)
        self.trainer_pid = 0  # Ray owns these processes; they are not the trainer's children

    def push(self, rank: int, grads: list[torch.Tensor] | None, frames: int) -> int:
        """One call: the gradient (if any) with the weights' version it came from, and the frames."""
        arrays = None if grads is None else [None if g is None else g.detach().cpu().numpy() for g in grads]
        total, stopped = self.get(self.server.push.remote(self._version, arrays, frames))
        self.stop.local |= stopped
        return total

    @property
    def model(self) -> torch.nn.Module:
        """The server's current weights (one pull), in a local copy of the model."""
        self._version, weights, stopped = self.get(self.server.pull.remote())
        self.stop.local |= stopped
        with torch.no_grad():
            for p, w in zip(self._mirror.parameters(), weights, strict=True):
                p.copy_(_tensor(w))
        return self._mirror

    def get(self, ref):
        """``ray.get`` of a server call; RunFailed (and ``lost``) once the server is gone."""
        try:
            return ray.get(ref)
        except ray.exceptions.RayActorError as err:
            self.lost = True
            raise RunFailed(
                f"the parameter server died ({str(err).splitlines()[0][:160]}); the updates since the "
                "last periodic checkpoint are lost: continue the run from last.pt with --resume"
            ) from None


class _Stop:
    def __init__(self, shared: RemoteShared):
        self.shared, self.local = shared, False

    def set(self) -> None:
        self.local = True
        self.shared.server.stop.remote()

    def is_set(self) -> bool:
        return self.local

    def wait(self, timeout: float) -> bool:
        """Poll the server's stop flag every 0.5 s for up to ``timeout`` seconds (the tester's sleep)."""
        deadline = time.monotonic() + timeout
        while not self.local and time.monotonic() < deadline:
            self.local |= self.shared.get(self.shared.server.frames_and_stop.remote())[1]
            time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
        return self.local


class _Frames:
    def __init__(self, shared: RemoteShared):
        self.shared = shared

    @property
    def value(self) -> int:
        return self.shared.get(self.shared.server.frames_and_stop.remote())[0]


class _Optimizer:
    def __init__(self, shared: RemoteShared):
        self.shared = shared

    def state_dict(self) -> dict:
        return self.shared.get(self.shared.server.optimizer_state.remote())


class _Queue:
    def __init__(self, server):
        self.server = server

    def put(self, message: tuple) -> None:
        self.server.post.remote(message)


class _BestEval:
    def __init__(self, shared: RemoteShared):
        self.shared = shared

    @property
    def value(self) -> float:
        return self.shared.get(self.shared.server.get_best_eval.remote())

    @value.setter
    def value(self, v: float) -> None:
        self.shared.server.set_best_eval.remote(v)
