"""The import lines of a converted module (shared by both front ends).

After the code is rewritten, imports from the orchestrator (``prefect``, ``airflow``) that the
module no longer uses are dropped; the ones still used stay, under a TODO comment, and are
reported. Other imports that only the converted code used (a ``timedelta`` for a retry delay)
are dropped too. ``from graflow_core import ...`` takes the place of the first orchestrator
import and ``import logging`` joins the standard-library imports, both where isort/ruff would
put them.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import libcst as cst

from graflow_migrate._source import Output, is_stdlib, todo_comments
from graflow_migrate.report import MigrationReport


def _referenced(text: str) -> set[str]:
    """The names ``text`` reads anywhere (an import alone does not count as a use).

    ``symtable`` (implemented in C) is several times faster than walking an ``ast``.
    """
    import symtable

    names: set[str] = set()
    tables = [symtable.symtable(text, "<converted>", "exec")]
    while tables:
        table = tables.pop()
        for symbol in table.get_symbols():
            if symbol.is_referenced() or symbol.is_annotated():
                names.add(symbol.get_name())
        tables.extend(table.get_children())
    return names


def _import_of(stmt: cst.CSTNode) -> cst.Import | cst.ImportFrom | None:
    if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
        small = stmt.body[0]
        if isinstance(small, (cst.Import, cst.ImportFrom)):
            return small
    return None


def _module_name(node: cst.Import | cst.ImportFrom) -> str:
    empty = cst.Module(body=[])
    if isinstance(node, cst.ImportFrom):
        name = empty.code_for_node(node.module) if node.module is not None else ""
        return "." * len(node.relative) + name
    return empty.code_for_node(node.names[0].name)


def _is_library(name: str, library: str) -> bool:
    return name == library or name.startswith(library + ".")


def _aliases(imp: cst.Import | cst.ImportFrom) -> list[cst.ImportAlias]:
    if isinstance(imp, cst.ImportFrom) and isinstance(imp.names, cst.ImportStar):
        return []
    return list(imp.names)  # type: ignore[arg-type]


def _local(alias: cst.ImportAlias) -> str:
    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
        return alias.asname.name.value
    return cst.Module(body=[]).code_for_node(alias.name).split(".")[0]


def _with_aliases(stmt: cst.SimpleStatementLine, imp: Any, kept: list[cst.ImportAlias]) -> str:
    names = [a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in kept]
    new = stmt.with_changes(body=[imp.with_changes(names=names)], leading_lines=[])
    return cst.Module(body=[]).code_for_node(new)


def finish(
    out: Output,
    report: MigrationReport,
    *,
    graflow_names: Collection[str],
    needs_logging: bool,
    library: str,
    original: str | None = None,
) -> str:
    """Rewrite the imports of the converted module in ``out``; returns the final code."""
    try:
        used = _referenced(out.text())
        before = _referenced(original) if original is not None else set()
    except (SyntaxError, ValueError, RecursionError):  # pragma: no cover - invalid output
        return out.text()
    stale = before - used
    lines = out.lines
    body = list(lines.module.body)
    graflow = sorted(set(graflow_names), key=lambda n: (not n[:1].isupper(), n))
    first_library: int | None = None
    first_dropped = False
    for index, stmt in enumerate(body):
        imp = _import_of(stmt)
        if imp is None:
            continue
        name = _module_name(imp)
        if name == "__future__":
            continue
        aliases = _aliases(imp)
        assert isinstance(stmt, cst.SimpleStatementLine)
        if _is_library(name, library):
            kept = [a for a in aliases if _local(a) in used and _local(a) not in graflow]
            if first_library is None:
                first_library = index
                first_dropped = not kept
            if not kept:
                out.set(stmt, "")
                continue
            if len(kept) != len(aliases):
                out.set(stmt, _with_aliases(stmt, imp, kept))
            names = ", ".join(_local(a) for a in kept)
            reason = f"still uses {library} ({names}); no graflow counterpart"
            report.add(
                lines.line(stmt),
                f"import {names}",
                "todo",
                reason,
                f"replace the remaining uses of {names} (see the other TODO comments) "
                "and remove the import",
            )
            out.prepend(stmt, todo_comments(reason))
        elif aliases:
            kept = [a for a in aliases if _local(a) not in stale]
            if not kept:
                out.set(stmt, "")
            elif len(kept) != len(aliases):
                out.set(stmt, _with_aliases(stmt, imp, kept))
    if graflow:
        _add_graflow(
            out,
            body,
            f"from graflow_core import {', '.join(graflow)}",
            first_library,
            first_dropped,
        )
    if needs_logging and "logging" not in _plain_imports(body, out):
        _add_logging(out, body)
    return out.text()


def _live(out: Output, stmt: cst.CSTNode) -> bool:
    return out.current(stmt) != ""


def _plain_imports(body: list[Any], out: Output) -> set[str]:
    names = set()
    for stmt in body:
        imp = _import_of(stmt)
        if isinstance(imp, cst.Import) and _live(out, stmt):
            for alias in imp.names:
                if alias.asname is None:
                    names.add(cst.Module(body=[]).code_for_node(alias.name))
    return names


def _header_end(body: list[Any]) -> int:
    """Index after the module docstring and ``from __future__`` imports."""
    index = 0
    if (
        body
        and isinstance(body[0], cst.SimpleStatementLine)
        and isinstance(body[0].body[0], cst.Expr)
        and isinstance(body[0].body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    ):
        index = 1
    while index < len(body):
        imp = _import_of(body[index])
        if isinstance(imp, cst.ImportFrom) and _module_name(imp) == "__future__":
            index += 1
            continue
        break
    return index


def _append(out: Output, stmt: cst.CSTNode, line: str) -> None:
    text = out.current(stmt)
    out.set(stmt, (text if text.endswith("\n") or not text else text + "\n") + line + "\n")


def _add_graflow(
    out: Output, body: list[Any], line: str, first: int | None, first_dropped: bool
) -> None:
    """Put ``from graflow_core import ...`` where the first orchestrator import was."""
    if first is None:
        imports = [i for i, s in enumerate(body) if _import_of(s) is not None and _live(out, s)]
        if imports:
            _append(out, body[imports[-1]], line)
        elif len(body) > _header_end(body):
            out.prepend(body[_header_end(body)], [line, "", ""])
        else:
            out.set(body[-1], out.current(body[-1]) + "\n" + line + "\n") if body else None
        return
    # past third-party from-imports of the same run that sort before graflow_core
    index = first + 1
    last_before: int | None = None
    while index < len(body):
        imp = _import_of(body[index])
        if imp is None:
            break
        name = _module_name(imp)
        if _live(out, body[index]):
            if name.startswith(".") or (
                isinstance(imp, cst.ImportFrom)
                and not is_stdlib(name)
                and name.lower() > "graflow_core"
            ):
                break
            if not is_stdlib(name):
                last_before = index
        index += 1
    if last_before is not None:
        _append(out, body[last_before], line)
    elif first_dropped:
        out.set(body[first], line + "\n")
    else:
        out.prepend(body[first], [line])


def _add_logging(out: Output, body: list[Any]) -> None:
    """Insert ``import logging`` in sorted position among the standard-library imports."""
    index = _header_end(body)
    last_stdlib: int | None = None
    while index < len(body):
        stmt = body[index]
        imp = _import_of(stmt)
        if imp is None:
            break
        if not _live(out, stmt):
            index += 1
            continue
        name = _module_name(imp)
        if name.startswith("graflow_core") or not is_stdlib(name):
            break
        if isinstance(imp, cst.ImportFrom) or name > "logging":
            out.prepend(stmt, ["import logging"])
            return
        last_stdlib = index
        index += 1
    if last_stdlib is not None:
        _append(out, body[last_stdlib], "import logging")
        return
    target = _header_end(body)
    while target < len(body) and not _live(out, body[target]):
        target += 1
    if target < len(body):
        is_import = _import_of(body[target]) is not None
        out.prepend(
            body[target], ["import logging", ""] if is_import else ["import logging", "", ""]
        )
