"""graflow-wandb is cheap to import and tracks nothing merely because it is installed."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap


def test_wandb_import_does_not_import_wandb(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRAFLOW_", "WANDB_"))}
    code = """
        import sys
        import graflow_wandb, graflow_wandb.plugin, graflow_wandb.tracking
        import graflow_wandb.task_type, graflow_wandb.offline
        graflow_wandb.WandbTracking
        from graflow_core import task, workflow
        from graflow_core.plugins import get_plugin_manager
        with workflow("w") as wf:
            @task
            def a():
                return 1
        assert wf.execute() == 1
        names = [type(p).__name__ for p in get_plugin_manager().get_plugins()]
        assert "WandbPlugin" in names, names
        assert "wandb" not in sys.modules, "wandb imported"
        print("ok")
    """
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
    assert not (tmp_path / "wandb").exists()
