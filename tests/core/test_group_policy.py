"""Behaviour of the parallel-group execution policies and their canonical forms."""

from __future__ import annotations

import logging
import pickle
from typing import Any, cast

import pytest

from graflow_core.core.handler import TaskResult
from graflow_core.core.handlers.group_policy import (
    POLICY_REGISTRY,
    AtLeastNGroupPolicy,
    BestEffortGroupPolicy,
    CriticalGroupPolicy,
    GroupExecutionPolicy,
    InvalidGroupPolicyError,
    StrictGroupPolicy,
    canonicalize_group_policy,
    resolve_group_policy,
)
from graflow_core.exceptions import ParallelGroupError


class Member:
    def __init__(self, task_id: str) -> None:
        self.task_id = task_id


def members(*ids: str) -> list[Any]:
    return [Member(i) for i in ids]


def results(ok: list[str], failed: dict[str, str | None]) -> dict[str, TaskResult]:
    out = {tid: TaskResult(tid, True) for tid in ok}
    for tid, msg in failed.items():
        out[tid] = TaskResult(tid, False, error_message=msg)
    return out


def finish(policy: GroupExecutionPolicy, tasks: list[Any], res: dict[str, TaskResult]) -> None:
    policy.on_group_finished("ParallelGroup_1", tasks, res, cast(Any, None))


TASKS = members("a", "b", "c")


# -- names and registry ------------------------------------------------------------------------


def test_names_and_registry() -> None:
    assert StrictGroupPolicy().get_name() == "strict"
    assert BestEffortGroupPolicy().get_name() == "best_effort"
    assert CriticalGroupPolicy(["a"]).get_name() == "critical"
    assert AtLeastNGroupPolicy(2).get_name() == "at_least_2"
    expected = {
        "strict": StrictGroupPolicy,
        "best_effort": BestEffortGroupPolicy,
        "critical": CriticalGroupPolicy,
        "at_least_n": AtLeastNGroupPolicy,
    }
    assert expected == POLICY_REGISTRY

    class Custom(GroupExecutionPolicy):
        def on_group_finished(self, group_id, tasks, results, context):  # type: ignore[no-untyped-def]
            pass

    assert Custom().get_name() == "Custom"
    with pytest.raises(TypeError):
        GroupExecutionPolicy()  # type: ignore[abstract]


# -- helpers -----------------------------------------------------------------------------------


def test_validate_group_results_mismatch() -> None:
    policy = StrictGroupPolicy()
    res = results(["a", "x"], {})
    with pytest.raises(ParallelGroupError) as info:
        policy._validate_group_results("G", members("a", "b"), res)
    err = info.value
    assert str(err) == (
        "Parallel group G result mismatch: missing results for tasks: ['b'], "
        "unexpected results for tasks: ['x']"
    )
    assert err.group_id == "G"
    assert err.failed_tasks == []
    assert sorted(err.successful_tasks) == ["a", "x"]
    policy._validate_group_results("G", members("a", "x"), res)


def test_partition_group_results() -> None:
    res = results(["a"], {"b": "boom", "c": None})
    ok, failed = StrictGroupPolicy()._partition_group_results(res)
    assert ok == ["a"]
    assert failed == [("b", "boom"), ("c", "Unknown error")]


# -- strict ------------------------------------------------------------------------------------


def test_strict() -> None:
    finish(StrictGroupPolicy(), TASKS, results(["a", "b", "c"], {}))
    with pytest.raises(ParallelGroupError) as info:
        finish(StrictGroupPolicy(), TASKS, results(["a"], {"b": "x", "c": "y"}))
    err = info.value
    assert str(err) == "Parallel group ParallelGroup_1 failed: 2 task(s) failed"
    assert err.failed_tasks == [("b", "x"), ("c", "y")]
    assert err.successful_tasks == ["a"]
    assert err.group_id == "ParallelGroup_1"


def test_strict_checks_result_ids() -> None:
    with pytest.raises(ParallelGroupError, match="result mismatch"):
        finish(StrictGroupPolicy(), TASKS, results(["a", "b"], {}))


# -- best effort -------------------------------------------------------------------------------


def test_best_effort_never_fails_and_warns(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        finish(BestEffortGroupPolicy(), TASKS, results([], {"a": "1", "b": "2", "c": "3"}))
    assert "best-effort" in caplog.text
    assert "['a', 'b', 'c']" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        finish(BestEffortGroupPolicy(), TASKS, results(["a", "b", "c"], {}))
    assert caplog.text == ""
    with pytest.raises(ParallelGroupError, match="result mismatch"):
        finish(BestEffortGroupPolicy(), TASKS, {})


# -- critical ----------------------------------------------------------------------------------


def test_critical() -> None:
    policy = CriticalGroupPolicy(["b", "a"])
    assert policy.critical_task_ids == ["a", "b"]
    finish(policy, TASKS, results(["a", "b"], {"c": "optional failed"}))
    with pytest.raises(ParallelGroupError) as info:
        finish(policy, TASKS, results(["a"], {"b": "bad", "c": "x"}))
    err = info.value
    assert str(err) == "Critical tasks failed: ['b']"
    assert err.failed_tasks == [("b", "bad")]
    assert err.successful_tasks == ["a"]


def test_critical_warns_on_optional_failures(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        finish(CriticalGroupPolicy(["a"]), TASKS, results(["a"], {"b": "x"}) | results(["c"], {}))
    assert "optional failures" in caplog.text


def test_critical_validation() -> None:
    with pytest.raises(ValueError, match="critical_task_ids must contain at least one task id"):
        CriticalGroupPolicy([])
    with pytest.raises(ValueError, match=r"use \['abc'\]"):
        CriticalGroupPolicy("abc")
    with pytest.raises(
        ValueError,
        match=r"Critical task ids \['zz'\] are not part of parallel group ParallelGroup_1",
    ):
        finish(CriticalGroupPolicy(["a", "zz"]), TASKS, results(["a", "b", "c"], {}))
    assert CriticalGroupPolicy(iter(["a", "a"])).critical_task_ids == ["a"]


# -- at least n --------------------------------------------------------------------------------


def test_at_least_n() -> None:
    finish(AtLeastNGroupPolicy(2), TASKS, results(["a", "b"], {"c": "x"}))
    finish(AtLeastNGroupPolicy(0), TASKS, results([], {"a": "x", "b": "y", "c": "z"}))
    with pytest.raises(ParallelGroupError) as info:
        finish(AtLeastNGroupPolicy(2), TASKS, results(["a"], {"b": "x", "c": "y"}))
    err = info.value
    assert str(err) == "Only 1/2 tasks succeeded in group ParallelGroup_1"
    assert err.failed_tasks == [("b", "x"), ("c", "y")]
    assert err.successful_tasks == ["a"]


def test_at_least_n_validation() -> None:
    with pytest.raises(ValueError, match="min_success must be non-negative"):
        AtLeastNGroupPolicy(-1)
    with pytest.raises(ValueError, match=r"min_success must be an integer, got '2'"):
        AtLeastNGroupPolicy("2")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"min_success \(4\) cannot exceed number of tasks \(3\)"):
        finish(AtLeastNGroupPolicy(4), TASKS, results(["a", "b", "c"], {}))


# -- canonical forms ---------------------------------------------------------------------------


class MyPolicy(GroupExecutionPolicy):
    def on_group_finished(self, group_id, tasks, results, context):  # type: ignore[no-untyped-def]
        raise ParallelGroupError("custom", group_id, [], [])


def test_canonicalize() -> None:
    assert canonicalize_group_policy("strict") == "strict"
    assert canonicalize_group_policy("best_effort") == "best_effort"
    assert canonicalize_group_policy("STRICT") == "STRICT"
    assert canonicalize_group_policy(StrictGroupPolicy()) == "strict"
    assert canonicalize_group_policy(BestEffortGroupPolicy()) == "best_effort"
    assert canonicalize_group_policy(CriticalGroupPolicy(["z", "a"])) == {
        "type": "critical",
        "critical_task_ids": ["a", "z"],
    }
    assert canonicalize_group_policy(AtLeastNGroupPolicy(3)) == {
        "type": "at_least_n",
        "min_success": 3,
    }
    custom = MyPolicy()
    assert canonicalize_group_policy(custom) == {"type": "__custom__", "policy": custom}
    assert canonicalize_group_policy({"type": "at_least_n", "min_success": 1}) == {
        "type": "at_least_n",
        "min_success": 1,
    }


def test_canonicalize_keeps_subclasses_of_builtins_as_custom() -> None:
    class LoudStrict(StrictGroupPolicy):
        pass

    p = LoudStrict()
    assert canonicalize_group_policy(p) == {"type": "__custom__", "policy": p}


def test_canonical_forms_are_plain_data() -> None:
    for p in (StrictGroupPolicy(), CriticalGroupPolicy(["a"]), AtLeastNGroupPolicy(1)):
        canon = canonicalize_group_policy(p)
        assert pickle.loads(pickle.dumps(canon)) == canon


@pytest.mark.parametrize(
    "policy",
    [
        StrictGroupPolicy(),
        BestEffortGroupPolicy(),
        CriticalGroupPolicy(["a", "c"]),
        AtLeastNGroupPolicy(2),
        MyPolicy(),
    ],
)
def test_round_trip(policy: GroupExecutionPolicy) -> None:
    resolved = resolve_group_policy(canonicalize_group_policy(policy))
    assert type(resolved) is type(policy)
    assert resolved.get_name() == policy.get_name()
    assert canonicalize_group_policy(resolved) == canonicalize_group_policy(policy)


def test_resolve() -> None:
    assert isinstance(resolve_group_policy("strict"), StrictGroupPolicy)
    assert isinstance(resolve_group_policy("Best_Effort"), BestEffortGroupPolicy)
    p = MyPolicy()
    assert resolve_group_policy(p) is p
    assert resolve_group_policy({"type": "__custom__", "policy": p}) is p
    assert isinstance(resolve_group_policy({"type": "STRICT"}), StrictGroupPolicy)
    crit = resolve_group_policy({"type": "critical", "critical_task_ids": ["b"]})
    assert isinstance(crit, CriticalGroupPolicy)
    assert crit.critical_task_ids == ["b"]
    n = resolve_group_policy({"type": "at_least_n", "min_success": 2})
    assert isinstance(n, AtLeastNGroupPolicy)
    assert n.min_success == 2


# -- bad policy values -------------------------------------------------------------------------


@pytest.mark.parametrize("func", [resolve_group_policy, canonicalize_group_policy])
@pytest.mark.parametrize(
    "bad, fragments",
    [
        ("nope", ["Unknown group execution policy 'nope'", "Available policies", "'strict'"]),
        ("critical", ["'critical' needs the critical task ids", "CriticalGroupPolicy"]),
        ("at_least_n", ["'at_least_n' needs the minimum number", "AtLeastNGroupPolicy(n)"]),
        (42, ["Unsupported policy specification type", "42", "'strict'"]),
        (None, ["Unsupported policy specification type", "None"]),
        (StrictGroupPolicy, ["Unsupported policy specification type"]),
        ({"min_success": 1}, ["string 'type' field"]),
        ({"type": "weird"}, ["Unknown serialized group execution policy 'weird'", "'critical'"]),
        ({"type": "critical", "critical_task_ids": "a"}, ["must be provided as a list", "'a'"]),
        ({"type": "at_least_n", "min_success": "2"}, ["must be provided as an integer", "'2'"]),
        ({"type": "at_least_n"}, ["must be provided as an integer", "None"]),
        ({"type": "__custom__", "policy": "x"}, ["GroupExecutionPolicy instance", "'x'"]),
    ],
)
def test_bad_policies_raise_clear_value_error(func: Any, bad: Any, fragments: list[str]) -> None:
    with pytest.raises(ValueError) as info:
        func(bad)
    assert isinstance(info.value, InvalidGroupPolicyError)
    assert isinstance(info.value, TypeError)  # Graflow raised TypeError for some of these
    for fragment in fragments:
        assert fragment in str(info.value)


def test_bad_dict_values_in_builtin_constructors() -> None:
    with pytest.raises(ValueError, match="at least one task id"):
        resolve_group_policy({"type": "critical", "critical_task_ids": []})
    with pytest.raises(ValueError, match="non-negative"):
        resolve_group_policy({"type": "at_least_n", "min_success": -1})


def test_handlers_package_exports() -> None:
    import graflow_core.core.handlers as handlers

    assert handlers.StrictGroupPolicy is StrictGroupPolicy
    assert handlers.resolve_group_policy is resolve_group_policy
    assert set(handlers.__all__) <= set(dir(handlers))
    from graflow_core.core.handlers.direct import DirectTaskHandler

    assert handlers.DirectTaskHandler is DirectTaskHandler
    with pytest.raises(AttributeError):
        _ = handlers.Nope
