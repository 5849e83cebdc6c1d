"""Task handlers and parallel-group execution policies.

Names are imported on first access, so importing this package costs next to nothing.
"""

from __future__ import annotations

from graflow_core._lazy import lazy_exports

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


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals(), __all__)
