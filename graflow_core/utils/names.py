"""Finding objects by ``module`` + ``qualname`` (what pickling by reference and specs rely on)."""

from __future__ import annotations

import sys
from typing import Any


def attribute_path(obj: Any, qualname: str) -> Any:
    """``obj.<qualname>`` following dots (``"Outer.method"``), or ``None`` if a part is missing."""
    for part in qualname.split("."):
        if obj is None:
            return None
        obj = getattr(obj, part, None)
    return obj


def lookup(module: str, qualname: str) -> Any:
    """``module.qualname`` among the already imported modules, or ``None`` (imports nothing)."""
    return attribute_path(sys.modules.get(module), qualname)
