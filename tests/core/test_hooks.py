"""Plugin hooks on real runs: firing order, arguments, branches, retries, execute_task."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pluggy
import pytest

from graflow_core import RetryPolicy, task, workflow
from graflow_core.core import hooks as core_hooks
from graflow_core.exceptions import GraflowRuntimeError, PluginError
from graflow_core.plugins import (
    TaskOutcome,
    get_plugin_manager,
    hookimpl,
    reset_plugin_manager,
)


class Recorder:
    """Records every lifecycle hook call as (hook, task_id or workflow name, extra)."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self._lock = threading.Lock()

    def _add(self, *item) -> None:
        with self._lock:
            self.calls.append(item)

    @hookimpl
    def workflow_start(self, context, workflow_name):
        self._add("workflow_start", workflow_name)

    @hookimpl
    def workflow_end(self, context, workflow_name, result):
        self._add("workflow_end", workflow_name, result)

    @hookimpl
    def workflow_failure(self, context, workflow_name, error):
        self._add("workflow_failure", workflow_name, type(error).__name__)

    @hookimpl
    def task_start(self, task, task_id, context):
        assert task.task_id == task_id
        self._add("task_start", task_id)

    @hookimpl
    def task_end(self, task, task_id, context, result):
        assert context.get_result(task_id) == result
        self._add("task_end", task_id, result)

    @hookimpl
    def task_failure(self, task_id, error, final):
        self._add("task_failure", task_id, str(error), final)

    @hookimpl
    def task_retry(self, task_id, error, attempt, delay):
        self._add("task_retry", task_id, attempt, delay)

    @hookimpl
    def dynamic_task_added(self, task_id, goto):
        self._add("dynamic_task_added", task_id, goto)

    def names(self, hook: str) -> list:
        return [c[1] for c in self.calls if c[0] == hook]


def test_zero_plugins_means_no_snapshot(monkeypatch):
    monkeypatch.setenv("GRAFLOW_DISABLE_PLUGIN_AUTOLOAD", "1")
    reset_plugin_manager()
    try:
        assert core_hooks.active_hooks() is None
        assert core_hooks.current_manager() is None
    finally:
        reset_plugin_manager()


def test_chain_fires_hooks_in_order(pm):
    rec = Recorder()
    pm.register(rec, name="recorder")
    with workflow("ordered") as wf:

        @task
        def a():
            return 1

        @task
        def b(a):
            return a + 1

        a >> b

    assert wf.execute() == 2
    assert rec.calls == [
        ("workflow_start", "ordered"),
        ("task_start", "a"),
        ("task_end", "a", 1),
        ("task_start", "b"),
        ("task_end", "b", 2),
        ("workflow_end", "ordered", 2),
    ]


def test_parallel_branches_fire_member_hooks(pm):
    rec = Recorder()
    pm.register(rec)
    with workflow("fan") as wf:

        @task
        def start():
            return "s"

        @task
        def left():
            return "l"

        @task
        def right():
            return "r"

        @task
        def join():
            return "j"

        start >> (left | right).with_execution(backend="threading") >> join

    wf.execute()
    starts = rec.names("task_start")
    assert starts[0] == "start"
    assert starts[1].startswith("ParallelGroup_")
    assert set(starts[2:4]) == {"left", "right"}
    assert starts[4] == "join"
    ends = rec.names("task_end")
    # members end before their group; the group ends before the join starts
    group = starts[1]
    assert ends.index("left") < ends.index(group) < ends.index("join")
    assert ends.index("right") < ends.index(group)
    assert rec.calls[0] == ("workflow_start", "fan")
    assert rec.calls[-1][0] == "workflow_end"
    assert rec.names("workflow_start") == ["fan"]  # branches are not separate runs


def test_retries_fire_failure_and_retry_hooks(pm):
    rec = Recorder()
    pm.register(rec)
    attempts = {"n": 0}
    with workflow("retrying") as wf:

        @task(retry_policy=RetryPolicy(max_retries=2, initial_interval=0.001, backoff_factor=2))
        def flaky():
            attempts["n"] += 1
            if attempts["n"] < 3:
                raise ValueError(f"boom {attempts['n']}")
            return "ok"

    assert wf.execute() == "ok"
    assert [c for c in rec.calls if c[0] != "workflow_start" and c[0] != "workflow_end"] == [
        ("task_start", "flaky"),
        ("task_failure", "flaky", "boom 1", False),
        ("task_retry", "flaky", 1, 0.001),
        ("task_start", "flaky"),
        ("task_failure", "flaky", "boom 2", False),
        ("task_retry", "flaky", 2, 0.002),
        ("task_start", "flaky"),
        ("task_end", "flaky", "ok"),
    ]


def test_final_failure_fires_task_and_workflow_failure(pm):
    rec = Recorder()
    pm.register(rec)
    with workflow("failing") as wf:

        @task(max_retries=1)
        def broken():
            raise KeyError("missing")

    with pytest.raises(GraflowRuntimeError):
        wf.execute()
    assert rec.calls[1:] == [
        ("task_start", "broken"),
        ("task_failure", "broken", "'missing'", False),
        ("task_retry", "broken", 1, 0.0),
        ("task_start", "broken"),
        ("task_failure", "broken", "'missing'", True),
        ("workflow_failure", "failing", "RetryLimitExceededError"),
    ]


def test_dynamic_tasks_fire_dynamic_task_added(pm):
    rec = Recorder()
    pm.register(rec)
    with workflow("dyn") as wf:

        @task(inject_context=True, max_cycles=3)
        def loop(ctx):
            if ctx.can_iterate() and ctx.cycle_count < 2:
                ctx.next_iteration()
            return ctx.cycle_count

        @task(inject_context=True)
        def spawn(ctx):
            @task("extra")
            def extra():
                return "x"

            ctx.next_task(extra)

        loop >> spawn

    wf.execute()
    added = [c for c in rec.calls if c[0] == "dynamic_task_added"]
    assert len(added) == 2
    assert added[0][1].startswith("loop_cycle_") and added[0][2] is True
    assert added[1] == ("dynamic_task_added", "extra", False)
    assert "extra" in rec.names("task_start")


class Host:
    """An execute_task plugin hosting every task, like a bridge would."""

    def __init__(self) -> None:
        self.hosted: list[str] = []

    @hookimpl
    def execute_task(self, task, task_id, context, invoke):
        self.hosted.append(task_id)
        return TaskOutcome(invoke())


def test_execute_task_hook_hosts_every_task(pm):
    host = Host()
    pm.register(host)
    with workflow("hosted") as wf:

        @task
        def a():
            return None  # a None result is still "handled" thanks to TaskOutcome

        @task
        def b(a):
            return f"b got {a}"

        a >> b

    result, ctx = wf.execute(ret_context=True)
    assert host.hosted == ["a", "b"]
    assert result == "b got None"
    assert ctx.get_result("b") == "b got None"


def test_execute_task_hook_returning_none_lets_the_core_run(pm):
    class Decline:
        seen: list[str] = []

        @hookimpl
        def execute_task(self, task_id):
            self.seen.append(task_id)
            return None

    plugin = Decline()
    pm.register(plugin)
    with workflow("declined") as wf:

        @task
        def only():
            return 42

    assert wf.execute() == 42
    assert plugin.seen == ["only"]


def test_execute_task_hook_must_wrap_values(pm):
    class Bad:
        @hookimpl
        def execute_task(self, invoke):
            return invoke()

    pm.register(Bad())
    with workflow("bad") as wf:

        @task
        def only():
            return 42

    with pytest.raises(PluginError, match="TaskOutcome"):
        wf.execute()


def test_execute_task_failure_goes_through_retries(pm):
    class Host2:
        @hookimpl
        def execute_task(self, invoke):
            return TaskOutcome(invoke())

    pm.register(Host2())
    attempts = []
    with workflow("hosted-retry") as wf:

        @task(max_retries=1)
        def once_broken():
            attempts.append(1)
            if len(attempts) == 1:
                raise RuntimeError("first")
            return "second"

    assert wf.execute() == "second"
    assert len(attempts) == 2


def test_unregister_and_disable_restore_the_fast_path(pm):
    rec = Recorder()
    pm.register(rec, name="rec")
    assert core_hooks.active_hooks() is not None
    pm.unregister(rec)
    assert core_hooks.active_hooks() is None
    pm.disable("rec")
    assert pm.register(Recorder(), name="rec") is None  # blocked names are refused
    assert core_hooks.active_hooks() is None


def test_disabled_by_env_var_for_explicit_registration(monkeypatch):
    monkeypatch.setenv("GRAFLOW_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("GRAFLOW_DISABLE_PLUGINS", "noisy, other")
    reset_plugin_manager()
    try:
        manager = get_plugin_manager()
        assert manager.register(Recorder(), name="noisy") is None
        assert manager.register(Recorder(), name="quiet") == "quiet"
    finally:
        reset_plugin_manager()


def test_registered_context_manager(pm):
    rec = Recorder()
    with pm.registered(rec):
        with workflow("once") as wf:

            @task
            def t():
                return 1

        wf.execute()
    assert rec.names("task_end") == ["t"]
    assert core_hooks.active_hooks() is None


def test_hookimpl_with_unknown_argument_is_rejected(pm):
    class Wrong:
        @hookimpl
        def task_end(self, task_id, not_an_argument):
            pass

    with pytest.raises(pluggy.PluginValidationError, match="not_an_argument"):
        pm.register(Wrong())


def test_only_workflow_hooks_keep_tasks_on_the_fast_path(pm, monkeypatch):
    ended = []

    class WorkflowOnly:
        @hookimpl
        def workflow_end(self, workflow_name, result):
            ended.append((workflow_name, result))

    pm.register(WorkflowOnly())
    snapshot = core_hooks.active_hooks()
    assert snapshot is not None
    assert snapshot.task_hooks is False
    assert snapshot.task_start is None

    from graflow_core.core.engine import WorkflowEngine

    def no_extended_path(*args, **kwargs):
        raise AssertionError("a workflow-only plugin must not move tasks off the fast path")

    monkeypatch.setattr(WorkflowEngine, "_execute_extended", no_extended_path)
    with workflow("fast") as wf:

        @task
        def a():
            return 1

        @task
        def b(a):
            return a + 1

        a >> b

    assert wf.execute() == 2
    assert ended == [("fast", 2)]


def test_plain_run_never_imports_pluggy():
    code = textwrap.dedent(
        """
        import sys
        from graflow_core import task, workflow
        with workflow("w") as wf:
            @task
            def a():
                return 1
        assert wf.execute() == 1
        print("pluggy" in sys.modules, "importlib.metadata" in sys.modules)
        """
    )
    # The dev environment has the workspace's bridges and plugins installed; `-S` leaves out
    # site-packages so that this process sees an environment with no graflow plugins at all.
    root = str(Path(__file__).resolve().parents[2])
    env = {"GRAFLOW_DISABLE_PLUGIN_AUTOLOAD": "", "PATH": "", "PYTHONPATH": root}
    out = subprocess.run(
        [sys.executable, "-S", "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.split() == ["False", "False"]


def test_autoload_disabled_run_never_imports_pluggy():
    code = textwrap.dedent(
        """
        import sys
        from graflow_core import task, workflow
        with workflow("w") as wf:
            @task
            def a():
                return 1
        assert wf.execute() == 1
        print("pluggy" in sys.modules, "importlib.metadata" in sys.modules)
        """
    )
    env = {"GRAFLOW_DISABLE_PLUGIN_AUTOLOAD": "1", "PATH": ""}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.split() == ["False", "False"]


def test_run_plugins_apply_to_that_run_only(pm):
    global_rec = Recorder()
    pm.register(global_rec, name="global")
    host = Host()
    with workflow("scoped") as wf:

        @task
        def a():
            return 1

        @task
        def b(a):
            return a + 1

        a >> (b | task(id="c")(lambda: 3))

    wf.execute(plugins=[host])
    assert host.hosted[:2] == ["a", "ParallelGroup_1"]
    assert sorted(host.hosted[2:]) == ["b", "c"]
    assert "b" in global_rec.names("task_end")  # process-wide plugins still see the run
    hosted_before = list(host.hosted)
    wf.execute()
    assert host.hosted == hosted_before  # the next run is not hosted
    assert core_hooks.active_hooks() is not None and core_hooks.active_hooks().execute_task is None


def test_run_plugins_on_a_context_with_no_global_plugins(pm):
    host = Host()
    with workflow("ctx-scoped") as wf:

        @task
        def only():
            return "v"

    ctx = wf.create_execution_context()
    ctx.use_plugins(host)
    assert wf.create_engine().execute(ctx) == "v"
    assert host.hosted == ["only"]
    assert core_hooks.active_hooks() is None


def test_direct_dispatch_keeps_pluggy_order_and_firstresult(pm):
    order = []

    class First:
        @hookimpl(tryfirst=True)
        def task_end(self, task_id):
            order.append(("first", task_id))

    class Plain:
        @hookimpl
        def task_end(self, task_id):
            order.append(("plain", task_id))

    class Last:
        @hookimpl(trylast=True)
        def task_end(self, task_id):
            order.append(("last", task_id))

    class Later:
        @hookimpl
        def task_end(self, task_id):
            order.append(("later", task_id))

        @hookimpl
        def execute_task(self, invoke):
            return TaskOutcome("from later")

    class Declines:
        @hookimpl
        def execute_task(self, task_id):
            order.append(("declined", task_id))

    for plugin in (Last(), First(), Plain(), Later(), Declines()):
        pm.register(plugin)
    snapshot = core_hooks.active_hooks()
    assert type(snapshot.task_end).__name__ == "_DirectCaller"
    with workflow("ordered-impls") as wf:

        @task
        def t():
            return "real"

    assert wf.execute() == "from later"  # Declines (registered last) runs first, returns None
    assert order == [
        ("declined", "t"),
        ("first", "t"),
        ("later", "t"),
        ("plain", "t"),
        ("last", "t"),
    ]
    # the same order pluggy itself uses
    order.clear()
    pm.hook.task_end(task=t, task_id="x", context=None, result=None)
    assert order == [("first", "x"), ("later", "x"), ("plain", "x"), ("last", "x")]


def test_wrappers_and_monitoring_go_through_pluggy(pm):
    seen = []

    class Wrapper:
        @hookimpl(wrapper=True)
        def task_end(self, task_id):
            seen.append(("before", task_id))
            result = yield
            seen.append(("after", task_id))
            return result

    class Plain:
        @hookimpl
        def task_end(self, task_id):
            seen.append(("plain", task_id))

    pm.register(Plain())
    assert type(core_hooks.active_hooks().task_end).__name__ == "_DirectCaller"
    wrapper = Wrapper()
    pm.register(wrapper)
    assert type(core_hooks.active_hooks().task_end).__name__ == "HookCaller"
    with workflow("wrapped") as wf:

        @task
        def t():
            return 1

    wf.execute()
    assert seen == [("before", "t"), ("plain", "t"), ("after", "t")]

    traced = []
    undo = pm.add_hookcall_monitoring(
        lambda name, impls, kwargs: traced.append(name), lambda *args: None
    )
    assert type(core_hooks.active_hooks().task_end).__name__ == "HookCaller"
    wf.execute()
    assert "task_end" in traced
    undo()
    pm.unregister(wrapper)
    assert type(core_hooks.active_hooks().task_end).__name__ == "_DirectCaller"
