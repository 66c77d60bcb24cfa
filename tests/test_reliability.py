"""Faults a long run must survive: signals, kills, dead workers, resume, locks, unsafe files, NaN."""

import json
import os
import signal
import time

import pytest
import torch
import torch.multiprocessing as mp
from conftest import children, gone, run_cli, start_training, tensorboard_scalars, trained_some, wait_for

from mario_a3c.checkpoint import load_checkpoint
from mario_a3c.errors import UserError
from mario_a3c.shared import FrameCounter, Shared, StopFlag
from mario_a3c.shared_adam import SharedAdam
from mario_a3c.worker import clipped_gradients

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_stops_everything_saves_and_exits_within_10_s(tmp_path, sig):
    proc = start_training(tmp_path, "--max-frames", "10000000", "--eval-interval", "3")
    run_dir = tmp_path / "mario_1_1"
    wait_for(lambda: trained_some(run_dir), what="a first training episode")
    kids = children(proc.pid)
    assert {"a3c-worker-0", "a3c-worker-1", "a3c-tester"} <= set(kids)
    sent = time.time()
    proc.send_signal(sig)
    proc.wait(timeout=30)
    assert time.time() - sent < 10
    assert proc.returncode == 0
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["stopped_by"] == sig.name and summary["frames"] > 0
    meta, _, _ = load_checkpoint(run_dir / "last.pt")
    assert meta["frames"] == summary["frames"]
    wait_for(lambda: all(gone(p) for p in kids.values()), timeout=5, what="children to exit")


def test_sigkill_leaves_last_checkpoint_loadable_and_no_orphans(tmp_path):
    proc = start_training(tmp_path, "--max-frames", "10000000", "--checkpoint-interval", "1")
    run_dir = tmp_path / "mario_1_1"
    wait_for(lambda: (run_dir / "last.pt").exists() and trained_some(run_dir), what="a periodic checkpoint")
    kids = children(proc.pid)
    time.sleep(2.3)  # somewhere in the middle of the next checkpoint cycles
    proc.kill()
    proc.wait(timeout=10)
    meta, model, optimizer = load_checkpoint(run_dir / "last.pt")
    assert meta["frames"] > 0 and optimizer is not None and model
    wait_for(lambda: all(gone(p) for p in kids.values()), timeout=10, what="orphans to die with the trainer")


def test_killed_worker_is_restarted_then_the_budget_stops_the_run(tmp_path):
    proc = start_training(tmp_path, "--max-frames", "10000000", "--max-restarts", "1")
    run_dir = tmp_path / "mario_1_1"
    wait_for(lambda: "a3c-worker-0" in children(proc.pid), what="worker 0")
    wait_for(lambda: "a3c-tester" in children(proc.pid), what="the tester")
    for name in ("a3c-worker-0", "a3c-tester"):
        first = children(proc.pid)[name]
        os.kill(first, signal.SIGKILL)
        wait_for(
            lambda name=name, first=first: children(proc.pid).get(name, first) != first,
            timeout=15,
            what=f"a restarted {name}",
        )
        assert proc.poll() is None, "the run should carry on after one restart"
    os.kill(children(proc.pid)["a3c-worker-0"], signal.SIGKILL)
    proc.wait(timeout=30)
    err = proc.stderr.read()
    assert proc.returncode == 1
    assert "worker 0 died (killed by SIGKILL) after 1 restarts" in err
    assert load_checkpoint(run_dir / "last.pt")[0]["frames"] >= 0
    summary = json.loads((run_dir / "summary.json").read_text())
    assert "worker 0 died" in summary["stopped_by"]


def test_worker_exception_is_reported_restarted_then_stops_the_run(tmp_path):
    proc = run_cli(
        "train.py",
        "--env",
        "tests.crash_env:CrashingCartPole-v0",
        "--num-processes",
        "1",
        "--max-restarts",
        "1",
        "--max-frames",
        "100000",
        "--save-dir",
        str(tmp_path),
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    assert "worker 0 died (RuntimeError: deliberate crash at step 200); restarting it (1/1)" in proc.stdout
    assert "worker 0 died (RuntimeError: deliberate crash at step 200) after 1 restarts" in proc.stderr
    run_dir = tmp_path / "tests.crash_env-CrashingCartPole-v0"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert "RuntimeError" in summary["stopped_by"] and load_checkpoint(run_dir / "last.pt")[0]["frames"] >= 0


def test_resume_continues_frames_optimizer_and_statistics(tmp_path):
    first = run_cli(
        "train.py",
        "--num-processes",
        "2",
        "--max-frames",
        "3000",
        "--eval-interval",
        "2",
        "--save-dir",
        str(tmp_path),
    )
    assert first.returncode == 0, first.stderr
    run_dir = tmp_path / "mario_1_1"
    meta1, _, opt1 = load_checkpoint(run_dir / "last.pt")
    second = run_cli(
        "train.py",
        "--resume",
        "--num-processes",
        "2",
        "--max-frames",
        "6000",
        "--num-local-steps",
        "20",
        "--entropy-coef",
        "0",
        "--save-dir",
        str(tmp_path),
    )
    assert second.returncode == 0, second.stderr
    assert not (tmp_path / "mario_1_1-2").exists(), "resume must continue the same run directory"
    meta2, _, opt2 = load_checkpoint(run_dir / "last.pt")
    assert meta2["frames"] >= 6000 and meta2["frames"] - meta1["frames"] < 6000
    assert int(opt2["steps"]) > int(opt1["steps"])
    assert meta2["monitor"]["episodes"] >= meta1["monitor"]["episodes"]
    assert meta2["wall_seconds"] > meta1["wall_seconds"]
    # the rollout length and the entropy bonus were retuned from the checkpoint's frames on:
    # on record in config.json and the checkpoint, said on the console, used by the workers
    line = f"at {meta1['frames']:,} frames: --num-local-steps 20 --entropy-coef 0.0"
    config = json.loads((run_dir / "config.json").read_text())
    assert config["retuned"] == [line] and meta2["config"]["num_local_steps"] == 20
    assert f"updates retuned {line}" in second.stdout
    weights = tensorboard_scalars(run_dir / "tb", "losses/entropy_coef")
    before = [v for step, v in weights if step <= meta1["frames"]]
    after = [v for step, v in weights if step > meta1["frames"]]
    assert before and before == pytest.approx([0.01] * len(before)) and after and set(after) == {0.0}


def test_a_run_in_use_cannot_be_resumed_twice(tmp_path):
    proc = start_training(tmp_path, "--max-frames", "10000000", "--checkpoint-interval", "1")
    run_dir = tmp_path / "mario_1_1"
    try:
        wait_for(lambda: (run_dir / "last.pt").exists(), what="the first run's checkpoint")
        before = (run_dir / "last.pt").stat().st_size
        other = run_cli("train.py", "--resume", str(run_dir), "--save-dir", str(tmp_path), timeout=120)
        assert other.returncode == 2 and "in use by another training run" in other.stderr, other.stderr
        assert before > 0 and not (tmp_path / "mario_1_1-2").exists()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    assert proc.returncode == 0


def test_loading_never_runs_code_from_the_file(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path = tmp_path / "evil.pt"
    torch.save({"format": "mario-a3c/1", "meta": "{}", "model": Evil()}, path)
    with pytest.raises(UserError, match="not a readable checkpoint"):
        load_checkpoint(path)
    assert not marker.exists()


def test_non_finite_gradient_is_skipped_and_never_reaches_the_global_model():
    model = torch.nn.Linear(3, 1)
    optimizer = SharedAdam(model.parameters(), lr=0.1)
    before = [p.detach().clone() for p in model.parameters()]
    params = list(model.parameters())
    ctx = mp.get_context("spawn")
    shared = Shared(model, optimizer, FrameCounter(ctx, 1, 0), ctx.RawValue("d", 0.0), StopFlag(ctx))
    loss = model(torch.tensor([[1.0, float("nan"), 0.0]])).sum()
    norm, grads = clipped_gradients(model, params, loss, max_norm=40.0)
    assert grads is None and shared.push(0, grads, 7) == 7 and optimizer.steps == 0  # frames counted, no step
    assert all(torch.equal(b, p) for b, p in zip(before, model.parameters(), strict=True))
    loss = model(torch.tensor([[1.0, 2.0, 0.0]])).sum()
    norm, grads = clipped_gradients(model, params, loss, max_norm=40.0)
    assert shared.push(0, grads, 7) == 14 and optimizer.steps == 1
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_push_anneals_by_the_runs_frames_counted_so_far():
    """--lr-anneal: the shared push steps at the rate for the frames counted with this
    update, so the rollout that reaches --max-frames no longer moves the weights."""
    model = torch.nn.Linear(3, 1)
    optimizer = SharedAdam(model.parameters(), lr=0.1, anneal_frames=20)
    ctx = mp.get_context("spawn")
    shared = Shared(model, optimizer, FrameCounter(ctx, 1, 0), ctx.RawValue("d", 0.0), StopFlag(ctx))
    params = list(model.parameters())
    before = [p.detach().clone() for p in params]
    _, grads = clipped_gradients(model, params, model(torch.ones(1, 3)).sum(), max_norm=40.0)
    assert shared.push(0, grads, 10) == 10  # half the budget: a step of lr / 2
    assert all(torch.allclose((b - p).abs(), torch.full_like(p, 0.05)) for b, p in zip(before, params, strict=True))
    before = [p.detach().clone() for p in params]
    _, grads = clipped_gradients(model, params, model(torch.ones(1, 3)).sum(), max_norm=40.0)
    assert shared.push(0, grads, 10) == 20
    assert all(torch.equal(b, p) for b, p in zip(before, params, strict=True))
