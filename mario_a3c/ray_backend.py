"""--backend ray: the worker loops and the tester as Ray actors, supervised like processes.

Only the transport differs from the multiprocessing backend (``ray_server``: a parameter
server instead of shared memory). ``Child`` runs one unchanged worker loop or the tester
in an actor; ``RaySupervisor`` gives the trainer the interface of ``supervisor.Supervisor``
(start, watch, restart, stop); ``ray_session`` connects to Ray for the run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from mario_a3c.config import Config, config_from_dict
from mario_a3c.errors import RunFailed, UserError
from mario_a3c.messages import ChildError, Message
from mario_a3c.ray_server import ParameterServer, RemoteShared
from mario_a3c.start import Start
from mario_a3c.tester import test_worker
from mario_a3c.worker import train_worker


class Child:
    """A Ray actor that runs one worker loop or the tester, unchanged."""

    def __init__(self, server, cfg: dict, sig: dict, run_dir: str):
        self.server, self.cfg, self.sig, self.run_dir = server, config_from_dict(cfg), sig, run_dir

    def ping(self) -> bool:
        """Answers once the actor is up (again)."""
        return True

    def work(self, rank: int) -> None:
        train_worker(rank, self.cfg, self.sig, RemoteShared(self.server, self.sig, self.cfg.model_kwargs()))

    def test(self) -> None:
        test_worker(self.cfg, self.sig, RemoteShared(self.server, self.sig, self.cfg.model_kwargs()), self.run_dir)


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
    # Workers import the installed project (pip install -e .), on every node of a cluster.
    env = {"env_vars": {"OMP_NUM_THREADS": "1"}}
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

    def __init__(self, cfg: Config, sig: dict, start: Start, run_dir: Path, best: float):
        self.cfg = cfg
        here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
        cfg_dict = dataclasses.asdict(cfg)
        self.server = (
            ray.remote(ParameterServer)
            .options(num_cpus=0, scheduling_strategy=here)
            .remote(cfg_dict, sig, start.model, start.optimizer, start.frames, best)
        )
        self.shared = RemoteShared(self.server, sig, cfg.model_kwargs())
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

    @property
    def state_lost(self) -> bool:
        """The parameter server died: there are no weights left to save."""
        return self.shared.lost

    def messages(self, timeout: float) -> Iterator[Message]:
        if self.shared.lost:
            return
        msgs, stopped = self.shared.get(self.server.drain.remote())
        self.shared.stop.local |= stopped  # a worker reached the frame budget
        if not msgs:
            time.sleep(timeout)
        yield from msgs

    def record_error(self, error: ChildError) -> None:
        self.errors[error.process] = error.message

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
