import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_NUM_THREADS", "1")


def run_cli(*args: str, timeout: float = 300, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """Run one of the project's CLIs in a fresh interpreter, as a user would."""
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


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
        "--log-dir",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out / "mario_1_1", proc
