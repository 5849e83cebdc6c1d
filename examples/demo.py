"""The main demo: one ETL workflow on four engines, its Airflow DAG file, a Prefect flow migrated.

    python3 dev.py demo                      # sets everything up, then runs this file
    python examples/demo.py [--engines graflow,airflow] [--scratch DIR]

1. Runs the flagship ETL workflow (:mod:`flagship.etl`: a CSV of orders cleaned, enriched by a
   parallel group of three lookups, one of which fails once and is retried, checkpointed,
   aggregated and published, tracked in MLflow) on the graflow engine, Apache Airflow
   (``dag.test()``), Prefect (a flow run on a temporary local server) and Dagster
   (``execute_in_process()``), each in a process of its own, with a progress display.
2. Prints them side by side: the result, whether result and final channel are identical to the
   native run's, how many tasks the orchestrator ran, the retries observed, set-up and run time,
   and the MLflow run each engine logged.
3. Writes the workflow's Airflow DAG file (``graflow export ... --to airflow``) and converts a
   Prefect flow to graflow code with ``graflow-migrate``, printing the conversion report.

Everything lives in a fresh scratch directory (default ``.demo/`` in the repository): Airflow's
home and SQLite database, Prefect's home with its SQLite database and temporary server on
127.0.0.1, an ephemeral Dagster instance, the MLflow SQLite store; telemetry is off and nothing
reads the user's own ``~/airflow``, Prefect profile or tracking server. The exit code is 1 when
an engine fails or disagrees with the native run.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

# Checkpoints and the engines' outcome files are signed with GRAFLOW_SECRET_KEY: a demo-only key
# unless one is set (the engine processes inherit it).
os.environ.setdefault("GRAFLOW_SECRET_KEY", secrets.token_hex(32))

from flagship import engine_run, etl  # noqa: E402
from flagship.environment import engine_environment  # noqa: E402

ENGINES = ("graflow", "airflow", "prefect", "dagster")
LABELS = {
    "graflow": "graflow",
    "airflow": "Airflow",
    "prefect": "Prefect",
    "dagster": "Dagster",
}
PREFECT_FLOW = ROOT / "examples" / "migration" / "prefect" / "etl_retries.py"


def _section(title: str) -> None:
    print(f"\n=== {title} " + "=" * max(0, 86 - len(title)), flush=True)


# -- the engines' environment ------------------------------------------------------------------


def engine_env(scratch: Path) -> dict[str, str]:
    """The environment of every engine process: everything local, under ``scratch``.

    :func:`flagship.environment.engine_environment` with MLflow tracking into
    ``scratch/mlflow.db``; none of the user's orchestrator, tracking or graflow settings.
    """
    return engine_environment(scratch, tracking=True)


# -- running the engines with a progress display -----------------------------------------------

#: Seconds an engine may take to set up (until it is ready), and to run the workflow once it
#: was let go, before the demo stops it. Waiting for its turn is not limited by the demo.
SETUP_TIMEOUT = 300.0
RUN_TIMEOUT = 300.0


@dataclass
class EngineRun:
    """One engine's process and what its progress file has said so far."""

    target: str
    scratch: Path
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    ended: float = 0.0
    go_at: float = 0.0
    status: str = "waiting"
    ready: bool = False
    tasks: set[str] = field(default_factory=set)
    _offset: int = 0
    _partial: str = ""

    def __post_init__(self) -> None:
        self.files = engine_run.files(self.scratch, self.target)
        self.log_file = self.scratch / "logs" / f"{self.target}.log"

    def start(self, env: dict[str, str], deadline: float = engine_run.DEADLINE) -> None:
        """Start the engine's process, in a process group of its own (see :meth:`stop`).

        The process ends itself after ``deadline`` seconds, or when the demo is gone.
        """
        for path in (self.files["jsonl"], self.log_file):
            path.parent.mkdir(parents=True, exist_ok=True)
        self.files["jsonl"].touch()
        cmd = [sys.executable, "-m", "flagship.engine_run", self.target, str(self.scratch)]
        cmd += ["--deadline", str(deadline), "--parent", str(os.getpid())]
        with open(self.log_file, "wb") as log:
            self.proc = subprocess.Popen(
                cmd,
                cwd=self.scratch,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: stop() ends Prefect's server too
            )
        self.started = time.perf_counter()
        self.status = "starting"

    def go(self) -> None:
        """Let the engine run the workflow (it has set up and waits for this)."""
        self.files["go"].touch()
        self.go_at = time.perf_counter()

    def poll(self) -> bool:
        """Read new progress; True once the process has ended."""
        if self.proc is None or self.ended:
            return bool(self.ended)
        with open(self.files["jsonl"], encoding="utf-8") as fh:
            fh.seek(self._offset)
            chunk = fh.read()
            self._offset = fh.tell()
        *lines, self._partial = (self._partial + chunk).split("\n")
        for line in lines:
            self._event(json.loads(line))
        now = time.perf_counter()
        if self.proc.poll() is None:
            if self.go_at:
                overdue = now - self.go_at >= RUN_TIMEOUT
            else:  # the set-up clock stops once the engine is ready
                overdue = not self.ready and now - self.started >= SETUP_TIMEOUT
            if not overdue:
                return False
        self.stop()  # the process when overdue, and anything it left behind in its group
        self.ended = now
        took = self.ended - self.started
        if self.proc.returncode == 0:
            self.status = f"done in {took:.1f} s"
        else:
            self.status = f"FAILED after {took:.1f} s (log: {_rel(self.log_file)})"
        return True

    def _event(self, event: dict[str, Any]) -> None:
        kind, task = event["event"], event.get("task")
        if kind == "phase":
            self.status = event["phase"]
            self.ready = self.ready or self.status.startswith("ready")
        elif task in etl.TASKS and kind == "start":
            self.tasks.add(task)
            self.status = f"running {task} ({len(self.tasks)}/{len(etl.TASKS)})"
        elif task in etl.TASKS and kind == "failure":
            again = "" if event.get("final") else ", retrying"
            self.status = f"{task} failed ({event['error']}){again}"

    def stop(self) -> None:
        """Kill the engine's process group (the process and what it started), and reap it."""
        if self.proc is None:
            return
        killpg = getattr(os, "killpg", None)
        if killpg is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                killpg(self.proc.pid, signal.SIGKILL)  # the group this demo started
        elif self.proc.poll() is None:  # pragma: no cover - not POSIX
            self.proc.kill()
        self.proc.wait()

    def last_log_line(self) -> str:
        """The last line the engine's process logged (its error, when it failed)."""
        with contextlib.suppress(OSError):
            lines = self.log_file.read_text(encoding="utf-8", errors="replace").splitlines()
            return next((line.strip()[:200] for line in reversed(lines) if line.strip()), "")
        return ""

    def line(self) -> str:
        running = self.started and not self.ended
        clock = f"{time.perf_counter() - self.started:5.1f} s" if running else " " * 7
        return f"  {LABELS.get(self.target, self.target):<8} {clock}  {self.status}"


class Display:
    """Per-engine status lines: redrawn in place on a terminal, printed as they change otherwise."""

    def __init__(self, runs: list[EngineRun]) -> None:
        self.runs = runs
        self.tty = sys.stdout.isatty() and os.environ.get("TERM") != "dumb"
        self._drawn = False
        self._last: dict[str, str] = {}

    def update(self) -> None:
        if self.tty:
            if self._drawn:
                sys.stdout.write(f"\x1b[{len(self.runs)}F")  # back to the first status line
            width = shutil.get_terminal_size().columns - 1  # a wrapped line would break the redraw
            for run in self.runs:
                sys.stdout.write("\x1b[2K" + run.line()[:width] + "\n")
            self._drawn = True
        else:
            for run in self.runs:
                if self._last.get(run.target) != run.status:
                    self._last[run.target] = run.status
                    print(run.line())
        sys.stdout.flush()


def run_engines(engines: list[str], scratch: Path) -> list[EngineRun]:
    """Run the workflow on ``engines``: all set up at once, then run one after the other.

    Set-up (imports, databases, Prefect's server, a warm-up run) overlaps; the runs themselves
    do not, so each run's time is measured without another engine competing for the CPU.

    Every engine process (and what it started) is killed when this returns or raises; an
    engine whose demo was killed outright ends itself (see :mod:`flagship.engine_run`).
    """
    env = engine_env(scratch)
    runs = [EngineRun(t, scratch) for t in engines]
    display = Display(runs)
    deadline = SETUP_TIMEOUT + RUN_TIMEOUT * len(runs) + 60
    try:
        for run in runs:
            run.start(env, deadline)
        waiting = list(runs)  # for their turn to run, in order
        while not all([run.poll() for run in runs]):  # a list: poll every engine each time
            while waiting and waiting[0].ended:
                waiting.pop(0)
            if waiting and not waiting[0].go_at and all(r.ready or r.ended for r in runs):
                waiting[0].go()
            display.update()
            time.sleep(0.1)
        display.update()
    finally:
        for run in runs:
            run.stop()
    return runs


# -- comparing the runs ------------------------------------------------------------------------


def load_outcome(run: EngineRun) -> dict[str, Any] | None:
    """What the engine's process reported (None if it reported nothing)."""
    if not run.files["outcome"].exists():
        return None
    from graflow_core.signing import loads_signed

    blob = run.files["outcome"].read_bytes()
    outcome: dict[str, Any] = loads_signed(blob, what=f"the {run.target} run's outcome")
    return outcome


def differences(outcome: dict[str, Any], native: dict[str, Any]) -> list[str]:
    """What differs from the native run (result, channel keys); empty when identical."""
    if not outcome["ok"]:
        return [f"failed: {outcome['error']}"]
    diff = [] if outcome["result"] == native["result"] else ["result"]
    mine, theirs = outcome["channel"], native["channel"]
    diff += [
        f"channel[{k!r}]"
        for k in sorted(mine.keys() | theirs.keys())
        if mine.get(k, ...) != theirs.get(k, ...)
    ]
    return diff


def _summary(result: Any) -> str:
    if not isinstance(result, dict):
        return repr(result)[:34]
    return f"{result['orders']} orders, ${result['revenue_usd']:,.2f}"


def _mark(ok: bool) -> str:
    encoding = (sys.stdout.encoding or "").lower()
    if encoding.startswith("utf"):
        return "✓" if ok else "✗"
    return "yes" if ok else "NO"


LEGEND = """
  same: result and final channel ({keys} keys) identical to the native run's
  tasks: tasks the engine ran (the parallel group is one too, except on Prefect);
         graflow: graflow tasks among them
  retries: to_usd's retries as its attempt counter / its MLflow run saw them
  checkpoint: ctx.checkpoint() wrote a file, or each task's stored output is the checkpoint
  set-up: process start, imports, databases, Prefect's server, a warm-up run (all at once)
  run: the workflow run itself, MLflow tracking included (one engine at a time)
"""


def print_table(runs: list[EngineRun], outcomes: dict[str, dict[str, Any] | None]) -> bool:
    """The side-by-side table; True when every engine ran and agrees with the native run."""
    native = outcomes.get("graflow")
    header = (
        "engine", "result", "same", "tasks", "graflow", "retries", "checkpoint", "set-up", "run",
        "MLflow run",
    )  # fmt: skip
    rows: list[tuple[str, ...]] = []
    notes: list[str] = []
    all_same = native is not None and native["ok"]
    for run in runs:
        label = LABELS.get(run.target, run.target)
        out = outcomes.get(run.target)
        if out is None:
            rows.append((label, "no outcome", _mark(False), *["-"] * 7))
            notes.append(f"{label}: {run.last_log_line()} (log: {_rel(run.log_file)})")
            all_same = False
            continue
        diff = differences(out, native) if native is not None else ["no native run"]
        all_same = all_same and not diff
        if diff:
            notes.append(f"{label} differs from native: {', '.join(diff)}")
        results = {k[: -len(".__result__")] for k in out["channel"] if k.endswith(".__result__")}
        attempts = out["mlflow_attempts"].get("to_usd")
        rows.append(
            (
                label,
                _summary(out["result"]) if out["ok"] else "FAILED",
                _mark(not diff),
                str(out["native_tasks"]),
                str(len(results & set(etl.TASKS))),
                f"{out['retries']} / {'-' if attempts is None else attempts - 1}",
                "file" if out["checkpoint_file"] else "outputs",
                f"{out['setup_seconds']:.1f} s",
                f"{out['wall_seconds']:.2f} s",
                (out["mlflow_run_id"] or "-")[:8],
            )
        )
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    for row in (header, tuple("-" * w for w in widths), *rows):
        print("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    for note in notes:
        print(f"  ! {note}")
    return all_same


# -- export and migration ----------------------------------------------------------------------


def _rel(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.relative_to(Path.cwd()))
    return str(path)


def _quiet_call(main: Any, argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            code = int(main(argv))
        except SystemExit as exc:  # argparse
            code = exc.code if isinstance(exc.code, int) else 2
    return code, out.getvalue()


HEAD_LINES = 24


def export_dag(scratch: Path) -> Path | None:
    """``graflow export examples/flagship/etl.py:build --to airflow -o DIR``; the DAG file."""
    from graflow_core.cli import main

    out_dir = scratch / "airflow-dags"
    target = _rel(HERE / "flagship" / "etl.py") + ":build"
    argv = ["export", target, "--to", "airflow", "-o", _rel(out_dir)]
    print(f"$ graflow {' '.join(argv)}")
    code, text = _quiet_call(main, argv)
    print(text.rstrip())
    files = sorted(out_dir.glob("*.py"))
    if code != 0 or not files:
        return None
    dag_file = files[0]
    lines = dag_file.read_text(encoding="utf-8").splitlines()
    print(f"\n{_rel(dag_file)} ({len(lines)} lines):")
    for line in lines[:HEAD_LINES]:
        print(f"  | {line}")
    if len(lines) > HEAD_LINES:
        print("  | ...")
    return dag_file


#: Seconds the converted Prefect flow may run.
MIGRATED_TIMEOUT = 60.0


def migrate_flow(scratch: Path) -> Path | None:
    """``graflow-migrate prefect examples/migration/prefect/etl_retries.py -o FILE``."""
    from graflow_migrate.cli import main

    target = scratch / "migrated" / "orders_etl.py"
    target.parent.mkdir(parents=True, exist_ok=True)
    argv = ["prefect", _rel(PREFECT_FLOW), "-o", _rel(target)]
    print(f"$ graflow-migrate {' '.join(argv)}")
    code, text = _quiet_call(main, argv)
    print(text.rstrip())
    if code != 0 or not target.exists():
        return None
    print(f"\n$ python {_rel(target)}    # the converted flow, run by graflow")
    try:
        ran = subprocess.run(
            [sys.executable, str(target)],
            capture_output=True,
            text=True,
            cwd=scratch,
            # the engines' environment (untracked): nothing of the user's set-up applies
            env=engine_environment(scratch, tracking=False),
            timeout=MIGRATED_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        print(f"  ! the converted flow did not finish within {MIGRATED_TIMEOUT:g} s")
        return None
    print((ran.stdout + ran.stderr).rstrip())
    return target if ran.returncode == 0 else None


# -- main --------------------------------------------------------------------------------------


MARKER = ".graflow-demo"


def _fresh(scratch: Path) -> Path:
    """``scratch``, emptied: only a directory the demo made itself (or an empty one) is deleted."""
    if scratch.exists() and not scratch.is_dir():
        sys.exit(f"demo: --scratch {scratch} is a file, not a directory; give another --scratch")
    if scratch.exists() and any(scratch.iterdir()):
        if not (scratch / MARKER).exists():
            sys.exit(f"demo: {scratch} exists and was not made by the demo; give another --scratch")
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True, exist_ok=True)
    (scratch / MARKER).touch()
    (scratch / ".gitignore").write_text("*\n", encoding="utf-8")  # never committed by accident
    return scratch.resolve()


def _terminated(signum: int, frame: Any) -> None:
    sys.exit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated targets")
    parser.add_argument("--scratch", default=str(ROOT / ".demo"), help="recreated fresh")
    args = parser.parse_args(argv)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if "graflow" not in engines:
        engines.insert(0, "graflow")  # the reference every engine is compared with
    scratch = _fresh(Path(args.scratch))
    started = time.perf_counter()
    # A plain `kill` ends the demo through run_engines' clean-up, like Ctrl-C does.
    signal.signal(signal.SIGTERM, _terminated)

    _section(f"1. The flagship ETL workflow on {', '.join(LABELS.get(e, e) for e in engines)}")
    print(f"  {' >> '.join(['extract', 'clean', '(to_usd | customer_segment | geo_region)'])}")
    print("     >> join_enriched (checkpoint) >> aggregate >> publish     [flagship/etl.py]")
    print(f"  scratch: {_rel(scratch)}  (Airflow/Prefect homes, SQLite databases, logs)\n")
    runs = run_engines(engines, scratch)
    outcomes = {run.target: load_outcome(run) for run in runs}

    _section("2. Side by side")
    same = print_table(runs, outcomes)
    native = outcomes.get("graflow")
    keys = len(native["channel"]) if native is not None else 0
    print(LEGEND.format(keys=keys))
    if native is not None and native["ok"]:
        print(f"  result: {native['result']}")
    print(f"  MLflow: mlflow ui --backend-store-uri sqlite:///{_rel(scratch / 'mlflow.db')}")

    _section("3. The Airflow DAG file")
    dag_file = export_dag(scratch)

    _section("4. A Prefect flow migrated to graflow")
    migrated = migrate_flow(scratch)

    ok = same and dag_file is not None and migrated is not None
    verdict = "every engine agrees with the native run" if same else "ENGINES DISAGREE"
    print(f"\n{verdict}; demo took {time.perf_counter() - started:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
