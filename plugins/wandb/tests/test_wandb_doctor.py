"""graflow-wandb's ``graflow doctor`` checks (W&B is not imported)."""

from __future__ import annotations

from pathlib import Path

import pytest
from graflow_wandb.doctor import diagnose


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("WANDB_MODE", "WANDB_API_KEY", "GRAFLOW_WANDB", "WANDB_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    return tmp_path


def statuses() -> dict[str, str]:
    return {c.name: c.status for c in diagnose()}


def test_offline_is_fine_online_needs_a_key(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert statuses() == {"tracking": "info", "dir": "ok", "mode": "warn"}
    monkeypatch.setenv("GRAFLOW_WANDB", "1")  # tracking on, online, no key: runs would fail
    (mode,) = [c for c in diagnose() if c.name == "mode"]
    assert mode.status == "fail" and "WANDB_MODE=offline" in mode.fix
    monkeypatch.setenv("WANDB_API_KEY", "x" * 40)
    assert statuses()["mode"] == "ok"
    monkeypatch.delenv("WANDB_API_KEY")
    (env / "no-netrc").write_text("machine api.wandb.ai login user password secret\n")
    assert statuses()["mode"] == "ok"
    monkeypatch.setenv("WANDB_MODE", "offline")
    (env / "no-netrc").unlink()
    assert statuses() == {"tracking": "ok", "dir": "ok", "mode": "ok"}


def test_wandb_offline_settings_file_counts(env: Path) -> None:
    (env / "wandb").mkdir()
    (env / "wandb" / "settings").write_text("[default]\nmode = offline\n")
    (mode,) = [c for c in diagnose() if c.name == "mode"]
    assert mode.status == "ok" and "settings" in mode.detail


def test_unwritable_dir(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (env / "f").write_text("x")
    monkeypatch.setenv("WANDB_DIR", str(env / "f" / "sub"))
    (check,) = [c for c in diagnose() if c.name == "dir"]
    assert check.status == "fail" and "WANDB_DIR" in check.fix


def test_both_entry_point_objects_implement_the_hook() -> None:
    from graflow_wandb.plugin import WandbPlugin
    from graflow_wandb.tracking import EnvWandbTracking

    assert [c.name for c in WandbPlugin().diagnose()] == ["tracking", "dir", "mode"]
    assert hasattr(EnvWandbTracking.diagnose, "graflow_impl")  # pluggy's hookimpl marker
