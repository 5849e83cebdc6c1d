"""Differential tests: our own small programs, recorded under real Graflow 0.2, run on graflow_core.

Each program in ``programs/`` is written against Graflow's import paths. ``regenerate.py``
recorded its stdout under Graflow 0.2 as ``expected/<name>.graflow.txt``. Here the program runs
on graflow_core (import lines rewritten, fresh interpreter, cwd = ``tmp_path``) and its stdout
must equal ``expected/<name>.graflow_core.txt`` when that exists (a documented divergence,
explained in ``DIVERGENCES.md``), else the Graflow golden. The Graflow venv is not needed.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def _load_support():
    spec = importlib.util.spec_from_file_location("_graflow_compat_support", HERE / "regenerate.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


support = _load_support()
NAMES = support.program_names()


def _expected_path(name: str) -> Path:
    core = support.EXPECTED / f"{name}.graflow_core.txt"
    return core if core.exists() else support.EXPECTED / f"{name}.graflow.txt"


def test_every_program_has_a_graflow_golden():
    assert len(NAMES) >= 25
    missing = [n for n in NAMES if not (support.EXPECTED / f"{n}.graflow.txt").exists()]
    assert not missing, f"run tests/compat/regenerate.py for {missing}"


def test_every_core_expectation_is_a_listed_divergence():
    listed = (HERE / "DIVERGENCES.md").read_text(encoding="utf-8")
    for path in sorted(support.EXPECTED.glob("*.graflow_core.txt")):
        name = path.name.removesuffix(".graflow_core.txt")
        assert name in NAMES, f"{path.name} has no program"
        assert re.search(rf"`{re.escape(name)}`", listed), f"{name} missing from DIVERGENCES.md"
        golden = support.EXPECTED / f"{name}.graflow.txt"
        assert path.read_text() != golden.read_text(), f"{name}: identical to the Graflow golden"


def test_rewrite_touches_only_import_lines():
    source = (
        "import graflow.core.engine as engine_mod\n"
        "from graflow.core.decorators import task\n"
        "    from graflow import exceptions as ex\n"
        "print('graflow is not rewritten here')\n"
        "from graflowx import y\n"
    )
    assert support.rewrite_imports(source) == (
        "import graflow_core.core.engine as engine_mod\n"
        "from graflow_core.core.decorators import task\n"
        "    from graflow_core import exceptions as ex\n"
        "print('graflow is not rewritten here')\n"
        "from graflowx import y\n"
    )


@pytest.mark.parametrize("name", NAMES)
def test_program_matches_graflow(name: str, tmp_path: Path):
    expected = _expected_path(name).read_text(encoding="utf-8")
    proc = support.run_program(name, sys.executable, tmp_path)
    assert proc.returncode == 0, f"{name} failed on graflow_core:\n{proc.stderr}"
    assert proc.stdout == expected
