"""Never crash on valid Python: convert a deterministic sample of the installed Prefect and
Airflow sources (real-world code full of flows, tasks, DAGs and odd syntax) with both front
ends. Every conversion must finish without an exception and produce code that compiles
(``migrate_source`` compiles its output and raises on invalid code).

The sample is 40 files that use flows, tasks or DAGs plus every n-th other file in sorted
order, 120 files, to keep this under ~30 s;
set GRAFLOW_MIGRATE_FUZZ_ALL=1 to convert every file (about 2,000, several minutes).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from graflow_migrate import migrate_source

SAMPLE = 120


def _site_files() -> list[tuple[str, Path]]:
    files: list[tuple[str, Path]] = []
    for package in ("prefect", "airflow"):
        try:
            spec = __import__("importlib.util").util.find_spec(package)
        except (ImportError, ValueError):
            continue
        if spec is None or not spec.submodule_search_locations:
            continue
        root = Path(next(iter(spec.submodule_search_locations)))
        files += [(package, p) for p in sorted(root.rglob("*.py"))]
    return files


FILES = _site_files()


_MARKERS = ("@flow", "@task", "@dag", "DAG(", "PythonOperator(")


def _sample() -> list[tuple[str, Path]]:
    """Up to 40 files that use flows/tasks/DAGs, then every n-th of the rest (deterministic)."""
    if os.environ.get("GRAFLOW_MIGRATE_FUZZ_ALL") == "1" or len(FILES) <= SAMPLE:
        return FILES
    rich, rest = [], []
    for item in FILES:
        text = item[1].read_text(encoding="utf-8", errors="replace")
        (rich if any(m in text for m in _MARKERS) else rest).append(item)
    rich = rich[:: max(1, len(rich) // 40)][:40]
    step = len(rest) / (SAMPLE - len(rich))
    return rich + [rest[int(i * step)] for i in range(SAMPLE - len(rich))]


@pytest.mark.skipif(not FILES, reason="neither prefect nor airflow is installed")
def test_site_packages_convert_without_exceptions() -> None:
    failures: list[str] = []
    converted = 0
    for index, (package, path) in enumerate(_sample()):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        frontends = [package] + (
            ["airflow" if package == "prefect" else "prefect"] if index % 4 == 0 else []
        )
        for frontend in frontends:
            try:
                migrate_source(text, frontend, path=str(path))
                converted += 1
            except Exception as exc:  # every exception is a failure, GraflowError included
                failures.append(f"{frontend} {path}: {type(exc).__name__}: {exc}")
    assert not failures, "\n".join(failures[:20])
    assert converted >= min(len(FILES), SAMPLE) * 0.9


def test_sample_contains_real_flows_and_dags() -> None:
    """The sample is not trivially easy: it converts files that define flows/tasks/DAGs."""
    texts = [p.read_text(encoding="utf-8", errors="replace") for _, p in _sample()]
    assert sum(any(m in t for m in _MARKERS) for t in texts) >= 30
