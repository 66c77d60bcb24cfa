"""The trainer: builds the shared model and optimizer, spawns and supervises the processes.

The main process only supervises: it drains the children's messages into the Monitor,
restarts a dead child (``max_restarts`` times each), writes periodic checkpoints, and on
the end of the run (frame budget, Ctrl-C, SIGTERM, or a child that cannot be kept alive)
stops everyone, saves ``last.pt`` and writes ``summary.json`` and ``curve.png``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import signal
import time
from pathlib import Path

import torch
import torch.multiprocessing as mp

from mario_a3c.checkpoint import make_meta, save_checkpoint
from mario_a3c.config import Config, solved_threshold
from mario_a3c.errors import RunFailed, UserError
from mario_a3c.messages import ChildError, Evaluation, Staleness, Update
from mario_a3c.monitor import Monitor
from mario_a3c.plots import plot_run
from mario_a3c.rundir import RunLock, new_run_dir, tensorboard_dir, write_json
from mario_a3c.shared import FrameCounter, Shared, StopFlag
from mario_a3c.shared_adam import SharedAdam
from mario_a3c.start import Start, check_network, resolve_start
from mario_a3c.supervisor import Supervisor
from models import build_model
from wrappers import is_mario, make_env, space_signature


def train(cfg: Config, run_dir: Path | None = None) -> int:
    """Run A3C to the end; return the process exit code (0 ok, 1 a child could not be kept alive).

    ``run_dir``: an empty directory made for this run (the campaign names it before it
    starts); by default a new one under ``--save-dir``, or the resumed run's own.
    """
    torch.set_num_threads(1)
    start: Start = resolve_start(cfg)
    cfg = start.cfg
    env = make_env(cfg.env_id, **cfg.env_kwargs())
    sig, threshold = space_signature(env), solved_threshold(cfg, env)
    env.close()
    if start.sig is not None and start.sig != sig:
        raise UserError(f"{start.source} was trained on {start.sig} but {cfg.env_id} gives {sig}")
    check_network(start, build_model(sig, **cfg.model_kwargs()))
    with _backend_session(cfg):
        run_dir = start.run_dir or run_dir or new_run_dir(cfg.save_dir, cfg.slug)
        lock = RunLock(run_dir)
        lock.acquire()
        try:
            return _run(cfg, sig, threshold, start, run_dir)
        finally:
            lock.release()


def _backend_session(cfg: Config):
    """Ray needs a connection for the whole run; shared memory needs nothing."""
    if cfg.backend != "ray":
        return contextlib.nullcontext()
    from mario_a3c.ray_backend import ray_session

    return ray_session(cfg)


def _run(cfg: Config, sig: dict, threshold: float | None, start: Start, run_dir: Path) -> int:
    write_json(run_dir / "config.json", dataclasses.asdict(cfg))
    best = start.monitor.get("best_eval_return")
    best = -math.inf if best is None else best
    if cfg.backend == "ray":
        from mario_a3c.ray_backend import RaySupervisor

        supervisor = RaySupervisor(cfg, sig, start, run_dir, best)
        shared = supervisor.shared
    else:
        shared = _shared_memory(cfg, sig, start, best)
        supervisor = Supervisor(mp.get_context("spawn"), cfg, sig, shared, run_dir)
    tb_dir = tensorboard_dir(run_dir, cfg.log_dir, cfg.save_dir)
    lr = (cfg.lr, cfg.anneal_frames)
    monitor = Monitor(run_dir, tb_dir, cfg.env_id, start.frames, start.seconds, threshold, start.monitor, lr=lr)
    print(f"run directory: {run_dir}  (TensorBoard: tensorboard --logdir {tb_dir})", flush=True)
    for line in cfg.retuned:
        print(f"updates retuned {line}", flush=True)
    stopped_by = ["frame budget"]

    def on_signal(signum, _frame):
        stopped_by[0] = signal.Signals(signum).name
        shared.stop.set()

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    code, last_save, began = 0, time.time(), time.time()
    try:
        supervisor.start_all()
        while not shared.stop.is_set():
            _drain(monitor, supervisor, cfg, timeout=0.5)
            monitor.flush()
            monitor.progress_line()
            supervisor.check()
            if cfg.stop_when_solved and monitor.solved_at is not None:
                stopped_by[0] = "solved"
                break
            if cfg.max_seconds is not None and time.time() - began >= cfg.max_seconds:
                stopped_by[0] = "time budget"
                break
            if time.time() - last_save >= cfg.checkpoint_interval:
                _save(run_dir / "last.pt", cfg, sig, shared, monitor)
                last_save = time.time()
    except RunFailed as failure:
        stopped_by[0], code = str(failure), 1
    finally:
        shared.stop.set()
        supervisor.shutdown(timeout=5.0)
        _drain(monitor, supervisor, cfg, timeout=0.0)
        monitor.flush()
        monitor.progress_line(force=True)
        if supervisor.state_lost:
            print(f"{run_dir / 'last.pt'} keeps the last periodic checkpoint: the global weights are gone")
        else:
            _save(run_dir / "last.pt", cfg, sig, shared, monitor)
        summary = monitor.summary(dataclasses.asdict(cfg), stopped_by[0])
        write_json(run_dir / "summary.json", summary)
        monitor.close()
        _plot(run_dir, threshold, atari=cfg.env_id.startswith("ALE/"))
        supervisor.close()
        for s, handler in old.items():
            signal.signal(s, handler)
    print(
        f"stopped by {stopped_by[0]}: {summary['frames']:,} frames in {summary['wall_seconds']:.0f} s, "
        f"solved={summary['solved']}; wrote {run_dir}/summary.json",
        flush=True,
    )
    if code:
        print(f"error: {stopped_by[0]}", file=__import__("sys").stderr)
    return code


def _shared_memory(cfg: Config, sig: dict, start: Start, best: float) -> Shared:
    """The global model, shared Adam, frame counter and flags in shared memory (--backend mp)."""
    model = build_model(sig, **cfg.model_kwargs())
    if start.model is not None:
        model.load_state_dict(start.model)
    model.share_memory()
    optimizer = SharedAdam(model.parameters(), lr=cfg.lr, slots=cfg.workers, anneal_frames=cfg.anneal_frames)
    optimizer.share_memory()
    if start.optimizer is not None:
        optimizer.load_state_dict(start.optimizer)
    ctx = mp.get_context("spawn")
    return Shared(
        model,
        optimizer,
        FrameCounter(ctx, cfg.workers, start.frames),
        ctx.RawValue("d", best),
        StopFlag(ctx),
        trainer_pid=os.getpid(),
    )


def _drain(monitor: Monitor, supervisor: Supervisor, cfg: Config, timeout: float) -> None:
    """Hand every queued child message to the monitor (waiting up to ``timeout`` for one)."""
    mario = is_mario(cfg.env_id)
    for msg in supervisor.messages(timeout):
        match msg:
            case Update():
                monitor.update(msg)
            case Evaluation():
                monitor.evaluation(msg.frames, msg.episode, msg.video, mario)
            case Staleness():
                monitor.staleness(msg.lags, msg.dropped)
            case ChildError():
                supervisor.record_error(msg)


def _plot(run_dir: Path, threshold: float | None, atari: bool) -> None:
    """curve.png; a damaged progress.csv costs the picture, never the finished run's exit."""
    try:
        plot_run(run_dir, threshold, atari=atari)
    except Exception as err:  # noqa: BLE001 (whatever the file holds, the run has ended and is saved)
        print(f"curve.png not drawn: {run_dir / 'progress.csv'} could not be read ({type(err).__name__}: {err})")


def _save(path: Path, cfg: Config, sig: dict, shared: Shared, monitor: Monitor) -> None:
    state = {k: v.detach().clone() for k, v in shared.model.state_dict().items()}
    meta = make_meta(
        dataclasses.asdict(cfg),
        sig,
        frames=shared.frames.value,
        wall_seconds=round(monitor.seconds, 1),
        monitor=monitor.state(),
    )
    save_checkpoint(path, state, meta, shared.optimizer.state_dict())
