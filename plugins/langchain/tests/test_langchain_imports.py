"""``import graflow_langchain`` (and its entry point) must not import langchain_core."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_import_does_not_import_langchain_core() -> None:
    code = textwrap.dedent(
        """
        import sys
        import graflow_langchain, graflow_langchain.plugin
        from graflow_langchain import TASK_TYPE_NAME
        graflow_langchain.plugin.plugin.register_task_types()
        from graflow_core import task, workflow
        with workflow("plain") as wf:
            @task
            def a() -> int:
                return 1
        assert wf.execute() == 1  # a run with the plugin installed
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("langchain_core", "langsmith")))
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
