"""Importing graflow_prefect (package, plugin, pytest fixtures) never imports Prefect; the
entry-point plugin registers the 'prefect' bridge and implements no per-task hook."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap

from graflow_prefect.plugin import plugin

from graflow_core.plugins.hookspecs import TaskExecutionSpecs, TaskLifecycleSpecs
from graflow_core.spec import build_spec, get_target, preflight
from graflow_core.testing.catalog import EXAMPLES, build_linear


def test_import_graflow_prefect_does_not_import_prefect() -> None:
    code = textwrap.dedent(
        """
        import sys
        import graflow_prefect, graflow_prefect.plugin, graflow_prefect.testing
        from graflow_core.testing.catalog import build_linear
        # a native run loads every installed graflow plugin, ours included
        assert build_linear().execute(initial_channel={"n": 1}) == "4 items"
        dir(graflow_prefect)
        heavy = sorted(m for m in sys.modules if m == "prefect" or m.startswith("prefect."))
        print(heavy)
        assert not heavy, heavy
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr + out.stdout


def test_plugin_has_no_per_task_hooks_and_registers_the_bridge() -> None:
    per_task = {
        name
        for spec in (TaskLifecycleSpecs, TaskExecutionSpecs)
        for name in vars(spec)
        if not name.startswith("_")
    }
    assert per_task and not [n for n in per_task if hasattr(plugin, n)]
    bridge = get_target("prefect")
    assert bridge.distribution == "graflow-prefect"
    assert (bridge.render, bridge.parse, bridge.export) != (None, None, None)
    # everything the catalogue uses is native or emulated on Prefect: nothing is hosted/ignored
    for example in EXAMPLES:
        report = preflight(build_spec(example.build()), "prefect")
        assert [f for f in report.findings if f.level not in ("native", "emulated")] == []


def test_render_and_export(tmp_path, monkeypatch) -> None:
    from prefect import Flow

    bridge = get_target("prefect")
    spec = build_spec(build_linear())
    flow = bridge.render(spec, name="rendered")
    assert isinstance(flow, Flow) and flow.name == "rendered"
    (path,) = bridge.export(
        spec,
        "graflow_core.testing.catalog:build_linear",
        tmp_path,
        import_paths=[str(tmp_path / "code")],  # what `graflow export` passes
        start_node="load",
    )
    assert path.name == "catalog_linear_prefect.py"
    source = path.read_text()
    assert (
        "catalog_linear = to_prefect_flow('graflow_core.testing.catalog:build_linear', "
        "name='catalog_linear', start_node='load')"
    ) in source
    assert f"for _path in [{str(tmp_path / 'code')!r}]:" in source
    monkeypatch.syspath_prepend(str(tmp_path))
    module_spec = importlib.util.spec_from_file_location("catalog_linear_prefect", path)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    exported = module.catalog_linear
    assert isinstance(exported, Flow)
    # deployments find the flow as "<file>:<function name>": the name it has in the module
    assert exported.fn.__name__ == "catalog_linear"
    assert list(exported.parameters.properties) == ["n", "unit"]
