"""Run real Airflow DAGs in tests: the ``airflow_env`` pytest fixture (a ``pytest11`` plugin).

Installing graflow-airflow registers this module with pytest, so every test session can use::

    def test_my_dag(airflow_env):
        from airflow.sdk import DAG, task

        with DAG("my_dag", schedule=None) as dag:
            @task
            def one() -> int:
                return 1

            @task
            def plus(x: int) -> int:
                return x + 1

            plus(one())

        result = airflow_env.run_dag(dag, conf={"n": 3})
        assert result.state == "success"
        assert result.task_states == {"one": "success", "plus": "success"}
        assert result.xcoms["plus"] == 2

What the fixture sets up (once per test session, environment variables set inside the fixture and
restored when the session ends):

- a temporary ``AIRFLOW_HOME`` with a **file** SQLite database (an in-memory one does not work:
  Airflow's in-process execution API opens its own connection), its schema created in process
  (``graflow_airflow.local.prepare_airflow()``);
- ``AIRFLOW__CORE__LOAD_EXAMPLES=False``, an empty DAGs folder (``airflow_env.dags_folder``), a
  plugins folder and a log folder inside the temporary home, a Fernet key, new DAGs unpaused,
  XCom deserialisation of any class allowed (tests return their own types), and
  ``GRAFLOW_AIRFLOW_CHECKPOINTS`` pointing into the temporary home (where ``GraflowOperator`` keeps
  its checkpoints; ``airflow_env.checkpoints``);
- a warm-up run of a one-task DAG, so the first ``dag.test()`` of the process (6 to 9 s: Airflow
  builds its in-process execution API) is paid in the fixture and later runs cost 0.2 to 0.5 s.

``run_dag(dag, conf=None, run_id=None)`` serialises an in-memory DAG into the database (Airflow
refuses to run a DAG that is not serialised), runs it with ``dag.test()`` (no scheduler, no API
server, no port) and returns an :class:`AirflowRunResult`: the run state, the state and try number
of every task instance, the ``return_value`` XCom of every task and all other XComs.

Outside pytest, :func:`airflow_environment` is the same set-up as a context manager.

Import Airflow inside your tests (or fixtures), not at module level of a test file: Airflow reads
``AIRFLOW_HOME`` when it is first imported. If Airflow was imported before the fixture ran, the
fixture re-reads the database settings, so runs still use the temporary database.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from graflow_airflow.local import AirflowRunResult, local_environment

if TYPE_CHECKING:
    from airflow.sdk import DAG

__all__ = ["AirflowEnv", "AirflowRunResult", "airflow_env", "airflow_environment"]

#: Environment variable (also an Airflow Variable name) naming the base location of
#: GraflowOperator checkpoints; the fixture points it into the temporary AIRFLOW_HOME.
CHECKPOINTS_ENV = "GRAFLOW_AIRFLOW_CHECKPOINTS"


class AirflowEnv:
    """A temporary Airflow installation in which DAGs run in process (see the module docstring).

    Attributes:
        home: The temporary ``AIRFLOW_HOME``.
        dags_folder: The (initially empty) DAGs folder.
        checkpoints: The base directory ``GraflowOperator`` uses for checkpoints.
        env: The environment variables this set-up sets.
    """

    def __init__(self, home: Path) -> None:
        self.home = home
        self.dags_folder = home / "dags"
        self.checkpoints = home / "graflow-checkpoints"
        self.db_path = home / "airflow.db"
        self.env: dict[str, str] = {
            **local_environment(home),
            "AIRFLOW__CORE__ALLOWED_DESERIALIZATION_CLASSES_REGEXP": r".*",
            CHECKPOINTS_ENV: str(self.checkpoints),
        }
        self._ready = False

    # -- set-up ---------------------------------------------------------------------------
    def setup(self, *, warm_up: bool = True) -> None:
        """Create the folders, initialise the database and (optionally) run a warm-up DAG.

        Call with the environment of :attr:`env` applied (:func:`airflow_environment` does both).
        """
        from graflow_airflow import local

        folders = (self.dags_folder, self.home / "plugins", self.home / "logs", self.checkpoints)
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)
        local.prepare_airflow()  # re-reads the database settings if Airflow was imported before
        self._ready = True
        if warm_up:
            local.warm_up()

    # -- running DAGs ---------------------------------------------------------------------
    def serialize(self, dag: DAG) -> None:
        """Write an in-memory DAG into the metadata database (needed before ``dag.test()``)."""
        from graflow_airflow.local import serialize_dag

        serialize_dag(dag)

    def run_dag(
        self,
        dag: DAG,
        conf: Mapping[str, Any] | None = None,
        run_id: str | None = None,
    ) -> AirflowRunResult:
        """Serialise ``dag`` and run it once with ``dag.test()``; return the run's outcome.

        Args:
            dag: An ``airflow.sdk.DAG`` (built in memory or loaded from a file).
            conf: The DAG run configuration (``dag_run.conf``).
            run_id: The run id to use (default: Airflow's ``manual__<timestamp>``). An existing
                run of ``dag`` with this id is deleted first (its task instances and XComs), so
                running again with the same id is like clearing the run in Airflow: state kept
                outside the database (e.g. GraflowOperator checkpoints) stays.

        Task failures do not raise: they show in ``result.state`` / ``result.task_states``.
        """
        from graflow_airflow.local import fresh_session

        if not self._ready:
            raise RuntimeError("AirflowEnv.setup() has not run (use the airflow_env fixture)")
        with contextlib.ExitStack() as stack:
            stack.enter_context(fresh_session())  # a run that raises leaves a usable session
            self.serialize(dag)
            if run_id is not None:
                from unittest import mock

                from airflow.models.dagrun import DagRun
                from airflow.utils.session import create_session
                from sqlalchemy import select

                with create_session() as session:
                    old = session.scalar(
                        select(DagRun).where(DagRun.dag_id == dag.dag_id, DagRun.run_id == run_id)
                    )
                    if old is not None:
                        session.delete(old)  # as dag.test() replaces a run of the same date

                stack.enter_context(
                    mock.patch.object(DagRun, "generate_run_id", staticmethod(lambda **_: run_id))
                )
            dag_run = dag.test(run_conf=dict(conf) if conf is not None else None)
            return self.result(dag.dag_id, dag_run.run_id)

    def result(self, dag_id: str, run_id: str) -> AirflowRunResult:
        """Read the outcome of an existing DAG run from the database."""
        from graflow_airflow.local import read_run

        return read_run(dag_id, run_id)


@contextlib.contextmanager
def airflow_environment(
    base_dir: str | Path | None = None, *, warm_up: bool = True
) -> Iterator[AirflowEnv]:
    """Set up a temporary Airflow installation (see the module docstring) for the ``with`` block.

    Args:
        base_dir: Directory to create the temporary ``AIRFLOW_HOME`` in (default: the system
            temporary directory). The home is left in place for inspection; delete it yourself.
        warm_up: Run a one-task DAG during set-up, so later runs are fast.

    The environment variables are restored when the block ends. Airflow's own module-level
    state (the configured database engine) stays pointed at the temporary database.
    """
    home = Path(tempfile.mkdtemp(prefix="airflow-home-", dir=base_dir))
    env = AirflowEnv(home)
    with pytest.MonkeyPatch.context() as patch:  # restores the environment afterwards
        for name, value in env.env.items():
            patch.setenv(name, value)
        env.setup(warm_up=warm_up)
        yield env


@pytest.fixture(scope="session")
def airflow_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowEnv]:
    """A temporary Airflow installation for the whole test session (see this module's docstring)."""
    with airflow_environment(tmp_path_factory.mktemp("airflow")) as env:
        yield env
