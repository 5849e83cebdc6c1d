"""Parallel group policies (threading): strict, best_effort, critical, at_least_n."""

import logging

from graflow.core.decorators import task
from graflow.core.handlers.group_policy import AtLeastNGroupPolicy, CriticalGroupPolicy
from graflow.core.workflow import workflow
from graflow.exceptions import ParallelGroupError

logging.disable(logging.CRITICAL)


def run(policy, label):
    with workflow(f"policy_{label}") as wf:

        @task
        def ok1():
            return "r1"

        @task
        def ok2():
            return "r2"

        @task
        def bad():
            raise RuntimeError("bad failed")

        @task
        def after(ok1):
            return f"after saw {ok1}"

        group = (ok1 | ok2 | bad).with_execution(policy=policy)
        group >> after
        print(label, "config policy:", group._execution_config["policy"])
        try:
            result, ctx = wf.execute(group.task_id, ret_context=True)
            print(label, "ok:", result, ctx.completed_tasks, ctx.get_result("ok2"))
        except ParallelGroupError as exc:
            print(label, "failed:", exc)
            print(label, "  group:", exc.group_id, "failed:", exc.failed_tasks)
            print(label, "  ok:", sorted(exc.successful_tasks))


run("strict", "strict")
run("best_effort", "best_effort")
run(CriticalGroupPolicy(["ok1"]), "critical_ok")
run(CriticalGroupPolicy(["bad", "ok1"]), "critical_fail")
run(AtLeastNGroupPolicy(2), "at_least_2")
run(AtLeastNGroupPolicy(3), "at_least_3")
for bad_arg in ((CriticalGroupPolicy, []), (AtLeastNGroupPolicy, -1)):
    try:
        bad_arg[0](bad_arg[1])
    except ValueError as exc:
        print(bad_arg[0].__name__, "rejects:", type(exc).__name__)
print("names:", AtLeastNGroupPolicy(2).get_name(), CriticalGroupPolicy(["x"]).get_name())
