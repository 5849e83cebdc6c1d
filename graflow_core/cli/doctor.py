"""``graflow doctor [--target NAME ...] [--json]``: can this environment run graflow and its
integrations?

Shows the core (graflow-core and Python versions, the signing key, the default checkpoint
directory, plugins that failed to load), every integration (installed or not, its version and
its library's, the ``pip install`` that fixes it), then each bridge's ``diagnose()`` and each
plugin's ``diagnose`` hook. Exit code 1 when any check fails, 0 otherwise (warnings included).
The checks are :class:`graflow_core.diagnostics.Check` objects; see ``docs/cli.md``.
"""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING, Any

from graflow_core.cli.output import (
    EXIT_FAILED,
    EXIT_OK,
    _print_json,
    add_command,
    stdout_to_stderr,
)

if TYPE_CHECKING:
    from graflow_core.diagnostics import Check

_DEFAULT_JOBS = 1

_EPILOG = """\
exit codes:
  0    no check failed (warnings are fine)
  1    at least one check failed: see its fix
  2    usage error
"""


def render(checks: list[Check], seconds: float | None = None) -> str:
    """``checks`` as aligned text: one block per area, a status marker per check, the fix
    under any check that is not ``ok``, and a summary line."""
    from graflow_core.diagnostics import summary

    areas: dict[str, list[Check]] = {}
    for check in checks:
        areas.setdefault(check.area, []).append(check)
    width = min(max((len(c.name) for c in checks), default=0), 28)
    indent = " " * (2 + 6 + width + 2)
    lines: list[str] = []
    for area, found in areas.items():
        lines.append(area)
        for check in found:
            lines.append(f"  {check.status:<6}{check.name:<{width}}  {check.detail}".rstrip())
            if check.fix and check.status != "ok":
                lines.append(f"{indent}fix: {check.fix}")
    counts = summary(checks)
    text = ", ".join(f"{n} {status}" for status, n in counts.items())
    took = "" if seconds is None else f" in {seconds:.1f} s"
    verdict = "problems found" if counts["fail"] else "no failures"
    lines.append(f"{len(checks)} checks{took}: {text} — {verdict}")
    return "\n".join(lines)


def _cmd_doctor(args: argparse.Namespace) -> int:
    from graflow_core.diagnostics import gather_checks, summary

    started = time.perf_counter()
    timings: dict[str, float] = {}
    with stdout_to_stderr():  # orchestrators log to stdout while they are imported
        checks = gather_checks(args.targets or None, jobs=args.jobs, timings=timings)
    seconds = time.perf_counter() - started
    failed = any(c.failed for c in checks)
    if args.json:
        data: dict[str, Any] = {
            "ok": not failed,
            "summary": summary(checks),
            "checks": [c.to_dict() for c in checks],
            "seconds": round(seconds, 3),
            "bridge_seconds": {k: round(v, 3) for k, v in timings.items()},
        }
        _print_json(data)
    else:
        print(render(checks, seconds))
    return EXIT_FAILED if failed else EXIT_OK


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``doctor`` to the ``graflow`` parser."""
    doctor = add_command(
        sub,
        common,
        "doctor",
        help="check the environment: integrations, versions, orchestrators",
        description="Check whether this environment can run graflow and its integrations: "
        "the core (versions, signing key, checkpoint directory, plugins that failed to load), "
        "each integration (installed? which versions? how to install it), and each "
        "orchestrator's and plugin's own checks (databases, home directories, servers).",
        func=_cmd_doctor,
        epilog=_EPILOG,
    )
    doctor.add_argument(
        "--target",
        dest="targets",
        metavar="NAME",
        nargs="+",
        action="extend",
        default=[],
        help="check only these integrations (airflow, prefect, dagster, mlflow, wandb, "
        "langchain, metrics, migrate, or another installed target); the core is always checked",
    )
    doctor.add_argument(
        "--jobs",
        metavar="N",
        type=int,
        default=_DEFAULT_JOBS,
        help="diagnose up to N orchestrators at once, each in its own process (each imports "
        f"its orchestrator); 1: one after the other in this process (default: {_DEFAULT_JOBS})",
    )
    doctor.add_argument(
        "--json",
        action="store_true",
        help="print the checks as JSON: ok, summary, checks (area, name, status, detail, fix)",
    )


__all__ = ["add_parser", "render"]
