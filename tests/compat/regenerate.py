#!/usr/bin/env python3
"""Re-record the differential goldens in ``tests/compat/expected/``.

Every program in ``tests/compat/programs/`` is written against Graflow's import paths
(``from graflow.core.decorators import task``). This script runs each one under real Graflow 0.2
(the benchmark venv, ``benchmarks/.envs/graflow02``) and writes its stdout to
``expected/<name>.graflow.txt``::

    .venv/bin/python tests/compat/regenerate.py              # all programs, Graflow goldens
    .venv/bin/python tests/compat/regenerate.py retries      # just one
    .venv/bin/python tests/compat/regenerate.py --core div_max_steps
        # record expected/<name>.graflow_core.txt from graflow_core instead; only for programs
        # whose difference is a documented divergence (list it in DIVERGENCES.md)

``test_against_graflow.py`` imports :func:`rewrite_imports` and :func:`run_program` from here, so
both sides run programs the same way: a fresh interpreter, cwd = a temporary directory, no
``PYTHONPATH``. Standard library only.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROGRAMS = HERE / "programs"
EXPECTED = HERE / "expected"
ROOT = HERE.parents[1]
GRAFLOW_PYTHON = ROOT / "benchmarks" / ".envs" / "graflow02" / "bin" / "python"
TIMEOUT_S = 60

_FROM_RE = re.compile(r"^(?P<indent>[ \t]*)from[ \t]+graflow(?=[ \t.])")
_IMPORT_RE = re.compile(r"^(?P<indent>[ \t]*)import[ \t]+graflow(?=[ \t.]|$)")


def rewrite_imports(source: str, package: str = "graflow_core") -> str:
    """Point the ``graflow`` import lines of ``source`` at ``package``; nothing else changes.

    ``from graflow[.x] import y`` -> ``from <package>[.x] import y`` and ``import graflow.x as y``
    -> ``import <package>.x as y``. Programs only use these two forms (always with ``as`` for a
    plain ``import``), so the body of the program never mentions the package name.
    """
    out = []
    for line in source.splitlines(keepends=True):
        line = _FROM_RE.sub(lambda m: f"{m['indent']}from {package}", line, count=1)
        line = _IMPORT_RE.sub(lambda m: f"{m['indent']}import {package}", line, count=1)
        out.append(line)
    return "".join(out)


def program_names() -> list[str]:
    return sorted(p.stem for p in PROGRAMS.glob("*.py"))


def run_program(
    name: str, python: str | os.PathLike[str], workdir: Path, package: str = "graflow_core"
) -> subprocess.CompletedProcess[str]:
    """Run program ``name`` with ``python`` in ``workdir`` (imports rewritten to ``package``)."""
    source = (PROGRAMS / f"{name}.py").read_text(encoding="utf-8")
    if package != "graflow":
        source = rewrite_imports(source, package)
    script = workdir / f"{name}.py"
    script.write_text(source, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PYTHONIOENCODING"] = "utf-8"
    return subprocess.run(
        [str(python), "-P", str(script)],
        cwd=workdir,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT_S,
        env=env,
        check=False,
    )


def _record(name: str, core: bool) -> bool:
    if core:
        python, package, suffix = sys.executable, "graflow_core", "graflow_core"
    else:
        python, package, suffix = str(GRAFLOW_PYTHON), "graflow", "graflow"
    with tempfile.TemporaryDirectory(prefix=f"compat_{name}_") as tmp:
        proc = run_program(name, python, Path(tmp), package)
    if proc.returncode != 0:
        print(f"FAILED {name} (exit {proc.returncode}) under {package}:\n{proc.stderr}")
        return False
    (EXPECTED / f"{name}.{suffix}.txt").write_text(proc.stdout, encoding="utf-8")
    print(f"recorded {name}.{suffix}.txt")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="programs to record (default: all)")
    parser.add_argument(
        "--core",
        action="store_true",
        help="record <name>.graflow_core.txt from graflow_core (documented divergences only)",
    )
    args = parser.parse_args(argv)
    if not args.core and not GRAFLOW_PYTHON.exists():
        print(f"Graflow venv not found at {GRAFLOW_PYTHON} (python3 benchmarks/run.py creates it)")
        return 2
    if args.core and not args.names:
        parser.error("--core needs explicit program names (documented divergences only)")
    names = args.names or program_names()
    unknown = sorted(set(names) - set(program_names()))
    if unknown:
        parser.error(f"unknown programs: {unknown}")
    EXPECTED.mkdir(exist_ok=True)
    ok = [_record(name, args.core) for name in names]
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
