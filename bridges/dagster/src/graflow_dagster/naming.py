"""Graflow ids -> Dagster names (``^[A-Za-z0-9_]+$``, not a reserved word), one-to-one.

Dagster node, job and input names allow letters, digits and ``_`` only and refuse a few words
(``input``, ``config``, Python keywords ...). :func:`dagster_names` maps each graflow id to a
valid, unique name; the original id always travels with the op in its tags
(``graflow/task_id``), so nothing is lost.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable

_INVALID = re.compile(r"[^A-Za-z0-9_]")

#: Names Dagster refuses for nodes and inputs (as in ``dagster._core.definitions.utils``).
RESERVED = frozenset(
    {
        "context",
        "conf",
        "config",
        "meta",
        "arg_dict",
        "dict",
        "input_arg_dict",
        "output_arg_dict",
        "int",
        "str",
        "float",
        "bool",
        "input",
        "output",
        "type",
        *keyword.kwlist,
    }
)


def sanitize(name: str) -> str:
    """``name`` made valid for Dagster: other characters become ``_``; reserved names get ``_``."""
    out = _INVALID.sub("_", name) or "_"
    if out in RESERVED:
        out += "_"
    return out


def dagster_names(ids: Iterable[str]) -> dict[str, str]:
    """A unique valid Dagster name per id (``a.b`` and ``a-b`` become ``a_b`` and ``a_b_2``)."""
    taken: set[str] = set()
    names: dict[str, str] = {}
    ids = list(ids)
    # ids that are already valid keep their name, so they never get a suffix
    for i in ids:
        if sanitize(i) == i:
            names[i] = i
            taken.add(i)
    for i in ids:
        if i in names:
            continue
        base = sanitize(i)
        name, n = base, 2
        while name in taken:
            name, n = f"{base}_{n}", n + 1
        names[i] = name
        taken.add(name)
    return names
