"""``graflow visualize FILE[:OBJECT] [--format ascii|mermaid]``: draw a workflow's graph."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from graflow_core.cli.loading import _TARGET_HELP, _load_workflow
from graflow_core.cli.output import EXIT_OK, add_command


def _stdout_takes(text: str) -> bool:
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def _cmd_visualize(args: argparse.Namespace) -> int:
    from graflow_core.utils.graph import draw_ascii, draw_mermaid

    wf, _, _ = _load_workflow(args.target)
    if args.format == "mermaid":
        sys.stdout.write(draw_mermaid(wf.graph, title=wf.name))
    else:
        print(draw_ascii(wf.graph, unicode=_stdout_takes("│┌▼═║╔↺")))
    return EXIT_OK


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``visualize`` to the ``graflow`` parser."""
    vis = add_command(
        sub,
        common,
        "visualize",
        help="draw a workflow's graph",
        description="Draw a workflow's task graph as text or as a Mermaid flowchart.",
        func=_cmd_visualize,
    )
    vis.add_argument("target", metavar="FILE[:OBJECT]", help=_TARGET_HELP)
    vis.add_argument(
        "--format",
        choices=["ascii", "mermaid"],
        default="ascii",
        help="ascii: boxes and arrows (default); mermaid: a Mermaid flowchart",
    )


__all__ = ["add_parser"]
