"""with_execution canonical config and the policy registry helpers."""

from graflow.core.decorators import task
from graflow.core.handlers.group_policy import (
    AtLeastNGroupPolicy,
    BestEffortGroupPolicy,
    CriticalGroupPolicy,
    GroupExecutionPolicy,
    StrictGroupPolicy,
    canonicalize_group_policy,
    resolve_group_policy,
)
from graflow.core.workflow import workflow


class Custom(GroupExecutionPolicy):
    def on_group_finished(self, group_id, tasks, results, context):
        print(
            "custom saw:", group_id, sorted(results), [results[k].success for k in sorted(results)]
        )


with workflow("cfg") as wf:

    @task
    def a():
        return 1

    @task
    def b():
        return 2

    g = a | b
    print("default:", g._execution_config)
    g.with_execution(backend="threading", backend_config={"thread_count": 2}, policy="best_effort")
    print("set:", g._execution_config)
    g.with_execution()
    print("reset policy:", g._execution_config["policy"])
    for p in (
        "strict",
        BestEffortGroupPolicy(),
        CriticalGroupPolicy(["b", "a"]),
        AtLeastNGroupPolicy(1),
    ):
        canon = canonicalize_group_policy(p)
        print("canon:", canon, "->", type(resolve_group_policy(canon)).__name__)
    print("strict name:", StrictGroupPolicy().get_name(), BestEffortGroupPolicy().get_name())
    for bad in ("nope", "critical"):
        try:
            resolve_group_policy(bad)
        except (ValueError, TypeError) as exc:
            print(
                "resolve",
                bad,
                "rejected:",
                isinstance(exc, (ValueError, TypeError)),
            )
    custom = Custom()
    g.with_execution(policy=custom)
    print(
        "custom canon:",
        g._execution_config["policy"]["type"],
        g._execution_config["policy"]["policy"] is custom,
    )
    wf.execute(g.task_id)
