"""Testing utilities for graflow workflows; the ``graflow`` pytest plugin lives here.

Plain helpers, usable with any test runner::

    from graflow_core.testing import run_workflow

    run = run_workflow(wf)
    run.assert_completed("extract", "load", in_order=True).assert_result("load", 3)

With pytest the same helpers come as fixtures (``graflow_workflow``, ``graflow_run``,
``graflow_checkpoint_dir``, ``graflow_plugins``, ``graflow_hooks``), registered automatically
through the ``pytest11`` entry point; see docs/testing.md.  Every name below loads on first
use, so that pytest sessions that never use them pay nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from graflow_core._lazy import lazy_exports

if TYPE_CHECKING:  # type checkers see the real names; at run time they load lazily
    from graflow_core.testing.checkpoints import (
        CheckpointInfo,
        assert_checkpoint,
        list_checkpoints,
    )
    from graflow_core.testing.hooks import HookCall, HookRecorder
    from graflow_core.testing.runner import WorkflowRun, resume_workflow, run_workflow

_LAZY = {
    "WorkflowRun": "graflow_core.testing.runner",
    "run_workflow": "graflow_core.testing.runner",
    "resume_workflow": "graflow_core.testing.runner",
    "CheckpointInfo": "graflow_core.testing.checkpoints",
    "assert_checkpoint": "graflow_core.testing.checkpoints",
    "list_checkpoints": "graflow_core.testing.checkpoints",
    "HookCall": "graflow_core.testing.hooks",
    "HookRecorder": "graflow_core.testing.hooks",
}

__all__ = [
    "CheckpointInfo",
    "HookCall",
    "HookRecorder",
    "WorkflowRun",
    "assert_checkpoint",
    "list_checkpoints",
    "resume_workflow",
    "run_workflow",
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals(), __all__)
