"""graflow_dagster is cheap to import, and registers the dagster target without Dagster."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def _run(code: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_does_not_import_dagster() -> None:
    found = _run(
        "import json, sys\n"
        "import graflow_dagster, graflow_dagster.plugin, graflow_dagster.testing\n"
        "from graflow_dagster.plugin import plugin\n"
        "bridge = plugin.register_bridges()[0]\n"
        "print(json.dumps({'dagster': any(m == 'dagster' or m.startswith('dagster.') "
        "for m in sys.modules), 'name': bridge.name, 'export': bridge.export is not None}))"
    )
    assert found == {"dagster": False, "name": "dagster", "export": True}


def test_target_found_through_the_entry_point_and_preflight() -> None:
    found = _run(
        "import json, sys\n"
        "from graflow_core.spec import get_target, preflight\n"
        "from graflow_core.testing.catalog import EXAMPLES\n"
        "bridge = get_target('dagster')\n"
        "by_name = {e.name: e for e in EXAMPLES}\n"
        "report = preflight(by_name['next_task'].build(), 'dagster')\n"
        "print(json.dumps({'dist': bridge.distribution, 'levels': sorted({f.level for f in "
        "report.findings}), 'dagster': 'dagster' in sys.modules}))"
    )
    assert found["dist"] == "graflow-dagster"
    assert "hosted" in found["levels"]  # type: ignore[operator]
    assert found["dagster"] is False


def test_plugin_object_has_no_per_task_hooks() -> None:
    from graflow_dagster.plugin import plugin

    for hook in (
        "task_start",
        "task_end",
        "task_failure",
        "task_retry",
        "execute_task",
        "dynamic_task_added",
        "workflow_start",
        "workflow_end",
    ):
        assert not hasattr(plugin, hook), hook


def test_unknown_public_name() -> None:
    import graflow_dagster

    with pytest.raises(AttributeError):
        graflow_dagster.no_such_name  # noqa: B018
