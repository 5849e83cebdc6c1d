"""graflow_core's own entry-point scan finds what importlib.metadata finds, without importing it."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import textwrap

import pytest

from graflow_core.core.hooks import scan_entry_points


def _metadata_view(group: str) -> list[tuple[str, str, str, str]]:
    found = []
    for ep in importlib.metadata.entry_points(group=group):
        dist = ep.dist
        value = ep.value.split("[", 1)[0].strip()  # ours drops extras: nothing loads them
        found.append((ep.name, value, dist.name if dist else "?", dist.version if dist else "?"))
    return sorted(found)


@pytest.mark.parametrize("group", ["graflow", "pytest11", "console_scripts"])
def test_scan_matches_importlib_metadata(group: str) -> None:
    ours = sorted(
        (ep.name, ep.value, ep.distribution, ep.version) for ep in scan_entry_points(group)
    )
    assert ours == _metadata_view(group)


def test_the_workspace_plugins_are_found() -> None:
    names = {ep.name: ep.distribution for ep in scan_entry_points()}
    for name in ("airflow", "prefect", "dagster", "langchain", "mlflow", "wandb", "metrics"):
        assert names[name] == f"graflow-{name}"


def test_loading_plugins_never_imports_importlib_metadata() -> None:
    code = textwrap.dedent(
        """
        import sys
        from graflow_core.plugins import get_plugin_manager
        names = sorted(p["name"] for p in get_plugin_manager().plugin_info())
        print(",".join(names), "importlib.metadata" in sys.modules)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out[1] == "False"
    assert {"airflow", "prefect", "dagster", "mlflow"} <= set(out[0].split(","))
