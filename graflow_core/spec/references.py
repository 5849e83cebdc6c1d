"""Callable references: ``"module:qualname"`` strings that import back to a task's function.

A task's reference names either its function (for ``@task(type=...)``: the object given to
``@task``) or a module-level ``TaskWrapper`` wrapping that
function (``@task`` at module level replaces the function by the wrapper under the same name,
so ``module:qualname`` of the function finds the wrapper). Loading takes the wrapper's
function in the second case (``load_workflow``). Instances such as
``fetch(task_id="tokyo", city="Tokyo")`` share the module-level ``fetch``'s function, so their
reference is ``fetch``'s, plus the bound kwargs.

Only things Python can import by name have a reference: no lambdas, no closures
(``<locals>``), no callable objects without ``__qualname__``, and functions of the ``__main__``
script only when the script was started as a module (``python -m pkg.mod``: its
``__spec__.name`` is used) or ``main_module=`` says which module it is.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from typing import Any

from graflow_core.utils.names import lookup

#: Fix shown for lambdas, closures and callables without a name.
MOVE_TO_MODULE = (
    "define it with `def` at module level of an importable module (a closure's captured "
    "values become bound keyword arguments: my_task(task_id='...', value=...))"
)


class RefProblem(Exception):
    """Why an object has no import reference (``reason``) and what to do (``fix``)."""

    def __init__(self, reason: str, fix: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fix = fix


def _main_module_name(main_module: str | None) -> str | None:
    if main_module:
        return main_module
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    name = getattr(spec, "name", None)
    return name if isinstance(name, str) and name != "__main__" else None


def _main_file() -> str:
    path = getattr(sys.modules.get("__main__"), "__file__", None)
    return f" ({path})" if path else ""


def reference(
    obj: Any,
    accept: Callable[[Any], bool],
    *,
    main_module: str | None = None,
    what: str = "function",
) -> str:
    """The ``"module:qualname"`` of ``obj``, checked to import to something ``accept`` takes.

    Raises :class:`RefProblem` when there is none. ``main_module`` names the module that the
    ``__main__`` script is importable as.
    """
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str):
        raise RefProblem(
            f"its {what} {_short(obj)} is a {type(obj).__name__} without __module__/__qualname__"
            " (e.g. a functools.partial or a callable instance), which cannot be imported by name",
            "wrap the call in a module-level function and use that as the task: " + MOVE_TO_MODULE,
        )
    if qualname == "<lambda>" or qualname.endswith(".<lambda>"):
        raise RefProblem(
            f"its {what} is a lambda ({module}:{qualname}), which cannot be imported by name",
            MOVE_TO_MODULE,
        )
    if "<locals>" in qualname:
        outer = qualname.rsplit(".<locals>", 1)[0]
        raise RefProblem(
            f"its {what} {qualname!r} is defined inside function {outer!r} of module "
            f"{module!r} (a closure), which cannot be imported by name",
            MOVE_TO_MODULE,
        )
    if isinstance(obj, types.MethodType) and not isinstance(obj.__self__, type):
        raise RefProblem(
            f"its {what} {qualname!r} is a method bound to {_short(obj.__self__)}, which "
            "cannot be imported by name",
            "use a module-level function (pass the object's data as bound keyword arguments) "
            "or a classmethod/staticmethod",
        )
    if isinstance(obj, types.MethodType):  # a classmethod: each lookup makes a new bound method
        original_accept = accept

        def accept(found: Any) -> bool:
            return original_accept(found) or found == obj

    if module == "__main__":
        name = _main_module_name(main_module)
        found = lookup("__main__", qualname)
        if name is None:
            raise RefProblem(
                f"its {what} {qualname!r} is defined in the __main__ script{_main_file()}, "
                "which other processes cannot import by name",
                "move the task to an importable module, or run the program as a module "
                "(`python -m package.module`), or pass main_module='package.module' to "
                "build_spec() when the script is importable under that name",
            )
        if found is None or not accept(found):
            raise RefProblem(
                f"__main__:{qualname} does not import to the task's {what}",
                "define the task at module level under its own name",
            )
        return f"{name}:{qualname}"
    found = lookup(module, qualname)
    if found is None and module not in sys.modules:
        try:
            import importlib

            importlib.import_module(module)
        except Exception as exc:
            raise RefProblem(
                f"its module {module!r} cannot be imported ({type(exc).__name__}: {exc})",
                "make the module importable (on sys.path / installed)",
            ) from exc
        found = lookup(module, qualname)
    if found is None:
        raise RefProblem(
            f"'{module}:{qualname}' does not exist (the {what} is not reachable under its name;"
            " was it renamed, deleted or created with exec?)",
            "define it at module level under the name it was created with",
        )
    if not accept(found):
        raise RefProblem(
            f"'{module}:{qualname}' imports to a different object ({_short(found)}) than the "
            f"task's {what} (a name reused for something else, or a decorator without "
            "functools.wraps)",
            "give the function its own module-level name and keep functools.wraps on decorators",
        )
    return f"{module}:{qualname}"


def _short(obj: object) -> str:
    text = repr(obj)
    return text if len(text) <= 60 else text[:57] + "..."


def import_ref(ref: str) -> Any:
    """Import and return the object named by ``"module:qualname"``.

    Raises :class:`RefProblem` when the module or the attribute path does not exist.
    """
    module, sep, qualname = ref.partition(":")
    if not sep or not module or not qualname:
        raise RefProblem(
            f"reference {ref!r} is not of the form 'module:qualname'",
            "write references as 'package.module:function'",
        )
    obj: Any = sys.modules.get(module)
    if obj is None:
        import importlib

        try:
            obj = importlib.import_module(module)
        except Exception as exc:
            raise RefProblem(
                f"cannot import module {module!r} for {ref!r} ({type(exc).__name__}: {exc})",
                "install the code on this machine / put it on sys.path, or regenerate the spec",
            ) from exc
    for part in qualname.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise RefProblem(
                f"module {module!r} has no attribute path {qualname!r} (for {ref!r})",
                "deploy the same code version that wrote the spec, or regenerate the spec",
            ) from None
    return obj
