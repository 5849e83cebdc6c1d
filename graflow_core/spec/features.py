"""Which dynamic features a task's function may use, found statically (a cheap heuristic).

The function's code object is scanned for the attribute and global names it uses
(``co_names``), recursively through nested code (inner functions, lambdas, comprehensions)
and through module-level helper functions of the same module that it calls. A task that calls
``ctx.next_task(...)`` records ``"next_task"``; ``goto=True`` records ``"goto"``; and so on
(:data:`NAME_FEATURES`). The scan can over-report (a name used for something else) and
under-report (a feature used through ``getattr`` or a helper in another module); preflight
treats the result as "may use".
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

#: Dynamic-feature names recorded in ``TaskDef.features``.
DYNAMIC_FEATURES = (
    "next_task",
    "goto",
    "next_iteration",
    "terminate",
    "cancel",
    "checkpoints",
    "channels",
    "typed_channels",
)

#: A name used by the code → the feature it indicates.
NAME_FEATURES: dict[str, str] = {
    "next_task": "next_task",
    "next_iteration": "next_iteration",
    "terminate_workflow": "terminate",
    "cancel_workflow": "cancel",
    "checkpoint": "checkpoints",
    "create_checkpoint": "checkpoints",
    "request_checkpoint": "checkpoints",
    "get_channel": "channels",
    "channel": "channels",
    "get_result": "channels",
    "get_typed_channel": "typed_channels",
    "TypedChannel": "typed_channels",
}

_cache: dict[types.CodeType, frozenset[str]] = {}


def _scan(code: types.CodeType, globals_: dict[str, Any], seen: set[types.CodeType]) -> set[str]:
    found: set[str] = set()
    if code in seen:
        return found
    seen.add(code)
    cached = _cache.get(code)
    if cached is not None:
        return set(cached)
    for name in code.co_names:
        feature = NAME_FEATURES.get(name)
        if feature is not None:
            found.add(feature)
        elif name in globals_:
            helper = globals_[name]
            if type(helper) is types.FunctionType and helper.__globals__ is globals_:
                found |= _scan(helper.__code__, globals_, seen)
    for const in code.co_consts:
        if type(const) is types.CodeType:
            found |= _scan(const, globals_, seen)
        elif type(const) is tuple and "goto" in const:  # keyword names of a call: goto=...
            found.add("goto")
    return found


def detect_features(*funcs: Callable[..., Any]) -> list[str]:
    """The dynamic features (sorted) that any of ``funcs`` may use; ``[]`` for non-functions."""
    found: set[str] = set()
    for func in funcs:
        code = getattr(func, "__code__", None)
        if type(code) is not types.CodeType:
            continue
        cached = _cache.get(code)
        if cached is None:
            globals_ = getattr(func, "__globals__", None)
            cached = frozenset(_scan(code, globals_ if isinstance(globals_, dict) else {}, set()))
            _cache[code] = cached
        found |= cached
    return sorted(found)
