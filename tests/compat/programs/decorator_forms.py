"""@task forms, ids, wrapper attributes and the rejected task_id= keyword.

Running tasks outside a workflow: run(), direct calls and context injection.
"""

from graflow.core.decorators import task
from graflow.core.task import TaskWrapper


@task
def plain(x: int) -> int:
    """Doc of plain."""
    return x


@task()
def empty_parens():
    return 1


@task("custom_id")
def positional_id():
    return 2


@task(id="kw_id", inject_context=True)
def kw_id(ctx):
    return 3


@task("with_opts", max_retries=2, max_cycles=4)
def with_opts():
    return 4


for t in (plain, empty_parens, positional_id, kw_id, with_opts):
    print(type(t).__name__, isinstance(t, TaskWrapper), t.task_id, t.handler_type)
print("name/doc:", plain.__name__, plain.__doc__, plain.__annotations__)
print("flags:", kw_id.inject_context, with_opts.max_retries, with_opts.max_cycles)
print("resolve default:", plain.resolve_keyword_args)
try:

    @task(task_id="nope")
    def bad():
        pass

except TypeError as exc:
    print("task_id= rejected:", type(exc).__name__)


@task
def add(a, b=1):
    return a + b


@task(inject_context=True)
def who(ctx, suffix="!"):
    return f"{ctx.task_id}{suffix}"


@task
def noargs():
    return "called"


print("run:", add.run(a=2, b=3), add.run(5))
try:
    add(4, 5)
except TypeError as exc:
    print("positional call:", exc)
print("no-arg call:", noargs())
print("inject run:", who.run())
print("inject run kw:", who.run(suffix="?"))
