"""GraflowOperator run the way an Airflow worker runs it: Airflow's supervisor starts the task in
a subprocess from a DAG file, writes the real task log, and a second attempt is the retry.

No scheduler or API server: the supervisor talks to Airflow's in-process execution API (the one
``dag.test()`` uses), with the metadata database of the ``airflow_env`` fixture.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

DAG_FILE = """
from datetime import timedelta

from airflow.sdk import DAG

from graflow_airflow import GraflowOperator

with DAG("graflow_operator_worker", schedule=None) as dag:
    GraflowOperator(
        task_id="flow",
        workflow="airflow_operator_workflows:build_flaky_chain",
        op_kwargs={{"n": 1, "scratch_dir": {scratch!r}}},
        retries=1,
        retry_delay=timedelta(0),
    )
"""


def _events(log: Path) -> list[str]:
    return [json.loads(line).get("event", "") for line in log.read_text().splitlines() if line]


@pytest.mark.slow
def test_a_worker_attempt_logs_to_the_task_log_and_the_retry_resumes(airflow_env, tmp_path):
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db
    from airflow.executors.workloads import BundleInfo
    from airflow.models.dagbag import DBDagBag
    from airflow.models.dagrun import DagRun, get_or_create_dagrun
    from airflow.sdk import timezone
    from airflow.sdk.api.datamodels._generated import TaskInstance as WorkerTaskInstance
    from airflow.sdk.execution_time.supervisor import InProcessTestSupervisor, supervise_task
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState
    from airflow.utils.types import DagRunTriggeredByType

    dag_file = airflow_env.dags_folder / "graflow_operator_worker.py"
    dag_file.write_text(DAG_FILE.format(scratch=str(tmp_path)))
    try:
        DagBundlesManager().sync_bundles_to_db()
        bag = BundleDagBag(
            dag_folder=str(airflow_env.dags_folder),
            bundle_path=airflow_env.dags_folder,
            bundle_name="dags-folder",
        )
        assert not bag.import_errors
        sync_bag_to_db(bag, "dags-folder", None)
        now = timezone.utcnow()
        with create_session() as session:
            dag = DBDagBag().get_latest_version_of_dag("graflow_operator_worker", session=session)
            get_or_create_dagrun(
                dag=dag,
                run_id="worker-run",
                logical_date=now,
                data_interval=None,
                run_after=now,
                conf=None,
                triggered_by=DagRunTriggeredByType.TEST,
                triggering_user_name="pytest",
                start_date=now,
                session=session,
            )

        def attempt(n: int) -> tuple[str, list[str]]:
            with create_session() as session:
                (run,) = DagRun.find(dag_id="graflow_operator_worker", run_id="worker-run")
                (ti,) = run.get_task_instances(session=session)
                ti.try_number += 1
                ti.state = TaskInstanceState.QUEUED
                session.merge(ti)
                worker_ti = WorkerTaskInstance(
                    id=ti.id,
                    task_id=ti.task_id,
                    dag_id=ti.dag_id,
                    run_id=ti.run_id,
                    try_number=ti.try_number,
                    map_index=ti.map_index,
                    dag_version_id=ti.dag_version_id,
                )
            log = tmp_path / f"attempt-{n}.log"
            supervise_task(
                ti=worker_ti,
                bundle_info=BundleInfo(name="dags-folder"),
                dag_rel_path=dag_file.name,
                token="",
                client=InProcessTestSupervisor._api_client(),
                log_path=str(log),
            )
            with create_session() as session:
                (run,) = DagRun.find(dag_id="graflow_operator_worker", run_id="worker-run")
                (ti,) = run.get_task_instances(session=session)
                return str(getattr(ti.state, "value", ti.state)), _events(log)

        state, first = attempt(1)
        assert state == "up_for_retry"
        assert "graflow task step2 succeeded" in first
        assert "graflow task step3 failed: RuntimeError: step3 fails on its first attempt" in first

        state, second = attempt(2)
        assert state == "success"
        assert any(e.startswith("resuming graflow workflow 'flaky_chain'") for e in second)
        assert "graflow task step1 started" not in second
        # the workflow's own logging and print output are in the Airflow task log
        assert "graflow-log-line from step4: 104" in second
        assert "graflow-print-line from step4: 104" in second
        runs = (tmp_path / "runs.log").read_text().split()
        assert runs == ["step1", "step2", "step3", "step3", "step4"]
    finally:
        dag_file.unlink()
