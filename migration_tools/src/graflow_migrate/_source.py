"""Source handling shared by the front ends: parsing with clear errors, line numbers, name use.

libcst keeps the file's formatting and comments for everything that is not rewritten; the
standard :mod:`ast` module answers "which names does this code read / assign" on code snippets.
"""

from __future__ import annotations

import ast
import functools
import re
import sys
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graflow_migrate.errors import InvalidSourceError, MigrationError

if TYPE_CHECKING:
    import libcst as cst

_TODO = "# TODO(graflow-migrate): "


def check_syntax(text: str, path: str) -> ast.Module:
    """Parse ``text`` with Python's parser; invalid Python raises :class:`InvalidSourceError`."""
    try:
        return ast.parse(text, filename=path)
    except SyntaxError as exc:
        raise InvalidSourceError(path, exc.lineno or 0, exc.offset or 0, exc.msg) from None
    except (ValueError, RecursionError, MemoryError) as exc:  # NUL bytes, absurd nesting
        raise InvalidSourceError(path, 0, 0, str(exc) or type(exc).__name__) from None


def parse_module(text: str, path: str) -> tuple[cst.Module, ast.Module]:
    """``text`` as a libcst module and as an ``ast`` tree (checked to be valid Python first)."""
    import libcst as cst

    tree = check_syntax(text, path)
    try:
        return cst.parse_module(text), tree
    except cst.ParserSyntaxError as exc:
        # Valid Python that libcst cannot read (a newer syntax than it supports).
        raise MigrationError(
            f"{path}:{exc.raw_line}:{exc.raw_column}: the file is valid Python but uses syntax "
            f"graflow-migrate's parser (libcst) does not support: {exc.message}; rewrite that "
            "construct or convert the file by hand"
        ) from None
    except RecursionError:
        raise MigrationError(
            f"{path}: nested too deeply for graflow-migrate's parser; convert the file by hand"
        ) from None


def read_source(path: str) -> str:
    """The text of ``path`` (UTF-8, or the encoding its coding cookie declares)."""
    import tokenize

    try:
        with tokenize.open(path) as handle:
            return handle.read()
    except FileNotFoundError:
        raise MigrationError(f"{path}: no such file; give the path of a Python file") from None
    except IsADirectoryError:
        raise MigrationError(f"{path}: is a directory; give the path of a Python file") from None
    except (SyntaxError, UnicodeDecodeError) as exc:
        raise InvalidSourceError(path, 0, 0, f"cannot decode the file: {exc}") from None
    except OSError as exc:
        raise MigrationError(f"{path}: cannot read the file: {exc.strerror or exc}") from None


@dataclass(frozen=True)
class Names:
    """The names a piece of code reads (``loads``) and binds (``stores``)."""

    loads: frozenset[str]
    stores: frozenset[str]


@functools.lru_cache(maxsize=4096)
def names_of(code: str) -> Names:
    """The names ``code`` (statements or an expression) reads and assigns.

    Names bound only inside comprehensions, lambdas and nested functions are not counted as
    reads of the enclosing scope.
    """
    try:
        tree = ast.parse(textwrap.dedent(code))
    except SyntaxError:
        try:
            tree = ast.parse("(" + code.strip() + "\n)")
        except SyntaxError:
            return Names(frozenset(), frozenset())
    collector = _NameCollector()
    collector.visit(tree)
    return Names(frozenset(collector.loads), frozenset(collector.stores))


class _NameCollector(ast.NodeVisitor):
    def __init__(self) -> None:
        self.loads: set[str] = set()
        self.stores: set[str] = set()
        self._hidden: list[set[str]] = []

    def _is_hidden(self, name: str) -> bool:
        return any(name in scope for scope in self._hidden)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            if not self._is_hidden(node.id):
                self.loads.add(node.id)
        elif not self._hidden:
            self.stores.add(node.id)

    def _scoped(self, node: Any, bound: Iterable[str], children: Iterable[ast.AST]) -> None:
        self._hidden.append(set(bound))
        for child in children:
            self.visit(child)
        self._hidden.pop()

    def _comprehension(self, node: Any, elements: list[ast.AST]) -> None:
        bound: set[str] = set()
        for gen in node.generators:
            bound |= {n.id for n in ast.walk(gen.target) if isinstance(n, ast.Name)}
        # the first iterable is evaluated in the enclosing scope
        self.visit(node.generators[0].iter)
        rest: list[ast.AST] = list(elements)
        for index, gen in enumerate(node.generators):
            if index:
                rest.append(gen.iter)
            rest.extend(gen.ifs)
        self._scoped(node, bound, rest)

    def visit_ListComp(self, node: ast.ListComp) -> None:
        self._comprehension(node, [node.elt])

    def visit_SetComp(self, node: ast.SetComp) -> None:
        self._comprehension(node, [node.elt])

    def visit_GeneratorExp(self, node: ast.GeneratorExp) -> None:
        self._comprehension(node, [node.elt])

    def visit_DictComp(self, node: ast.DictComp) -> None:
        self._comprehension(node, [node.key, node.value])

    def visit_Lambda(self, node: ast.Lambda) -> None:
        for default in [*node.args.defaults, *node.args.kw_defaults]:
            if default is not None:
                self.visit(default)
        self._scoped(node, _arg_names(node.args), [node.body])

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._function(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._function(node)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for dec in node.decorator_list:
            self.visit(dec)
        for default in [*node.args.defaults, *node.args.kw_defaults]:
            if default is not None:
                self.visit(default)
        if not self._hidden:
            self.stores.add(node.name)
        inner = _NameCollector()
        for stmt in node.body:
            inner.visit(stmt)
        hidden = _arg_names(node.args) | inner.stores
        self.loads |= {n for n in inner.loads if n not in hidden and not self._is_hidden(n)}

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for child in [*node.decorator_list, *node.bases, *(k.value for k in node.keywords)]:
            self.visit(child)
        if not self._hidden:
            self.stores.add(node.name)
        inner = _NameCollector()
        for stmt in node.body:
            inner.visit(stmt)
        self.loads |= {n for n in inner.loads if n not in inner.stores and not self._is_hidden(n)}

    def visit_Import(self, node: ast.Import) -> None:
        if not self._hidden:
            for alias in node.names:
                self.stores.add(alias.asname or alias.name.split(".")[0])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if not self._hidden:
            for alias in node.names:
                self.stores.add(alias.asname or alias.name)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name and not self._hidden:
            self.stores.add(node.name)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        if isinstance(node.target, ast.Name) and not self._is_hidden(node.target.id):
            self.loads.add(node.target.id)
        self.generic_visit(node)


def _arg_names(args: ast.arguments) -> set[str]:
    names = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]}
    if args.vararg:
        names.add(args.vararg.arg)
    if args.kwarg:
        names.add(args.kwarg.arg)
    return names


def todo_comment(reason: str) -> str:
    """The ``# TODO(graflow-migrate): <reason>`` comment text (one line)."""
    return _TODO + " ".join(reason.split())


def todo_comments(reason: str, indent: int = 0) -> list[str]:
    """The TODO comment as lines that fit in 100 columns at ``indent`` (continuations are
    indented under the reason)."""
    import textwrap

    width = max(40, 100 - indent)
    lines = textwrap.wrap(
        todo_comment(reason),
        width=width,
        subsequent_indent="#     ",
        break_long_words=False,
        break_on_hyphens=False,
    )
    return lines or [todo_comment(reason)]


def is_stdlib(module: str) -> bool:
    """True for a module of the standard library (by its top-level package)."""
    return module.split(".")[0] in sys.stdlib_module_names


def number(value: float) -> str:
    """``value`` as Python source: ``3`` for integral values, else ``2.5``."""
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def literal_number(code: str) -> float | None:
    """The value of ``code`` when it is a (signed) int or float literal, else None."""
    try:
        value = ast.literal_eval(code.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def literal_numbers(code: str) -> list[float] | None:
    """The values of ``code`` when it is a list/tuple of number literals, else None."""
    try:
        value = ast.literal_eval(code.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    if not isinstance(value, (list, tuple)) or not value:
        return None
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in value):
        return None
    return [float(v) for v in value]


@functools.lru_cache(maxsize=4096)
def is_literal(code: str) -> bool:
    """True when ``code`` is a Python literal (numbers, strings, containers of literals...)."""
    try:
        ast.literal_eval(code.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False
    return True


def identifier(text: str, fallback: str = "task") -> str:
    """A Python identifier made from ``text`` (other characters become ``_``)."""
    out = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in text).strip("_")
    if not out:
        out = fallback
    if out[0].isdigit():
        out = f"_{out}"
    import keyword

    if keyword.iskeyword(out):
        out += "_"
    return out


class Lines:
    """Line numbers of libcst nodes, computed lazily from the source text and its ``ast``.

    libcst's PositionProvider costs a full pass over the tree; reports need the lines of a
    handful of nodes only. Top-level statements get their line from the ``ast`` tree; a
    nested node is found by its first line of code inside its top-level statement (or the
    statement given as ``within``).
    """

    def __init__(self, text: str, module: cst.Module, tree: ast.Module) -> None:
        import libcst as _cst

        #: the source's lines with their line ends (split at "\n" only, as ast counts lines)
        self.raw_lines = re.findall(r"[^\n]*\n|[^\n]+$", text)
        self.text_lines = [line.rstrip("\r\n") for line in self.raw_lines]
        self.module = module
        self.top: dict[int, tuple[int, int]] = {}
        #: the ast statements of each top-level libcst statement (by id)
        self.ast_nodes: dict[int, list[ast.stmt]] = {}
        index = 0
        body = tree.body
        for stmt in module.body:
            count = len(stmt.body) if isinstance(stmt, _cst.SimpleStatementLine) else 1
            nodes = body[index : index + count]
            index += count
            if not nodes:
                continue
            first = nodes[0]
            start = min([first.lineno, *(d.lineno for d in getattr(first, "decorator_list", ()))])
            end = getattr(nodes[-1], "end_lineno", None) or start
            self.top[id(stmt)] = (start, end)
            self.ast_nodes[id(stmt)] = nodes

    def alias(self, new: cst.CSTNode, old: cst.CSTNode) -> None:
        """``new`` (a rewritten top-level statement) is where ``old`` was."""
        if id(old) in self.top:
            self.top[id(new)] = self.top[id(old)]

    def span(self, stmt: cst.CSTNode) -> tuple[int, int] | None:
        """First and last line of a top-level statement."""
        return self.top.get(id(stmt))

    def segment(self, stmt: cst.CSTNode) -> str:
        """The source text of a top-level statement ('' when unknown)."""
        span = self.top.get(id(stmt))
        if span is None:
            return ""
        return "\n".join(self.text_lines[span[0] - 1 : span[1]])

    def line(self, node: cst.CSTNode | None, within: cst.CSTNode | None = None) -> int:
        """1-based line of ``node`` (0 when it cannot be found)."""
        if node is None:
            return 0
        span = self.top.get(id(node))
        if span is not None:
            return span[0]
        try:
            code = self.module.code_for_node(node)
        except Exception:  # a node built by the converter
            return 0
        code_lines = [ln.strip() for ln in code.splitlines()]
        first = next((ln for ln in code_lines if ln and not ln.startswith("#")), "")
        if not first:
            return 0
        spans = [self.top[id(within)]] if within is not None and id(within) in self.top else []
        spans += list(self.top.values())
        for start, end in spans:
            for number in range(start - 1, min(end, len(self.text_lines))):
                if first in self.text_lines[number]:
                    return number + 1
        return 0


class Output:
    """The converted module as text: original lines, with some top-level statements replaced,
    dropped or preceded by new lines.

    Splicing text keeps everything the converter does not touch byte for byte (comments,
    formatting) and avoids regenerating the whole module with libcst, which dominated the run
    time of a conversion.
    """

    def __init__(self, lines: Lines) -> None:
        self.lines = lines
        self.replace: dict[int, str] = {}
        self.before: dict[int, list[str]] = {}

    def set(self, stmt: cst.CSTNode, text: str) -> None:
        """Replace ``stmt`` with ``text`` ('' drops it)."""
        if text and not text.endswith("\n"):
            text += "\n"
        self.replace[id(stmt)] = text

    def prepend(self, stmt: cst.CSTNode, text_lines: list[str]) -> None:
        """Insert lines before ``stmt`` (after the blank lines and comments above it)."""
        self.before.setdefault(id(stmt), []).extend(text_lines)

    def original(self, stmt: cst.CSTNode) -> str:
        """The source text of a top-level statement, with its line end."""
        span = self.lines.top.get(id(stmt))
        if span is None:
            return ""
        return "".join(self.lines.raw_lines[span[0] - 1 : span[1]])

    def current(self, stmt: cst.CSTNode) -> str:
        """The statement's text as it will be written."""
        return self.replace.get(id(stmt), self.original(stmt))

    def text(self) -> str:
        """The whole module."""
        raw = self.lines.raw_lines
        out: list[str] = []
        pos = 0
        for stmt in self.lines.module.body:
            span = self.lines.top.get(id(stmt))
            if span is None:
                continue
            start, end = span
            out.append("".join(raw[pos : start - 1]))
            out += [line + "\n" for line in self.before.get(id(stmt), [])]
            out.append(self.current(stmt))
            pos = end
        out.append("".join(raw[pos:]))
        text = "".join(out)
        if text and not text.endswith("\n"):
            text += "\n"
        return text.rstrip("\n") + "\n" if text.strip() else text
