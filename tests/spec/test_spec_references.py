"""Tasks that cannot be imported by name: one SpecError listing each, with reason and fix."""

from __future__ import annotations

import functools
import sys
import types

import pytest
import spec_sample_tasks as s

from graflow_core import TaskWrapper, task, workflow
from graflow_core.exceptions import GraphCompilationError
from graflow_core.spec import (
    SpecError,
    SpecLoadError,
    SpecProblem,
    build_spec,
    check_referencable,
    load_workflow,
)


def replaced() -> int:
    return 1


_ORIGINAL_REPLACED = replaced


def replaced() -> int:
    return 2


def _only_problem(wf) -> SpecProblem:
    problems = check_referencable(wf)
    assert len(problems) == 1, problems
    return problems[0]


def test_lambda():
    with workflow("w") as wf:
        s.source >> TaskWrapper("lam", lambda: 1)
    p = _only_problem(wf)
    assert p.subject == "lam"
    assert "is a lambda" in p.reason
    assert "module level of an importable module" in p.fix


def test_closure():
    def make(n):
        @task(id=f"inner_{n}")
        def inner() -> int:
            return n

        return inner

    with workflow("w") as wf:
        s.source >> make(1)
    p = _only_problem(wf)
    assert p.subject == "inner_1"
    assert "defined inside function 'test_closure.<locals>.make'" in p.reason
    assert "a closure" in p.reason
    assert "bound keyword arguments" in p.fix


def test_callable_without_qualname():
    with workflow("w") as wf:
        s.source >> TaskWrapper("part", functools.partial(s.plain_function, x=3))
    p = _only_problem(wf)
    assert "without __module__/__qualname__" in p.reason
    assert "functools.partial" in p.reason


def test_name_that_imports_to_another_object():
    with workflow("w") as wf:
        s.source >> TaskWrapper("old", _ORIGINAL_REPLACED)
    p = _only_problem(wf)
    assert "imports to a different object" in p.reason
    assert f"'{__name__}:replaced'" in p.reason


def test_module_that_does_not_have_the_name():
    def impostor() -> None:
        pass

    impostor.__qualname__ = "no_such_function"
    with workflow("w") as wf:
        s.source >> TaskWrapper("gone", impostor)
    assert "does not exist" in _only_problem(wf).reason


def _main_task(monkeypatch, main_spec):
    main = types.ModuleType("__main__")
    main.__spec__ = main_spec  # type: ignore[assignment]
    main.__file__ = "/somewhere/script.py"
    monkeypatch.setitem(sys.modules, "__main__", main)

    def script_task() -> int:
        return 42

    script_task.__module__ = "__main__"
    script_task.__qualname__ = "script_task"
    main.script_task = TaskWrapper("script_task", script_task, register_to_context=False)
    return main.script_task


def test_main_script_without_module_name(monkeypatch):
    wrapper = _main_task(monkeypatch, None)
    with workflow("w") as wf:
        s.source >> wrapper
    p = _only_problem(wf)
    assert "defined in the __main__ script (/somewhere/script.py)" in p.reason
    assert "python -m package.module" in p.fix
    assert "main_module='package.module'" in p.fix
    spec = build_spec(wf, main_module="mypkg.script")
    assert spec.task("script_task").ref == "mypkg.script:script_task"


def test_main_run_as_module_uses_its_spec_name(monkeypatch):
    wrapper = _main_task(monkeypatch, types.SimpleNamespace(name="mypkg.jobs"))
    with workflow("w") as wf:
        s.source >> wrapper
    assert build_spec(wf).task("script_task").ref == "mypkg.jobs:script_task"


def test_every_problem_is_listed_in_one_error():
    def closure() -> None:
        pass

    with workflow("many") as wf:
        s.source >> TaskWrapper("lam", lambda: 1) >> TaskWrapper("clo", closure)
        s.source >> s.step(task_id="kw", k={1, 2})
    with pytest.raises(SpecError) as info:
        build_spec(wf)
    err = info.value
    assert [p.subject for p in err.problems] == ["lam", "clo", "kw"]
    text = str(err)
    assert text.startswith("Cannot describe workflow 'many' as a spec: 3 problem(s):")
    assert "  - task 'lam': " in text and "  - task 'clo': " in text
    assert "Fix: " in text
    assert isinstance(err, GraphCompilationError) and isinstance(err, TypeError)
    assert err.problems[0].to_dict()["subject"] == "lam"


def test_check_referencable_is_empty_for_importable_workflows():
    assert check_referencable(s.build_everything()) == []


def test_unimportable_custom_policy():
    from graflow_core.core.handlers.group_policy import GroupExecutionPolicy

    class LocalPolicy(GroupExecutionPolicy):
        def on_group_finished(self, group_id, tasks, results, context):
            pass

    with workflow("w") as wf:
        s.source >> (s.step(task_id="a") | s.step(task_id="b")).with_execution(policy=LocalPolicy())
    p = _only_problem(wf)
    assert (p.kind, p.subject) == ("group", "ParallelGroup_1")
    assert "its group policy LocalPolicy" in p.reason
    assert str(p).startswith("group 'ParallelGroup_1': ")


# -- loading -----------------------------------------------------------------------------------


def test_loading_lists_every_unimportable_reference():
    data = {
        "schema_version": 1,
        "name": "w",
        "nodes": ["a", "b", "c", "d"],
        "edges": [["a", "b"], ["b", "c"], ["c", "d"]],
        "tasks": [
            {"id": "a", "ref": "no_such_module_xyz:f"},
            {"id": "b", "ref": "spec_sample_tasks:no_such_name"},
            {"id": "c", "ref": "not-a-ref"},
            {"id": "d", "ref": "spec_sample_tasks:TOLERANT"},
        ],
    }
    with pytest.raises(SpecLoadError) as info:
        load_workflow(data)
    problems = {p.subject: p for p in info.value.problems}
    assert set(problems) == {"a", "b", "c", "d"}
    assert "cannot import module 'no_such_module_xyz'" in problems["a"].reason
    assert "has no attribute path 'no_such_name'" in problems["b"].reason
    assert "not of the form 'module:qualname'" in problems["c"].reason
    assert "not callable" in problems["d"].reason
    assert str(info.value).startswith("Cannot load spec 'w': 4 problem(s):")


def test_bound_method():
    with workflow("w") as wf:
        s.source >> TaskWrapper("meth", s.Tools().bound)
    p = _only_problem(wf)
    assert "is a method bound to" in p.reason
    assert "module-level function" in p.fix


def test_classmethods_and_staticmethods_are_referencable():
    with workflow("w") as wf:
        s.source >> TaskWrapper("cm", s.Tools.make) >> TaskWrapper("sm", s.Tools.helper)
    spec = build_spec(wf)
    assert spec.task("cm").ref == "spec_sample_tasks:Tools.make"
    assert spec.task("sm").ref == "spec_sample_tasks:Tools.helper"
    assert spec.task("cm").parameters == ["n"]
    loaded = load_workflow(spec)
    assert build_spec(loaded) == spec
    assert loaded.execute() == wf.execute() == 3
