"""Import times of graflow_core, every bridge and plugin, and what each one wraps.

For each integration, in fresh processes (medians over ``--runs``):

* ``library_ms`` -- importing the library as a hand-written program would (``airflow.sdk``,
  ``prefect.flows`` + ``prefect.tasks``, ``dagster``, ``mlflow``, ``wandb``,
  ``langchain_core.runnables``), for scale;
* ``package_ms`` -- ``import <graflow package>`` alone, and whether that imported the library
  (it must not: bridges and plugins load their library on first use);
* ``on_top_ms`` -- importing the package's working module (the one that renders DAGs / flows /
  jobs, or the tracking plugin) after the library is already imported: what the integration adds.

Usage: python benchmarks/imports_bench.py [--runs N] [--only NAME ...]
Prints one line ``BENCH_RESULT {json}``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

#: name -> (library module a hand-written user imports, graflow package, its working module).
#: The library modules are what ``from prefect import flow, task`` / ``from airflow.sdk import
#: dag`` load, so that "on top" is what the integration adds to a hand-written program.
INTEGRATIONS: dict[str, tuple[str, str, str]] = {
    "airflow": ("airflow.sdk", "graflow_airflow", "graflow_airflow.render"),
    "prefect": ("prefect.flows,prefect.tasks", "graflow_prefect", "graflow_prefect.flow"),
    "dagster": ("dagster", "graflow_dagster", "graflow_dagster.render"),
    "mlflow": ("mlflow", "graflow_mlflow", "graflow_mlflow.tracking"),
    "wandb": ("wandb", "graflow_wandb", "graflow_wandb.tracking"),
    "langchain": ("langchain_core.runnables", "graflow_langchain", "graflow_langchain.task_type"),
}

_PROBE = """
import sys, time, json, importlib
out = {}
names = sys.argv[1:]
t0 = time.perf_counter()
for name in names[0].split(","):
    importlib.import_module(name)
out["first_ms"] = (time.perf_counter() - t0) * 1e3
out["loaded"] = {lib: lib in sys.modules for lib in names[2:]}
if names[1] != "-":
    t0 = time.perf_counter()
    importlib.import_module(names[1])
    out["second_ms"] = (time.perf_counter() - t0) * 1e3
print(json.dumps(out))
"""


def _probe(*names: str) -> dict:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.setdefault("GRAFLOW_DISABLE_PLUGIN_AUTOLOAD", "1")
    env.setdefault("DAGSTER_DISABLE_TELEMETRY", "yes")
    env.setdefault("DO_NOT_TRACK", "1")
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, *names], capture_output=True, text=True, env=env, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"import probe {names} failed: {proc.stderr[-400:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _module_exists(name: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", action="append", choices=sorted(INTEGRATIONS), default=[])
    args = parser.parse_args(argv)
    _probe("graflow_core", "-")  # warm the bytecode caches
    core = [_probe("graflow_core", "-")["first_ms"] for _ in range(args.runs)]
    result: dict = {"runs": args.runs, "graflow_core_ms": round(statistics.median(core), 2)}
    for name, (library, package, module) in INTEGRATIONS.items():
        if args.only and name not in args.only:
            continue
        first_library = library.split(",")[0]
        if not (_module_exists(first_library) and _module_exists(package)):
            result[name] = {"skipped": "not installed"}
            continue
        _probe(library, module)  # warm-up
        lib, top, alone, leaked = [], [], [], False
        for _ in range(args.runs):
            r = _probe(library, module)
            lib.append(r["first_ms"])
            top.append(r["second_ms"])
            top_level = library.partition(".")[0]
            r = _probe(package, "-", top_level)
            alone.append(r["first_ms"])
            leaked = leaked or r["loaded"][top_level]
        result[name] = {
            "library_ms": round(statistics.median(lib), 1),
            "package_ms": round(statistics.median(alone), 2),
            "package_imports_library": leaked,
            "on_top_ms": round(statistics.median(top), 2),
        }
    print("BENCH_RESULT " + json.dumps(result), flush=True)
    return result


if __name__ == "__main__":
    main()
