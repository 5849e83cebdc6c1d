"""The ``langchain`` task type: a LangChain ``Runnable`` as a graflow task.

::

    summarize = task(id="summarize", type="langchain")(prompt | model | StrOutputParser())
    # or: summarize = langchain_task(prompt | model | StrOutputParser(), id="summarize")

How the Runnable's **input** is assembled (first rule that applies):

1. ``type_options={"input": "name"}`` — the value of ``name``, looked up like a task parameter:
   the result of task ``name`` (channel key ``"name.__result__"``), else the channel key
   ``"name"``.
2. ``type_options={"inputs": ["a", "b"]}`` (or ``{"field": "name", ...}``) — a dict of those
   values, each looked up the same way.
3. The Runnable's input schema has named fields (a prompt's variables, a ``TypedDict`` or
   pydantic input type): each field is a task parameter, resolved by graflow's keyword rules
   (``"<field>.__result__"``, then ``"<field>"``, then values bound with
   ``summarize(task_id=..., field=...)``); fields still missing are taken from the upstream
   result when that is a dict. A required field found nowhere fails the task with
   :class:`LangChainInputError`. The input is a dict (or the pydantic input type built from it).
4. Otherwise values bound on the task instance, as a dict, if any.
5. Otherwise the **upstream result**: the result of the single predecessor; a dict
   ``{task_id: result}`` for several predecessors or for a parallel group (one entry per
   member); a group member looks at its group's predecessors. A task without predecessors
   reads the channel key ``"input"`` (what :class:`~graflow_langchain.WorkflowRunnable` writes).

The Runnable's **output** is the task's result. ``type_options={"batch": True}`` calls
``runnable.batch(values)`` on the assembled input, which must be a list (rules 1, 4, 5), and the
result is the list of outputs; ``max_concurrency`` limits the parallel calls. ``config`` (a JSON
dict: ``tags``, ``metadata``, ``run_name``, ``max_concurrency``, ``recursion_limit``,
``configurable``) is merged into the ``RunnableConfig`` the task calls the Runnable with.

Nothing here imports ``langchain_core`` at module import; it is imported when a task is built.
"""

from __future__ import annotations

import contextvars
import inspect
import weakref
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from graflow_core.core.task_types import TaskType
from graflow_core.exceptions import ConfigError, GraflowError

if TYPE_CHECKING:
    from graflow_core.core.context import ExecutionContext
    from graflow_core.core.task import TaskWrapper

#: The task type's name: ``@task(type="langchain")``.
TASK_TYPE_NAME = "langchain"
#: The channel key a task without predecessors reads (rule 5).
DEFAULT_INPUT_KEY = "input"
_CONFIG_KEYS = frozenset(
    {"tags", "metadata", "run_name", "max_concurrency", "recursion_limit", "configurable"}
)


class LangChainInputError(GraflowError):
    """A ``langchain`` task cannot assemble its Runnable's input (names the task and what is
    missing)."""


# The (task, context) of the langchain-typed attempt running in this thread/context: set by
# LangChainTaskType.execute around the body, read by RunnableTask.__call__.
_current: contextvars.ContextVar[tuple[Any, Any] | None] = contextvars.ContextVar(
    "graflow_langchain_current", default=None
)


# Root ExecutionContext -> the RunnableConfig of the LangChain run it serves (set by
# WorkflowRunnable). Parallel-group members run in fresh threads, where LangChain's own
# context variable is empty: their langchain tasks find the run's config here. Weak keys: not
# part of the context (and of its checkpoints).
_run_configs: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def set_run_config(context: Any, config: Any) -> None:
    """Make ``config`` (a ``RunnableConfig``) the base config of the langchain tasks of
    ``context``'s run, parallel branches included."""
    _run_configs[context] = config


_helpers: tuple[Any, Any] | None = None


def _config_helpers() -> tuple[Any, Any]:
    """LangChain's ``merge_configs`` and ``var_child_runnable_config`` (imported once)."""
    global _helpers
    if _helpers is None:
        from langchain_core.runnables.config import merge_configs, var_child_runnable_config

        _helpers = (merge_configs, var_child_runnable_config)
    return _helpers


def _run_config_of(context: Any) -> Any:
    while context is not None and _run_configs:
        found = _run_configs.get(context)
        if found is not None:
            return found
        context = context.parent_context
    return None


class LangChainTaskType(TaskType):
    """Makes a LangChain ``Runnable`` the body of a graflow task. See the module docstring.

    The target may be a Runnable; a function of no arguments returning one (a *factory*:
    module-level, it gives the task an importable reference for ``graflow spec``, exports and
    orchestrator workers); or anything ``coerce_to_runnable`` accepts (a one-argument
    function becomes a ``RunnableLambda``, a dict of Runnables a ``RunnableParallel``).
    """

    name = TASK_TYPE_NAME
    options = ("input", "inputs", "batch", "max_concurrency", "config")

    def build(
        self, target: Any, *, task_id: str | None, options: dict[str, Any]
    ) -> Callable[..., Any]:
        """Wrap ``target`` in a :class:`RunnableTask` (its signature lists the input fields)."""
        _check_options(task_id, options)
        return RunnableTask(target, task_id=task_id, options=options)

    def execute(
        self, task: TaskWrapper, context: ExecutionContext, invoke: Callable[[], Any]
    ) -> Any:
        """Run the attempt with ``(task, context)`` visible to the Runnable's input assembly."""
        token = _current.set((task, context))
        try:
            return invoke()
        finally:
            _current.reset(token)


def _check_options(task_id: str | None, options: Mapping[str, Any]) -> None:
    where = f"Task '{task_id}' (type 'langchain')"
    single = options.get("input")
    many = options.get("inputs")
    if single is not None and many is not None:
        raise ConfigError(f"{where}: give type_options 'input' or 'inputs', not both.")
    if single is not None and (not isinstance(single, str) or not single):
        raise ConfigError(
            f"{where}: type_options['input'] must be a channel key or task id (str), "
            f"got {single!r}."
        )
    if many is not None:
        ok = (isinstance(many, (list, tuple)) and all(isinstance(n, str) and n for n in many)) or (
            isinstance(many, Mapping)
            and all(isinstance(k, str) and isinstance(v, str) and v for k, v in many.items())
        )
        if not ok or not many:
            raise ConfigError(
                f"{where}: type_options['inputs'] must be a non-empty list of names or a dict "
                f"{{field: name}} of strings, got {many!r}."
            )
        if options.get("batch"):
            raise ConfigError(
                f"{where}: 'batch' needs a list input; use 'input' (one name whose value is "
                "a list) instead of 'inputs'."
            )
    batch = options.get("batch", False)
    if not isinstance(batch, bool):
        raise ConfigError(f"{where}: type_options['batch'] must be true or false, got {batch!r}.")
    limit = options.get("max_concurrency")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ConfigError(
            f"{where}: type_options['max_concurrency'] must be an int >= 1, got {limit!r}."
        )
    config = options.get("config")
    if config is not None:
        if not isinstance(config, Mapping):
            raise ConfigError(f"{where}: type_options['config'] must be a dict, got {config!r}.")
        unknown = sorted(set(config) - _CONFIG_KEYS)
        if unknown:
            raise ConfigError(
                f"{where}: type_options['config'] has unknown keys {unknown}; it accepts "
                f"{sorted(_CONFIG_KEYS)} (callbacks come from the run, see docs/langchain.md)."
            )


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Any = _Missing()


class RunnableTask:
    """The function a ``langchain`` task calls: assembles the input, invokes the Runnable.

    Its ``__signature__`` lists the Runnable's named input fields (rule 3), so graflow's keyword
    resolution fills them from the channel. Picklable when the Runnable is.
    """

    def __init__(self, target: Any, *, task_id: str | None, options: Mapping[str, Any]) -> None:
        runnable = _as_runnable(target, task_id)
        self.runnable = runnable
        self.task_id = task_id
        self.options = dict(options)
        self.batch = bool(options.get("batch", False))
        explicit = options.get("input") is not None or options.get("inputs") is not None
        fields: dict[str, bool] = {}
        required: frozenset[str] = frozenset()
        model: Any = None
        if not explicit and not self.batch:
            fields, required, model = _input_fields(runnable)
        self.fields = fields  # name -> is a keyword parameter
        self.required = required
        self.model = model
        self.__name__ = task_id or runnable.get_name()
        self.__doc__ = f"LangChain Runnable {runnable.get_name()} as a graflow task."
        self.__signature__ = inspect.Signature(
            [
                inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None)
                for name, keyword in fields.items()
                if keyword
            ]
        )

    # -- calling ---------------------------------------------------------------------------------

    def __call__(self, **kwargs: Any) -> Any:
        current = _current.get()
        task, context = current if current is not None else (None, None)
        task_id = getattr(task, "task_id", None) or self.task_id or self.__name__
        value = self.assemble_input(kwargs, context, task_id)
        config = self.runnable_config(task_id, context)
        if self.batch:
            if not isinstance(value, (list, tuple)):
                raise LangChainInputError(
                    f"Task '{task_id}' (type 'langchain', batch=True) needs a list input, got "
                    f"{type(value).__name__}: make the upstream task return a list, or point "
                    "type_options['input'] at one."
                )
            return self.runnable.batch(list(value), config)
        return self.runnable.invoke(value, config)

    def runnable_config(self, task_id: str, context: Any) -> Any:
        """The ``RunnableConfig``: the task's ``config`` option, ``max_concurrency`` and graflow
        metadata, merged into the inherited one (callbacks of the enclosing run) if any."""
        merge_configs, child_config = _config_helpers()
        own: dict[str, Any] = dict(self.options.get("config") or {})
        metadata = dict(own.get("metadata") or {})
        metadata.setdefault("graflow_task_id", task_id)
        if context is not None and context.workflow_name:
            metadata.setdefault("graflow_workflow", context.workflow_name)
        own["metadata"] = metadata
        if self.options.get("max_concurrency") is not None:
            own["max_concurrency"] = self.options["max_concurrency"]
        inherited = child_config.get() or _run_config_of(context)
        # invoke() would let our keys replace the inherited ones: merge tags and metadata here.
        return merge_configs(inherited, own) if inherited else own

    # -- input assembly --------------------------------------------------------------------------

    def assemble_input(self, kwargs: dict[str, Any], context: Any, task_id: str) -> Any:
        """The Runnable's input for one call (see the module docstring for the rules)."""
        options = self.options
        single = options.get("input")
        if single is not None:
            return _lookup(context, single, task_id, "type_options['input']")
        many = options.get("inputs")
        if many is not None:
            pairs = many.items() if isinstance(many, Mapping) else ((n, n) for n in many)
            return {
                field: _lookup(context, name, task_id, "type_options['inputs']")
                for field, name in pairs
            }
        if self.fields:
            return self._fields_input(kwargs, context, task_id)
        if kwargs:
            return dict(kwargs)
        return _upstream(context, task_id)

    def _fields_input(self, kwargs: dict[str, Any], context: Any, task_id: str) -> Any:
        data: dict[str, Any] = dict(kwargs)
        missing = [f for f in self.fields if f not in data]
        upstream_ids: list[str] = []
        if missing and context is not None:
            upstream_ids = _upstream_ids(context, task_id)
            if len(upstream_ids) == 1:
                value = context.get_result(upstream_ids[0], _MISSING)
                if isinstance(value, Mapping):
                    for key, item in value.items():
                        data.setdefault(key, item)
            # Fields whose names are not identifiers cannot be parameters: read the channel.
            for name, keyword in self.fields.items():
                if not keyword and name not in data:
                    found = _find(context, name)
                    if found is not _MISSING:
                        data[name] = found
        absent = sorted(f for f in self.required if f not in data)
        if absent:
            where = (
                f"the result of upstream task '{upstream_ids[0]}' is not a dict with them"
                if len(upstream_ids) == 1
                else "there is no single upstream task to take them from"
                if context is not None
                else "the task ran outside a workflow run"
            )
            raise LangChainInputError(
                f"Task '{task_id}' (type 'langchain'): the Runnable needs input "
                f"{', '.join(repr(a) for a in absent)}, found neither as task results nor as "
                f"channel keys nor bound values, and {where}. Produce them upstream (a task "
                "named like the field, a channel key, or a dict result), bind them "
                f"({task_id}(task_id=..., {absent[0]}=...)), or set type_options['inputs']."
            )
        if self.model is not None:
            return self.model(**data)
        return data

    def __repr__(self) -> str:
        return f"RunnableTask({self.runnable.get_name()}, task_id={self.task_id!r})"


def _as_runnable(target: Any, task_id: str | None) -> Any:
    """The Runnable a ``langchain`` task runs, from what was given to ``@task``."""
    from langchain_core.runnables import Runnable
    from langchain_core.runnables.base import coerce_to_runnable

    given = target
    if not isinstance(target, Runnable) and _is_factory(target):
        # A module-level function returning the Runnable: what specs and orchestrator
        # workers can import by name (a Runnable instance has no importable name).
        target = target()
    if isinstance(target, Runnable):
        return target
    if callable(target) or isinstance(target, dict):
        return coerce_to_runnable(target)
    if target is not given:
        raise ConfigError(
            f"Task '{task_id}' (type 'langchain'): the factory "
            f"{getattr(given, '__qualname__', given)!r} returned {target!r} "
            f"({type(target).__name__}); it must return a LangChain Runnable."
        )
    raise ConfigError(
        f"Task '{task_id}' (type 'langchain') needs a LangChain Runnable (or a function "
        f"returning one, a one-argument function, a dict of Runnables), got {target!r} "
        f"({type(target).__name__})."
    )


def _is_factory(target: Any) -> bool:
    """A plain function (not a class) that can be called with no arguments."""
    if isinstance(target, type) or not inspect.isfunction(target):
        return False
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        return False
    return all(
        p.default is not inspect.Parameter.empty
        or p.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        for p in signature.parameters.values()
    )


def _input_fields(runnable: Any) -> tuple[dict[str, bool], frozenset[str], Any]:
    """Named input fields of ``runnable`` (empty when its input is not an object with fields),
    the required ones, and the pydantic model to build the input with (or None)."""
    try:
        schema = runnable.get_input_schema()
        model_fields = dict(getattr(schema, "model_fields", {}) or {})
    except Exception:  # a Runnable whose schema cannot be computed: treat as single-valued
        return {}, frozenset(), None
    from pydantic import BaseModel, RootModel

    if not model_fields or (isinstance(schema, type) and issubclass(schema, RootModel)):
        return {}, frozenset(), None
    if "root" in model_fields and len(model_fields) == 1:
        return {}, frozenset(), None
    fields = {name: name.isidentifier() and not _is_keyword(name) for name in model_fields}
    required = frozenset(name for name, info in model_fields.items() if info.is_required())
    input_type = getattr(runnable, "InputType", None)
    model = (
        input_type if isinstance(input_type, type) and issubclass(input_type, BaseModel) else None
    )
    return fields, required, model


def _is_keyword(name: str) -> bool:
    import keyword

    return keyword.iskeyword(name)


def _find(context: Any, name: str) -> Any:
    """``name`` resolved like a task parameter: ``"<name>.__result__"``, then ``"<name>"``."""
    channel = context.channel
    key = f"{name}.__result__"
    if channel.exists(key):
        return channel.get(key)
    if channel.exists(name):
        return channel.get(name)
    return _MISSING


def _lookup(context: Any, name: str, task_id: str, option: str) -> Any:
    if context is None:
        raise LangChainInputError(
            f"Task '{task_id}' (type 'langchain') reads {option} {name!r} from the channel and "
            "must run inside a workflow run (wf.execute()), not by calling it directly."
        )
    found = _find(context, name)
    if found is _MISSING:
        raise LangChainInputError(
            f"Task '{task_id}' (type 'langchain'): {option} names {name!r}, but there is no "
            f"task result '{name}.__result__' and no channel key '{name}'. Check the name, or "
            "make sure the task producing it runs before this one."
        )
    return found


def _upstream_ids(context: Any, task_id: str) -> list[str]:
    """Static predecessors of the task; for a group member, those of its enclosing group."""
    graph = context.graph
    base = context._base_id(task_id) if "_cycle_" in task_id else task_id
    preds = graph.predecessors(base) if graph.has_node(base) else []
    ctx = context
    while not preds and ctx.parent_context is not None:
        group_id = ctx.parent_context.current_task_id
        if group_id is not None and graph.has_node(group_id):
            preds = graph.predecessors(group_id)
        ctx = ctx.parent_context
    return list(preds)


def _upstream(context: Any, task_id: str) -> Any:
    if context is None:
        raise LangChainInputError(
            f"Task '{task_id}' (type 'langchain') takes its input from upstream tasks and must "
            "run inside a workflow run (wf.execute()); to call it directly, bind the input: "
            f"{task_id}(task_id=..., field=value)."
        )
    preds = _upstream_ids(context, task_id)
    if not preds:
        found = _find(context, DEFAULT_INPUT_KEY)
        if found is _MISSING:
            raise LangChainInputError(
                f"Task '{task_id}' (type 'langchain') has no upstream task and the channel has "
                f"no '{DEFAULT_INPUT_KEY}' key. Connect an upstream task (upstream >> "
                f"{task_id}), pass initial_channel={{'{DEFAULT_INPUT_KEY}': ...}} to execute(), "
                "or name the input with type_options={'input': '<task id or channel key>'}."
            )
        return found
    if len(preds) == 1:
        return _result_of(context, preds[0])
    return {pred: _result_of(context, pred) for pred in preds}


def _result_of(context: Any, node: str) -> Any:
    from graflow_core.core.task import ParallelGroup

    try:
        executable = context.graph.get_node(node)
    except KeyError:
        executable = None
    if isinstance(executable, ParallelGroup):
        return {m.task_id: context.get_result(m.task_id) for m in executable.tasks}
    return context.get_result(node)
