"""kill -9 a durable run at random points, resume it in a new process: same result and
channel as an uninterrupted run, and no task completed before the last checkpoint runs again."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from graflow_core.core.checkpoint import CheckpointManager
from graflow_core.core.resumable import DurableRun

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "killflow.py"

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")


def _env(progress: Path, work_s: str = "0.02") -> dict[str, str]:
    env = dict(os.environ)
    env["KILLFLOW_PROGRESS"] = str(progress)
    env["KILLFLOW_WORK_S"] = work_s
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def _run(location: Path, out: Path, progress: Path, *extra: str) -> dict:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), str(location), str(out), *extra],
        env=_env(progress),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(out.read_text())


def _log(progress: Path) -> list[str]:
    if not progress.exists():
        return []
    return [line.split()[0] for line in progress.read_text().splitlines() if line.strip()]


def _completed_at_last_checkpoint(location: Path) -> list[str]:
    import killflow

    base = DurableRun(killflow.build(), str(location)).latest_checkpoint()
    if base is None:
        return []
    CheckpointManager.verify_checkpoint(base)  # all three files verify
    return json.loads(Path(base + ".state.json").read_text())["completed_tasks"]


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    d = tmp_path_factory.mktemp("baseline")
    data = _run(d / "loc", d / "out.json", d / "progress.log")
    log = _log(d / "progress.log")
    assert len(log) == len(set(log)) == 16
    return data, log


def _kill_when(proc: subprocess.Popen, progress: Path, lines: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while len(_log(progress)) < lines:
        if proc.poll() is not None:
            pytest.fail(f"the run ended before {lines} progress lines: {proc.stderr.read()}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("timed out waiting for progress")
        time.sleep(0.001)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


@pytest.mark.parametrize("seed", [11, 22, 33, 44])
def test_kill_after_k_tasks_then_resume(baseline, tmp_path, seed):
    expected, all_tasks = baseline
    k = random.Random(seed).randint(1, 15)
    location, out = tmp_path / "loc", tmp_path / "out.json"
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT), str(location), str(out)],
        env=_env(first_log),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    _kill_when(proc, first_log, k)
    assert proc.returncode == -signal.SIGKILL
    assert not out.exists()
    done_before = _completed_at_last_checkpoint(location)

    resumed = _run(location, out, second_log)
    assert resumed == expected
    rerun = set(_log(second_log)) & set(done_before)
    assert not rerun, f"tasks completed before the last checkpoint ran again: {rerun}"
    assert set(_log(first_log)) | set(_log(second_log)) == set(all_tasks)
    # At most the task that was running when the process died runs twice.
    assert len(set(_log(first_log)) & set(_log(second_log))) <= 1

    # A retry after success returns the stored result without running anything.
    third_log = tmp_path / "third.log"
    assert _run(location, out, third_log) == expected
    assert _log(third_log) == []


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_repeated_kills_at_random_times_during_checkpoint_writes(baseline, tmp_path, seed):
    """With 20,000 extra channel keys most of the run is spent writing checkpoints, so kills
    land inside writes. After every kill the latest checkpoint verifies, and the run, resumed
    by a new process each time, ends with the same result and channel."""
    expected, _ = baseline
    rng = random.Random(seed)
    location, out = tmp_path / "loc", tmp_path / "out.json"
    done_before: list[str] = []
    for attempt in range(3):
        log = tmp_path / f"attempt{attempt}.log"
        proc = subprocess.Popen(
            [sys.executable, str(SCRIPT), str(location), str(out), "--big"],
            env=_env(log, work_s="0"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while not _log(log) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.001)  # imports done, the run is under way
        time.sleep(rng.uniform(0.0, 0.25))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert not set(_log(log)) & set(done_before), "a checkpointed task ran again"
        done_before = _completed_at_last_checkpoint(location)  # verifies all three files
    final_log = tmp_path / "final.log"
    assert _run(location, out, final_log, "--big") == expected
    assert not set(_log(final_log)) & set(done_before)
