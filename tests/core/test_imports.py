"""Every import path a Graflow user relies on exists under graflow_core (spec §1.1)."""

from __future__ import annotations

import importlib
import inspect

import pytest

pytestmark = pytest.mark.usefixtures("chdir_tmp")

# (module, names) pairs: graflow.X -> graflow_core.X
DEEP_IMPORTS = [
    ("graflow_core.core.decorators", ["task"]),
    (
        "graflow_core.core.workflow",
        [
            "workflow",
            "WorkflowContext",
            "current_workflow_context",
            "get_current_workflow_context",
            "require_workflow_context",
            "set_current_workflow_context",
            "clear_workflow_context",
        ],
    ),
    (
        "graflow_core.core.context",
        ["ExecutionContext", "TaskExecutionContext", "create_execution_context"],
    ),
    ("graflow_core.core.engine", ["WorkflowEngine"]),
    ("graflow_core.coordination.coordinator", ["CoordinationBackend"]),
    ("graflow_core.coordination.executor", ["CoordinationBackend", "GroupExecutor"]),
    (
        "graflow_core.exceptions",
        [
            "GraflowError",
            "GraflowRuntimeError",
            "CycleLimitExceededError",
            "RetryLimitExceededError",
            "TaskError",
            "ParallelGroupError",
            "GraflowWorkflowCanceledError",
            "GraphCompilationError",
            "DuplicateTaskError",
            "ConfigError",
            "as_runtime_error",
        ],
    ),
    (
        "graflow_core.core.task",
        [
            "TaskWrapper",
            "ParallelGroup",
            "SequentialTask",
            "Task",
            "Executable",
            "chain",
            "parallel",
        ],
    ),
    ("graflow_core.core.checkpoint", ["CheckpointManager", "CheckpointMetadata"]),
    ("graflow_core.core.graph", ["TaskGraph"]),
    (
        "graflow_core.core.handlers.group_policy",
        [
            "GroupExecutionPolicy",
            "StrictGroupPolicy",
            "BestEffortGroupPolicy",
            "CriticalGroupPolicy",
            "AtLeastNGroupPolicy",
            "POLICY_REGISTRY",
            "canonicalize_group_policy",
            "resolve_group_policy",
        ],
    ),
    ("graflow_core.core.handler", ["TaskHandler", "TaskResult"]),
    ("graflow_core.core.handlers.direct", ["DirectTaskHandler"]),
    ("graflow_core.core.retry", ["RetryPolicy", "RetryController"]),
    ("graflow_core.core.cycle", ["CycleController"]),
    ("graflow_core.channels.base", ["Channel"]),
    ("graflow_core.channels.memory_channel", ["MemoryChannel"]),
    ("graflow_core.channels.factory", ["ChannelFactory"]),
    ("graflow_core.channels.typed", ["TypedChannel"]),
    ("graflow_core.queue.base", ["TaskSpec", "TaskStatus", "TaskQueue"]),
    ("graflow_core.trace.noop", ["NoopTracer"]),
]


@pytest.mark.parametrize(("module", "names"), DEEP_IMPORTS, ids=[m for m, _ in DEEP_IMPORTS])
def test_deep_import_paths(module, names):
    mod = importlib.import_module(module)
    missing = [n for n in names if not hasattr(mod, n)]
    assert not missing, f"{module} lacks {missing}"


def test_top_level_exports():
    import graflow_core

    expected = {"RetryPolicy", "TaskExecutionContext", "chain", "parallel", "task", "workflow"}
    assert expected <= set(graflow_core.__all__)
    from graflow_core import RetryPolicy, TaskExecutionContext, chain, parallel, task, workflow
    from graflow_core.core.context import TaskExecutionContext as TEC
    from graflow_core.core.decorators import task as deep_task
    from graflow_core.core.retry import RetryPolicy as RP
    from graflow_core.core.task import chain as deep_chain
    from graflow_core.core.task import parallel as deep_parallel
    from graflow_core.core.workflow import workflow as deep_workflow

    assert task is deep_task
    assert workflow is deep_workflow
    assert TaskExecutionContext is TEC
    assert RetryPolicy is RP
    assert chain is deep_chain
    assert parallel is deep_parallel


def test_coordination_backend_is_closed_enum():
    from graflow_core.coordination.coordinator import CoordinationBackend

    assert {b.name: b.value for b in CoordinationBackend} == {
        "REDIS": "redis",
        "THREADING": "threading",
        "DIRECT": "direct",
    }


def test_exception_hierarchy():
    from graflow_core import exceptions as ex

    for cls in (
        ex.CycleLimitExceededError,
        ex.RetryLimitExceededError,
        ex.TaskError,
        ex.ParallelGroupError,
        ex.GraflowWorkflowCanceledError,
    ):
        assert issubclass(cls, ex.GraflowRuntimeError)
    assert issubclass(ex.GraflowRuntimeError, ex.GraflowError)
    assert issubclass(ex.DuplicateTaskError, ex.GraphCompilationError)
    assert issubclass(ex.GraphCompilationError, ex.GraflowError)
    assert issubclass(ex.ConfigError, ex.GraflowError)
    assert issubclass(ex.GraflowError, Exception)


def test_graflow_error_cause_in_str():
    from graflow_core.exceptions import GraflowError, GraflowRuntimeError, as_runtime_error

    err = GraflowError("outer", cause=ValueError("inner"))
    assert err.cause.args == ("inner",)
    assert str(err) == "outer (caused by inner)"
    assert str(GraflowError("plain")) == "plain"

    wrapped = as_runtime_error(KeyError("k"))
    assert isinstance(wrapped, GraflowRuntimeError)
    assert str(wrapped).startswith("An error occurred: ")
    already = GraflowRuntimeError("x")
    assert as_runtime_error(already) is already


def test_exception_constructor_signatures():
    from graflow_core import exceptions as ex

    e = ex.CycleLimitExceededError("t", 3, 3)
    assert (e.task_id, e.cycle_count, e.max_cycles) == ("t", 3, 3)
    boom = RuntimeError("boom")
    r = ex.RetryLimitExceededError("t", 4, 3, boom)
    assert (r.task_id, r.retry_count, r.max_retries) == ("t", 4, 3)
    assert r.cause is boom
    p = ex.ParallelGroupError("msg", "g", [("a", "x")], ["b"])
    assert p.group_id == "g"
    assert list(p.failed_tasks) == [("a", "x")]
    assert list(p.successful_tasks) == ["b"]
    c = ex.GraflowWorkflowCanceledError("stop", task_id="t1")
    assert str(c) == "Workflow canceled by task 't1': stop"
    assert c.task_id == "t1"
    d = ex.DuplicateTaskError("dup_id")
    assert "dup_id" in str(d)


def test_handler_abc_and_task_result():
    from graflow_core.core.handler import TaskHandler, TaskResult

    assert inspect.isabstract(TaskHandler)

    class H(TaskHandler):
        def execute_task(self, task, context):
            return None

    assert H().get_name() == "H"
    r = TaskResult("a", True)
    assert (r.task_id, r.success, r.error, r.error_message, r.duration, r.timestamp) == (
        "a",
        True,
        None,
        None,
        0.0,
        0.0,
    )


def test_direct_handler_name():
    from graflow_core.core.handlers.direct import DirectTaskHandler

    assert DirectTaskHandler().get_name() == "direct"


def test_every_lazy_top_level_name_resolves() -> None:
    import graflow_core

    for name in graflow_core._LAZY:
        assert getattr(graflow_core, name) is not None, name
    assert set(graflow_core._LAZY) <= set(graflow_core.__all__)
    assert set(graflow_core._LAZY) <= set(dir(graflow_core))


def test_importing_the_core_loads_no_heavy_dependency() -> None:
    """The core must stay cheap to import: no orchestrator, tracker, LLM library or networkx."""
    import subprocess
    import sys

    heavy = [
        "airflow",
        "prefect",
        "dagster",
        "mlflow",
        "wandb",
        "langchain_core",
        "networkx",
        "pandas",
        "numpy",
        "cloudpickle",
        "pluggy",
        "inspect",
        "dataclasses",
        "logging",
        "threading",
        "importlib.metadata",
        "fsspec",
        "hmac",
    ]
    code = (
        "import sys; import graflow_core; "
        "from graflow_core import task, workflow, parallel, chain; "
        f"print([m for m in {heavy!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
