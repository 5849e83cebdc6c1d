"""docs/bridges.md: the toy bridge in the guide works as printed (declare, preflight, host)."""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

TASKS = textwrap.dedent(
    """
    import threading

    from graflow_core import task, workflow


    @task
    def numbers():
        return [1, 2, 3]


    @task
    def square(numbers):
        return [n * n for n in numbers], threading.current_thread().name


    @task
    def cube(numbers):
        return [n ** 3 for n in numbers], threading.current_thread().name


    @task
    def total(square, cube):
        return sum(square[0]) + sum(cube[0]), sorted({square[1], cube[1]})


    def build():
        with workflow("toy") as wf:
            numbers >> (square | cube).with_execution(backend="direct") >> total
        return wf
    """
)


@pytest.fixture
def guide(tmp_path, monkeypatch, pm):
    text = (ROOT / "docs" / "bridges.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    namespace: dict = {"__name__": "bridges_guide"}
    exec(compile(blocks[0] + "\n" + blocks[1], "docs/bridges.md", "exec"), namespace)
    (tmp_path / "toy_tasks.py").write_text(TASKS)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield namespace
    sys.modules.pop("toy_tasks", None)


def test_guide_bridge_declares_renders_and_hosts(guide):
    import toy_tasks

    from graflow_core.plugins import get_plugin_manager
    from graflow_core.spec import build_spec, preflight

    native = toy_tasks.build().execute()
    assert native[0] == 14 + 36

    spec = build_spec(toy_tasks.build())
    with get_plugin_manager().registered(guide["BridgePlugin"]()):
        report = preflight(spec, "threads")
        assert report.ok, str(report)
        run = guide["THREADS"].render(spec)
        value, threads = run()
    assert value == native[0]
    assert threads and all(name.startswith("task") for name in threads)  # hosted on the pool
