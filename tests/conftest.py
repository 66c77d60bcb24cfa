import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("OMP_NUM_THREADS", "1")


def run_cli(*args: str, timeout: float = 300, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run one of the project's CLIs in a fresh interpreter, as a user would (``env``: its environment)."""
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="session")
def mario_run(tmp_path_factory):
    """One real 2-worker Mario training of a few thousand frames, shared by the slow tests."""
    out = tmp_path_factory.mktemp("mario")
    proc = run_cli(
        "train.py",
        "--world",
        "1",
        "--stage",
        "1",
        "--num-processes",
        "2",
        "--max-frames",
        "6000",
        "--eval-interval",
        "2",
        "--save-dir",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out / "mario_1_1", proc


def start_training(save_dir: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "train.py",
            "--num-processes",
            "2",
            "--save-dir",
            str(save_dir),
            *extra,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(predicate, timeout: float = 90.0, what: str = "condition") -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def children(pid: int) -> dict[str, int]:
    """comm name -> pid of a process's children (workers name themselves a3c-worker-N)."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            comm = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            out[comm] = int(entry.name)
    return out


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")


def trained_some(run_dir: Path) -> bool:
    csv = run_dir / "progress.csv"
    return csv.exists() and len(csv.read_text().splitlines()) >= 2


def tensorboard_scalars(tb_dir: Path, tag: str) -> list[tuple[int, float]]:
    """(step, value) of every scalar ``tag`` in the TensorBoard event files under ``tb_dir``."""
    import struct

    from tensorboardX.proto import event_pb2

    logged = []
    for path in Path(tb_dir).glob("events.out.tfevents.*"):
        data, i = path.read_bytes(), 0
        while i + 12 <= len(data):  # TFRecord: length, its CRC, the event, its CRC
            n = struct.unpack("<Q", data[i : i + 8])[0]
            event = event_pb2.Event.FromString(data[i + 12 : i + 12 + n])
            i += 16 + n
            logged += [(event.step, v.simple_value) for v in event.summary.value if v.tag == tag]
    return logged
