"""The ``graflow`` pytest plugin, exercised in real inner pytest sessions (``pytester``).

The inner sessions load the plugin the way users get it: through the ``pytest11`` entry point
of the installed graflow-core distribution (nothing here registers it by hand).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from pytester_samples import ETL

pytest_plugins = ["pytester"]


def test_the_plugin_is_loaded_through_its_entry_point(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_loaded(pytestconfig):
            plugin = pytestconfig.pluginmanager.get_plugin("graflow")
            assert plugin is not None
            assert plugin.__name__ == "graflow_core.testing.pytest_plugin"
        """
    )
    pytester.runpytest_subprocess().assert_outcomes(passed=1)
    result = pytester.runpytest_subprocess("--fixtures")
    result.stdout.fnmatch_lines(["*graflow_run*", "*graflow_workflow*"])
    result = pytester.runpytest_subprocess("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.graflow(*graflow_run*"])


def test_importing_the_plugin_is_cheap() -> None:
    """pytest imports the plugin in every session: it must load nothing of the engine."""
    code = textwrap.dedent(
        """
        import sys
        import pytest
        before = set(sys.modules)
        import graflow_core.testing.pytest_plugin
        new = sorted(set(sys.modules) - before)
        heavy = [m for m in new if m.split(".")[0] in ("cloudpickle", "pluggy", "inspect")
                 or m.startswith(("graflow_core.plugins", "graflow_core.testing.runner",
                                  "graflow_core.core.engine", "graflow_core.signing"))]
        print(heavy)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_workflow_and_run_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(etl=ETL)
    pytester.makepyfile(
        """
        import pytest
        from graflow_core.core.workflow import get_current_workflow_context
        from etl import build


        def test_run(graflow_workflow, graflow_run):
            wf = build(graflow_workflow)
            assert wf.name == "etl"
            run = graflow_run(wf)
            assert run.result == 3
            run.assert_completed("extract", "transform", "load", in_order=True)
            run.assert_result("transform", [1, 2, 3])
            assert graflow_run.last is run and graflow_run.runs == [run]


        def test_default_name_is_the_test_name(graflow_workflow):
            assert graflow_workflow().name == "test_default_name_is_the_test_name"
            assert graflow_workflow("x", version="2").name == "x"


        def test_leaves_a_block_open(graflow_workflow):
            wf = graflow_workflow("leaky")
            wf.__enter__()  # never exited
            assert get_current_workflow_context() is wf


        def test_nothing_leaked():
            assert get_current_workflow_context() is None


        def test_failure_is_kept(graflow_workflow, graflow_run):
            run = graflow_run(build(graflow_workflow, fail=True))
            run.assert_failed(ValueError, match="bad row", task_id="transform")
            run.assert_not_run("load")


        def test_last_without_a_run(graflow_run):
            with pytest.raises(AssertionError, match="has not run a workflow"):
                graflow_run.last
        """
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=6)


def test_marker_sets_run_defaults(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        from graflow_core import task
        from graflow_core.plugins import get_plugin_manager
        from graflow_core.testing import HookRecorder

        pytestmark = pytest.mark.graflow(initial_channel={"x": 1}, max_steps=50)


        def build(graflow_workflow):
            with graflow_workflow("m") as wf:

                @task
                def a(x):
                    return x + 1

                @task
                def b(a):
                    return a * 10

                a >> b
            return wf


        def test_module_defaults(graflow_workflow, graflow_run):
            run = graflow_run(build(graflow_workflow))
            assert run.result == 20
            assert run.context.max_steps == 50


        @pytest.mark.graflow(initial_channel={"x": 4})
        def test_closest_marker_wins(graflow_workflow, graflow_run):
            run = graflow_run(build(graflow_workflow))
            assert run.result == 50
            assert run.context.max_steps == 50


        @pytest.mark.graflow(max_steps=1)
        def test_explicit_arguments_win(graflow_workflow, graflow_run):
            wf = build(graflow_workflow)
            graflow_run(wf).assert_failed(match="max_steps")
            assert graflow_run(wf, max_steps=5).result == 20


        RECORDER = HookRecorder()


        @pytest.mark.graflow(plugins=[RECORDER])
        def test_per_run_plugins(graflow_workflow, graflow_run):
            graflow_run(build(graflow_workflow))
            RECORDER.assert_called("task_end", task_id="b", result=20)
            assert get_plugin_manager().get_plugin("recorder") is None  # run-local only
        """
    )
    pytester.runpytest("--strict-markers").assert_outcomes(passed=4)


def test_bad_marker_usage_is_explained(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.graflow(retries=3)
        def test_unknown(graflow_run):
            pass

        @pytest.mark.graflow(10)
        def test_positional(graflow_run):
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=2)
    out = result.stdout.str()
    assert (
        "@pytest.mark.graflow: unknown option(s) ['retries'] on "
        "test_bad_marker_usage_is_explained.py::test_unknown; "
        "supported: start_node, max_steps, initial_channel, plugins, isolate_plugins"
    ) in out
    assert (
        "@pytest.mark.graflow takes keyword arguments only (start_node, max_steps, "
        "initial_channel, plugins, isolate_plugins), got positional (10,)"
    ) in out
    assert "pytest_plugin.py" not in out  # a usage message, not a traceback into the plugin


def test_failing_assertions_read_well_and_the_report_shows_the_runs(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(etl=ETL)
    pytester.makepyfile(
        """
        from etl import build


        def test_wrong_order(graflow_workflow, graflow_run):
            run = graflow_run(build(graflow_workflow))
            run.assert_completed("load", "extract", in_order=True)


        def test_wrong_result(graflow_workflow, graflow_run):
            graflow_run(build(graflow_workflow)).assert_result("load", 4)


        def test_unexpected_failure(graflow_workflow, graflow_run):
            run = graflow_run(build(graflow_workflow, fail=True))
            assert run.result == 3


        def test_not_run(graflow_workflow, graflow_run):
            graflow_run(build(graflow_workflow)).assert_not_run("load")
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=4)
    out = result.stdout.str()
    for message in (
        "E       AssertionError: workflow 'etl': tasks completed in the order"
        " ['extract', 'load'], expected ['load', 'extract']; completed, in order:"
        " ['extract', 'transform', 'load']",
        "E       AssertionError: workflow 'etl': task 'load' returned 3, expected 4",
        "E       AssertionError: workflow 'etl' failed, so it has no result:"
        " GraflowRuntimeError: An error occurred: bad row (caused by bad row)"
        " (task 'transform' raised ValueError: bad row)",
        "E       AssertionError: workflow 'etl': expected 'load' not to run, but it did;",
    ):
        assert message in out
    # the assertion helpers hide their own frames: the traceback ends at the test's line
    assert "def assert_completed" not in out
    # each failed test's report lists what its workflow runs did
    assert (
        "run 1: workflow 'etl' FAILED (GraflowRuntimeError('An error occurred: bad row'))"
    ) in out
    assert "  completed, in order: ['extract']\n  task 'transform' raised ValueError: bad" in out
    assert out.count("- graflow runs -") == 4


def test_plain_helpers_need_no_pytest_fixture(pytester: pytest.Pytester) -> None:
    """The helpers are plain functions: usable from unittest or any other runner."""
    pytester.makepyfile(etl="from graflow_core import task, workflow\n" + ETL)
    script = pytester.makepyfile(
        run_it="""
        import unittest
        from graflow_core import workflow
        from graflow_core.testing import run_workflow
        from etl import build


        class T(unittest.TestCase):
            def test_it(self):
                run = run_workflow(build(workflow))
                run.assert_succeeded().assert_result("load", 3)


        unittest.main()
        """
    )
    out = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        cwd=pytester.path,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert "OK" in out.stderr
