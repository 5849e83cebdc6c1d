"""The graflow code a front end produces for one flow or DAG, shared by both front ends.

A front end walks the flow/DAG and describes it as a :class:`WorkflowPlan`: nodes (graflow
tasks: an instance of a converted task, or a small task function defined in the builder), the
data bindings of the flow's variables, the flow parameters and the return expression.
:meth:`WorkflowPlan.render` writes two functions:

* ``build_<flow>()`` builds and returns the ``WorkflowContext`` (``graflow run FILE:build_x``);
* ``<flow>(params...)`` (the flow's own name and signature) builds the workflow, runs it with
  the parameters in the initial channel and returns what the flow returned.

Nodes are wired in program order: a node waits for every node of the previous *stage*; nodes
that Prefect runs concurrently (``.submit()``/``.map()``) and that do not depend on each other
form one stage, rendered as a parallel group ``(a | b)``.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from graflow_migrate._source import identifier


@dataclass(frozen=True)
class Param:
    """A parameter of a function: name, default/annotation source code, kind."""

    name: str
    default: str | None = None
    annotation: str | None = None
    kind: str = (
        "positional"  # positional | positional_only | keyword | var_positional | var_keyword
    )

    def source(self) -> str:
        """The parameter as it is written in a ``def``."""
        prefix = {"var_positional": "*", "var_keyword": "**"}.get(self.kind, "")
        text = prefix + self.name
        if self.annotation:
            text += f": {self.annotation}"
        if self.default is not None:
            text += f" = {self.default}" if self.annotation else f"={self.default}"
        return text


@dataclass(frozen=True)
class Binding:
    """Where a flow variable's value comes from at run time.

    ``kind``: ``"value"`` (the node's result), ``"item"`` (item ``index`` of the node's tuple
    result), ``"map"`` (the results of the tasks whose ids the node returned), ``"branch"`` (the
    result of the task the branch node chose for this variable).
    """

    node: str
    kind: str = "value"
    index: int = 0
    key: str = ""


@dataclass
class Node:
    """One graflow task of the workflow (its definition lines, without indentation)."""

    id: str
    var: str
    lines: list[str]
    deps: set[str] = field(default_factory=set)
    concurrent: bool = False
    barrier: bool = False
    comments: list[str] = field(default_factory=list)


class WorkflowPlan:
    """What a front end found in one flow/DAG; :meth:`render` turns it into graflow code."""

    def __init__(
        self,
        name: str,
        runner: str,
        params: Sequence[Param],
        *,
        reserved: Iterable[str] = (),
        docstring: str | None = None,
        returns: str | None = None,
        kind: str = "Prefect flow",
    ) -> None:
        self.name = name
        self.runner = runner
        self.builder = f"build_{runner}"
        if self.builder in set(reserved) and self.builder != runner:
            self.builder = f"build_{runner}_workflow"  # a flow is already called build_<x>
        self.params = list(params)
        self.param_names = {p.name for p in self.params}
        self.docstring = docstring
        self.returns = returns
        self.kind = kind
        self.setup: list[str] = []
        self.nodes: list[Node] = []
        self.env: dict[str, Binding] = {}
        self.return_expr: str | None = None
        self.imports: set[str] = {"workflow"}
        self._ids: set[str] = set()
        self._vars: set[str] = set(reserved) | self.param_names | {"wf", "ctx", self.builder}
        self._pending_barrier = False
        self.setup_names: set[str] = set()
        #: keyword arguments of ``workflow(...)`` (``version``, ``retry_policy``) as source code
        self.workflow_kwargs: list[tuple[str, str]] = []
        #: stage by dependency level (Airflow) instead of by program order (Prefect)
        self.layered = False

    # -- names ---------------------------------------------------------------------------------

    @property
    def ids(self) -> frozenset[str]:
        """The task ids given out so far."""
        return frozenset(self._ids)

    def new_id(self, base: str) -> str:
        """A task id based on ``base`` not used by another node or a flow parameter."""
        candidate, n = base, 1
        while candidate in self._ids or candidate in self.param_names:
            n += 1
            candidate = f"{base}_{n}"
        self._ids.add(candidate)
        return candidate

    def new_var(self, base: str) -> str:
        """A local variable name of the builder, unique and not shadowing module names."""
        stem = identifier(base)
        candidate, n = f"{stem}_task", 1
        while candidate in self._vars or keyword.iskeyword(candidate):
            n += 1
            candidate = f"{stem}_task_{n}"
        self._vars.add(candidate)
        return candidate

    # -- data ----------------------------------------------------------------------------------

    def deps_of(self, names: Iterable[str]) -> set[str]:
        """The node ids whose results the flow variables ``names`` come from."""
        return {self.env[n].node for n in names if n in self.env}

    def prologue(self, names: Iterable[str], ctx: str = "ctx") -> tuple[list[str], list[str]]:
        """Lines binding the flow variables among ``names`` inside a task, and its parameters.

        Returns ``(lines, params)``: ``lines`` read upstream results through ``ctx``;
        ``params`` are the flow parameters among ``names`` (filled from the channel by name).
        """
        lines: list[str] = []
        params: list[str] = []
        for name in sorted(set(names)):
            binding = self.env.get(name)
            if binding is not None:
                lines.append(f"{name} = {self.read(binding, ctx)}")
            elif name in self.param_names:
                params.append(name)
        return lines, params

    @staticmethod
    def read(binding: Binding, ctx: str = "ctx") -> str:
        """The expression that reads a bound value through ``ctx``."""
        node = f'{ctx}.get_result("{binding.node}")'
        if binding.kind == "item":
            return f"{node}[{binding.index}]"
        if binding.kind == "map":
            return f"[{ctx}.get_result(task_id) for task_id in {node}]"
        if binding.kind == "branch":
            return f'{ctx}.get_result({node}.get("{binding.key}"))'
        return node

    # -- nodes ---------------------------------------------------------------------------------

    def add(self, node: Node) -> Node:
        """Append ``node`` (program order is execution order)."""
        if self._pending_barrier:
            node.barrier = True
            self._pending_barrier = False
        self.nodes.append(node)
        return node

    def barrier(self) -> None:
        """The next node waits for everything before it (``wait(futures)``)."""
        self._pending_barrier = True

    def function_node(
        self,
        node_id: str,
        body: list[str],
        names: Iterable[str],
        *,
        decorator: Sequence[tuple[str, str]] = (),
        deps: Iterable[str] = (),
        concurrent: bool = False,
        doc: str | None = None,
        force_context: bool = False,
    ) -> Node:
        """A node defined as a task function in the builder whose body reads ``names``."""
        names = set(names)
        lines, params = self.prologue(names)
        needs_ctx = bool(lines) or force_context or any("ctx." in line for line in body)
        var = self.new_var(node_id)
        kwargs = [("id", f'"{node_id}"'), *decorator]
        if needs_ctx:
            kwargs.append(("inject_context", "True"))
        self.imports.add("task")
        signature = ", ".join((["ctx"] if needs_ctx else []) + params)
        out = call_lines("@task", [f"{k}={v}" for k, v in kwargs], 8)
        out.append(f"def {var}({signature}):")
        if doc:
            out.append(f'    """{doc}"""')
        out += ["    " + line for line in lines]
        out += ["    " + line if line else "" for line in body]
        if not lines and not body:
            out.append("    return None")
        node = Node(node_id, var, out, self.deps_of(names) | set(deps), concurrent)
        return self.add(node)

    def instance_node(
        self,
        node_id: str,
        task_name: str,
        kwargs: Sequence[tuple[str, str]],
        *,
        deps: Iterable[str] = (),
        concurrent: bool = False,
    ) -> Node:
        """A node that is an instance of the converted task ``task_name`` with bound kwargs."""
        var = self.new_var(node_id)
        args = [f'task_id="{node_id}"', *(f"{k}={v}" for k, v in kwargs)]
        lines = call_lines(f"{var} = {task_name}", args, 8)
        node = Node(node_id, var, lines, set(deps), concurrent)
        return self.add(node)

    # -- rendering -----------------------------------------------------------------------------

    def stages(self) -> list[list[Node]]:
        """The nodes grouped into stages (see the module docstring)."""
        if self.layered:
            return self._levels()
        stages: list[list[Node]] = []
        for node in self.nodes:
            current = stages[-1] if stages else None
            if (
                current is not None
                and node.concurrent
                and not node.barrier
                and all(n.concurrent for n in current)
                and not node.deps & {n.id for n in current}
            ):
                current.append(node)
            else:
                stages.append([node])
        return stages

    def _levels(self) -> list[list[Node]]:
        """Stages by dependency level: a node's level is one more than its deepest dependency."""
        by_id = {n.id: n for n in self.nodes}
        level: dict[str, int] = {}
        visiting: set[str] = set()

        def depth(node_id: str) -> int:
            if node_id in level:
                return level[node_id]
            if node_id in visiting:
                raise ValueError(f"the dependencies of {node_id!r} form a cycle")
            visiting.add(node_id)
            deps = [d for d in by_id[node_id].deps if d in by_id]
            level[node_id] = 1 + max((depth(d) for d in deps), default=-1)
            visiting.discard(node_id)
            return level[node_id]

        for node in self.nodes:
            depth(node.id)
        stages: list[list[Node]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
        for node in self.nodes:
            stages[level[node.id]].append(node)
        return stages

    def wiring(self, indent: str) -> list[str]:
        """The ``a >> (b | c) >> d`` line(s) connecting the stages."""
        stages = self.stages()
        if len(stages) < 2:
            if stages and len(stages[0]) > 1:
                self.imports.add("parallel")
                return [indent + f"parallel({', '.join(n.var for n in stages[0])})"]
            return []
        parts = []
        for stage in stages:
            if len(stage) == 1:
                parts.append(stage[0].var)
            else:
                parts.append("(" + " | ".join(n.var for n in stage) + ")")
        line = indent + " >> ".join(parts)
        if len(line) <= 100:
            return [line]
        out = [indent + "(", indent + "    " + parts[0]]
        out += [indent + "    >> " + p for p in parts[1:]]
        out.append(indent + ")")
        return out

    def render(self) -> str:
        """The builder and runner functions (module-level code, no trailing newline)."""
        if not self.nodes:
            self.function_node(self.new_id(f"{identifier(self.name)}_body"), [], ())
        ind = "        "
        body: list[str] = []
        wiring = self.wiring(ind)
        wired = " ".join(wiring)
        for node in self.nodes:
            if body:
                body.append("")
            body += [ind + c for c in node.comments]
            lines = node.lines
            if lines[0].startswith(f"{node.var} = ") and node.var not in wired:
                lines = [lines[0][len(node.var) + 3 :], *lines[1:]]
            body += [ind + line if line else "" for line in lines]
        if wiring:
            body += ["", *wiring]
        params = ", ".join(p.name for p in self.params)
        out = [f"def {self.builder}():"]
        out.append(f'    """Build the graflow workflow of the {self.kind} ``{self.name}``.')
        if params:
            out += ["", f"    Parameters (channel keys): {params}."]
        out.append('    """')
        out += ["    " + line if line else "" for line in self.setup]
        args = [f'"{self.name}"', *(f"{k}={v}" for k, v in self.workflow_kwargs)]
        block = call_lines("with workflow", args, 4 + len(" as wf:"), indent=4)
        block[-1] += " as wf:"
        out += block
        out += body
        out.append("    return wf")
        out += ["", "", *self._runner()]
        return "\n".join(out)

    def _execute(self, prefix: str, args: list[str]) -> list[str]:
        lines = call_lines(prefix, args, 4, indent=4)
        if all(len(line) <= 100 for line in lines):
            return lines
        out = [f"    {prefix}("]
        for arg in args:
            if arg.startswith("initial_channel=") and len(arg) + 9 > 100:
                out.append("        initial_channel={")
                out += [f'            "{p.name}": {p.name},' for p in self.params]
                out.append("        },")
            else:
                out.append(f"        {arg},")
        out.append("    )")
        return out

    def _runner(self) -> list[str]:
        returns = f" -> {self.returns}" if self.returns else ""
        out = call_lines(f"def {self.runner}", [p.source() for p in self.params], len(returns) + 1)
        out[-1] += f"{returns}:"
        doc = self.docstring or f"Run the workflow ``{self.name}`` and return the flow's result."
        out.append(f'    """{doc}"""' if "\n" not in doc else f'    """{doc}\n    """')
        channel = ", ".join(f'"{p.name}": {p.name}' for p in self.params)
        call = f"initial_channel={{{channel}}}" if channel else ""
        if self.return_expr is None:
            out += self._execute(f"{self.builder}().execute", [call] if call else [])
            return out
        from graflow_migrate._source import names_of

        args = [a for a in ("ret_context=True", call) if a]
        out += self._execute(f"_, ctx = {self.builder}().execute", args)
        single = self.env.get(self.return_expr.strip())
        if single is not None:
            out.append(f"    return {self.read(single)}")
            return out
        lines, _ = self.prologue(names_of(self.return_expr).loads)
        out += ["    " + line for line in lines]
        out.append(f"    return {self.return_expr}")
        return out


def call_lines(prefix: str, args: Sequence[str], margin: int, *, indent: int = 0) -> list[str]:
    """``prefix(args)`` on one line, or one argument per line when longer than 100 columns
    (``margin`` is the indentation the lines get later, ``indent`` the one added here)."""
    pad = " " * indent
    line = f"{pad}{prefix}({', '.join(args)})"
    if not args or len(line) + margin <= 100:
        return [line]
    out = [f"{pad}{prefix}("]
    for arg in args:
        nested = _SIMPLE_CALL.match(arg)
        if nested and len(pad) + margin + 4 + len(arg) + 1 > 100:
            inner = [a.strip() for a in _split_args(nested.group(2))]
            block = call_lines(nested.group(1), inner, margin, indent=indent + 4)
            out += [*block[:-1], block[-1] + ","]
        else:
            out.append(f"{pad}    {arg},")
    out.append(f"{pad})")
    return out


_SIMPLE_CALL = re.compile(r"^([\w.]+=[\w.]+)\((.*)\)$", re.S)


def _split_args(text: str) -> list[str]:
    """``text`` split at its top-level commas."""
    parts, depth, start = [], 0, 0
    quote: str | None = None
    for i, ch in enumerate(text):
        if quote:
            if ch == quote and text[i - 1] != "\\":
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p for p in parts if p.strip()]
