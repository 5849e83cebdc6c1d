"""Keyword resolution: result key before plain key, bound < explicit, defaults, opt-out."""

from graflow.core.context import TaskExecutionContext
from graflow.core.decorators import task
from graflow.core.workflow import workflow
from graflow.exceptions import GraflowRuntimeError

with workflow("kw") as wf:

    @task
    def source():
        return "from-result"

    @task(inject_context=True)
    def seed(ctx: TaskExecutionContext):
        ch = ctx.get_channel()
        ch.set("source", "plain-key")
        ch.set("other", "plain-other")
        ch.set("nothing", None)

    @task
    def consumer(source, other, nothing="default", missing="dflt"):
        print("consumer:", source, other, nothing, missing)
        return "ok"

    @task(resolve_keyword_args=False)
    def opted_out(other="not-resolved"):
        print("opted_out:", other)

    @task
    def bound_user(other, extra):
        print("bound_user:", other, extra)

    @task
    def args_kwargs(*args, **kwargs):
        print("args_kwargs:", args, sorted(kwargs))

    inst = bound_user(task_id="bound_inst", other="bound-other", extra=1)
    source >> seed >> consumer >> opted_out >> inst >> args_kwargs
    wf.execute("source")

with workflow("kw_missing") as wf2:

    @task
    def needs(zzz_unknown):
        return zzz_unknown

    try:
        wf2.execute("needs")
    except GraflowRuntimeError as exc:
        print("missing arg:", type(exc).__name__, type(exc.cause).__name__)
