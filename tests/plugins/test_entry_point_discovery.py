"""Plugin discovery through real ``graflow`` entry points of installed distributions.

Each test builds tiny plugin distributions in a temporary ``site`` directory — a package plus a
hand-written ``<name>.dist-info/`` (``METADATA`` and ``entry_points.txt``), exactly what pip
leaves in site-packages — and runs a workflow in a **subprocess** whose ``PYTHONPATH`` holds
that directory.  Discovery therefore goes through ``importlib.metadata`` as in production, and
the test session's own process-wide plugin manager is never touched.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

GOOD_PLUGIN = '''
"""A plugin as a third party would ship it: hooks on a module, plus a task type."""

import json
import os

from graflow_core.core.task_types import TaskType
from graflow_core.plugins import hookimpl


def _log(*event):
    with open(os.environ["TESTPLUG_LOG"], "a", encoding="utf-8") as fh:
        fh.write(json.dumps(event) + "\\n")


class Shout(TaskType):
    name = "shout"

    def execute(self, task, context, invoke):
        return str(invoke()).upper() + "!"


@hookimpl
def workflow_start(workflow_name):
    _log("workflow_start", workflow_name)


@hookimpl
def task_end(task_id, result):
    _log("task_end", task_id, result)


@hookimpl
def workflow_end(workflow_name, result):
    _log("workflow_end", workflow_name, result)


@hookimpl
def register_task_types():
    return [Shout()]
'''

BROKEN_IMPORT = """
import this_module_does_not_exist_anywhere  # noqa: F401
"""

BAD_SIGNATURE = """
from graflow_core.plugins import hookimpl


@hookimpl
def task_end(task_id, no_such_argument):
    raise AssertionError("never called: the signature does not match the specification")
"""

# The workflow run in the subprocess.  It never touches the plugin API before running: the
# first run discovers the plugins.  Prints one JSON line: results and the loaded plugins.
SCRIPT = """
import json
import sys
import warnings

warnings.simplefilter("always")

from graflow_core import task, workflow

use_type = sys.argv[1] == "with-type"

with workflow("discovered") as wf:

    @task
    def greet() -> str:
        return "hello"

    if use_type:

        @task(type="shout")
        def loud(greet: str) -> str:
            return greet + " world"

    else:

        @task
        def loud(greet: str) -> str:
            return greet + " world"

    greet >> loud

result = wf.execute()

from graflow_core.plugins import get_plugin_manager

print(json.dumps({"result": result, "plugins": get_plugin_manager().plugin_info()}))
"""


def _dist(site: Path, dist_name: str, module: str, source: str, entry_name: str) -> None:
    """Write package ``module`` and the ``.dist-info`` that declares it as a graflow plugin."""
    package = site / module
    package.mkdir()
    (package / "__init__.py").write_text(textwrap.dedent(source), encoding="utf-8")
    info = site / f"{dist_name.replace('-', '_')}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {dist_name}\nVersion: 1.0\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        f"[graflow]\n{entry_name} = {module}\n", encoding="utf-8"
    )
    (info / "RECORD").write_text("", encoding="utf-8")


@pytest.fixture(scope="module")
def bare_lib(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """graflow_core and its two dependencies, without the rest of the dev environment.

    The dev environment installs this workspace's own bridges and plugins, each with a
    ``[graflow]`` entry point. The subprocesses run with ``python -S`` (no site-packages) and
    this directory on ``PYTHONPATH``, so the only plugins they can find are the test's own.
    """
    import cloudpickle
    import pluggy

    import graflow_core

    lib = tmp_path_factory.mktemp("bare-lib")
    for module in (graflow_core, pluggy, cloudpickle):
        package = Path(module.__file__).parent
        (lib / package.name).symlink_to(package, target_is_directory=True)
    return lib


@pytest.fixture
def site(tmp_path: Path, bare_lib: Path) -> Path:
    """A directory holding the good test plugin (entry point ``testplug``)."""
    (tmp_path / "bare-lib").symlink_to(bare_lib, target_is_directory=True)
    directory = tmp_path / "site"
    directory.mkdir()
    _dist(directory, "graflow-testplug", "graflow_testplug", GOOD_PLUGIN, "testplug")
    return directory


class Outcome:
    def __init__(self, proc: subprocess.CompletedProcess[str], log: Path) -> None:
        self.returncode = proc.returncode
        self.stderr = proc.stderr
        lines = proc.stdout.strip().splitlines()
        self.data = json.loads(lines[-1]) if proc.returncode == 0 and lines else {}
        self.events = (
            [tuple(json.loads(line)) for line in log.read_text().splitlines()]
            if log.exists()
            else []
        )

    @property
    def plugin_names(self) -> list[str]:
        return [p["name"] for p in self.data["plugins"]]


def _run(site: Path, mode: str = "plain", **env: str) -> Outcome:
    log = site.parent / "events.jsonl"
    if log.exists():
        log.unlink()
    script = site.parent / "flow.py"
    script.write_text(SCRIPT, encoding="utf-8")
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GRAFLOW_DISABLE_PLUGIN", "PYTEST_"))
    }
    lib = site.parent / "bare-lib"
    environ.update(PYTHONPATH=f"{site}{os.pathsep}{lib}", TESTPLUG_LOG=str(log), **env)
    proc = subprocess.run(
        [sys.executable, "-S", str(script), mode],
        capture_output=True,
        text=True,
        cwd=site.parent,
        env=environ,
        timeout=120,
        check=False,
    )
    return Outcome(proc, log)


def test_an_installed_plugin_is_discovered_and_its_hooks_fire(site: Path) -> None:
    out = _run(site, "with-type")
    assert out.returncode == 0, out.stderr
    assert out.data["result"] == "HELLO WORLD!"  # the plugin's task type ran
    assert {"name": "testplug", "distribution": "graflow-testplug", "version": "1.0"} in out.data[
        "plugins"
    ]
    assert out.events == [
        ("workflow_start", "discovered"),
        ("task_end", "greet", "hello"),
        ("task_end", "loud", "HELLO WORLD!"),
        ("workflow_end", "discovered", "HELLO WORLD!"),
    ]
    assert "PluginLoadWarning" not in out.stderr


def test_disable_plugins_by_name(site: Path) -> None:
    _dist(site, "graflow-other", "graflow_other", "VALUE = 1\n", "other")
    out = _run(site, GRAFLOW_DISABLE_PLUGINS="testplug")
    assert out.returncode == 0, out.stderr
    assert out.data["result"] == "hello world"
    assert "testplug" not in out.plugin_names
    assert "other" in out.plugin_names  # only the named plugin is disabled
    assert out.events == []

    # its task type is gone with it: the error names the type and what to do
    out = _run(site, "with-type", GRAFLOW_DISABLE_PLUGINS=" other , testplug ")
    assert out.returncode != 0
    assert "Unknown task type 'shout'" in out.stderr


def test_disable_autoload_skips_every_entry_point(site: Path) -> None:
    out = _run(site, GRAFLOW_DISABLE_PLUGIN_AUTOLOAD="1")
    assert out.returncode == 0, out.stderr
    assert out.data["plugins"] == []
    assert out.events == []
    for falsy in ("0", "false", ""):
        out = _run(site, GRAFLOW_DISABLE_PLUGIN_AUTOLOAD=falsy)
        assert "testplug" in out.plugin_names, falsy


def test_broken_plugins_warn_by_name_and_the_workflow_still_runs(site: Path) -> None:
    _dist(site, "graflow-broken", "graflow_broken", BROKEN_IMPORT, "broken")
    _dist(site, "graflow-badsig", "graflow_badsig", BAD_SIGNATURE, "badsig")
    out = _run(site, "with-type")
    assert out.returncode == 0, out.stderr
    assert out.data["result"] == "HELLO WORLD!"
    assert out.plugin_names == ["testplug"]
    assert ("task_end", "loud", "HELLO WORLD!") in out.events

    warnings = [line for line in out.stderr.splitlines() if "PluginLoadWarning" in line]
    assert len(warnings) == 2, out.stderr
    broken = next(w for w in warnings if "'broken'" in w)
    assert "entry point 'broken = graflow_broken' of distribution graflow-broken" in broken
    assert "importing it failed: ModuleNotFoundError" in broken
    assert "this_module_does_not_exist_anywhere" in broken
    assert "GRAFLOW_DISABLE_PLUGINS=broken" in broken
    badsig = next(w for w in warnings if "'badsig'" in w)
    assert "distribution graflow-badsig" in badsig
    assert "its hooks are invalid: Plugin 'badsig' for hook 'task_end'" in badsig
    # pluggy's explanation follows on the next lines of the same warning
    assert "no_such_argument" in out.stderr.split("'badsig'", 1)[1]

    # disabling the broken ones silences the warnings
    out = _run(site, GRAFLOW_DISABLE_PLUGINS="broken,badsig")
    assert out.returncode == 0, out.stderr
    assert "PluginLoadWarning" not in out.stderr
    assert out.plugin_names == ["testplug"]


def test_a_plugin_for_another_graflow_version_is_kept_with_a_warning(site: Path) -> None:
    typo = (
        "from graflow_core.plugins import hookimpl\n\n"
        "@hookimpl(optionalhook=False)\n"
        "def task_ended(task_id):\n"
        "    pass\n"
    )
    _dist(site, "graflow-typo", "graflow_typo", typo, "typo")
    out = _run(site)
    assert out.returncode == 0, out.stderr
    assert "typo" in out.plugin_names
    assert "graflow plugin 'typo'" in out.stderr
    assert "hooks that do not exist: task_ended" in out.stderr


def test_no_plugin_distribution_means_pluggy_is_never_imported(
    tmp_path: Path, bare_lib: Path
) -> None:
    """Without any [graflow] entry point, a run does not create a plugin manager at all."""
    code = (
        "import sys\n"
        "from graflow_core import task, workflow\n"
        "with workflow('w') as wf:\n"
        "    @task\n"
        "    def a():\n"
        "        return 1\n"
        "wf.execute()\n"
        "print('pluggy' in sys.modules)\n"
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GRAFLOW_DISABLE")}
    environ["PYTHONPATH"] = f"{tmp_path}{os.pathsep}{bare_lib}"
    proc = subprocess.run(
        [sys.executable, "-S", "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environ,
        timeout=120,
        check=True,
    )
    assert proc.stdout.strip() == "False", proc.stderr


def test_pytest_fixtures_with_a_real_installed_plugin(
    site: Path, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """graflow_hooks sees an installed plugin's effects; isolate_plugins hides it for one test."""
    log = site.parent / "events.jsonl"
    monkeypatch.setenv("PYTHONPATH", str(site))
    monkeypatch.setenv("TESTPLUG_LOG", str(log))
    monkeypatch.delenv("GRAFLOW_DISABLE_PLUGINS", raising=False)
    monkeypatch.delenv("GRAFLOW_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    pytester.makepyfile(
        f"""
        import json
        import pytest
        from graflow_core import task
        from graflow_core.plugins import get_plugin_manager

        LOG = {str(log)!r}


        def build(graflow_workflow):
            with graflow_workflow("inner") as wf:

                @task(type="shout")
                def a():
                    return "x"
            return wf


        def events():
            with open(LOG, encoding="utf-8") as fh:
                return [json.loads(line)[0] for line in fh]


        def test_installed(graflow_workflow, graflow_run, graflow_hooks):
            assert get_plugin_manager().get_plugin("testplug") is not None
            graflow_run(build(graflow_workflow)).assert_result("a", "X!")
            graflow_hooks.assert_called("task_end", task_id="a", result="X!")
            assert events() == ["workflow_start", "task_end", "workflow_end"]


        @pytest.mark.graflow(isolate_plugins=True)
        def test_isolated(graflow_workflow, graflow_run, graflow_hooks):
            assert graflow_hooks.calls == []
            assert get_plugin_manager().get_plugin("testplug") is None
            with pytest.raises(LookupError, match="Unknown task type 'shout'"):
                build(graflow_workflow)
            assert len(events()) == 3  # nothing new from the hidden plugin


        def test_back_afterwards(graflow_workflow, graflow_run):
            graflow_run(build(graflow_workflow)).assert_result("a", "X!")
            assert len(events()) == 6
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(passed=3)
