"""``graflow dead-letters list|show|replay``, run as a subprocess after a failed ``graflow run``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cli_runner import run_graflow as graflow

FLOW = """
from pathlib import Path

from graflow_core import task, workflow
from graflow_core.resilience import DeadLetterStore


@task
def fetch():
    return {"order": 42}


@task
def charge(fetch, flag="fixed.flag"):
    if not Path(flag).exists():
        raise ConnectionError(f"payments down for order {fetch['order']}")
    return f"charged {fetch['order']}"


with workflow("billing", dead_letter_store=DeadLetterStore("dead_letters")) as wf:
    fetch >> charge
"""


@pytest.fixture
def failed_run(tmp_path: Path) -> tuple[Path, str]:
    """A project dir in which ``graflow run billing_flow.py`` failed once; the entry id."""
    (tmp_path / "billing_flow.py").write_text(textwrap.dedent(FLOW), encoding="utf-8")
    run = graflow(tmp_path, "run", "billing_flow.py")
    assert run.returncode == 1, run.stderr
    listed = graflow(tmp_path, "dead-letters", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    [entry] = json.loads(listed.stdout)
    return tmp_path, entry["id"]


def test_list_shows_the_failed_task(failed_run: tuple[Path, str]) -> None:
    cwd, entry_id = failed_run
    out = graflow(cwd, "dead-letters", "list")
    assert out.returncode == 0, out.stderr
    header, row = out.stdout.strip().splitlines()
    assert header.split() == [
        "ID",
        "STATUS",
        "TASK",
        "WORKFLOW",
        "ATTEMPTS",
        "REPLAYABLE",
        "ERROR",
    ]
    assert row.split()[:6] == [entry_id, "failed", "charge", "billing", "1", "yes"]
    assert row.endswith("ConnectionError: payments down for order 42")
    same = graflow(cwd, "dead-letters", "list", "dead_letters")
    assert same.stdout == out.stdout


def test_list_json_has_the_full_record(failed_run: tuple[Path, str]) -> None:
    cwd, entry_id = failed_run
    out = graflow(cwd, "dead-letters", "list", str(cwd / "dead_letters"), "--json")
    [entry] = json.loads(out.stdout)
    assert entry["id"] == entry_id
    assert entry["task_ref"] == "billing_flow:charge"
    assert entry["inputs_repr"] == {"fetch": "{'order': 42}"}  # defaults apply on replay
    assert "raise ConnectionError" in entry["traceback"]


def test_show_prints_error_inputs_and_traceback(failed_run: tuple[Path, str]) -> None:
    cwd, entry_id = failed_run
    out = graflow(cwd, "dead-letters", "show", entry_id[:18], "--dir", "dead_letters")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert f"id:          {entry_id}" in text
    assert "task:        charge (billing_flow:charge)" in text
    assert "error:       ConnectionError: payments down for order 42" in text
    assert "  fetch = {'order': 42}" in text
    assert "traceback:" in text and "raise ConnectionError" in text
    as_json = json.loads(graflow(cwd, "dead-letters", "show", entry_id, "--json").stdout)
    assert as_json["id"] == entry_id and as_json["status"] == "failed"


def test_replay_fails_until_the_cause_is_fixed(failed_run: tuple[Path, str]) -> None:
    cwd, entry_id = failed_run
    bad = graflow(cwd, "dead-letters", "replay", entry_id)
    assert bad.returncode == 1
    assert bad.stdout == ""
    [line] = bad.stderr.strip().splitlines()
    assert line.startswith(f"graflow: error: Replay of dead letter {entry_id} (task 'charge')")
    assert "ConnectionError: payments down for order 42" in line

    (cwd / "fixed.flag").write_text("")
    good = graflow(cwd, "dead-letters", "replay", entry_id)
    assert good.returncode == 0, good.stderr
    assert good.stdout.strip() == "'charged 42'"
    shown = json.loads(graflow(cwd, "dead-letters", "show", entry_id, "--json").stdout)
    assert shown["status"] == "replayed"
    assert [r["ok"] for r in shown["replays"]] == [False, True]
    listed = graflow(cwd, "dead-letters", "list")
    assert " replayed " in listed.stdout


def test_replay_without_the_key_is_a_one_line_usage_error(failed_run: tuple[Path, str]) -> None:
    cwd, entry_id = failed_run
    env = {k: v for k, v in os.environ.items() if k != "GRAFLOW_SECRET_KEY"}
    out = subprocess.run(
        [sys.executable, "-m", "graflow_core", "dead-letters", "replay", entry_id],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert out.returncode == 2
    [line] = out.stderr.strip().splitlines()
    assert line.startswith("graflow: error: dead letter ")
    assert "GRAFLOW_SECRET_KEY is not set" in line


def test_unknown_id_and_missing_directory(tmp_path: Path) -> None:
    out = graflow(tmp_path, "dead-letters", "list")
    assert (out.returncode, out.stdout.strip()) == (0, "no dead letters in dead_letters")
    assert graflow(tmp_path, "dead-letters", "list", "--json").stdout.strip() == "[]"

    missing = graflow(tmp_path, "dead-letters", "list", "nowhere")
    assert missing.returncode == 2
    assert missing.stderr.strip() == "graflow: error: nowhere: no such directory"

    (tmp_path / "dead_letters").mkdir()
    unknown = graflow(tmp_path, "dead-letters", "show", "nope")
    assert unknown.returncode == 2
    [line] = unknown.stderr.strip().splitlines()
    assert line.startswith("graflow: error: no dead letter 'nope' in ")

    usage = graflow(tmp_path, "dead-letters")
    assert usage.returncode == 2
    assert usage.stderr.startswith("graflow: error: ")
