"""Import time, measured inside a fresh process around the import statement itself.

Usage: python import_time.py {package|user}
  package: ``import graflow``
  user:    ``from graflow import task, workflow`` (what a user's script does)
Written once against Graflow's API; the runner rewrites only the import lines for graflow_core.
"""

import sys
import time

# Nothing else is imported before the timed statement (sys and time are built in), so stdlib
# modules the package needs (re, enum, typing, ...) are charged to the package.

MODE = sys.argv[1] if len(sys.argv) > 1 else "package"
n_modules_before = len(sys.modules)

if MODE == "package":
    t0 = time.perf_counter()
    import graflow

    t1 = time.perf_counter()
    mod = graflow
elif MODE == "user":
    t0 = time.perf_counter()
    from graflow import task, workflow  # noqa: F401

    t1 = time.perf_counter()
    mod = sys.modules[workflow.__module__.split(".")[0]]
else:
    raise SystemExit(f"unknown mode {MODE!r}")

import json  # noqa: E402  (after the measurement on purpose)

print(
    "BENCH_RESULT "
    + json.dumps(
        {
            "mode": MODE,
            "import_s": t1 - t0,
            "modules_loaded": len(sys.modules) - n_modules_before,
            "module_file": mod.__file__,
        }
    )
)
