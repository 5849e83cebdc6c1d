"""graflow_core: a small, fast workflow core with Graflow's programming model.

The names of Graflow's top-level package are exported here, together with the other names
Graflow users import from deep module paths (those paths exist too, with ``graflow`` replaced
by ``graflow_core``).  Only the core programming model is imported eagerly; everything else
loads on first use.
"""

from __future__ import annotations

from graflow_core._lazy import lazy_exports
from graflow_core.core.context import ExecutionContext, TaskExecutionContext
from graflow_core.core.decorators import task
from graflow_core.core.retry import RetryPolicy
from graflow_core.core.task import (
    Executable,
    ParallelGroup,
    SequentialTask,
    Task,
    TaskWrapper,
    chain,
    parallel,
)
from graflow_core.core.workflow import WorkflowContext, workflow

__version__ = "0.1.0"

_LAZY = {
    "WorkflowEngine": "graflow_core.core.engine",
    "TaskGraph": "graflow_core.core.graph",
    "CheckpointManager": "graflow_core.core.checkpoint",
    "CheckpointMetadata": "graflow_core.core.checkpoint",
    "TaskHandler": "graflow_core.core.handler",
    "TaskResult": "graflow_core.core.handler",
    "DirectTaskHandler": "graflow_core.core.handlers.direct",
    "GroupExecutionPolicy": "graflow_core.core.handlers.group_policy",
    "StrictGroupPolicy": "graflow_core.core.handlers.group_policy",
    "BestEffortGroupPolicy": "graflow_core.core.handlers.group_policy",
    "CriticalGroupPolicy": "graflow_core.core.handlers.group_policy",
    "AtLeastNGroupPolicy": "graflow_core.core.handlers.group_policy",
    "CoordinationBackend": "graflow_core.coordination.coordinator",
    "GroupExecutor": "graflow_core.coordination.executor",
    "MemoryChannel": "graflow_core.channels.memory_channel",
    "TypedChannel": "graflow_core.channels.typed",
    "ChannelFactory": "graflow_core.channels.factory",
    "create_execution_context": "graflow_core.core.context",
    "current_workflow_context": "graflow_core.core.workflow",
    "clear_workflow_context": "graflow_core.core.workflow",
    "GraflowError": "graflow_core.exceptions",
    "GraflowRuntimeError": "graflow_core.exceptions",
    "GraphCompilationError": "graflow_core.exceptions",
    "DuplicateTaskError": "graflow_core.exceptions",
    "CycleLimitExceededError": "graflow_core.exceptions",
    "RetryLimitExceededError": "graflow_core.exceptions",
    "ParallelGroupError": "graflow_core.exceptions",
    "GraflowWorkflowCanceledError": "graflow_core.exceptions",
    "MaxStepsExceededError": "graflow_core.exceptions",
    "TaskNotFoundError": "graflow_core.exceptions",
    "WorkflowDefinitionError": "graflow_core.exceptions",
    "ConfigError": "graflow_core.exceptions",
    "draw_ascii": "graflow_core.utils.graph",
    "draw_mermaid": "graflow_core.utils.graph",
    "build_graph": "graflow_core.utils.graph",
    "show_graph_info": "graflow_core.utils.graph",
    "visualize_dependencies": "graflow_core.utils.graph",
    "TaskSpec": "graflow_core.queue.base",
    "TaskStatus": "graflow_core.queue.base",
    "LocalTaskQueue": "graflow_core.queue.local",
    "Tracer": "graflow_core.trace.base",
    "NoopTracer": "graflow_core.trace.noop",
    "ConsoleTracer": "graflow_core.trace.console",
    "Channel": "graflow_core.channels.base",
    "CycleController": "graflow_core.core.cycle",
    "RetryController": "graflow_core.core.retry",
    "get_current_workflow_context": "graflow_core.core.workflow",
    "set_current_workflow_context": "graflow_core.core.workflow",
    "require_workflow_context": "graflow_core.core.workflow",
    "TaskError": "graflow_core.exceptions",
    "InvalidBackendError": "graflow_core.exceptions",
    "as_runtime_error": "graflow_core.exceptions",
    # graflow_core additions: timeouts, task types, resilience
    "TaskTimeoutError": "graflow_core.exceptions",
    "PluginError": "graflow_core.exceptions",
    "TaskType": "graflow_core.core.task_types",
    "register_task_type": "graflow_core.core.task_types",
    "CircuitBreaker": "graflow_core.resilience.circuit_breaker",
    "CircuitOpenError": "graflow_core.resilience.circuit_breaker",
    "register_circuit_breaker": "graflow_core.resilience.circuit_breaker",
    "DeadLetterStore": "graflow_core.resilience.dead_letter",
    # durable runs, checkpoint integrity and stores
    "run_durable": "graflow_core.core.resumable",
    "DurableRun": "graflow_core.core.resumable",
    "CheckpointError": "graflow_core.core.checkpoint",
    "CheckpointNotFoundError": "graflow_core.core.checkpoint",
    "CheckpointVerificationError": "graflow_core.core.checkpoint",
    "CheckpointStore": "graflow_core.checkpoint_stores",
    "MissingSigningKeyError": "graflow_core.signing",
    "SignatureVerificationError": "graflow_core.signing",
    # the neutral workflow spec and pre-flight checks
    "WorkflowSpec": "graflow_core.spec.model",
    "build_spec": "graflow_core.spec.build",
    "load_workflow": "graflow_core.spec.load",
    "preflight": "graflow_core.spec.preflight_check",
    "SpecError": "graflow_core.spec.errors",
}


__all__ = [
    "ExecutionContext",
    "Executable",
    "ParallelGroup",
    "RetryPolicy",
    "SequentialTask",
    "Task",
    "TaskExecutionContext",
    "TaskWrapper",
    "WorkflowContext",
    "__version__",
    "chain",
    "parallel",
    "task",
    "workflow",
    *_LAZY,
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals(), __all__)
