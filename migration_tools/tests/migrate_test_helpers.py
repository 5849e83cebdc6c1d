"""Shared helpers of the graflow-migrate tests: the examples, their golden files, loading."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "migration"

#: (front end, example name, flow/DAG function): every example converted by the tests.
CASES = [
    ("prefect", "etl_retries", "orders_etl"),
    ("prefect", "fanout_map", "score_corpus"),
    ("prefect", "nested_subflows", "nightly"),
    ("prefect", "parameters", "pricing"),
    ("prefect", "conditional", "validate_and_publish"),
    ("prefect", "submit_wait_for", "inventory_sync"),
    ("airflow", "taskflow_etl", "taskflow_etl"),
    ("airflow", "classic_python_operator", "weather_report"),
]

#: Set this environment variable to 1 to rewrite the golden files instead of comparing.
REGEN_ENV = "GRAFLOW_MIGRATE_REGEN"


def source_path(frontend: str, name: str) -> Path:
    """The original example file."""
    return EXAMPLES / frontend / f"{name}.py"


def golden_path(frontend: str, name: str, suffix: str = ".py") -> Path:
    """The checked-in converted file (``.py``) or report (``.report.txt``)."""
    return EXAMPLES / frontend / "migrated" / f"{name}{suffix}"


def relative(path: Path) -> str:
    """``path`` relative to the repository root (how the README runs the commands)."""
    return path.relative_to(ROOT).as_posix()


def regenerate() -> bool:
    """True when the golden files are to be rewritten."""
    return os.environ.get(REGEN_ENV) == "1"


def load_module(path: Path, name: str) -> ModuleType:
    """Import ``path`` as module ``name`` (fresh: a previous import is dropped)."""
    sys.modules.pop(name, None)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
