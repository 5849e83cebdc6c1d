"""Fixtures of the step-runtime tests."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

import pytest

# The random-workflow strategies and sample tasks of the spec tests are reused here.
_SPEC_TESTS = str(Path(__file__).resolve().parent.parent / "spec")
if _SPEC_TESTS not in sys.path:
    sys.path.insert(0, _SPEC_TESTS)


@pytest.fixture
def signing_key(monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh GRAFLOW_SECRET_KEY for this test (spawned step processes inherit it)."""
    from graflow_core.signing import INSECURE_ENV, KEY_ENV, KEY_FALLBACKS_ENV

    key = secrets.token_hex(32)
    monkeypatch.setenv(KEY_ENV, key)
    monkeypatch.delenv(KEY_FALLBACKS_ENV, raising=False)
    monkeypatch.delenv(INSECURE_ENV, raising=False)
    return key


@pytest.fixture
def store_dir(tmp_path: Path) -> str:
    """A value-store directory for this test."""
    path = tmp_path / "values"
    path.mkdir()
    return str(path)
