"""Plain JSON values: checking and copying the values a spec carries (bound kwargs, options).

A spec holds only values that survive ``json.dumps``/``json.loads`` unchanged: ``None``,
``bool``, ``int``, finite ``float``, ``str``, ``list`` and ``dict`` with ``str`` keys. Tuples,
sets, bytes, dates, objects ... are refused (they would come back as something else), with the
path of the offending part so the message can name it.
"""

from __future__ import annotations

import math
from typing import Any

_SCALARS = (str, bool, int, type(None))


class NotJSONError(ValueError):
    """A value is not a plain JSON value; ``path`` locates the offending part (``"[0]['k']"``)."""

    def __init__(self, path: str, value: object) -> None:
        self.path = path
        self.value = value
        kind = type(value).__name__
        detail = " (NaN and infinities are not JSON)" if isinstance(value, float) else ""
        super().__init__(f"{path or 'value'} is a {kind}{detail}: {_short_repr(value)}")

    @property
    def type_name(self) -> str:
        """The Python type name of the offending part."""
        return type(self.value).__name__


def _short_repr(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def json_copy(value: Any, path: str = "") -> Any:
    """Return a deep copy of ``value`` if it is a plain JSON value, else raise NotJSONError."""
    cls = type(value)
    if cls in _SCALARS:
        return value
    if cls is float:
        if math.isfinite(value):
            return value
        raise NotJSONError(path, value)
    if cls is list:
        return [json_copy(item, f"{path}[{i}]") for i, item in enumerate(value)]
    if cls is dict:
        out: dict[str, Any] = {}
        for key, item in value.items():
            if type(key) is not str:
                raise NotJSONError(f"{path}[{key!r}] (key)", key)
            out[key] = json_copy(item, f"{path}[{key!r}]")
        return out
    raise NotJSONError(path, value)
