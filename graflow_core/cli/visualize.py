"""``graflow visualize FILE[:OBJECT] [--format ascii|mermaid]``: draw a workflow's graph."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from graflow_core.cli.loading import _TARGET_HELP, _load_workflow
from graflow_core.cli.output import _EXIT_CODES_HELP, EXIT_OK


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
    vis = sub.add_parser(
        "visualize",
        parents=[common],
        help="draw a workflow's graph",
        description="Draw a workflow's task graph as text or as a Mermaid flowchart.",
        epilog=_EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    vis.add_argument("target", metavar="FILE[:OBJECT]", help=_TARGET_HELP)
    vis.add_argument(
        "--format",
        choices=["ascii", "mermaid"],
        default="ascii",
        help="ascii: boxes and arrows (default); mermaid: a Mermaid flowchart",
    )
    vis.set_defaults(func=_cmd_visualize)


__all__ = ["add_parser"]
