"""--backend ray: the same worker loop and tester as Ray actors, around a parameter server.

Only the transport differs from the multiprocessing backend. There, the global model and
the shared Adam live in shared memory; here a ``ParameterServer`` actor holds them, hands
out the weights tagged with a version number and applies each gradient with the same
``SharedAdam``. ``RemoteShared`` gives the worker and tester loops (``worker.train_worker``,
``tester.test_worker``) the interface of ``shared.Shared`` over that server, so they run
unchanged; ``RaySupervisor`` gives the trainer the interface of ``supervisor.Supervisor``.

Per update a worker pulls the weights once (before its rollout) and pushes one gradient
with its frame count (after it): one round trip each way. A gradient computed from
weights more than ``--max-staleness`` versions old is dropped and counted; the lag of
every gradient is logged (``ray/staleness_*`` in TensorBoard).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import ray
import torch
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from mario_a3c.config import Config, config_from_dict
from mario_a3c.errors import UserError
from mario_a3c.shared_adam import SharedAdam
from mario_a3c.supervisor import RunFailed
from models import build_model

ROOT = Path(__file__).resolve().parent.parent


class ParameterServer:
    """The global model and its Adam (a Ray actor: one call at a time, no locks needed)."""

    def __init__(self, cfg: dict, sig: dict, model: dict | None, optimizer: dict | None, frames: int, best: float):
        torch.set_num_threads(1)
        c = config_from_dict(cfg)
        self.model = build_model(sig, c.lstm_size)
        if model is not None:
            self.model.load_state_dict(model)
        self.params = list(self.model.parameters())
        self.optimizer = SharedAdam(self.params, lr=c.lr)  # the same Adam, in one process
        if optimizer is not None:
            self.optimizer.load_state_dict(optimizer)
        self.max_staleness = c.max_staleness
        self.version, self.frames, self.best_eval, self.stopped = 0, frames, best, False
        self.messages: list[tuple] = []
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
        if grads is not None:
            lag = self.version - version
            self.lags.append(lag)
            if lag > self.max_staleness:
                self.dropped += 1
            else:
                self.optimizer.step([None if g is None else _tensor(g) for g in grads])
                self.version += 1
        self.frames += frames
        return self.frames, self.stopped

    def post(self, message: tuple) -> None:
        self.messages.append(message)

    def drain(self) -> tuple[list[tuple], bool]:
        """(messages since the last drain, then ``("staleness", lags, dropped)`` for the
        gradients since then; whether the run was stopped)."""
        out, self.messages = self.messages, []
        if self.lags:
            out.append(("staleness", self.lags, self.dropped))
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
    """``shared.Shared``'s interface over a parameter server, for code in a Ray actor or the driver."""

    def __init__(self, server, sig: dict, lstm_size: int):
        self.server = server
        self._mirror = build_model(sig, lstm_size)
        self._version = 0
        self._grads: list[np.ndarray | None] | None = None
        self.stop = _Stop(server)
        self.frames = _Frames(self)
        self.optimizer = _Optimizer(self)
        self.queue = _Queue(server)
        self.best_eval = _BestEval(server)
        self.trainer_pid = 0  # Ray owns these processes; they are not the trainer's children

    @property
    def model(self) -> torch.nn.Module:
        """The server's current weights (one pull), in a local copy of the model."""
        self._version, weights, stopped = ray.get(self.server.pull.remote())
        self.stop.local |= stopped
        with torch.no_grad():
            for p, w in zip(self._mirror.parameters(), weights, strict=True):
                p.copy_(_tensor(w))
        return self._mirror


class _Stop:
    def __init__(self, server):
        self.server, self.local = server, False

    def set(self) -> None:
        self.local = True
        self.server.stop.remote()

    def is_set(self) -> bool:
        return self.local

    def wait(self, timeout: float) -> bool:
        """Poll the server's stop flag every 0.5 s for up to ``timeout`` seconds (the tester's sleep)."""
        deadline = time.monotonic() + timeout
        while not self.local and time.monotonic() < deadline:
            self.local |= ray.get(self.server.frames_and_stop.remote())[1]
            time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
        return self.local


class _Frames:
    def __init__(self, shared: RemoteShared):
        self.shared = shared

    def add(self, _rank: int, frames: int) -> int:
        """Push the pending gradient (if any) with this rollout's frames; the run's total frames."""
        s = self.shared
        total, stopped = ray.get(s.server.push.remote(s._version, s._grads, frames))
        s._grads = None
        s.stop.local |= stopped
        return total

    @property
    def value(self) -> int:
        return ray.get(self.shared.server.frames_and_stop.remote())[0]


class _Optimizer:
    def __init__(self, shared: RemoteShared):
        self.shared = shared

    def step(self, grads: list[torch.Tensor | None]) -> None:
        """Keep the gradient; ``frames.add`` sends it with the rollout's frames in one call."""
        self.shared._grads = [None if g is None else g.detach().cpu().numpy() for g in grads]

    def state_dict(self) -> dict:
        return ray.get(self.shared.server.optimizer_state.remote())


class _Queue:
    def __init__(self, server):
        self.server = server

    def put(self, message: tuple) -> None:
        self.server.post.remote(message)


class _BestEval:
    def __init__(self, server):
        self.server = server

    @property
    def value(self) -> float:
        return ray.get(self.server.get_best_eval.remote())

    @value.setter
    def value(self, v: float) -> None:
        self.server.set_best_eval.remote(v)


class Child:
    """A Ray actor that runs one worker loop or the tester, unchanged."""

    def __init__(self, server, cfg: dict, sig: dict, run_dir: str):
        self.server, self.cfg, self.sig, self.run_dir = server, config_from_dict(cfg), sig, run_dir

    def ping(self) -> bool:
        """Answers once the actor is up (again)."""
        return True

    def work(self, rank: int) -> None:
        from mario_a3c.worker import train_worker

        train_worker(rank, self.cfg, self.sig, RemoteShared(self.server, self.sig, self.cfg.lstm_size))

    def test(self) -> None:
        from mario_a3c.tester import test_worker

        test_worker(self.cfg, self.sig, RemoteShared(self.server, self.sig, self.cfg.lstm_size), self.run_dir)


@contextlib.contextmanager
def ray_session(cfg: Config) -> Iterator[None]:
    """Connected to Ray for the run: a bad ``--ray-address`` fails here, before anything is
    written; at the end a local instance is stopped (a joined cluster keeps running)."""
    connect(cfg)
    try:
        yield
    finally:
        ray.shutdown()


def connect(cfg: Config) -> None:
    """Join ``--ray-address`` or start a local Ray instance."""
    env = {"env_vars": {"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}}
    if cfg.ray_address is None:
        # Ray runs its workers at nice 15 by default; these are the run's main work, so give
        # them the priority the --backend mp processes have.
        os.environ.setdefault("RAY_worker_niceness", "0")
        cpus = max(os.cpu_count() or 1, cfg.workers)
        ray.init(num_cpus=cpus, include_dashboard=False, logging_level="ERROR", runtime_env=env)
        return
    if cfg.ray_address != "auto":
        host, _, port = cfg.ray_address.rpartition(":")
        try:
            socket.create_connection((host or "127.0.0.1", int(port)), timeout=3).close()
        except (OSError, ValueError) as err:
            raise UserError(f"--ray-address {cfg.ray_address}: no Ray cluster answers there ({err})") from None
    try:
        ray.init(address=cfg.ray_address, logging_level="ERROR", runtime_env=env)
    except ConnectionError as err:
        raise UserError(f"--ray-address {cfg.ray_address}: {str(err).splitlines()[0]}") from None


class RaySupervisor:
    """``supervisor.Supervisor``'s interface for Ray actors: start, watch, restart, stop."""

    def __init__(self, cfg: Config, sig: dict, start, run_dir: Path, model: dict, optimizer: dict, best: float):
        self.cfg = cfg
        here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
        cfg_dict = dataclasses.asdict(cfg)
        self.server = (
            ray.remote(ParameterServer)
            .options(num_cpus=0, scheduling_strategy=here)
            .remote(cfg_dict, sig, model, optimizer, start.frames, best)
        )
        self.shared = RemoteShared(self.server, sig, cfg.lstm_size)
        child = ray.remote(Child)
        # Workers go wherever the cluster has a CPU; the tester stays beside the run directory.
        self.actors = {
            f"worker {r}": child.options(num_cpus=1, max_restarts=cfg.max_restarts).remote(
                self.server, cfg_dict, sig, str(run_dir)
            )
            for r in range(cfg.workers)
        }
        self.actors["tester"] = child.options(
            num_cpus=0, max_restarts=cfg.max_restarts, scheduling_strategy=here
        ).remote(self.server, cfg_dict, sig, str(run_dir))
        self.tasks: dict = {}
        self.restarts = {name: 0 for name in self.actors}
        self.restarting: dict = {}  # name -> ping of an actor Ray is restarting
        self.errors: dict[str, str] = {}

    def _launch(self, name: str) -> None:
        actor = self.actors[name]
        self.tasks[name] = actor.test.remote() if name == "tester" else actor.work.remote(int(name.split()[1]))

    def start_all(self) -> None:
        for name in self.actors:
            self._launch(name)

    def messages(self, timeout: float) -> Iterator[tuple]:
        msgs, stopped = ray.get(self.server.drain.remote())
        self.shared.stop.local |= stopped  # a worker reached the frame budget
        if not msgs:
            time.sleep(timeout)
        yield from msgs

    def record_error(self, name: str, message: str, _traceback: str) -> None:
        self.errors[name] = message

    def check(self) -> None:
        """Relaunch a loop whose actor died (once Ray has restarted it) or raised; RunFailed past the budget."""
        if self.shared.stop.is_set():
            return
        for name, ping in list(self.restarting.items()):
            if not ray.wait([ping], timeout=0)[0]:
                continue
            try:
                ray.get(ping)
            except ray.exceptions.ActorUnavailableError:  # still restarting: ask again
                self.restarting[name] = self.actors[name].ping.remote()
                continue
            except ray.exceptions.RayActorError as err:
                raise RunFailed(f"{name} could not be restarted ({str(err).splitlines()[0][:200]})") from None
            del self.restarting[name]
            self._launch(name)
        for name, ref in list(self.tasks.items()):
            if name in self.restarting or not ray.wait([ref], timeout=0)[0]:
                continue
            try:
                ray.get(ref)
                continue  # the loop saw the stop flag; the trainer sees it on its next drain
            except ray.exceptions.RayActorError as err:
                cause = f"actor died: {type(err).__name__}"
            except ray.exceptions.RayTaskError as err:
                cause = f"{type(err.cause).__name__}: {err.cause}"
            cause = self.errors.pop(name, None) or cause
            if self.shared.stop.is_set():
                return
            if self.restarts[name] >= self.cfg.max_restarts:
                raise RunFailed(f"{name} died ({cause}) after {self.restarts[name]} restarts; run stopped")
            self.restarts[name] += 1
            print(f"\n{name} died ({cause}); restarting it ({self.restarts[name]}/{self.cfg.max_restarts})", flush=True)
            self.restarting[name] = self.actors[name].ping.remote()  # relaunch once it answers

    def shutdown(self, timeout: float) -> None:
        """Stop the loops (they see the server's stop flag), then kill the children."""
        self.shared.stop.set()
        ray.wait(list(self.tasks.values()), num_returns=len(self.tasks), timeout=timeout)
        for actor in self.actors.values():
            ray.kill(actor, no_restart=True)

    def close(self) -> None:
        """After the last checkpoint, the server goes too."""
        ray.kill(self.server, no_restart=True)
