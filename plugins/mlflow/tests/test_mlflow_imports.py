"""graflow-mlflow is cheap to import and tracks nothing merely because it is installed."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap


def _run(code: str, cwd, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("GRAFLOW_", "MLFLOW_"))}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_mlflow_import_does_not_import_mlflow(tmp_path):
    proc = _run(
        """
        import sys
        import graflow_mlflow, graflow_mlflow.plugin, graflow_mlflow.tracking
        import graflow_mlflow.task_type, graflow_mlflow.testing
        graflow_mlflow.MlflowTracking
        assert "mlflow" not in sys.modules, "mlflow imported"
        print("ok")
        """,
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_mlflow_installed_but_not_enabled_tracks_nothing(tmp_path):
    proc = _run(
        """
        import sys
        from graflow_core import task, workflow
        from graflow_core.plugins import get_plugin_manager
        with workflow("w") as wf:
            @task
            def a():
                return 1
        assert wf.execute() == 1
        names = [type(p).__name__ for p in get_plugin_manager().get_plugins()]
        assert "MlflowPlugin" in names, names
        assert "mlflow" not in sys.modules
        print("ok")
        """,
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "mlflow.db").exists()


def test_mlflow_env_switch_tracks_into_the_default_store(tmp_path):
    """GRAFLOW_MLFLOW=1 without a URI: the default sqlite:///<cwd>/mlflow.db store."""
    proc = _run(
        """
        from graflow_core import task, workflow
        with workflow("nightly") as wf:
            @task(type="mlflow")
            def a():
                return {"metrics": {"m": 1.5}}
        wf.execute()
        from mlflow import MlflowClient
        from graflow_mlflow import default_tracking_uri, is_enabled
        assert is_enabled()
        client = MlflowClient(default_tracking_uri())
        exp = client.get_experiment_by_name("nightly")
        runs = client.search_runs([exp.experiment_id])
        print(sorted((r.info.run_name, r.info.status, r.data.metrics.get("m")) for r in runs))
        """,
        tmp_path,
        GRAFLOW_MLFLOW="1",
        MLFLOW_DISABLE_TELEMETRY="true",
        GRAFLOW_MLFLOW_ARTIFACT_LOCATION=str(tmp_path / "artifacts"),
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[('a', 'FINISHED', 1.5), ('nightly', 'FINISHED', None)]"
    assert (tmp_path / "mlflow.db").exists()
