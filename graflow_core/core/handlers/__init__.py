"""Task handlers and parallel-group execution policies.

Names are imported on first access, so importing this package costs next to nothing.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from graflow_core.core.handlers.direct import DirectTaskHandler
    from graflow_core.core.handlers.group_policy import (
        POLICY_REGISTRY,
        AtLeastNGroupPolicy,
        BestEffortGroupPolicy,
        CriticalGroupPolicy,
        GroupExecutionPolicy,
        InvalidGroupPolicyError,
        StrictGroupPolicy,
        canonicalize_group_policy,
        resolve_group_policy,
    )

_POLICY_MODULE = "graflow_core.core.handlers.group_policy"
_LAZY = {
    "DirectTaskHandler": "graflow_core.core.handlers.direct",
    "POLICY_REGISTRY": _POLICY_MODULE,
    "AtLeastNGroupPolicy": _POLICY_MODULE,
    "BestEffortGroupPolicy": _POLICY_MODULE,
    "CriticalGroupPolicy": _POLICY_MODULE,
    "GroupExecutionPolicy": _POLICY_MODULE,
    "InvalidGroupPolicyError": _POLICY_MODULE,
    "StrictGroupPolicy": _POLICY_MODULE,
    "canonicalize_group_policy": _POLICY_MODULE,
    "resolve_group_policy": _POLICY_MODULE,
}

__all__ = [
    "POLICY_REGISTRY",
    "AtLeastNGroupPolicy",
    "BestEffortGroupPolicy",
    "CriticalGroupPolicy",
    "DirectTaskHandler",
    "GroupExecutionPolicy",
    "InvalidGroupPolicyError",
    "StrictGroupPolicy",
    "canonicalize_group_policy",
    "resolve_group_policy",
]


def __getattr__(name: str) -> object:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
