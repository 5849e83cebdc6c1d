"""The checkpoint demo: one ETL workflow, run, crashed, and resumed from its checkpoint.

    python examples/checkpoint_demo.py

1. Build the workflow (``>>``, ``|``, retries, a dynamic task, a checkpoint) and draw it.
2. Run it and print the result.
3. Run it again in a child process that dies (``os._exit``, like ``kill -9``) right after
   the checkpoint was written, then resume from the checkpoint in this process: only the
   remaining task runs, and the result is identical.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Checkpoints are signed with GRAFLOW_SECRET_KEY. A demo-only key unless one is set; the
# crashed child process and the resume inherit it.
os.environ.setdefault("GRAFLOW_SECRET_KEY", secrets.token_hex(32))

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import etl_workflow  # noqa: E402

from graflow_core.core.checkpoint import CheckpointManager  # noqa: E402
from graflow_core.utils.graph import draw_ascii  # noqa: E402


def _section(title: str) -> None:
    print(f"\n=== {title} " + "=" * max(0, 66 - len(title)))


def main() -> int:
    wf = etl_workflow.build()
    _section("The workflow")
    print(draw_ascii(wf.graph))

    with tempfile.TemporaryDirectory(prefix="graflow-demo-") as tmp:
        checkpoint = os.path.join(tmp, "etl")

        _section("1. Run it")
        started = time.perf_counter()
        result, ctx = wf.execute(ret_context=True, initial_channel={"checkpoint_path": checkpoint})
        took = (time.perf_counter() - started) * 1000
        print(f"result           : {result}")
        print(f"tasks completed  : {ctx.completed_tasks}")
        print(f"dynamic tasks    : {[t for t in ctx.completed_tasks if t.startswith('fix_')]}")
        print(f"enrich_fx calls  : {etl_workflow._fx_attempts['count']} (1 failure, 1 retry)")
        print(f"wall time        : {took:.1f} ms (incl. a 10 ms retry backoff and a checkpoint)")

        _section("2. A child process crashes after the checkpoint; resume here")
        code = (
            "import sys; sys.path.insert(0, sys.argv[1]); import etl_workflow; "
            "etl_workflow.build().execute(initial_channel={'checkpoint_path': sys.argv[2]})"
        )
        env = {**os.environ, "DEMO_CRASH_IN_REPORT": "1"}
        child = subprocess.run([sys.executable, "-c", code, str(HERE), checkpoint], env=env)
        print(f"child process exit code : {child.returncode} (killed inside 'report')")
        files = sorted(p.name for p in Path(tmp).iterdir())
        print(f"checkpoint files        : {files}")

        resumed_ctx, meta = CheckpointManager.resume_from_checkpoint(checkpoint)
        print(f"checkpoint metadata     : steps={meta.steps}, {meta.user_metadata['stage']!r}")
        print(f"already completed       : {resumed_ctx.completed_tasks}")
        before = len(resumed_ctx.completed_tasks)
        resumed = resumed_ctx.execute()
        print(f"tasks run after resume  : {resumed_ctx.completed_tasks[before:]}")
        print(f"resumed result          : {resumed}")
        same = resumed == result
        print(f"identical to step 1     : {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
