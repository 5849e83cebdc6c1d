"""Import cost: ``import graflow_airflow`` imports no Airflow and adds <= 30 ms on top of
``import airflow``; the entry-point plugin and provider modules import no Airflow either."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

PROBE = r"""
import json, sys, time
start = time.perf_counter()
import airflow
after_airflow = time.perf_counter()
import graflow_airflow
after_package = time.perf_counter()
import graflow_airflow.plugin
after_plugin = time.perf_counter()
lazy = graflow_airflow.to_airflow_dag.__module__
print(json.dumps({
    "airflow": after_airflow - start,
    "package": after_package - after_airflow,
    "plugin": after_plugin - after_package,
    "lazy": lazy,
}))
"""


def _probe(code: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    return proc.stdout.strip().splitlines()[-1]


def test_import_graflow_airflow_does_not_import_airflow():
    code = (
        "import sys, graflow_airflow as g, graflow_airflow.plugin, graflow_airflow.provider; "
        "assert 'to_airflow_dag' in dir(g) and 'GraflowOperator' in g.__all__; "
        "print(sorted(m for m in sys.modules if m == 'airflow' or m.startswith('airflow.') "
        "or m.startswith('graflow_airflow.render') or m.startswith('graflow_core.steps')))"
    )
    assert _probe(code) == "[]"


def test_import_overhead_on_top_of_airflow():
    runs = [json.loads(_probe(PROBE)) for _ in range(3)]
    package = statistics.median(r["package"] for r in runs)
    assert package <= 0.030, f"import graflow_airflow took {package * 1000:.1f} ms: {runs}"
    # the entry-point module (loaded when graflow discovers plugins) costs graflow_core's
    # plugin machinery; bounded loosely so a heavy import there shows up
    plugin = statistics.median(r["plugin"] for r in runs)
    assert plugin <= 0.25, f"import graflow_airflow.plugin took {plugin * 1000:.1f} ms: {runs}"
    assert {r["lazy"] for r in runs} == {"graflow_airflow.render"}  # public names load lazily
