"""graflow_plugins, graflow_hooks and graflow_checkpoint_dir in real inner pytest sessions."""

from __future__ import annotations

import pytest
from pytester_samples import ETL

pytest_plugins = ["pytester"]


def test_graflow_hooks_records_every_call(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(etl=ETL)
    pytester.makepyfile(
        """
        from graflow_core.plugins import get_plugin_manager
        from graflow_core.testing import HookRecorder
        from etl import build


        def test_success(graflow_workflow, graflow_run, graflow_hooks):
            assert graflow_hooks.calls == []
            graflow_run(build(graflow_workflow)).assert_succeeded()
            graflow_hooks.assert_sequence(
                "workflow_start:etl",
                "task_start:extract",
                "execute_task:extract",
                "task_end:extract",
                "task_end:transform",
                "task_end:load",
                "workflow_end:etl",
            )
            graflow_hooks.assert_called("task_end", task_id="load", result=3)
            graflow_hooks.assert_called("task_start", times=3)
            graflow_hooks.assert_called("workflow_end", times=1, result=3)
            graflow_hooks.assert_not_called("task_failure")
            assert graflow_hooks.get_calls("workflow_start")[0]["workflow_name"] == "etl"
            assert graflow_hooks.sequence("workflow_start", "workflow_end") == [
                "workflow_start:etl",
                "workflow_end:etl",
            ]


        def test_failure_and_retry(graflow_workflow, graflow_run, graflow_hooks):
            graflow_run(build(graflow_workflow, fail=True, retries=1)).assert_failed(ValueError)
            graflow_hooks.assert_called("task_failure", task_id="transform", final=False)
            graflow_hooks.assert_called("task_failure", task_id="transform", final=True)
            graflow_hooks.assert_called("task_retry", task_id="transform", attempt=1)
            graflow_hooks.assert_sequence(
                "task_failure:transform", "task_retry:transform", "workflow_failure:etl"
            )
            graflow_hooks.assert_not_called("task_start", task_id="load")


        def test_the_recorder_is_gone_afterwards():
            plugins = get_plugin_manager().get_plugins()
            assert not [p for p in plugins if isinstance(p, HookRecorder)]
        """
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=3)


def test_hook_assertion_messages(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(etl=ETL)
    pytester.makepyfile(
        """
        from etl import build


        def test_missing_call(graflow_workflow, graflow_run, graflow_hooks):
            graflow_run(build(graflow_workflow))
            graflow_hooks.assert_called("task_end", task_id="load", result=4)


        def test_wrong_order(graflow_workflow, graflow_run, graflow_hooks):
            graflow_run(build(graflow_workflow))
            graflow_hooks.assert_sequence("task_end:load", "task_end:extract")


        def test_unexpected_call(graflow_workflow, graflow_run, graflow_hooks):
            graflow_run(build(graflow_workflow))
            graflow_hooks.assert_not_called("task_end", task_id="extract")
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=3)
    out = result.stdout.str()
    assert (
        "AssertionError: hook task_end was called 0 time(s) with {'task_id': 'load', "
        "'result': 4}, expected at least once; calls of task_end: ['task_end:extract', "
        "'task_end:transform', 'task_end:load']"
    ) in out
    assert (
        "AssertionError: hook calls do not contain ['task_end:load', 'task_end:extract'] in "
        "this order: 'task_end:extract' (item 2) is missing after ['task_end:load']"
    ) in out
    assert (
        "AssertionError: hook task_end was called with {'task_id': 'extract'} 1 time(s), "
        "expected never"
    ) in out


def test_graflow_plugins_registers_and_disables_for_one_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(etl=ETL)
    pytester.makepyfile(
        """
        import pytest
        from graflow_core.plugins import get_plugin_manager, hookimpl
        from etl import build


        class Doubler:
            @hookimpl
            def task_end(self, task_id, context, result):
                if task_id == "load":
                    context.get_channel().set("doubled", result * 2)


        class Other:
            @hookimpl
            def workflow_start(self, workflow_name):
                pass


        def test_register(graflow_workflow, graflow_run, graflow_plugins):
            plugin = graflow_plugins.register(Doubler(), name="doubler")
            assert graflow_plugins.manager is get_plugin_manager()
            assert get_plugin_manager().get_plugin("doubler") is plugin
            graflow_run(build(graflow_workflow)).assert_channel("doubled", 6)
            with pytest.raises(AssertionError, match="already registered"):
                graflow_plugins.register(plugin)


        def test_unregistered_after_the_test(graflow_workflow, graflow_run):
            assert get_plugin_manager().get_plugin("doubler") is None
            run = graflow_run(build(graflow_workflow))
            assert "doubled" not in run.channel


        def test_disable(graflow_plugins):
            graflow_plugins.register(Other(), name="other")
            graflow_plugins.disable("other", "never-installed")
            assert get_plugin_manager().get_plugin("other") is None
            with pytest.raises(AssertionError, match="'other' is disabled"):
                graflow_plugins.register(Other(), name="other")


        def test_disable_is_undone(graflow_plugins):
            pm = get_plugin_manager()
            assert not pm.is_blocked("other") and not pm.is_blocked("never-installed")
            graflow_plugins.register(Other(), name="other")
        """
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=4)


def test_isolate_plugins_hides_installed_ones(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        from graflow_core.plugins import get_plugin_manager


        class Marker:
            pass


        @pytest.fixture
        def installed():
            # stands in for an entry-point plugin: registered on the process-wide manager
            pm = get_plugin_manager()
            marker = pm.register(Marker(), name="installed-one")
            yield
            assert get_plugin_manager().get_plugin("installed-one") is not None, "not restored"
            get_plugin_manager().unregister(name="installed-one")


        def test_disable_an_installed_plugin(installed, graflow_plugins):
            graflow_plugins.disable("installed-one")
            assert get_plugin_manager().get_plugin("installed-one") is None


        def test_not_isolated(installed, graflow_plugins):
            assert graflow_plugins.manager.get_plugin("installed-one") is not None


        @pytest.mark.graflow(isolate_plugins=True)
        def test_isolated(installed, graflow_plugins, graflow_hooks):
            assert graflow_plugins.manager.get_plugin("installed-one") is None
            assert graflow_plugins.manager is get_plugin_manager()
        """
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=3)


def test_graflow_checkpoint_dir(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import os
        from pathlib import Path

        import pytest
        from graflow_core import task, TaskExecutionContext
        from graflow_core.testing import assert_checkpoint, list_checkpoints, resume_workflow

        KEY = os.environ.get("GRAFLOW_SECRET_KEY")


        def build(graflow_workflow, path=None):
            with graflow_workflow("ck") as wf:

                @task(inject_context=True)
                def first(ctx: TaskExecutionContext):
                    ctx.checkpoint(metadata={"stage": "first"}, path=path)
                    return 1

                @task
                def second(first):
                    return first + 1

                @task
                def third(second):
                    return second + 1

                first >> second >> third
            return wf


        def test_default_paths_land_in_the_dir(graflow_checkpoint_dir, graflow_workflow,
                                               graflow_run):
            assert list_checkpoints(graflow_checkpoint_dir) == []
            assert Path.cwd() == graflow_checkpoint_dir.parent
            key = os.environ["GRAFLOW_SECRET_KEY"]
            assert len(key) == 64 and key != KEY
            run = graflow_run(build(graflow_workflow))
            run.assert_result("third", 3)
            (path,) = list_checkpoints(graflow_checkpoint_dir)
            assert path.startswith(str(graflow_checkpoint_dir)) and path.endswith(".pkl")
            info = assert_checkpoint(
                path, completed=["first"], pending=["second"], user_metadata={"stage": "first"}
            )
            assert info.metadata.user_metadata["task_id"] == "first"
            assert info.state["completed_tasks"] == ["first"]
            resumed = resume_workflow(path)
            resumed.assert_not_run("first").assert_completed("second", "third", in_order=True)


        def test_key_is_restored():
            assert os.environ.get("GRAFLOW_SECRET_KEY") == KEY


        def test_mismatches_are_explained(graflow_checkpoint_dir, graflow_workflow, graflow_run):
            base = graflow_checkpoint_dir / "one"
            graflow_run(build(graflow_workflow, path=str(base)))
            with pytest.raises(AssertionError, match=r"completed tasks are \\['first'\\], "
                               r"expected \\['first', 'second'\\]"):
                assert_checkpoint(base, completed=["first", "second"])
            with pytest.raises(AssertionError, match=r"a resume would run \\['second'\\] first, "
                               r"expected \\['third'\\]"):
                assert_checkpoint(base, pending=["third"])
            with pytest.raises(AssertionError, match=r"user metadata differs for \\['stage'\\]"):
                assert_checkpoint(base, user_metadata={"stage": "second"})
            state = Path(f"{base}.state.json")
            state.write_text(state.read_text().replace('"first"', '"FIRST"'))
            with pytest.raises(AssertionError, match=r"checkpoint .*one.pkl is not valid:"):
                assert_checkpoint(base)
            with pytest.raises(AssertionError, match=r"checkpoint .*nope.pkl is not valid:"):
                assert_checkpoint(graflow_checkpoint_dir / "nope.pkl")
        """
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=3)
