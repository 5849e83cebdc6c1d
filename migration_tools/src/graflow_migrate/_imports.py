"""The import lines of a converted module (shared by both front ends).

After the code is rewritten, imports from the orchestrator (``prefect``, ``airflow``) that the
module no longer uses are dropped; the ones still used stay, under a TODO comment, and are
reported. ``from graflow_core import ...`` replaces the first orchestrator import and
``import logging`` joins the standard-library imports, both where isort/ruff would put them.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import libcst as cst

from graflow_migrate._source import is_stdlib, todo_comment
from graflow_migrate.report import MigrationReport


class _UsedNames(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)


def _module_name(node: cst.ImportFrom | cst.Import, module: cst.Module) -> str:
    if isinstance(node, cst.ImportFrom):
        if node.relative:
            return "." * len(node.relative) + (
                module.code_for_node(node.module) if node.module is not None else ""
            )
        return module.code_for_node(node.module) if node.module is not None else ""
    return module.code_for_node(node.names[0].name)


def _is_library(name: str, library: str) -> bool:
    return name == library or name.startswith(library + ".")


def _import_of(stmt: cst.CSTNode) -> cst.Import | cst.ImportFrom | None:
    if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
        small = stmt.body[0]
        if isinstance(small, (cst.Import, cst.ImportFrom)):
            return small
    return None


def finish(
    module: cst.Module,
    report: MigrationReport,
    positions: Any,
    *,
    graflow_names: Collection[str],
    needs_logging: bool,
    library: str,
    original: cst.Module | None = None,
) -> str:
    """Rewrite the imports of ``module`` (see the module docstring); returns the final code.

    Other imports whose names ``original`` used and the converted code no longer uses (a
    ``timedelta`` only needed for a converted retry delay) are dropped too.
    """
    used = _UsedNames()
    module.visit(used)
    before = _UsedNames()
    if original is not None:
        original.visit(before)
    stale = before.names - used.names
    body: list[Any] = []
    insert_at: int | None = None
    first_lead: list[cst.EmptyLine] | None = None
    carry_blank = False  # a dropped import had a blank line before it

    def emit(stmt: Any) -> None:
        nonlocal carry_blank
        lead = list(stmt.leading_lines)
        if carry_blank and not (lead and lead[0].comment is None):
            stmt = stmt.with_changes(leading_lines=[_blank(), *lead])
        carry_blank = False
        body.append(stmt)

    def drop(stmt: Any) -> None:
        nonlocal carry_blank
        if any(line.comment for line in stmt.leading_lines):
            # keep the comments above a dropped import (the placeholder line goes at the end)
            emit(cst.SimpleStatementLine(body=[cst.Pass()], leading_lines=stmt.leading_lines))
        elif stmt.leading_lines:
            carry_blank = True

    for stmt in module.body:
        imp = _import_of(stmt)
        name = _module_name(imp, module) if imp is not None else ""
        if imp is None or (isinstance(imp, cst.ImportFrom) and name == "__future__"):
            emit(stmt)
            continue
        if not _is_library(name, library):
            keep = _kept_aliases(imp, used.names | (_all_locals(imp, module) - stale), module)
            if len(keep) == len(_aliases(imp)):
                emit(stmt)
            elif keep:
                emit(stmt.with_changes(body=[imp.with_changes(names=_fix_commas(keep))]))
            else:
                drop(stmt)
            continue
        kept = _kept_aliases(imp, used.names - set(graflow_names), module)
        if insert_at is None:
            insert_at = len(body)
            if not kept:
                first_lead = list(stmt.leading_lines) or ([_blank()] if carry_blank else [])
                carry_blank = False
                continue
        if not kept:
            drop(stmt)
            continue
        new_imp = (
            imp.with_changes(names=_fix_commas(kept)) if isinstance(imp, cst.ImportFrom) else imp
        )
        names = ", ".join(
            module.code_for_node(a.name if a.asname is None else a.asname.name) for a in kept
        )
        reason = f"still uses {library} ({names}); no graflow counterpart"
        line = _line_of(positions, stmt)
        report.add(
            line,
            f"import {names}",
            "todo",
            reason,
            f"replace the remaining uses of {names} (see the other TODO comments) "
            f"and remove the import",
        )
        comment = cst.EmptyLine(comment=cst.Comment(todo_comment(reason)))
        emit(stmt.with_changes(body=[new_imp], leading_lines=[*stmt.leading_lines, comment]))
    graflow = sorted(set(graflow_names), key=lambda n: (not n[:1].isupper(), n))
    if graflow:
        text = f"from graflow_core import {', '.join(graflow)}\n"
        stmt = cst.parse_module(text).body[0]
        body = _insert_third_party(body, stmt, insert_at, module, first_lead)
    if needs_logging and not _imports_module(body, "logging", module):
        stmt = cst.parse_module("import logging\n").body[0]
        body = _insert_stdlib(body, stmt, module)
    out = _drop_placeholders(module.with_changes(body=body).code)
    return out if out.endswith("\n") else out + "\n"


def _drop_placeholders(code: str) -> str:
    # comments kept from dropped imports were attached to a 'pass' placeholder
    lines = code.split("\n")
    return "\n".join(line for line in lines if line != "pass")


def _line_of(positions: Any, stmt: cst.CSTNode) -> int:
    try:
        return int(positions[stmt].start.line)
    except (KeyError, TypeError):
        return 0


def _kept_aliases(
    imp: cst.Import | cst.ImportFrom, used: set[str], module: cst.Module
) -> list[cst.ImportAlias]:
    if isinstance(imp, cst.ImportFrom):
        if isinstance(imp.names, cst.ImportStar):
            return []
        aliases = list(imp.names)
    else:
        aliases = list(imp.names)
    kept = []
    for alias in aliases:
        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
            local = alias.asname.name.value
        else:
            local = module.code_for_node(alias.name).split(".")[0]
        if local in used:
            kept.append(alias)
    return kept


def _aliases(imp: cst.Import | cst.ImportFrom) -> list[cst.ImportAlias]:
    if isinstance(imp, cst.ImportFrom) and isinstance(imp.names, cst.ImportStar):
        return []
    return list(imp.names)  # type: ignore[arg-type]


def _all_locals(imp: cst.Import | cst.ImportFrom, module: cst.Module) -> set[str]:
    out = set()
    for alias in _aliases(imp):
        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
            out.add(alias.asname.name.value)
        else:
            out.add(module.code_for_node(alias.name).split(".")[0])
    return out


def _fix_commas(aliases: list[cst.ImportAlias]) -> list[cst.ImportAlias]:
    out = [a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in aliases]
    return out


def _imports_module(body: list[Any], name: str, module: cst.Module) -> bool:
    for stmt in body:
        imp = _import_of(stmt)
        if isinstance(imp, cst.Import):
            for alias in imp.names:
                if module.code_for_node(alias.name) == name and alias.asname is None:
                    return True
    return False


def _header_end(body: list[Any]) -> int:
    """Index after the module docstring and ``from __future__`` imports."""
    index = 0
    if (
        body
        and isinstance(body[0], cst.SimpleStatementLine)
        and isinstance(body[0].body[0], cst.Expr)
    ):
        value = body[0].body[0].value
        if isinstance(value, (cst.SimpleString, cst.ConcatenatedString)):
            index = 1
    while index < len(body):
        imp = _import_of(body[index])
        if (
            isinstance(imp, cst.ImportFrom)
            and imp.module is not None
            and not imp.relative
            and cst.Module(body=[]).code_for_node(imp.module) == "__future__"
        ):
            index += 1
            continue
        break
    return index


def _blank() -> cst.EmptyLine:
    return cst.EmptyLine()


def _insert_third_party(
    body: list[Any],
    stmt: Any,
    at: int | None,
    module: cst.Module,
    lead: list[cst.EmptyLine] | None,
) -> list[Any]:
    """Insert ``from graflow_core import ...`` at ``at`` (where the first orchestrator import
    was; ``lead`` holds its leading lines when it was dropped)."""
    if at is None:
        # no orchestrator import: after the last top-level import, else after the header
        at = _header_end(body)
        for index, existing in enumerate(body):
            if _import_of(existing) is not None:
                at = index + 1
        return [*body[:at], stmt.with_changes(leading_lines=[_blank()]), *body[at:]]
    # Move past third-party from-imports that sort before graflow_core in the same run.
    index = at
    while index < len(body):
        imp = _import_of(body[index])
        if imp is None:
            break
        name = _module_name(imp, module)
        if name.startswith(".") or (
            isinstance(imp, cst.ImportFrom)
            and not is_stdlib(name)
            and name.lower() > "graflow_core"
        ):
            break
        index += 1
    if index != at:
        return [*body[:index], stmt.with_changes(leading_lines=[]), *body[index:]]
    if lead is not None:
        return [*body[:at], stmt.with_changes(leading_lines=lead), *body[at:]]
    # the first orchestrator import stays (still used): go right before it
    body = [*body]
    original = body[at]
    body[at] = original.with_changes(
        leading_lines=[line for line in original.leading_lines if line.comment is not None]
    )
    blank = [line for line in original.leading_lines if line.comment is None]
    return [*body[:at], stmt.with_changes(leading_lines=blank), *body[at:]]


def _insert_stdlib(body: list[Any], stmt: Any, module: cst.Module) -> list[Any]:
    """Insert ``import logging`` in sorted position among the standard-library imports."""
    start = _header_end(body)
    index = start
    first_stdlib: int | None = None
    while index < len(body):
        imp = _import_of(body[index])
        if imp is None:
            break
        name = _module_name(imp, module)
        if is_stdlib(name):
            if first_stdlib is None:
                first_stdlib = index
            if isinstance(imp, cst.ImportFrom) or name > "logging":
                lead = body[index].leading_lines
                body = [*body]
                body[index] = body[index].with_changes(leading_lines=[])
                return [*body[:index], stmt.with_changes(leading_lines=lead), *body[index:]]
            index += 1
            continue
        if first_stdlib is not None:
            # end of the stdlib run: insert before the next section
            return [*body[:index], stmt.with_changes(leading_lines=[]), *body[index:]]
        # no stdlib import before the first third-party one: own section on top
        lead = body[index].leading_lines
        body = [*body]
        body[index] = body[index].with_changes(leading_lines=[_blank()])
        return [*body[:index], stmt.with_changes(leading_lines=lead), *body[index:]]
    return [*body[:index], stmt.with_changes(leading_lines=[]), *body[index:]]
