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
  Airflow's in-process execution API opens its own connection), initialised in process with
  ``airflow.utils.db.initdb()``;
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
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from airflow.sdk import DAG

__all__ = ["AirflowEnv", "AirflowRunResult", "airflow_env", "airflow_environment"]

#: Environment variable (also an Airflow Variable name) naming the base location of
#: GraflowOperator checkpoints; the fixture points it into the temporary AIRFLOW_HOME.
CHECKPOINTS_ENV = "GRAFLOW_AIRFLOW_CHECKPOINTS"


@dataclass
class AirflowRunResult:
    """The outcome of one DAG run started by :meth:`AirflowEnv.run_dag`.

    Attributes:
        dag_id: The DAG's id.
        run_id: The DAG run's id.
        state: The DAG run's final state (``"success"`` or ``"failed"``).
        task_states: State per task id. A mapped task has one entry per map index
            (``"task_id[0]"``, ``"task_id[1]"``, ...) plus ``"task_id"`` itself: ``"success"`` when
            every mapped instance succeeded, otherwise the first other state.
        try_numbers: The try number per task id (same keys as ``task_states``); 2 means one retry.
        xcoms: The ``return_value`` XCom per task id (a mapped task: the list of its instances'
            return values in map-index order). Tasks that pushed no return value are absent.
        all_xcoms: Every XCom of the run: ``{(task_id, key, map_index): value}`` (``map_index`` is
            -1 for an unmapped task).
    """

    dag_id: str
    run_id: str
    state: str
    task_states: dict[str, str] = field(default_factory=dict)
    try_numbers: dict[str, int] = field(default_factory=dict)
    xcoms: dict[str, Any] = field(default_factory=dict)
    all_xcoms: dict[tuple[str, str, int], Any] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        """True when the DAG run ended in state ``success``."""
        return self.state == "success"

    def xcom(self, task_id: str, key: str = "return_value", map_index: int = -1) -> Any:
        """Return one XCom value; raises ``KeyError`` naming what exists when it is missing."""
        try:
            return self.all_xcoms[(task_id, key, map_index)]
        except KeyError:
            have = sorted(k for k in self.all_xcoms if k[0] == task_id)
            raise KeyError(
                f"no XCom {key!r} (map_index {map_index}) for task {task_id!r} in run "
                f"{self.run_id!r}; that task has {have or 'no XComs'}"
            ) from None


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
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.db_path}",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(home / "plugins"),
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
            "AIRFLOW__CORE__FERNET_KEY": "M2Z5dGVzdGtleWZvcmdyYWZsb3dhaXJmbG93dGVzdHM=",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__ALLOWED_DESERIALIZATION_CLASSES_REGEXP": r".*",
            CHECKPOINTS_ENV: str(self.checkpoints),
        }
        self._ready = False

    # -- set-up ---------------------------------------------------------------------------
    def setup(self, *, warm_up: bool = True) -> None:
        """Create the folders, initialise the database and (optionally) run a warm-up DAG.

        Call with the environment of :attr:`env` applied (:func:`airflow_environment` does both).
        """
        folders = (self.dags_folder, self.home / "plugins", self.home / "logs", self.checkpoints)
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)
        if "airflow" in sys.modules:
            # Airflow was imported before this set-up: it read the database URL then. Re-read it.
            from airflow import settings

            settings.configure_vars()
            settings.reconfigure_orm()
        from airflow.utils import db

        db.initdb()
        self._ready = True
        if warm_up:
            self._warm_up()

    def _warm_up(self) -> None:
        from airflow.sdk import DAG, task

        with DAG("graflow_airflow_env_warm_up", schedule=None) as dag:
            task(task_id="noop")(_noop)()
        result = self.run_dag(dag)
        if not result.succeeded:  # pragma: no cover - an environment problem, not a test failure
            raise RuntimeError(f"the Airflow warm-up DAG run failed: {result.task_states}")

    # -- running DAGs ---------------------------------------------------------------------
    def serialize(self, dag: DAG) -> None:
        """Write an in-memory DAG into the metadata database (needed before ``dag.test()``)."""
        from airflow.dag_processing.bundles.manager import DagBundlesManager
        from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db

        DagBundlesManager().sync_bundles_to_db()
        bag = DagBag(dag_folder=str(self.dags_folder), collect_dags=False)
        bag.bag_dag(dag)
        sync_bag_to_db(bag, "dags-folder", None)

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
        if not self._ready:
            raise RuntimeError("AirflowEnv.setup() has not run (use the airflow_env fixture)")
        self.serialize(dag)
        with contextlib.ExitStack() as stack:
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
        from airflow.models.dagrun import DagRun
        from airflow.models.xcom import XComModel
        from airflow.sdk.bases.xcom import BaseXCom
        from airflow.utils.session import create_session
        from sqlalchemy import select

        with create_session() as session:
            dag_run = session.scalars(
                select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id)
            ).one()
            out = AirflowRunResult(dag_id=dag_id, run_id=run_id, state=str(_value(dag_run.state)))
            mapped: dict[str, list[tuple[int, str]]] = {}
            for ti in dag_run.get_task_instances(session=session):
                state = str(_value(ti.state))
                if ti.map_index >= 0:
                    key = f"{ti.task_id}[{ti.map_index}]"
                    mapped.setdefault(ti.task_id, []).append((ti.map_index, state))
                else:
                    key = ti.task_id
                out.task_states[key] = state
                out.try_numbers[key] = ti.try_number
            for task_id, states in mapped.items():
                bad = [s for _, s in sorted(states) if s != "success"]
                out.task_states[task_id] = bad[0] if bad else "success"
            rows = session.scalars(
                select(XComModel).where(XComModel.dag_id == dag_id, XComModel.run_id == run_id)
            ).all()
            for row in rows:
                value = BaseXCom.deserialize_value(row)  # what xcom_pull returns
                out.all_xcoms[(row.task_id, row.key, row.map_index)] = value
        returns: dict[str, dict[int, Any]] = {}
        for (task_id, key, map_index), value in out.all_xcoms.items():
            if key == "return_value":
                returns.setdefault(task_id, {})[map_index] = value
        for task_id, by_index in returns.items():
            if task_id in mapped:
                out.xcoms[task_id] = [by_index[i] for i in sorted(by_index)]
            else:
                out.xcoms[task_id] = by_index.get(-1)
        return out


def _noop() -> None:
    return None


def _value(state: Any) -> Any:
    return getattr(state, "value", state)


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
