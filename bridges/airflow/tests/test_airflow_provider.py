"""Provider metadata: ``airflow providers list`` (the real CLI) shows graflow-airflow; the
metadata validates against Airflow's schema; the ``airflow`` target and its capabilities."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def test_provider_info_validates_against_airflows_schema():
    import jsonschema
    from airflow.providers_manager import _create_provider_info_schema_validator
    from graflow_airflow.provider import get_provider_info

    info = get_provider_info()
    _create_provider_info_schema_validator().validate(info)
    assert info["package-name"] == "graflow-airflow"
    from importlib.metadata import version

    assert info["versions"] == [version("graflow-airflow")]
    modules = info["operators"][0]["python-modules"]
    assert modules == ["graflow_airflow.render", "graflow_airflow.operator"]
    for module in modules:  # the modules Airflow would import exist and define operators
        __import__(module)
    assert jsonschema  # imported above: the validator is a real jsonschema validator


def test_airflow_providers_list_shows_graflow(tmp_path: Path):
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path}/airflow.db",
    }
    airflow = Path(sys.executable).with_name("airflow")
    proc = subprocess.run(
        [str(airflow), "providers", "list", "--output", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    start = proc.stdout.index("[")
    providers = {p["package_name"]: p for p in json.loads(proc.stdout[start:])}
    assert "graflow-airflow" in providers, sorted(providers)
    assert providers["graflow-airflow"]["description"].startswith("Run graflow workflows")


def test_provider_module_imports_nothing_heavy():
    code = (
        "import sys, graflow_airflow.provider as p; p.get_provider_info(); "
        "heavy = [m for m in ('airflow', 'graflow_airflow.render', 'graflow_core.core.engine') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "[]"


def test_airflow_target_and_preflight():
    from graflow_airflow.plugin import AIRFLOW_FEATURES, airflow_capabilities, plugin

    from graflow_core.spec import FEATURES, build_spec, get_target, preflight
    from graflow_core.testing.catalog import get_example

    bridge = get_target("airflow")
    assert bridge.distribution == "graflow-airflow"
    assert bridge in plugin.register_bridges()
    assert bridge.render is not None and bridge.parse is not None and bridge.export is not None
    # every feature is declared (no silent default), and only known features are
    declared = airflow_capabilities().features
    families = {name.split(".", 1)[0] for name in declared}
    assert families <= set(FEATURES)
    assert set(FEATURES) <= families
    assert set(AIRFLOW_FEATURES) <= set(declared)
    assert bridge.capabilities.support("group_policy.best_effort").level == "emulated"
    # what preflight says agrees with what the renderer does
    assert preflight(build_spec(get_example("linear").build()), "airflow").findings == []
    goto = preflight(build_spec(get_example("goto_branch").build()), "airflow")
    assert goto.ok
    assert [f.level for f in goto.findings if f.feature == "goto"] == []  # native
    hosted = preflight(build_spec(get_example("next_iteration").build()), "airflow")
    assert [f.level for f in hosted.findings if f.feature == "next_iteration"] == ["hosted"]


def test_bridge_render_and_parse_round_trip():
    from graflow_core.spec import build_spec, get_target
    from graflow_core.testing.catalog import get_example

    bridge = get_target("airflow")
    spec = build_spec(get_example("parallel_strict").build())
    dag = bridge.render(spec, dag_id="bridge_render")
    assert dag.dag_id == "bridge_render"
    assert bridge.parse(dag) == spec


def test_preflight_cli_names_hosted_parts(tmp_path: Path):
    flow = tmp_path / "looping_flow_for_preflight.py"
    flow.write_text(
        "from graflow_core.testing.catalog import build_next_iteration\n"
        "wf = build_next_iteration()\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "graflow_core", "preflight", str(flow), "--target", "airflow"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stdout.splitlines() if "uses next_iteration" in x)
    assert "[warning]" in line and "inside the task's native task" in line
