"""Lazy package exports: a name is imported from its module on first access (PEP 562).

Keeps ``import graflow_core`` cheap while the package still exposes every public name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any


def lazy_exports(
    package: str, mapping: dict[str, str], namespace: dict[str, Any], public: Iterable[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Module ``__getattr__`` and ``__dir__`` for ``package`` resolving ``mapping[name]``."""
    public_names = set(public)

    def __getattr__(name: str) -> Any:
        module_name = mapping.get(name)
        if module_name is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        from importlib import import_module

        value = getattr(import_module(module_name), name)
        namespace[name] = value  # later lookups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | public_names | set(mapping))

    return __getattr__, __dir__
