"""W&B tests run offline: a temporary WANDB_DIR per test, no network, no API key."""

from __future__ import annotations

import pytest


@pytest.fixture
def wandb_offline(tmp_path, monkeypatch):
    """WANDB_MODE=offline with files under a temporary directory (returned).

    W&B reads WANDB_DIR once per process (its settings singleton), so tests also pass the
    directory explicitly: ``WandbTracking(dir=wandb_offline)``.
    """
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("WANDB_DISABLE_GIT", "true")
    monkeypatch.delenv("WANDB_PROJECT", raising=False)
    monkeypatch.delenv("GRAFLOW_WANDB", raising=False)
    return tmp_path
