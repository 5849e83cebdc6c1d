"""export_definitions / load_definitions in process (the CLI round trip is in test_dagster_e2e)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import dagster_test_flows as flows
import pytest
from dagster import DagsterInstance, Definitions
from graflow_dagster import export_definitions, graflow_result
from graflow_dagster.export import load_definitions

from graflow_core.exceptions import ConfigError
from graflow_core.spec import build_spec

HERE = Path(__file__).resolve().parent


def _load_module(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(f"exported_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_written_module_defines_the_job(
    tmp_path: Path, dagster_memory_instance: DagsterInstance
) -> None:
    spec = build_spec(flows.build_data_flow())
    (path,) = export_definitions(
        spec,
        "dagster_test_flows:build_data_flow",
        tmp_path,
        import_paths=[str(HERE)],
        name="numbers_pipeline",
        params={"n": 3},
        executor="in_process",
    )
    assert path == tmp_path / "data_flow_dagster.py"
    text = path.read_text()
    assert "dagster_test_flows:build_data_flow" in text and str(HERE) in text
    compile(text, str(path), "exec")
    defs = _load_module(path).defs
    assert isinstance(defs, Definitions)
    job = defs.resolve_job_def("numbers_pipeline")
    result = job.execute_in_process(instance=dagster_memory_instance)
    assert graflow_result(result, job).result == "3 points"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"colour": "blue"}, "unknown option"),
        ({"params": {"when": object()}}, "must be JSON values"),
    ],
)
def test_bad_options_are_refused(tmp_path: Path, kwargs: dict[str, Any], message: str) -> None:
    spec = build_spec(flows.build_data_flow())
    with pytest.raises(ConfigError, match=message):
        export_definitions(spec, "dagster_test_flows:build_data_flow", tmp_path, **kwargs)
    assert not list(tmp_path.iterdir())  # nothing written


def test_reference_must_be_module_attr(tmp_path: Path) -> None:
    spec = build_spec(flows.build_data_flow())
    with pytest.raises(ConfigError, match="module:attr"):
        export_definitions(spec, "dagster_test_flows", tmp_path)


def test_load_definitions_refuses_what_is_not_a_workflow() -> None:
    with pytest.raises(ConfigError, match="is the graflow task 'double'"):
        load_definitions("dagster_test_flows:double")
    with pytest.raises(ConfigError, match="returned int, not a graflow workflow"):
        load_definitions("dagster_test_flows:not_a_workflow")
    with pytest.raises(ConfigError, match="must name a graflow workflow"):
        load_definitions("dagster_test_flows:__doc__")


def test_several_workflows_in_one_location() -> None:
    defs = load_definitions(
        "dagster_test_flows:build_data_flow", "dagster_test_flows:build_big_values"
    )
    assert sorted(j.name for j in defs.resolve_all_job_defs()) == ["big_values", "data_flow"]
