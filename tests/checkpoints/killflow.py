"""A checkpointed workflow for the kill -9 tests (imported by a subprocess; tasks are module
level so the checkpoint pickles them by reference).

    python killflow.py LOCATION OUT_JSON PROGRESS_LOG [--big]

runs ``build()`` durably at LOCATION (resuming if a checkpoint is there), appends one line per
task execution to PROGRESS_LOG (the side-effect log: ``<task_id> <pid>``), and writes the
result and the final channel to OUT_JSON.  ``--big`` adds 20,000 channel keys so that most of
the run's time is spent writing checkpoints.
"""

from __future__ import annotations

import json
import os
import sys
import time
from itertools import pairwise

from graflow_core.core.decorators import task
from graflow_core.core.resumable import run_durable
from graflow_core.core.workflow import workflow

WORK_S = float(os.environ.get("KILLFLOW_WORK_S", "0.02"))


def _progress(task_id: str) -> None:
    path = os.environ["KILLFLOW_PROGRESS"]
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(f"{task_id} {os.getpid()}\n")
        fh.flush()
        os.fsync(fh.fileno())


def _step(ctx, task_id: str, value: int) -> int:
    _progress(task_id)
    ch = ctx.get_channel()
    ch.set(f"value.{task_id}", value)
    ch.append("order", task_id)
    ch.set("total", ch.get("total", 0) + value)
    time.sleep(WORK_S)
    return value


def _make(i: int):
    name = f"s{i:02d}"

    def body(ctx):
        return _step(ctx, name, i * i)

    body.__name__ = body.__qualname__ = name
    body.__module__ = __name__
    globals()[name] = body  # importable by name: pickled by reference
    return task(name, inject_context=True)(body)


STEPS = [_make(i) for i in range(12)]


@task(inject_context=True)
def left(ctx):
    return _step(ctx, "left", 100)


@task(inject_context=True)
def right(ctx):
    return _step(ctx, "right", 200)


@task(inject_context=True)
def join(ctx):
    ch = ctx.get_channel()
    return _step(ctx, "join", ch.get("value.left") + ch.get("value.right"))


@task(inject_context=True)
def finish(ctx):
    _progress("finish")
    ch = ctx.get_channel()
    return {"total": ch.get("total"), "order": ch.get("order")}


def build():
    """s00 >> ... >> s05 >> (left, right as a diamond) >> join >> s06 >> ... >> s11 >> finish."""
    with workflow("killflow") as wf:
        for a, b in pairwise(STEPS[:6]):
            a >> b
        STEPS[5] >> left
        STEPS[5] >> right
        left >> join
        right >> join
        join >> STEPS[6]
        for a, b in pairwise(STEPS[6:]):
            a >> b
        STEPS[-1] >> finish
    return wf


def main(argv: list[str]) -> int:
    location, out = argv[0], argv[1]
    initial = {"total": 0}
    if "--big" in argv:
        initial.update({f"big{i}": {"i": i, "s": f"v{i}"} for i in range(20_000)})
    result, ctx = run_durable(
        build(), location, start_node="s00", initial_channel=initial, ret_context=True
    )
    channel = ctx.get_channel()
    data = {k: channel.get(k) for k in sorted(channel.keys()) if not k.startswith("big")}
    with open(out, "w", encoding="utf-8") as fh:
        json.dump({"result": result, "channel": data}, fh, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
