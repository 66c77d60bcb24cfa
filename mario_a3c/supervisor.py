"""Spawning, watching, restarting and stopping the worker and tester processes."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from mario_a3c.config import Config
from mario_a3c.shared import Shared
from mario_a3c.tester import test_worker
from mario_a3c.worker import train_worker


class RunFailed(Exception):
    """A child died more often than ``max_restarts`` allows; the message names it and why."""


def _exit_cause(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class Supervisor:
    def __init__(self, ctx, cfg: Config, sig: dict, shared: Shared, run_dir: Path):
        self.ctx, self.cfg, self.shared = ctx, cfg, shared
        self.specs = {f"worker {rank}": (train_worker, (rank, cfg, sig, shared)) for rank in range(cfg.num_processes)}
        self.specs["tester"] = (test_worker, (cfg, sig, shared, str(run_dir)))
        self.procs: dict = {}
        self.restarts = {name: 0 for name in self.specs}
        self.errors: dict[str, str] = {}

    def _spawn(self, name: str) -> None:
        target, args = self.specs[name]
        proc = self.ctx.Process(target=target, args=args, name=f"mario-a3c {name}", daemon=True)
        proc.start()
        self.procs[name] = proc

    def start_all(self) -> None:
        for name in self.specs:
            self._spawn(name)

    def record_error(self, name: str, message: str, _traceback: str) -> None:
        self.errors[name] = message

    def check(self) -> None:
        """Restart children that died while the run goes on; raise RunFailed past the budget."""
        for name, proc in list(self.procs.items()):
            if proc.exitcode is None or self.shared.stop.is_set():
                continue
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
