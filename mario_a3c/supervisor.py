"""Spawning, watching, restarting and stopping the worker and tester processes."""

from __future__ import annotations

import dataclasses
import queue as queue_mod
import signal
import time
from collections.abc import Iterator
from pathlib import Path

from mario_a3c.config import Config
from mario_a3c.errors import RunFailed
from mario_a3c.messages import ChildError, Message
from mario_a3c.shared import Shared
from mario_a3c.tester import test_worker
from mario_a3c.worker import train_worker


def _exit_cause(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class Supervisor:
    state_lost = False  # the global weights live in this process's shared memory: never lost

    def __init__(self, ctx, cfg: Config, sig: dict, shared: Shared, run_dir: Path):
        self.ctx, self.cfg, self.shared = ctx, cfg, shared
        # Each child gets its own queue: a child killed mid-message can only break its own.
        self.specs = {
            f"worker {rank}": (train_worker, lambda s, r=rank: (r, cfg, sig, s)) for rank in range(cfg.workers)
        }
        self.specs["tester"] = (test_worker, lambda s: (cfg, sig, s, str(run_dir)))
        self.procs: dict = {}
        self.queues: dict = {}
        self.pending: list[Message] = []  # messages read from a dead child's queue before replacing it
        self.restarts = {name: 0 for name in self.specs}
        self.errors: dict[str, str] = {}

    def _spawn(self, name: str) -> None:
        target, make_args = self.specs[name]
        self.queues[name] = self.ctx.Queue()
        shared = dataclasses.replace(self.shared, queue=self.queues[name])
        proc = self.ctx.Process(target=target, args=make_args(shared), name=f"mario-a3c {name}", daemon=True)
        proc.start()
        self.procs[name] = proc

    def messages(self, timeout: float) -> Iterator[Message]:
        """Every message waiting in the children's queues; waits up to ``timeout`` for the first."""
        deadline = time.monotonic() + timeout
        while True:
            got = bool(self.pending)
            while self.pending:
                yield self.pending.pop(0)
            for name in list(self.queues):
                for msg in self._take(name):
                    got = True
                    yield msg
            if got or time.monotonic() >= deadline:
                return
            time.sleep(0.05)

    def _take(self, name: str) -> list[Message]:
        out = []
        while True:
            try:
                out.append(self.queues[name].get_nowait())
            except (queue_mod.Empty, EOFError, OSError):
                return out

    def start_all(self) -> None:
        for name in self.specs:
            self._spawn(name)

    def record_error(self, error: ChildError) -> None:
        self.errors[error.process] = error.message

    def check(self) -> None:
        """Restart children that died while the run goes on; raise RunFailed past the budget."""
        for name, proc in list(self.procs.items()):
            if proc.exitcode is None or self.shared.stop.is_set():
                continue
            time.sleep(0.1)  # let the dead child's last message (its error) arrive
            self.pending += self._take(name)
            for msg in [m for m in self.pending if isinstance(m, ChildError) and m.process == name]:
                self.record_error(msg)
                self.pending.remove(msg)
            cause = self.errors.pop(name, None) or _exit_cause(proc.exitcode)
            if self.restarts[name] >= self.cfg.max_restarts:
                raise RunFailed(f"{name} died ({cause}) after {self.restarts[name]} restarts; run stopped")
            self.restarts[name] += 1
            print(f"\n{name} died ({cause}); restarting it ({self.restarts[name]}/{self.cfg.max_restarts})", flush=True)
            self._spawn(name)

    def shutdown(self, timeout: float) -> None:
        """Join every child within ``timeout`` seconds, then terminate and finally kill stragglers."""
        self.shared.stop.set()
        deadline = time.time() + timeout
        for proc in self.procs.values():
            proc.join(max(0.0, deadline - time.time()))
        for proc in self.procs.values():
            if proc.is_alive():
                proc.terminate()
        for proc in self.procs.values():
            proc.join(1.0)
            if proc.is_alive():
                proc.kill()
                proc.join(1.0)

    def close(self) -> None:
        """Nothing outlives ``shutdown`` here (Ray's supervisor has a server to release)."""
