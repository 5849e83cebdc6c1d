"""One workflow on every engine: the graflow engine, Airflow, Prefect and Dagster.

The catalogue's ``nested_groups`` workflow (graflow_core.testing.catalog: a parallel group with a
nested group and a two-task chain inside, then a join; 9 graflow tasks, group nodes included)
runs through ``run_on(target, ...)`` -- for the bridges a real local run on the orchestrator,
one native task per graflow task: Airflow ``dag.test()`` on SQLite, a Prefect flow run against
Prefect's temporary local server, Dagster ``execute_in_process()``. Each engine runs in a
process of its own with its state in a temporary directory, one engine after the other (so that
they do not compete for the CPU): a first run pays the one-off set-up (imports, Airflow's
database, Prefect's server) and is reported on its own, then ``--runs`` timed runs, each
checked against the catalogue's expected result and channel.

Reported per engine: set-up (first run), median wall time per run, per graflow task, the
orchestrator's task count, and the ratio to the graflow engine's run.

An engine whose process does not finish within ``CHILD_TIMEOUT`` is reported as
``{"error": "timeout"}``; the others still run.

Usage: python benchmarks/engines_bench.py [--runs N] [--only ENGINE ...]
Prints one line ``BENCH_RESULT {json}``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ENGINES = ("graflow", "airflow", "prefect", "dagster")
EXAMPLE = "nested_groups"
# The engines' environment is the flagship demo's (examples/flagship/environment.py).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))


def _engine_env(home: Path) -> dict[str, str]:
    """The environment keeping an engine's state under ``home`` (embedded SQLite, offline).

    The flagship demo's definition (``examples/flagship/environment.py``), untracked: none of
    the user's orchestrator, tracking (GRAFLOW_MLFLOW, GRAFLOW_WANDB, ...) or metrics settings
    reach the timed runs.
    """
    from flagship.environment import engine_environment

    env = engine_environment(home, tracking=False)
    env.setdefault("GRAFLOW_SECRET_KEY", "engines-bench-" + "0" * 40)
    return env


#: Seconds one engine's child process may take (its set-up and every run).
CHILD_TIMEOUT = 900.0


def _run_child(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str, str] | None:
    """Run ``cmd`` in a session of its own: (exit code, stdout, stderr), or None on timeout.

    On timeout the child's whole process group is killed (Prefect's server with it), so that
    nothing holds the pipes open.
    """
    proc = subprocess.Popen(
        cmd,
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=CHILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        killpg = getattr(os, "killpg", None)
        if killpg is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                killpg(proc.pid, signal.SIGKILL)  # the group this script started
        else:  # pragma: no cover - not POSIX
            proc.kill()
        proc.communicate()
        return None
    return proc.returncode, out, err


def child(engine: str, runs: int) -> dict:
    """Run the example ``runs`` + 1 times on ``engine`` in this process."""
    import logging

    from graflow_core.spec.target_run import run_on
    from graflow_core.testing.catalog import check_outcome, get_example

    for name in ("airflow", "prefect", "dagster", "httpx", "alembic"):
        logging.getLogger(name).setLevel(logging.ERROR)
    example = get_example(EXAMPLE)
    options = {"log_level": "ERROR"} if engine == "dagster" else {}
    t0 = time.perf_counter()
    first = run_on(engine, example.reference, example.run_params(), **options)
    first_s = time.perf_counter() - t0
    first.raise_for_error()
    check_outcome(example, first.result, first.channel)
    walls = []
    for _ in range(runs):
        run = run_on(engine, example.reference, example.run_params(), **options)
        run.raise_for_error()
        check_outcome(example, run.result, run.channel)
        walls.append(run.wall_seconds)
    return {
        "first_run_s": round(first_s, 3),
        "wall_s": round(statistics.median(walls), 4),
        "samples_s": [round(w, 4) for w in walls],
        "graflow_tasks": len(first.results),
        "native_tasks": first.native_tasks,
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", action="append", choices=ENGINES, default=[])
    parser.add_argument("--child", choices=ENGINES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print("BENCH_CHILD " + json.dumps(child(args.child, args.runs)), flush=True)
        return {}
    scratch = Path(tempfile.mkdtemp(prefix="engines-bench-"))
    result: dict = {"example": EXAMPLE, "runs": args.runs}
    try:
        for engine in args.only or ENGINES:
            home = scratch / engine
            home.mkdir()
            ran = _run_child(
                [sys.executable, __file__, "--child", engine, "--runs", str(args.runs)],
                _engine_env(home),
                home,
            )
            if ran is None:
                result[engine] = {"error": "timeout"}
                continue
            code, stdout, stderr = ran
            lines = [ln for ln in stdout.splitlines() if ln.startswith("BENCH_CHILD ")]
            if code != 0 or not lines:
                result[engine] = {"error": (stderr or stdout)[-600:]}
                continue
            result[engine] = json.loads(lines[-1][len("BENCH_CHILD ") :])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    native = result.get("graflow", {}).get("wall_s")
    for engine in ENGINES:
        row = result.get(engine)
        if not row or "error" in row:
            continue
        row["per_task_ms"] = round(row["wall_s"] / row["graflow_tasks"] * 1e3, 3)
        if native:
            row["vs_graflow"] = round(row["wall_s"] / native, 1)

    print("BENCH_RESULT " + json.dumps(result), flush=True)
    return result


if __name__ == "__main__":
    main()
