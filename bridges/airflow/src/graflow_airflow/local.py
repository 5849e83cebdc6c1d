"""Run a graflow workflow on Airflow in this process: the ``airflow`` target's ``run``.

::

    from graflow_core.spec.target_run import run_on

    run = run_on("airflow", build_etl, {"n": 20})
    run.result, run.channel, run.states  # from Airflow's XComs and task instances

:func:`run_workflow` renders the workflow with :func:`~graflow_airflow.render.to_airflow_dag`
(one Airflow task per graflow step; a workflow hosted as a whole becomes one
``GraflowOperator``), writes the DAG into Airflow's metadata database and runs it with
``dag.test()`` — no scheduler, no API server, no port. The :class:`TargetRun` it returns is
read from Airflow: the result and final channel from the step payloads in XCom
(:func:`graflow_core.steps.final_result` / :func:`~graflow_core.steps.final_channel`; a failed
task's partial output -- what it wrote before failing, its exception result -- counts for the
channel as in the graflow engine; a hosted workflow's channel as it was at the failure), the
states from the task instances, ``run_id`` = ``"<dag_id>/<run_id>"`` (what the steps see as
``context.workflow_run_id``). A failed run's ``error`` is the exception the failing Airflow task
raised (kept in process through ``on_failure_callback``: Airflow itself stores only text),
chosen as :attr:`graflow_core.steps.PlanRun.error` chooses it, so it is what ``wf.execute()``
raises (``GraflowRuntimeError`` with the task's exception as ``__cause__``,
``ParallelGroupError`` for a group policy ...).

Airflow runs against the configured ``AIRFLOW_HOME`` / ``sql_alchemy_conn`` (the
``airflow_env`` pytest fixture points them at a temporary home). The first run in a process
creates Airflow's schema in a database without Airflow tables (a new SQLite file ...); a
database that has them is never migrated: one at another revision (a shared server, an older
Airflow's file) raises :class:`AirflowSetupError` asking for ``airflow db migrate``. It then
warms up Airflow's in-process execution API with a one-task DAG (with the import: ~7 s, paid
once per process, not in ``wall_seconds``; ``details["setup_seconds"]`` says what it cost).
A database that cannot be used raises :class:`AirflowSetupError`. Without
``GRAFLOW_SECRET_KEY``, a random key of this process signs the run's checkpoints and large step
values (they never leave the process). The shared pieces -- :func:`prepare_airflow`,
:func:`serialize_dag`, :func:`read_run`, :func:`fresh_session` -- are also what
``graflow_airflow.testing`` uses.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from graflow_core.exceptions import ConfigError, GraflowRuntimeError

if TYPE_CHECKING:
    from graflow_core.spec.target_run import TargetRun

__all__ = [
    "AirflowRunResult",
    "AirflowSetupError",
    "airflow_home",
    "database_url",
    "fresh_session",
    "local_environment",
    "prepare_airflow",
    "read_run",
    "redact_url",
    "run_workflow",
    "serialize_dag",
]


def local_environment(home: str | os.PathLike[str]) -> dict[str, str]:
    """Environment variables that keep an Airflow installation inside ``home``.

    A file SQLite database (``home/airflow.db``; Airflow's in-process execution API opens its own
    connection, so an in-memory database does not work), the DAGs, plugins and log folders in
    ``home``, no example DAGs, new DAGs unpaused and a fresh Fernet key. Set them before Airflow
    is imported (it reads ``AIRFLOW_HOME`` then); :func:`run_workflow` creates the database's
    schema on first use. Used by the ``airflow_env`` fixture, the flagship demo and the benchmarks.
    """
    import base64

    base = Path(home)
    return {
        "AIRFLOW_HOME": str(base),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{base / 'airflow.db'}",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(base / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(base / "plugins"),
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(base / "logs"),
        "AIRFLOW__CORE__FERNET_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
    }


class AirflowSetupError(ConfigError):
    """Airflow's metadata database cannot be reached or initialised for a local run."""


# -- the metadata database ----------------------------------------------------------------------


def redact_url(url: str) -> str:
    """``url`` with its password (if any) replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[-1]}"))


def database_url() -> str:
    """The configured ``[database] sql_alchemy_conn`` (imports Airflow's configuration)."""
    from airflow.configuration import conf

    return str(conf.get("database", "sql_alchemy_conn"))


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL (``None`` for other databases or in-memory SQLite)."""
    if not url.startswith("sqlite"):
        return None
    path = url.split(":///", 1)[1] if ":///" in url else ""
    path = path.split("?", 1)[0]
    if not path or path == ":memory:":
        return None
    return Path(path)


def airflow_home() -> Path:
    """Airflow's home: ``$AIRFLOW_HOME``, else Airflow's default ``~/airflow`` (without
    importing Airflow)."""
    return Path(os.path.expanduser(os.environ.get("AIRFLOW_HOME") or "~/airflow"))


def _home() -> str:
    return str(airflow_home())


def _setup_error(url: str, problem: str) -> AirflowSetupError:
    return AirflowSetupError(
        f"Airflow's metadata database {redact_url(url)} (AIRFLOW_HOME={_home()}, "
        f"[database] sql_alchemy_conn / AIRFLOW__DATABASE__SQL_ALCHEMY_CONN) {problem}; point "
        "sql_alchemy_conn at a reachable database (a file SQLite database in a writable "
        "directory works) and run `airflow db migrate`, or use a home of its own: set the "
        "variables of graflow_airflow.local.local_environment(<a new directory>) before "
        "importing Airflow"
    )


_lock = threading.RLock()
_ready: set[str] = set()  # database URLs initialised (and checked) in this process
_warm: set[str] = set()  # database URLs the in-process execution API has served a run for


def schema_heads() -> set[str]:
    """The schema revisions this Airflow's migrations end at (a migrated database is there)."""
    import airflow
    from alembic.script import ScriptDirectory

    migrations = os.path.join(os.path.dirname(airflow.__file__), "migrations")
    return set(ScriptDirectory(migrations).get_heads())


#: Tables every Airflow schema has: a database with one of them is not fresh.
AIRFLOW_TABLES = frozenset({"alembic_version", "dag", "dag_run", "task_instance", "xcom"})


def migration_heads() -> tuple[set[str], set[str]]:
    """(revisions the configured database is at, :func:`schema_heads`): equal when migrated."""
    from airflow import settings
    from alembic.migration import MigrationContext

    with settings.get_engine().connect() as connection:
        found = set(MigrationContext.configure(connection).get_current_heads())
    return found, schema_heads()


#: Seconds to wait for a database server (Postgres, MySQL) to accept a TCP connection.
CONNECT_TIMEOUT = 2.0
_DEFAULT_PORTS = {"postgres": 5432, "mysql": 3306}


def database_problem(url: str, timeout: float = CONNECT_TIMEOUT) -> str | None:
    """Why the database at ``url`` cannot be used by a local run, or ``None`` (cheap checks:
    a SQLite file's directory exists and is writable; a server accepts a TCP connection)."""
    path = sqlite_path(url)
    if url.startswith("sqlite"):
        if path is None:
            return "is an in-memory SQLite database, which dag.test() cannot use"
        if not path.parent.is_dir():
            return f"is in the directory {path.parent}, which does not exist"
        if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
            return f"cannot be written ({path} or its directory is not writable)"
        return None
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        return f"is not a valid URL ({exc})"
    if not host:
        return None  # a Unix socket or a driver-specific form: left to the driver
    scheme = parts.scheme.split("+", 1)[0]
    port = port or next((p for name, p in _DEFAULT_PORTS.items() if scheme.startswith(name)), None)
    if port is None:
        return None
    from graflow_core.diagnostics import connect_problem

    problem = connect_problem(host, port, timeout)
    return None if problem is None else f"is not reachable: {problem}"


def _airflow_settings() -> Any:
    """``airflow.settings`` (importing Airflow); a configuration Airflow cannot start with (a
    database driver missing ...) raises :class:`AirflowSetupError`."""
    try:
        from airflow import settings
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] == "airflow":
            raise
        url = os.environ.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "(from airflow.cfg)")
        raise _setup_error(url, f"needs a module that is missing: {exc}") from exc
    except Exception as exc:
        url = os.environ.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "(from airflow.cfg)")
        raise _setup_error(
            url, f"stops Airflow from starting ({type(exc).__name__}: {exc})"
        ) from exc
    return settings


def prepare_airflow() -> float:
    """Get Airflow ready for in-process runs; returns the seconds it took (0 when it was).

    Once per process and database: points Airflow's ORM at the configured database when it was
    configured for another (the environment changed since ``import airflow``), checks that the
    database can be reached (:func:`database_problem`), creates the DAGs folder when missing,
    and creates Airflow's schema (in process) in a database without Airflow tables. A database
    with Airflow tables at another revision than this Airflow's is left as it is (it may be
    shared, or belong to another Airflow version): migrating it is the user's decision.

    Raises:
        AirflowSetupError: the database cannot be reached or initialised, or it is at another
            schema revision (``airflow db migrate`` fixes that).
    """
    started = time.perf_counter()
    with _lock:
        settings = _airflow_settings()
        url = database_url()
        done = url in _ready
        problem = None if done else database_problem(url)
        if problem is not None:  # before Airflow's ORM is pointed at it
            raise _setup_error(url, problem)
        if getattr(settings, "SQL_ALCHEMY_CONN", None) != url or settings.Session is None:
            settings.configure_vars()
            settings.reconfigure_orm()
        if done:
            return 0.0
        try:
            _dags_folder().mkdir(parents=True, exist_ok=True)
            found, expected = migration_heads()
            fresh = not found and not (AIRFLOW_TABLES & _table_names())
            if fresh:
                from airflow.utils import db

                db.initdb()
        except Exception as exc:
            raise _setup_error(url, f"cannot be used ({type(exc).__name__}: {exc})") from exc
        if not fresh and found != expected:
            at = ", ".join(sorted(found)) or "no schema revision (alembic_version)"
            raise AirflowSetupError(
                f"Airflow's metadata database {redact_url(url)} (AIRFLOW_HOME={_home()}) has "
                f"Airflow tables at schema revision {at}; this Airflow "
                f"({_airflow_version()}) needs {', '.join(sorted(expected))}. graflow does not "
                "migrate a database it did not create (it may be shared or belong to another "
                "Airflow version): run `airflow db migrate` if it is meant for this Airflow, or "
                "point sql_alchemy_conn (AIRFLOW__DATABASE__SQL_ALCHEMY_CONN) at another database"
            )
        _ready.add(url)
    return time.perf_counter() - started


def _table_names() -> set[str]:
    from airflow import settings
    from sqlalchemy import inspect

    with settings.get_engine().connect() as connection:
        return set(inspect(connection).get_table_names())


def _airflow_version() -> str:
    from airflow import __version__

    return f"apache-airflow {__version__}"


def _dags_folder() -> Path:
    from airflow.configuration import conf

    return Path(os.path.expanduser(str(conf.get("core", "dags_folder"))))


def serialize_dag(dag: Any) -> None:
    """Write an in-memory DAG into the metadata database (``dag.test()`` needs it there)."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db

    DagBundlesManager().sync_bundles_to_db()
    bag = DagBag(dag_folder=str(_dags_folder()), collect_dags=False)
    bag.bag_dag(dag)
    sync_bag_to_db(bag, "dags-folder", None)


@contextlib.contextmanager
def fresh_session() -> Iterator[None]:
    """Around ``serialize_dag`` / ``dag.test()`` / ``read_run``: afterwards (also when they
    raise) Airflow's shared ORM session (``settings.Session``) is rolled back and removed, so a
    run that failed in the database (e.g. a DAG-run conf it cannot store) does not leave the
    session unusable (``PendingRollbackError``) for every later run of the process."""
    try:
        yield
    finally:
        from airflow import settings

        session = getattr(settings, "Session", None)
        if session is not None:
            with contextlib.suppress(Exception):
                session.rollback()
            session.remove()


def _noop() -> None:
    return None


def warm_up() -> float:
    """Run a one-task DAG once per process (Airflow builds its in-process execution API on the
    first ``dag.test()``, 6 to 9 s); returns the seconds it took (0 when done before)."""
    with _lock:
        url = database_url()
        if url in _warm:
            return 0.0
        started = time.perf_counter()
        from airflow.sdk import DAG, task

        with DAG("graflow_airflow_env_warm_up", schedule=None) as dag:
            task(task_id="noop")(_noop)()
        with fresh_session():
            serialize_dag(dag)
            dag_run = dag.test()
        state = str(_value(dag_run.state))
        if state != "success":
            raise AirflowSetupError(
                f"Airflow's warm-up DAG run ended {state!r} (AIRFLOW_HOME={_home()}); run "
                "`graflow doctor` to check the Airflow installation"
            )
        _warm.add(url)
        return time.perf_counter() - started


# -- reading a run back -------------------------------------------------------------------------


@dataclass
class AirflowRunResult:
    """The outcome of one DAG run, read from the metadata database (:func:`read_run`).

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


def _value(state: Any) -> Any:
    return getattr(state, "value", state)


def read_run(dag_id: str, run_id: str) -> AirflowRunResult:
    """Read the outcome of an existing DAG run (states, try numbers, XComs) from the database."""
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


# -- run_workflow -------------------------------------------------------------------------------

#: Airflow task-instance states -> TargetRun states (anything else counts as failed).
_STATES = {
    "success": "success",
    "failed": "failed",
    "skipped": "skipped",
    "removed": "skipped",
    "upstream_failed": "upstream_failed",
}


class _Failures:
    """``on_failure_callback`` of every task of a local run: keeps each task's exception."""

    def __init__(self) -> None:
        self.errors: dict[str, BaseException] = {}

    def __call__(self, context: Mapping[str, Any]) -> None:
        error = context.get("exception")
        ti = context.get("ti") or context.get("task_instance")
        if isinstance(error, BaseException) and ti is not None:
            self.errors[str(ti.task_id)] = error


def _outcome(run: AirflowRunResult, dag: Any, plan: Any, params: Mapping[str, Any]) -> Any:
    """(result, channel) of the run from its XComs."""
    from graflow_core.channels.base import RESULT_SUFFIX

    if plan.whole:  # one GraflowOperator: its return value, channel and per-task results
        from graflow_airflow.operator import CHANNEL_KEY, ERROR_RESULTS_KEY
        from graflow_airflow.operator import RESULT_KEY_PREFIX as HOSTED_PREFIX

        (task_id,) = dag.task_ids
        if (task_id, CHANNEL_KEY, -1) not in run.all_xcoms:  # it failed before running
            return None, {}
        channel = dict(run.all_xcoms[(task_id, CHANNEL_KEY, -1)] or {})
        for (tid, key, _), value in run.all_xcoms.items():
            if tid == task_id and key.startswith(HOSTED_PREFIX):
                channel[key[len(HOSTED_PREFIX) :] + RESULT_SUFFIX] = value
        errors = run.all_xcoms.get((task_id, ERROR_RESULTS_KEY, -1)) or {}
        if errors:
            from graflow_core.steps import value_store

            store = value_store()
            for tid, entry in errors.items():
                what = f"the exception result of graflow task '{tid}'"
                channel[tid + RESULT_SUFFIX] = store.decode(entry, what=what)
        return run.xcoms.get(task_id), channel
    from graflow_airflow.render import FAILED_PAYLOAD_KEY, PAYLOAD_KEY
    from graflow_core.steps import StepOutput, final_channel, final_result

    payloads = {tid: v for (tid, key, _), v in run.all_xcoms.items() if key == PAYLOAD_KEY}
    # the partial outputs of the tasks that failed for good (a retry that succeeded replaced it)
    partial = {
        tid: v
        for (tid, key, _), v in run.all_xcoms.items()
        if key == FAILED_PAYLOAD_KEY and run.task_states.get(tid) == "failed"
    }
    task_of = _step_task_ids(dag)
    outputs = [
        StepOutput.from_payload(payloads[task_of[s.id]])
        for s in plan.steps
        if task_of.get(s.id) in payloads
    ]
    failed = [
        StepOutput.from_payload(partial[task_of[s.id]])
        for s in plan.steps
        if task_of.get(s.id) in partial and task_of[s.id] not in payloads
    ]
    return final_result(outputs), final_channel(params, [*outputs, *failed])


def _step_task_ids(dag: Any) -> dict[str, str]:
    """step id -> Airflow task id of a rendered DAG."""
    return {t.graflow_step.id: t.task_id for t in dag.tasks if getattr(t, "graflow_step", None)}


def _error(run: AirflowRunResult, dag: Any, plan: Any, failures: _Failures) -> BaseException | None:
    """The error of a failed run, chosen among the failed tasks' exceptions as run_plan does."""
    if run.succeeded:
        return None
    from graflow_core.steps import PlanRun, UpstreamFailed

    if plan.whole:
        (task_id,) = dag.task_ids
        return failures.errors.get(task_id) or _lost(task_id, run)
    out = PlanRun(plan)
    for step_id, task_id in _step_task_ids(dag).items():
        state = _STATES.get(run.task_states.get(task_id, ""), "failed")
        error = failures.errors.get(task_id)
        if error is not None and isinstance(error.__cause__, UpstreamFailed):
            state, error = "upstream_failed", None  # the step could not run (run_plan's view)
        out.states[step_id] = state
        if state == "failed":
            out.errors[step_id] = error or _lost(task_id, run)
    task_of = _step_task_ids(dag)
    order = {task_of[s.id]: i for i, s in enumerate(plan.steps) if s.id in task_of}
    failed = sorted(
        (t for t, s in run.task_states.items() if s == "failed"),
        key=lambda t: (order.get(t, len(order)), t),
    )
    if out.error is not None or not failed:
        return out.error or GraflowRuntimeError(
            f"Airflow DAG run {run.dag_id}/{run.run_id} ended {run.state}"
        )
    return failures.errors.get(failed[0]) or _lost(failed[0], run)


def _lost(task_id: str, run: AirflowRunResult) -> GraflowRuntimeError:
    return GraflowRuntimeError(
        f"Airflow task '{task_id}' of DAG run {run.dag_id}/{run.run_id} ended "
        f"{run.task_states.get(task_id)} (see its Airflow task log)"
    )


def _callbacks(given: Any) -> list[Any]:
    """A task's ``on_failure_callback`` as a list (``None``, one callable or a list)."""
    if given is None:
        return []
    if isinstance(given, (list, tuple)):
        return list(given)
    return [given]


#: The most of a captured log attached to an exception (its end is kept).
LOG_NOTE_CHARS = 20_000


def _add_log_note(exc: BaseException, text: str) -> None:
    """Attach what was captured (``quiet=True``) to ``exc`` as a note (Python >= 3.11)."""
    add_note = getattr(exc, "add_note", None)
    if not text.strip() or add_note is None:
        return
    if len(text) > LOG_NOTE_CHARS:
        text = "[... earlier output cut]\n" + text[-LOG_NOTE_CHARS:]
    add_note("Airflow's output during the run (captured, quiet=True):\n" + text.rstrip())


@contextlib.contextmanager
def _captured(enabled: bool) -> Iterator[list[str]]:
    """Capture what the process writes to its file descriptors 1 and 2 (stdout, stderr) while
    the block runs; the text is appended to the yielded list.

    File-descriptor level, because Airflow's loggers keep the stream objects they were created
    with (so ``sys.stdout`` is not swapped either: a logger created meanwhile would keep it).
    """
    captured: list[str] = []
    if not enabled:
        yield captured
        return
    import tempfile

    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace") as sink:
        saved = [os.dup(1), os.dup(2)]
        try:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            yield captured
        finally:
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            sink.seek(0)
            captured.append(sink.read())


def run_workflow(
    workflow: Any,
    params: Mapping[str, Any] | None = None,
    *,
    dag_id: str | None = None,
    quiet: bool = False,
    **render_options: Any,
) -> TargetRun:
    """Run ``workflow`` once on Airflow in this process (``dag.test()``); a :class:`TargetRun`.

    Args:
        workflow: A ``WorkflowContext``, a zero-argument function returning one, a
            ``"module:attr"`` reference or a ``WorkflowSpec`` (see ``resolve_workflow``).
        params: The run parameters (the DAG run's ``conf``, graflow's initial channel).
        dag_id: The DAG id (default: from the workflow's name).
        quiet: Keep what is printed while the DAG runs (Airflow's task logs and log lines)
            out of stdout/stderr, in ``details["log"]`` instead. The whole process's
            output is captured meanwhile (file descriptors 1 and 2). When the run raises, the
            captured output is attached to the exception as a note.
        **render_options: Passed to :func:`~graflow_airflow.render.to_airflow_dag`
            (``start_node``, ``task_groups``, ``default_args`` ...).

    Failures of the workflow do not raise: they are :attr:`TargetRun.error`
    (``run.raise_for_error()`` raises it).

    Raises:
        ConfigError: a run parameter is not JSON (Airflow stores the DAG-run conf as JSON).
        AirflowSetupError: Airflow's metadata database cannot be reached or initialised, or is
            at another schema revision.
    """
    from graflow_core.spec.target_run import check_run_params

    conf = dict(params or {})
    check_run_params("airflow", conf)  # the DAG-run conf is stored as JSON
    setup_log: list[str] = []
    try:
        with _captured(quiet) as setup_log:  # before importing the rest of Airflow
            setup = prepare_airflow() + warm_up()
    except BaseException as exc:
        if quiet:
            _add_log_note(exc, "".join(setup_log))
        raise

    from graflow_airflow.render import to_airflow_dag
    from graflow_core.signing import process_key
    from graflow_core.spec.target_run import TargetRun, resolve_workflow
    from graflow_core.steps import plan_steps

    started = time.perf_counter()
    dag = to_airflow_dag(resolve_workflow(workflow), dag_id=dag_id, **render_options)
    first: Any = dag.tasks[0]  # every rendered operator carries the spec
    plan = plan_steps(first.graflow_spec, start_node=render_options.get("start_node"))
    failures = _Failures()
    for op in dag.tasks:  # after the callbacks given (default_args, ...)
        op.on_failure_callback = [*_callbacks(op.on_failure_callback), failures]
    log: list[str] = []
    try:
        with _lock, process_key() as ephemeral, _captured(quiet) as log:  # one run at a time
            with fresh_session():
                serialize_dag(dag)
                dag_run = dag.test(run_conf=conf)
                run = read_run(dag.dag_id, dag_run.run_id)
            result, channel = _outcome(run, dag, plan, conf)  # signed values read with the key
    except BaseException as exc:
        if quiet:
            _add_log_note(exc, "".join(setup_log + log))
        raise
    out = TargetRun("airflow")
    out.error = _error(run, dag, plan, failures)
    out.result = None if out.error is not None else result
    out.channel = channel
    out.states = {t: _STATES.get(s, "failed") for t, s in run.task_states.items()}
    out.native_tasks = sum(1 for s in out.states.values() if s in ("success", "failed"))
    out.run_id = f"{run.dag_id}/{run.run_id}"
    out.wall_seconds = time.perf_counter() - started
    out.details = {
        "dag_id": run.dag_id,
        "dag_run_id": run.run_id,
        "dag_run_state": run.state,
        "airflow_states": dict(run.task_states),
        "try_numbers": dict(run.try_numbers),
        "setup_seconds": setup,
        "hosted": plan.whole,
        "ephemeral_signing_key": ephemeral,
    }
    if quiet:
        out.details["log"] = "".join(setup_log + log)
    return out
