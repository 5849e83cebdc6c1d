#!/usr/bin/env python3
"""Benchmark graflow_core side by side with Graflow 0.2 (from PyPI), in one run.

    python3 benchmarks/run.py                 # everything, both sides (~5 min)
    python3 benchmarks/run.py --quick         # fewer repetitions
    python3 benchmarks/run.py --only chain    # one benchmark (repeatable, or comma-separated)
    python3 benchmarks/run.py --skip-graflow  # graflow_core only

Method: every benchmark program in ``benchmarks/programs/`` is written once, against Graflow's API
(``from graflow... import ...``). For Graflow it runs unchanged in its own venv
(``benchmarks/.envs/graflow02``, created here if missing: ``python3 -m venv`` + ``pip install
graflow==0.2.0``). For graflow_core the *same* program runs in ``/work/main/.venv`` with only its import
lines rewritten (``graflow`` -> ``graflow_core``; ``import graflow`` -> ``import graflow_core as
graflow``). Each repetition is a fresh process; the runner reports medians.

Writes ``benchmarks/results/latest.json`` and regenerates ``benchmarks/README.md``. A partial run
(``--only`` / ``--skip-graflow``) updates only the entries it measured; every entry carries its
own ``measured_at``. Standard library only.
"""

# ruff: noqa: E501, RUF001  (report strings: long lines and unicode units on purpose)
from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PROGRAMS = HERE / "programs"
RESULTS = HERE / "results"
LATEST = RESULTS / "latest.json"
README = HERE / "README.md"
GRAFLOW_ENV = HERE / ".envs" / "graflow02"
GRAFLOW_VERSION = "0.2.0"

OURS = "graflow_core"
THEIRS = "graflow"
SIDE_LABEL = {OURS: "graflow_core", THEIRS: f"Graflow {GRAFLOW_VERSION}"}

BENCHMARKS = (
    "chain",
    "parallel",
    "import",
    "memory",
    "checkpoint",
    "hooks",
    "spec",
    "integrations",
)

# Sizes (fixed by the brief) and repetitions.
CHAIN_N = 10_000
PARALLEL_N = 1_000
MEMORY_N = 100_000
MEMORY_FALLBACK_N = (50_000, 10_000)  # used for a side whose 100k run exceeds the time limit
MEMORY_TIME_LIMIT_S = 150.0
CHECKPOINT_N = 10_000
REPEATS = {
    "chain": 5,
    "parallel": 5,
    "import": 15,
    "memory": 3,
    "checkpoint": 15,
    "hooks": 5,
    "spec": 5,
    "integrations": 1,  # each script repeats internally; 1 = full settings, 0 = quick settings
}
QUICK_REPEATS = {
    "chain": 3,
    "parallel": 3,
    "import": 5,
    "memory": 1,
    "checkpoint": 3,
    "hooks": 2,
    "spec": 2,
    "integrations": 0,
}
PROGRAM_TIMEOUT_S = 600.0


# --------------------------------------------------------------------------------------------
# "Same program, import lines changed"
# --------------------------------------------------------------------------------------------

_FROM_RE = re.compile(
    r"^(?P<indent>[ \t]*)from[ \t]+graflow(?P<rest>(?:\.[\w.]+)?[ \t]+import\b.*)$"
)
_IMPORT_RE = re.compile(
    r"^(?P<indent>[ \t]*)import[ \t]+graflow(?P<alias>[ \t]+as[ \t]+\w+)?(?P<tail>[ \t]*(?:#.*)?)$"
)
_IMPORT_SUB_RE = re.compile(r"^[ \t]*import[ \t]+graflow\.")
_ANY_IMPORT_RE = re.compile(r"^[ \t]*(?:from|import)[ \t]+graflow\b")


def rewrite_imports(source: str, package: str) -> str:
    """Return ``source`` with its ``graflow`` import lines pointed at ``package``.

    Only whole import lines are touched: ``from graflow[.x] import y`` -> ``from <package>[.x] import
    y`` and ``import graflow [as g]`` -> ``import <package> as graflow`` (or ``as g``), so the rest of
    the program is byte-for-byte the same. ``import graflow.x`` is refused (it would need the body
    to change). Multi-line parenthesised imports are fine: only their first line names the module.
    """
    if package == "graflow":
        return source
    out = []
    for line in source.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        ending = line[len(body) :]
        m = _FROM_RE.match(body)
        if m:
            body = f"{m['indent']}from {package}{m['rest']}"
        else:
            m = _IMPORT_RE.match(body)
            if m:
                alias = m["alias"].strip() if m["alias"] else "as graflow"
                body = f"{m['indent']}import {package} {alias}{m['tail']}"
            elif _IMPORT_SUB_RE.match(body):
                raise ValueError(
                    f"benchmark programs must not use 'import graflow.<sub>': {body!r}"
                )
            elif _ANY_IMPORT_RE.match(body):
                raise ValueError(f"cannot rewrite this import line: {body!r}")
        out.append(body + ending)
    return "".join(out)


def prepare_program(name: str, package: str, workdir: Path) -> Path:
    """Write the program ``name`` for ``package`` into ``workdir`` and return its path."""
    src = (PROGRAMS / name).read_text()
    dest = workdir / name
    dest.write_text(rewrite_imports(src, package))
    return dest


# --------------------------------------------------------------------------------------------
# Sides and processes
# --------------------------------------------------------------------------------------------


class BenchError(Exception):
    pass


class Side:
    def __init__(self, key: str, python: Path, package: str):
        self.key = key
        self.python = python
        self.package = package
        self.workdir = Path(tempfile.mkdtemp(prefix=f"gfbench-{key}-"))
        self.error: str | None = None  # set when the side cannot run at all

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        # PYTHONDONTWRITEBYTECODE would make every process recompile any source file newer than its
        # cached .pyc (a freshly edited checkout), inflating import time; users get cached bytecode.
        for var in (
            "PYTHONPATH",
            "PYTHONHOME",
            "VIRTUAL_ENV",
            "PYTHONSTARTUP",
            "PYTHONDONTWRITEBYTECODE",
        ):
            env.pop(var, None)
        # The engine rows measure the engine: this venv has every integration installed, and
        # the one-time cost of loading their entry points is its own row (hooks:
        # plugin_load_ms). Graflow 0.2 has no plugins, so this changes nothing on its side.
        env["GRAFLOW_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        return env

    def run(
        self,
        program: str,
        *args: str,
        timeout: float = PROGRAM_TIMEOUT_S,
        env: dict[str, str | None] | None = None,
    ) -> dict:
        """Run one benchmark program in a fresh process; return its BENCH_RESULT dict.

        ``env`` sets (or, with ``None`` values, removes) environment variables for this run.
        """
        path = self.workdir / program
        if not path.exists():
            prepare_program(program, self.package, self.workdir)
        proc = self.run_raw([str(path), *args], timeout=timeout, env=env)
        for line in proc.stdout.splitlines():
            if line.startswith("BENCH_RESULT "):
                return json.loads(line[len("BENCH_RESULT ") :])
        raise BenchError(f"{program}: no BENCH_RESULT line; stdout tail: {proc.stdout[-500:]!r}")

    def run_raw(
        self,
        argv: list[str],
        timeout: float = PROGRAM_TIMEOUT_S,
        env: dict[str, str | None] | None = None,
    ) -> subprocess.CompletedProcess:
        full_env = self.env()
        for key, value in (env or {}).items():
            if value is None:
                full_env.pop(key, None)
            else:
                full_env[key] = value
        try:
            proc = subprocess.run(
                [str(self.python), *argv],
                cwd=self.workdir,
                env=full_env,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as e:
            raise BenchError(f"timed out after {timeout:.0f}s") from e
        if proc.returncode != 0:
            raise BenchError(_error_text(proc))
        return proc

    def cleanup(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)


def _error_text(proc: subprocess.CompletedProcess) -> str:
    lines = [ln for ln in (proc.stderr or "").splitlines() if ln.strip()]
    if not lines:
        return f"exit code {proc.returncode}; stdout tail: {(proc.stdout or '')[-300:]!r}"
    # The last line is the exception; keep a little context (the failing source line) too.
    tail = lines[-6:]
    return f"exit code {proc.returncode}: " + " | ".join(ln.strip() for ln in tail)


def ensure_graflow_env(log) -> Path:
    py = GRAFLOW_ENV / "bin" / "python"
    check = [str(py), "-c", "import importlib.metadata as m, graflow; print(m.version('graflow'))"]
    if py.exists():
        r = subprocess.run(check, capture_output=True, text=True)
        if r.returncode == 0 and r.stdout.strip() == GRAFLOW_VERSION:
            return py
        log(f"graflow02 env unusable ({(r.stdout + r.stderr).strip()[-200:]}); re-creating")
        shutil.rmtree(GRAFLOW_ENV, ignore_errors=True)
    log(f"creating {GRAFLOW_ENV} and installing graflow=={GRAFLOW_VERSION} (takes a minute or two)")
    GRAFLOW_ENV.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", str(GRAFLOW_ENV)], check=True)
    r = subprocess.run(
        [str(py), "-m", "pip", "install", "-q", f"graflow=={GRAFLOW_VERSION}"],
        capture_output=True,
        text=True,
    )
    if r.returncode != 0:
        raise BenchError(
            f"pip install graflow=={GRAFLOW_VERSION} failed: {r.stderr.strip()[-500:]}"
        )
    r = subprocess.run(check, capture_output=True, text=True)
    if r.returncode != 0:
        raise BenchError(f"graflow installed but not importable: {r.stderr.strip()[-500:]}")
    return py


# --------------------------------------------------------------------------------------------
# Benchmarks: each returns {"metrics": {...medians...}, "samples": {...}, ...}
# --------------------------------------------------------------------------------------------


def _median(xs):
    return statistics.median(xs) if xs else None


def _summarise(samples: dict[str, list[float]], **extra) -> dict:
    return {
        "metrics": {k: _median(v) for k, v in samples.items()},
        "samples": {k: [round(x, 6) for x in v] for k, v in samples.items()},
        **extra,
    }


def _bench_per_task(side: Side, reps: int, log, program: str, n: int, label: str) -> dict:
    """Run ``program`` ``reps`` times with ``n`` tasks; per-task, build and run times."""
    s = {"per_task_us": [], "build_ms": [], "run_ms": []}
    info = {}
    for i in range(reps):
        r = side.run(program, str(n))
        s["per_task_us"].append(r["run_s"] / r["n"] * 1e6)
        s["build_ms"].append(r["build_s"] * 1e3)
        s["run_ms"].append(r["run_s"] * 1e3)
        info = r
        log(f"  {label} rep {i + 1}/{reps}: {s['per_task_us'][-1]:.2f} us/task")
    return _summarise(s, n=n, repeats=reps, module_file=info.get("module_file"))


def bench_chain(side: Side, reps: int, log) -> dict:
    return _bench_per_task(side, reps, log, "chain.py", CHAIN_N, "chain")


def bench_parallel(side: Side, reps: int, log) -> dict:
    return _bench_per_task(side, reps, log, "parallel.py", PARALLEL_N, "parallel")


def bench_import(side: Side, reps: int, log) -> dict:
    stmt = rewrite_imports("import graflow\n", side.package).strip()
    s = {"import_ms": [], "user_import_ms": [], "process_wall_ms": [], "python_startup_ms": []}
    info = {}
    # Warm-up (bytecode caches, page cache); not recorded.
    side.run("import_time.py", "package")
    side.run_raw(["-c", stmt])
    for _ in range(reps):
        r = side.run("import_time.py", "package")
        s["import_ms"].append(r["import_s"] * 1e3)
        info = r
        r = side.run("import_time.py", "user")
        s["user_import_ms"].append(r["import_s"] * 1e3)
        t0 = time.perf_counter()
        side.run_raw(["-c", stmt])
        s["process_wall_ms"].append((time.perf_counter() - t0) * 1e3)
        t0 = time.perf_counter()
        side.run_raw(["-c", "pass"])
        s["python_startup_ms"].append((time.perf_counter() - t0) * 1e3)
    log(
        f"  import: {_median(s['import_ms']):.1f} ms in-process, "
        f"{_median(s['process_wall_ms']):.1f} ms process wall"
    )
    return _summarise(
        s,
        repeats=reps,
        statement=stmt,
        modules_loaded=info.get("modules_loaded"),
        module_file=info.get("module_file"),
    )


def bench_memory(side: Side, reps: int, log) -> dict:
    notes = []
    n = MEMORY_N
    s = {"peak_rss_mb": [], "rss_after_import_mb": [], "per_task_us": [], "build_ms": []}
    info = {}
    spent = 0.0
    for n_try in (MEMORY_N, *MEMORY_FALLBACK_N):
        n = n_try
        try:
            t0 = time.perf_counter()
            r = side.run("chain.py", str(n), timeout=MEMORY_TIME_LIMIT_S)
            spent += time.perf_counter() - t0
            break
        except BenchError as e:
            if "timed out" not in str(e):
                raise
            notes.append(f"n={n} did not finish within {MEMORY_TIME_LIMIT_S:.0f}s; falling back")
            log(f"  memory: n={n} timed out")
    else:
        raise BenchError(f"chain did not finish within {MEMORY_TIME_LIMIT_S:.0f}s even at n={n}")
    for i in range(reps):
        if i > 0:
            if spent > MEMORY_TIME_LIMIT_S:
                notes.append(f"stopped after {i} repetition(s) (time limit)")
                break
            t0 = time.perf_counter()
            r = side.run("chain.py", str(n), timeout=MEMORY_TIME_LIMIT_S)
            spent += time.perf_counter() - t0
        s["peak_rss_mb"].append(r["peak_rss_mb"])
        s["rss_after_import_mb"].append(r["rss_after_import_mb"] or 0.0)
        s["per_task_us"].append(r["run_s"] / r["n"] * 1e6)
        s["build_ms"].append(r["build_s"] * 1e3)
        info = r
        log(
            f"  memory rep {i + 1}: n={n} peak {r['peak_rss_mb']:.0f} MB, {s['per_task_us'][-1]:.1f} us/task"
        )
    return _summarise(
        s, n=n, repeats=len(s["peak_rss_mb"]), notes=notes, module_file=info.get("module_file")
    )


# graflow_core signs checkpoints (HMAC-SHA256, key from GRAFLOW_SECRET_KEY). The same program
# runs twice per repetition on graflow_core: signed (a benchmark-only key) and with the
# development opt-out (unsigned envelopes, still SHA-256 checksummed). Graflow ignores both.
_BENCH_KEY = "graflow-benchmark-only-key-" + "0123456789abcdef" * 3
CHECKPOINT_MODES = {
    "": {"GRAFLOW_SECRET_KEY": _BENCH_KEY, "GRAFLOW_INSECURE_UNSIGNED_CHECKPOINTS": None},
    "_unsigned": {"GRAFLOW_SECRET_KEY": None, "GRAFLOW_INSECURE_UNSIGNED_CHECKPOINTS": "1"},
}


def bench_checkpoint(side: Side, reps: int, log) -> dict:
    modes = CHECKPOINT_MODES if side.key == OURS else {"": CHECKPOINT_MODES[""]}
    s: dict[str, list[float]] = {}
    info = {}
    for i in range(reps):
        for suffix, env in modes.items():
            outdir = Path(tempfile.mkdtemp(prefix="ckpt-", dir=side.workdir))
            try:
                r = side.run("checkpoint.py", str(CHECKPOINT_N), str(outdir), env=env)
            finally:
                shutil.rmtree(outdir, ignore_errors=True)
            for metric, value in (
                ("write_ms", r["write_s"] * 1e3),
                ("resume_ms", r["resume_s"] * 1e3),
                ("write_resume_ms", (r["write_s"] + r["resume_s"]) * 1e3),
                ("write_again_ms", r["write_again_s"] * 1e3),
                ("resume_again_ms", r["resume_again_s"] * 1e3),
                ("write_resume_again_ms", (r["write_again_s"] + r["resume_again_s"]) * 1e3),
                ("write_resume_cpu_ms", r["write_resume_cpu_s"] * 1e3),
                ("write_resume_again_cpu_ms", r["write_resume_again_cpu_s"] * 1e3),
                ("size_kb", r["bytes"] / 1024.0),
            ):
                s.setdefault(metric + suffix, []).append(value)
            info = r if not suffix else info
            log(
                f"  checkpoint rep {i + 1}/{reps}{' ' + suffix[1:] if suffix else ''}: "
                f"write {s['write_ms' + suffix][-1]:.1f} ms, resume {s['resume_ms' + suffix][-1]:.1f} ms"
            )
    entry = _summarise(s, n=CHECKPOINT_N, repeats=reps, module_file=info.get("module_file"))
    metrics = entry["metrics"]
    for label in (
        "write_resume",
        "write_resume_again",
        "write_resume_cpu",
        "write_resume_again_cpu",
    ):
        signed, unsigned = metrics.get(f"{label}_ms"), metrics.get(f"{label}_ms_unsigned")
        if signed and unsigned:
            metrics[f"signing_overhead_{label}_pct"] = (signed / unsigned - 1.0) * 100.0
    return entry


# Plugin hooks: graflow_core only (Graflow 0.2 has none). The zero-plugin cost is measured
# against the engine as it was just before the hooks were added (HOOKS_BASELINE_REF, exported
# with `git archive` into the side's work directory), in the same run, interleaved.
HOOKS_N = 10_000
HOOKS_BASELINE_REF = "1f23206"
HOOK_MODES = ("none", "observer", "host")


def _hooks_baseline(side: Side) -> Path:
    target = side.workdir / f"baseline-{HOOKS_BASELINE_REF}"
    if not (target / "graflow_core").exists():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "archive", HOOKS_BASELINE_REF, "graflow_core"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target


def bench_hooks(side: Side, reps: int, log) -> dict:
    if side.key != OURS:
        return {"metrics": {}, "notes": ["not applicable: Graflow 0.2 has no plugin hooks"]}
    baseline = _hooks_baseline(side)
    s: dict[str, list[float]] = {}
    for i in range(reps):
        r = side.run("hooks.py", "none", str(HOOKS_N), env={"PYTHONPATH": str(baseline)})
        if not str(r.get("module_file", "")).startswith(str(baseline)):
            raise BenchError(f"baseline run imported {r.get('module_file')}, not {baseline}")
        s.setdefault("per_task_us_baseline", []).append(r["run_s"] / r["n"] * 1e6)
        for mode in HOOK_MODES:
            r = side.run("hooks.py", mode, str(HOOKS_N))
            s.setdefault(f"per_task_us_{mode}", []).append(r["run_s"] / r["n"] * 1e6)
            s.setdefault(f"first_run_ms_{mode}", []).append(r["first_run_s"] * 1e3)
            for key, scale, metric in (
                ("hook_call_direct_s", 1e6, "hook_call_direct_us"),
                ("hook_call_pluggy_s", 1e6, "hook_call_pluggy_us"),
                ("discovery_scan_s", 1e3, "discovery_scan_ms"),
                ("plugin_load_s", 1e3, "plugin_load_ms"),
            ):
                if key in r:
                    s.setdefault(metric, []).append(r[key] * scale)
        log(
            f"  hooks rep {i + 1}/{reps}: baseline {s['per_task_us_baseline'][-1]:.2f}, "
            + ", ".join(f"{m} {s[f'per_task_us_{m}'][-1]:.2f}" for m in HOOK_MODES)
            + " us/task"
        )
    entry = _summarise(s, n=HOOKS_N, repeats=reps, baseline_ref=HOOKS_BASELINE_REF)
    metrics = entry["metrics"]
    base, none = metrics.get("per_task_us_baseline"), metrics.get("per_task_us_none")
    if base and none:
        metrics["zero_plugin_overhead_pct"] = (none / base - 1.0) * 100.0
    return entry


# The neutral workflow spec: graflow_core only (Graflow 0.2 has none).
SPEC_N = 500


def bench_spec(side: Side, reps: int, log) -> dict:
    if side.key != OURS:
        return {"metrics": {}, "notes": ["not applicable: Graflow 0.2 has no workflow spec"]}
    s: dict[str, list[float]] = {}
    info: dict = {}
    for i in range(reps):
        r = side.run("spec_build.py", str(SPEC_N))
        for key in ("first_build", "build", "to_json", "from_json", "load", "preflight"):
            s.setdefault(f"{key}_ms", []).append(r[f"{key}_s"] * 1e3)
        info = r
        log(f"  spec rep {i + 1}/{reps}: build {s['build_ms'][-1]:.1f} ms ({r['n']} tasks)")
    return _summarise(s, n=info.get("n"), repeats=reps, module_file=info.get("module_file"))


# Bridges and plugins: graflow_core only (Graflow 0.2 has no bridges). Each script in
# benchmarks/ does its own warm-up and repetitions, alternating bridged and hand-written
# native runs in one process so that machine load hits both alike; the runner collects the
# JSON each prints. (script, full arguments, quick arguments)
INTEGRATION_SCRIPTS: dict[str, tuple[str, list[str], list[str]]] = {
    "airflow": ("airflow_bench.py", [], ["--runs", "3", "--warmup", "1", "--parse-runs", "3"]),
    "airflow_operator": ("airflow_operator_bench.py", [], ["--runs", "2"]),
    "prefect": ("prefect_bench.py", [], ["--runs", "3", "--warmup", "1"]),
    "dagster": ("dagster_bench.py", [], ["--runs", "5", "--warmup", "1"]),
    "steps": ("steps_bench.py", [], []),
    "migrate": ("migrate_bench.py", [], ["--repeat", "3"]),
    "plugins": ("plugins_bench.py", [], ["--n", "2000", "--repeats", "3"]),
    "imports": ("imports_bench.py", [], ["--runs", "2"]),
    "engines": ("engines_bench.py", [], ["--runs", "2"]),
}
INTEGRATION_TIMEOUT_S = 1500.0


def _script_json(stdout: str) -> dict:
    """The result a benchmark script printed: a ``BENCH_RESULT`` line or its last JSON object."""
    lines = stdout.splitlines()
    for line in reversed(lines):
        if line.startswith("BENCH_RESULT "):
            return json.loads(line[len("BENCH_RESULT ") :])
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].startswith("{"):
            try:
                return json.loads("\n".join(lines[i:]))
            except ValueError:
                continue
    raise BenchError(f"no JSON result in the output; tail: {stdout[-500:]!r}")


def bench_integrations(side: Side, reps: int, log) -> dict:
    if side.key != OURS:
        return {"metrics": {}, "notes": ["not applicable: Graflow 0.2 has no bridges or plugins"]}
    scripts: dict[str, dict] = {}
    errors: dict[str, str] = {}
    env = side.env()
    env.pop("GRAFLOW_DISABLE_PLUGIN_AUTOLOAD", None)  # as users run them: plugins discovered
    for name, (script, full, quick) in INTEGRATION_SCRIPTS.items():
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(
                [str(side.python), str(HERE / script), *(full if reps else quick)],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=INTEGRATION_TIMEOUT_S,
            )
            if proc.returncode != 0:
                raise BenchError(_error_text(proc))
            scripts[name] = _script_json(proc.stdout)
            log(f"  {name}: {time.perf_counter() - t0:.0f} s")
        except (BenchError, subprocess.TimeoutExpired, ValueError) as e:
            errors[name] = str(e)[-600:]
            log(f"  {name}: ERROR {errors[name][-200:]}")
    metrics = {}
    for _row_bench, metric, path, *_rest in INTEGRATION_ROWS:
        value = _dig(scripts, path)
        if value is not None:
            metrics[metric] = value
    entry: dict = {"metrics": metrics, "scripts": scripts, "quick": not reps}
    if errors:
        entry["script_errors"] = errors
    return entry


def _dig(data: dict, path: str):
    node = data
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node if isinstance(node, (int, float)) else None


# (section, metric, path in the scripts' JSON, label, unit, target, target_value)
INTEGRATION_ROWS = [
    (
        "Airflow",
        "airflow_ratio",
        "airflow.ratio",
        "rendered DAG ÷ hand-written TaskFlow DAG, `dag.test()` wall time (8 tasks, fan-out/fan-in)",
        "×",
        "≤ 1.10×",
        1.10,
    ),
    (
        "Airflow",
        "airflow_parse_500_s",
        "airflow.parse_500_tasks_s",
        "exported DAG file of a 500-task workflow: parse time in Airflow's DagBag",
        "s",
        "≤ 1 s",
        1.0,
    ),
    (
        "Airflow",
        "airflow_import_ms",
        "airflow.import_graflow_airflow_ms",
        "`import graflow_airflow` on top of `import airflow`",
        "ms",
        "≤ 30 ms",
        30.0,
    ),
    (
        "Airflow",
        "airflow_operator_ratio",
        "airflow_operator.operator_vs_taskflow_ratio",
        "`GraflowOperator` (whole workflow in one task, checkpoint after each task) ÷ the TaskFlow DAG",
        "×",
        "",
        None,
    ),
    (
        "Prefect",
        "prefect_ratio",
        "prefect.ratio",
        "bridged flow ÷ hand-written Prefect flow, wall time per flow run (same server)",
        "×",
        "≤ 1.10×",
        1.10,
    ),
    (
        "Dagster",
        "dagster_ratio",
        "dagster.ratio",
        "bridged job ÷ hand-written job, `execute_in_process` wall time",
        "×",
        "≤ 1.10×",
        1.10,
    ),
    ("Dagster", "dagster_cpu_ratio", "dagster.cpu_ratio", "… the same, CPU time", "×", "", None),
    (
        "Static targets",
        "steps_run_step_us",
        "steps.run_step_us",
        "`run_step` (one graflow task as one native task, payload in and out)",
        "µs",
        "",
        None,
    ),
    (
        "Migration",
        "migrate_1000_lines_s",
        "migrate.median_s",
        "`graflow-migrate prefect` on a 1,000-line flow file",
        "s",
        "≤ 1 s",
        1.0,
    ),
    (
        "Plugins",
        "metrics_overhead_us",
        "plugins.metrics.metrics.overhead_us",
        "graflow-metrics: added time per task (CPU)",
        "µs",
        "≤ 20 µs",
        20.0,
    ),
    (
        "Plugins",
        "langchain_overhead_us",
        "plugins.langchain.langchain_task_type.overhead_us",
        "graflow-langchain task type: added time per Runnable call",
        "µs",
        "",
        None,
    ),
    (
        "Plugins",
        "mlflow_critical_us",
        "plugins.mlflow.critical_path_overhead_us_per_task",
        "graflow-mlflow (SQLite store): time added to each task (its store writes run in a background thread)",
        "µs",
        "",
        None,
    ),
    (
        "Plugins",
        "mlflow_marginal_us",
        "plugins.mlflow.marginal_overhead_us_per_task",
        "… whole-run time added per task: the run's end waits for ~3 store writes per task",
        "µs",
        "",
        None,
    ),
    (
        "Plugins",
        "mlflow_per_run_ms",
        "plugins.mlflow.per_run_ms",
        "graflow-mlflow: fixed cost per workflow run",
        "ms",
        "",
        None,
    ),
    (
        "Plugins",
        "wandb_critical_us",
        "plugins.wandb.critical_path_overhead_us_per_task",
        "graflow-wandb (offline): time added to each task",
        "µs",
        "",
        None,
    ),
    (
        "Plugins",
        "wandb_marginal_us",
        "plugins.wandb.marginal_overhead_us_per_task",
        "… whole-run time added per task",
        "µs",
        "",
        None,
    ),
    (
        "Plugins",
        "wandb_per_run_ms",
        "plugins.wandb.per_run_ms",
        "graflow-wandb: fixed cost per workflow run (init + finish)",
        "ms",
        "",
        None,
    ),
]


RUNNERS = {
    "chain": bench_chain,
    "parallel": bench_parallel,
    "import": bench_import,
    "memory": bench_memory,
    "checkpoint": bench_checkpoint,
    "hooks": bench_hooks,
    "spec": bench_spec,
    "integrations": bench_integrations,
}

# Things seen while building the suite (about Graflow 0.2 itself, checked with cProfile).
OBSERVATIONS = [
    "Graflow's per-task cost grows with the length of the run: `ExecutionContext.mark_task_completed` "
    "does `if task_id not in self.completed_tasks` on a list, so a run of N tasks is O(N²). Under "
    "cProfile a 30,000-task chain spends ~4.6 s of 7.3 s there; hence the much higher per-task time "
    "at 100,000 tasks than at 10,000.",
    "Graflow's default `wf.execute(max_steps=10000)` would silently stop a chain of more than 10,000 tasks "
    "early (no error); every program passes `max_steps=10**7` and checks that all tasks ran.",
    "The reference machine is small and shared (2 CPUs); repetitions of the threaded parallel "
    "benchmark vary by ±20-30% under load. Every sample is kept in `results/latest.json`.",
    "`import graflow` loads ~450 modules (mostly networkx, plus cloudpickle, cachetools, email, xml, ...) before any workflow exists.",
]

# (benchmark, metric, label, unit, target, target_value) -- all metrics are lower-is-better.
ROWS = [
    (
        "chain",
        "per_task_us",
        f"chain of {CHAIN_N:,} no-op tasks: run time per task",
        "µs",
        "≤ 10 µs",
        10.0,
    ),
    (
        "chain",
        "build_ms",
        f"chain of {CHAIN_N:,}: build time (`with workflow` + `>>`)",
        "ms",
        "",
        None,
    ),
    (
        "parallel",
        "per_task_us",
        f"`src >> parallel({PARALLEL_N:,} tasks) >> sink`: run time per task",
        "µs",
        "≤ 30 µs",
        30.0,
    ),
    ("parallel", "build_ms", f"parallel group of {PARALLEL_N:,}: build time", "ms", "", None),
    ("import", "import_ms", "`import <pkg>` (in-process, fresh process)", "ms", "≤ 30 ms", 30.0),
    (
        "import",
        "user_import_ms",
        "`from <pkg> import task, workflow` (in-process)",
        "ms",
        "≤ 30 ms",
        30.0,
    ),
    ("import", "process_wall_ms", '`python -c "import <pkg>"` process wall time', "ms", "", None),
    (
        "import",
        "python_startup_ms",
        '`python -c "pass"` (interpreter start-up, for reference)',
        "ms",
        "",
        None,
    ),
    ("memory", "peak_rss_mb", "chain of {n}: peak RSS (build + run)", "MB", "< 500 MB", 500.0),
    ("memory", "per_task_us", "chain of {n}: run time per task", "µs", "", None),
    (
        "checkpoint",
        "write_ms",
        f"checkpoint, {CHECKPOINT_N:,} channel keys: write (first in process)",
        "ms",
        "",
        None,
    ),
    (
        "checkpoint",
        "resume_ms",
        f"checkpoint, {CHECKPOINT_N:,} channel keys: resume (first in process)",
        "ms",
        "",
        None,
    ),
    (
        "checkpoint",
        "write_resume_ms",
        f"checkpoint, {CHECKPOINT_N:,} channel keys: write + resume (first in process, signed)",
        "ms",
        "≤ 100 ms",
        100.0,
    ),
    (
        "checkpoint",
        "write_resume_ms_unsigned",
        "… the same, unsigned (`GRAFLOW_INSECURE_UNSIGNED_CHECKPOINTS=1`)",
        "ms",
        "",
        None,
    ),
    (
        "checkpoint",
        "write_again_ms",
        "checkpoint: write again (same process, warm; median of 5)",
        "ms",
        "",
        None,
    ),
    (
        "checkpoint",
        "resume_again_ms",
        "checkpoint: resume again (same process, warm)",
        "ms",
        "",
        None,
    ),
    (
        "checkpoint",
        "write_resume_again_ms",
        "checkpoint: write + resume again (warm, signed)",
        "ms",
        "",
        None,
    ),
    (
        "checkpoint",
        "write_resume_again_ms_unsigned",
        "… the same, unsigned",
        "ms",
        "",
        None,
    ),
    (
        "checkpoint",
        "signing_overhead_write_resume_pct",
        "signing overhead: signed ÷ unsigned write + resume − 1 (first in process)",
        "%",
        "≤ 10%",
        10.0,
    ),
    (
        "checkpoint",
        "signing_overhead_write_resume_again_pct",
        "signing overhead (warm)",
        "%",
        "≤ 10%",
        10.0,
    ),
    (
        "checkpoint",
        "write_resume_cpu_ms",
        "checkpoint write + resume, CPU time (first in process, signed)",
        "ms",
        "",
        None,
    ),
    (
        "checkpoint",
        "signing_overhead_write_resume_cpu_pct",
        "signing overhead in CPU time (first in process; wall time above includes fsync waits)",
        "%",
        "≤ 10%",
        10.0,
    ),
    (
        "checkpoint",
        "signing_overhead_write_resume_again_cpu_pct",
        "signing overhead in CPU time (warm)",
        "%",
        "≤ 10%",
        10.0,
    ),
    ("checkpoint", "size_kb", "checkpoint files, total size", "KB", "", None),
    (
        "hooks",
        "per_task_us_none",
        f"chain of {HOOKS_N:,}, no plugin: run time per task (best of 3 runs in a process)",
        "µs",
        "",
        None,
    ),
    (
        "hooks",
        "per_task_us_baseline",
        f"… the same with the engine before hooks existed ({HOOKS_BASELINE_REF})",
        "µs",
        "",
        None,
    ),
    (
        "hooks",
        "zero_plugin_overhead_pct",
        "hooks with zero plugins: overhead on the per-task benchmark",
        "%",
        "≤ 10%",
        10.0,
    ),
    (
        "hooks",
        "per_task_us_observer",
        "… one plugin with task_start + task_end (no-ops)",
        "µs",
        "",
        None,
    ),
    (
        "hooks",
        "per_task_us_host",
        "… one plugin hosting every task (execute_task → invoke())",
        "µs",
        "",
        None,
    ),
    (
        "hooks",
        "first_run_ms_none",
        f"first run of the {HOOKS_N:,}-task chain in a process (no plugin, autoload off)",
        "ms",
        "",
        None,
    ),
    (
        "hooks",
        "discovery_scan_ms",
        "plugin discovery: the entry_points.txt scan a first run does (this venv's sys.path)",
        "ms",
        "",
        None,
    ),
    (
        "hooks",
        "plugin_load_ms",
        "first run with every integration installed: finding, importing and registering the "
        "7 entry-point plugins (3 bridges, 4 plugins), pluggy included (once per process)",
        "ms",
        "",
        None,
    ),
    ("hooks", "hook_call_direct_us", "one hook call, direct dispatch", "µs", "", None),
    ("hooks", "hook_call_pluggy_us", "… the same through pluggy's caller", "µs", "", None),
    (
        "spec",
        "first_build_ms",
        f"spec of a {SPEC_N}-task workflow: first build in a process (incl. importing the spec package)",
        "ms",
        "",
        None,
    ),
    ("spec", "build_ms", "… build_spec (warm, best of 7)", "ms", "≤ 50 ms", 50.0),
    ("spec", "to_json_ms", "… to_json", "ms", "", None),
    ("spec", "from_json_ms", "… from_json", "ms", "", None),
    ("spec", "load_ms", "… load_workflow (spec → runnable workflow)", "ms", "", None),
    ("spec", "preflight_ms", "… preflight", "ms", "", None),
]


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def _engines_table(engines: dict | None) -> list[str]:
    """The one-workflow-on-every-engine table of ``engines_bench.py`` (empty when not run)."""
    if not engines:
        return []
    lines = [
        "",
        "### One workflow on every engine",
        "",
        f"The catalogue's `{engines.get('example')}` workflow through `run_on(target, ...)`: the "
        "graflow engine, and each bridge's local run on the real orchestrator (one native task "
        "per graflow task; Airflow `dag.test()` on SQLite, a Prefect flow run on Prefect's "
        "temporary local server, Dagster `execute_in_process()` on an ephemeral instance). One "
        "process per engine, one engine at a time; the first run (imports, database, server) "
        f"is shown apart; median of {engines.get('runs')} runs after it, each checked against "
        "the expected result and channel (`engines_bench.py`). The bridges' cost against "
        "hand-written equivalents on the same orchestrator is in the table above.",
        "",
        "| engine | first run (set-up included) | wall time per run | per graflow task | orchestrator tasks | ÷ graflow engine |",
        "|---|---|---|---|---|---|",
    ]
    for name in ("graflow", "airflow", "prefect", "dagster"):
        row = engines.get(name)
        if not isinstance(row, dict):
            continue
        if "error" in row:
            lines.append(f"| {name} | **error**: `{row['error'][-120:]}` | | | | |")
            continue
        ratio = row.get("vs_graflow")
        lines.append(
            f"| {name} | {_fmt(row['first_run_s'] * 1e3, 'ms')} | {_fmt(row['wall_s'] * 1e3, 'ms')} "
            f"| {_fmt(row['per_task_ms'], 'ms')} | {row['native_tasks']} "
            f"| {'' if ratio is None else f'{ratio:g}×'} |"
        )
    return lines


def _import_table(imports: dict | None) -> list[str]:
    """The import-time table of ``imports_bench.py``'s result (empty when it did not run)."""
    if not imports:
        return []
    lines = [
        "",
        "### Import times",
        "",
        f"Fresh processes, medians of {imports.get('runs')} (`imports_bench.py`). "
        f"`import graflow_core`: {_fmt(imports.get('graflow_core_ms'), 'ms')}. "
        "*Library* is what a hand-written program imports (`airflow.sdk`, `prefect.flows` + "
        "`prefect.tasks`, `dagster`, `mlflow`, `wandb`, `langchain_core.runnables`); *package "
        "alone* must not import the library; *on top* is the integration's working module "
        "imported after the library.",
        "",
        "| integration | library | graflow package alone | imports the library? | package on top of the library |",
        "|---|---|---|---|---|",
    ]
    for name, row in imports.items():
        if not isinstance(row, dict):
            continue
        if "skipped" in row:
            lines.append(f"| {name} | {row['skipped']} | | | |")
            continue
        leaked = "**yes** ❌" if row.get("package_imports_library") else "no ✅"
        lines.append(
            f"| {name} | {_fmt(row.get('library_ms'), 'ms')} | {_fmt(row.get('package_ms'), 'ms')} "
            f"| {leaked} | {_fmt(row.get('on_top_ms'), 'ms')} |"
        )
    return lines


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    if unit == "µs":
        return f"{value:.2f} µs" if value < 100 else f"{value:.0f} µs"
    if unit == "ms":
        return f"{value:.1f} ms" if value < 1000 else f"{value / 1000:.2f} s"
    if unit == "MB":
        return f"{value:.0f} MB"
    if unit == "%":
        return f"{value:+.1f}%"
    if unit == "KB":
        return f"{value:.0f} KB" if value < 10240 else f"{value / 1024:.1f} MB"
    return f"{value:.3g} {unit}"


def _cell(entry: dict | None, metric: str, unit: str) -> str:
    if entry is None:
        return "not run"
    if "error" in entry:
        # The table gets the exception line only; latest.json has the traceback tail.
        text = entry["error"].split(" | ")[-1].replace("|", "\\|").replace("\n", " ")
        return f"**error**: `{text[:200]}`"
    return _fmt(entry["metrics"].get(metric), unit)


def _n_text(entries: dict, bench: str) -> str:
    ns = sorted({e.get("n") for e in entries.values() if e and "n" in e}, reverse=True)
    return " / ".join(f"{n:,}" for n in ns) if ns else f"{MEMORY_N:,}"


def render_readme(data: dict) -> str:
    res = data.get("results", {})
    m = data.get("machine", {})
    lines = [
        "# Benchmarks: graflow_core vs Graflow 0.2",
        "",
        "<!-- Generated by benchmarks/run.py; edit the runner, not this file. -->",
        "",
        "Run everything (both sides, one run; creates the Graflow venv on first use):",
        "",
        "```",
        "python3 benchmarks/run.py            # full run, ~5 minutes",
        "python3 benchmarks/run.py --quick    # fewer repetitions",
        "python3 benchmarks/run.py --only chain --only import   # a subset",
        "python3 benchmarks/run.py --skip-graflow               # graflow_core only",
        "```",
        "",
        f"Last run: {data.get('date', '?')}. Raw numbers, samples and errors: "
        "[`results/latest.json`](results/latest.json).",
        "",
        "| metric | graflow_core | Graflow 0.2 | target | Graflow ÷ graflow_core |",
        "|---|---|---|---|---|",
    ]
    for bench, metric, label, unit, target, target_value in ROWS:
        entries = res.get(bench, {})
        ours, theirs = entries.get(OURS), entries.get(THEIRS)
        if "{n}" in label:
            label = label.format(n=_n_text(entries, bench))
        ratio = ""
        try:
            a = ours["metrics"][metric]
            b = theirs["metrics"][metric]
            if a and b and ours.get("n", 0) == theirs.get("n", 0):
                ratio = f"{b / a:.1f}×"
            elif a and b:
                ratio = "(different n)"
        except (KeyError, TypeError):
            pass
        ours_cell = _cell(ours, metric, unit)
        if target_value is not None and ours and "metrics" in ours:
            v = ours["metrics"].get(metric)
            if v is not None:
                ours_cell += " ✅" if v <= target_value else " ❌"
        lines.append(
            f"| {label} | {ours_cell} | {_cell(theirs, metric, unit)} | {target} | {ratio} |"
        )
    lines += ["", "Medians over fresh processes. Repetitions and sizes per benchmark:", ""]
    for bench in BENCHMARKS:
        for side in (OURS, THEIRS):
            e = res.get(bench, {}).get(side)
            if not e:
                continue
            bits = [f"measured {e.get('measured_at', '?')}"]
            if "repeats" in e:
                bits.append(f"{e['repeats']} repetition(s)")
            if "n" in e:
                bits.append(f"n={e['n']:,}")
            if e.get("modules_loaded") is not None:
                bits.append(f"{e['modules_loaded']} modules loaded by `import`")
            bits += e.get("notes", [])
            lines.append(f"- **{bench}**, {SIDE_LABEL[side]}: " + "; ".join(bits))
    integ = res.get("integrations", {}).get(OURS)
    lines += [
        "",
        "## Bridges and plugins (graflow_core only)",
        "",
        "Each bridged run is compared with a hand-written native equivalent doing the same work, "
        "in one process, alternating after warm-up runs (the scripts in `benchmarks/`; "
        "`--only integrations`). Medians.",
        "",
    ]
    if not integ:
        lines.append("Not run yet.")
    elif "error" in integ:
        lines.append(f"**error**: `{integ['error'][:300]}`")
    else:
        lines += ["| | metric | graflow_core | target |", "|---|---|---|---|"]
        for section, metric, path, label, unit, target, target_value in INTEGRATION_ROWS:
            value = integ["metrics"].get(metric)
            if value is None:
                value = _dig(integ.get("scripts", {}), path)
            if value is None:
                cell = (
                    "**error**" if section.lower() in str(integ.get("script_errors", {})) else "–"
                )
            else:
                cell = (
                    f"{value:.2f}×"
                    if unit == "×"
                    else _fmt(value * 1000 if unit == "s" else value, "ms" if unit == "s" else unit)
                )
                if target_value is not None:
                    cell += " ✅" if value <= target_value else " ❌"
            lines.append(f"| {section} | {label} | {cell} | {target} |")
        lines.append("")
        lines.append(
            f"Measured {integ.get('measured_at', '?')}"
            + (" with `--quick` settings" if integ.get("quick") else "")
            + "; every script's full output is in `results/latest.json`."
        )
        for name, err in integ.get("script_errors", {}).items():
            lines.append(f"- **{name}** failed: `{err[-200:]}`")
        lines += _engines_table(integ.get("scripts", {}).get("engines"))
        lines += _import_table(integ.get("scripts", {}).get("imports"))
    lines += [
        "",
        "## Observations",
        "",
        *[f"- {o}" for o in OBSERVATIONS],
        "",
        "## Machine",
        "",
        f"- CPUs (nproc): {m.get('nproc')}; CPU: {m.get('cpu_model', '?')}",
        f"- OS: {m.get('platform', '?')}",
    ]
    for side in (OURS, THEIRS):
        v = m.get("sides", {}).get(side)
        if v:
            lines.append(
                f"- {SIDE_LABEL[side]}: Python {v.get('python')}, {v.get('version_info', '')}"
            )
    if m.get("git_commit"):
        lines.append(f"- graflow_core commit: `{m['git_commit']}`")
    lines += [
        "",
        "## Method",
        "",
        "- Every program in `benchmarks/programs/` is written once, against Graflow's API "
        "(`from graflow.core.decorators import task`, ...). Graflow runs it unchanged in "
        "`benchmarks/.envs/graflow02` (`pip install graflow==0.2.0`); graflow_core runs the same file "
        "in `.venv` with only its import lines rewritten (`graflow` → `graflow_core`, "
        "`import graflow` → `import graflow_core as graflow`). Each program checks that every task ran.",
        '- `chain`: `N` tasks `task(id=f"t{i}")(noop)` built inside `with workflow("bench") as wf:` '
        'and linked pairwise with `>>`; timed `wf.execute(start_node="t0", max_steps=10**7)`; '
        "per-task = run time / N. Build time is reported separately.",
        "- The engine rows run with `GRAFLOW_DISABLE_PLUGIN_AUTOLOAD=1`: the benchmark venv has all "
        "eight integrations installed, and what loading their entry points costs the first run "
        "of a process is its own row (`hooks`: first run with every integration installed). "
        "Without any integration installed that cost is the entry-point scan alone.",
        "- `parallel`: `src >> parallel(*members) >> sink` with default execution settings "
        "(Graflow: thread pool of `cpu_count()` threads, one branch context per member); "
        "per-task = run time / number of members.",
        "- `import`: `time.perf_counter()` around the import statement inside a fresh process, "
        'plus the wall time of a whole `python -c "import ..."` process as seen by the runner. '
        "Only `sys` and `time` are imported before the timed statement; one untimed warm-up run "
        "first, and `PYTHONDONTWRITEBYTECODE` is removed from the environment so both sides import "
        "from cached bytecode.",
        "- `memory`: the `chain` program with N=100,000; `ru_maxrss` at the end of the process "
        "(includes the interpreter and the imported packages). A side that needs more than "
        f"{MEMORY_TIME_LIMIT_S:.0f} s falls back to a smaller N (noted above).",
        "- `checkpoint`: a two-task workflow run with `ret_context=True` and "
        f"`initial_channel` holding {CHECKPOINT_N:,} keys (small dicts); timed "
        "`CheckpointManager.create_checkpoint(ctx, path=...)` and "
        "`CheckpointManager.resume_from_checkpoint(pkl_path)`; the program checks the restored keys. "
        "The first write/resume in a process includes whatever the package imports lazily for it "
        "(graflow_core imports cloudpickle on first use; Graflow has it loaded by `import graflow`); "
        "five more write + resume rounds to new paths in the same process show the steady state "
        "(their median). "
        "graflow_core writes each file via temp file + fsync + rename + directory fsync; Graflow "
        "writes in place without fsync. graflow_core signs the checkpoint (HMAC-SHA256 over the "
        "pickle and a manifest with the SHA-256 of both JSON files, verified before unpickling): "
        "each repetition runs the program twice on graflow_core, signed (a benchmark-only "
        "`GRAFLOW_SECRET_KEY`) and unsigned (`GRAFLOW_INSECURE_UNSIGNED_CHECKPOINTS=1`, which "
        "still checksums with SHA-256); the overhead rows compare the two medians.",
        "",
    ]
    return "\n".join(lines)


def machine_info(sides: dict[str, Side]) -> dict:
    info = {
        "nproc": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "runner_python": sys.version.split()[0],
        "sides": {},
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    with contextlib.suppress(OSError):
        info["git_commit"] = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
    probe = (
        "import sys, importlib.metadata as m\n"
        "v = {}\n"
        "for d in ('graflow', 'graflow-core', 'networkx', 'cloudpickle'):\n"
        "    try: v[d] = m.version(d)\n"
        "    except Exception: pass\n"
        "print(sys.version.split()[0]); print(', '.join(f'{k} {x}' for k, x in v.items()))\n"
    )
    for key, side in sides.items():
        if side.error:
            continue
        try:
            out = side.run_raw(["-c", probe]).stdout.splitlines()
            info["sides"][key] = {"python": out[0], "version_info": out[1] if len(out) > 1 else ""}
        except BenchError as e:
            info["sides"][key] = {"python": "?", "version_info": str(e)}
    return info


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="fewer repetitions")
    ap.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help=f"run only these benchmarks ({', '.join(BENCHMARKS)}); repeatable or comma-separated",
    )
    ap.add_argument("--skip-graflow", action="store_true", help="measure graflow_core only")
    ap.add_argument(
        "--ours-python",
        default=str(ROOT / ".venv" / "bin" / "python"),
        help="interpreter for graflow_core (default: .venv/bin/python)",
    )
    args = ap.parse_args(argv)

    only = [n.strip() for item in args.only for n in item.split(",") if n.strip()]
    unknown = [n for n in only if n not in BENCHMARKS]
    if unknown:
        ap.error(f"unknown benchmark(s) {unknown}; choose from {', '.join(BENCHMARKS)}")
    selected = [b for b in BENCHMARKS if not only or b in only]
    repeats = QUICK_REPEATS if args.quick else REPEATS

    def log(msg: str) -> None:
        print(msg, flush=True)

    sides: dict[str, Side] = {}
    ours_py = Path(args.ours_python)
    sides[OURS] = Side(OURS, ours_py, "graflow_core")
    if not ours_py.exists():
        sides[OURS].error = f"{ours_py} not found; run `python3 dev.py setup` first"
    if not args.skip_graflow:
        try:
            sides[THEIRS] = Side(THEIRS, ensure_graflow_env(log), "graflow")
        except (BenchError, subprocess.CalledProcessError, OSError) as e:
            sides[THEIRS] = Side(THEIRS, GRAFLOW_ENV / "bin" / "python", "graflow")
            sides[THEIRS].error = f"Graflow environment unavailable: {e}"

    data = {}
    if LATEST.exists():
        try:
            data = json.loads(LATEST.read_text())
        except ValueError:
            data = {}
    now = _dt.datetime.now().astimezone().isoformat(timespec="seconds")
    data["date"] = now
    data["machine"] = machine_info(sides)
    data.setdefault("results", {})

    try:
        for bench in selected:
            for key, side in sides.items():
                log(f"[{bench}] {SIDE_LABEL[key]}")
                if side.error:
                    entry = {"error": side.error}
                else:
                    t0 = time.perf_counter()
                    try:
                        entry = RUNNERS[bench](side, repeats[bench], log)
                    except (BenchError, ValueError, KeyError, TypeError) as e:
                        entry = {
                            "error": f"{type(e).__name__}: {e}"
                            if not isinstance(e, BenchError)
                            else str(e)
                        }
                        log(f"  ERROR: {entry['error']}")
                    entry["elapsed_s"] = round(time.perf_counter() - t0, 2)
                entry["measured_at"] = now
                data["results"].setdefault(bench, {})[key] = entry
    finally:
        for side in sides.values():
            side.cleanup()

    RESULTS.mkdir(parents=True, exist_ok=True)
    tmp = LATEST.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    tmp.replace(LATEST)
    README.write_text(render_readme(data))
    log(f"wrote {LATEST.relative_to(ROOT)} and {README.relative_to(ROOT)}")
    print()
    print("\n".join(ln for ln in README.read_text().splitlines() if ln.startswith("|")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
