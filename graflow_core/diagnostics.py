"""Environment checks: what ``graflow doctor`` reports.

A :class:`Check` is one finding — an integration installed or missing, an orchestrator's
database reachable, a home directory writable. Bridges contribute theirs through
``Bridge.diagnose()``; plugins through the ``diagnose`` hook
(:class:`~graflow_core.plugins.hookspecs.DiagnosticsSpecs`).

:func:`gather_checks` collects everything ``graflow doctor`` shows, in order: the core
(:func:`core_checks`), each integration's distributions (:func:`integration_checks`), each
bridge's ``diagnose()`` (:func:`bridge_checks`) and each plugin's ``diagnose`` hook
(:func:`plugin_checks`). A diagnosis that raises becomes one ``fail`` check naming the error.

Helpers for writing checks: :func:`writable_problem` (is a directory writable, without
creating it), :func:`port_problem` (can a TCP port be bound), :func:`url_problem` (does a
configured URL answer, with a short timeout), :func:`connect_problem` (does a database server
accept a TCP connection), :func:`sqlite_problem` (can an SQLite file be used, opened
read-only) and :func:`check_maker` (checks of one area). Nothing here imports an orchestrator.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Check statuses, best first.
STATUSES = ("ok", "info", "warn", "fail")


@dataclass(frozen=True)
class Check:
    """One finding: ``area`` (e.g. ``"airflow"``), ``name`` (what was checked), ``status``
    (one of :data:`STATUSES`), ``detail`` (what was found) and ``fix`` (what to do, when the
    status is not ``ok``)."""

    area: str
    name: str
    status: str
    detail: str = ""
    fix: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            from graflow_core.exceptions import ConfigError

            raise ConfigError(f"Unknown check status {self.status!r}; use one of {STATUSES}")

    @property
    def failed(self) -> bool:
        """True for ``fail``."""
        return self.status == "fail"

    def to_dict(self) -> dict[str, str]:
        """A JSON-ready dict."""
        return {
            "area": self.area,
            "name": self.name,
            "status": self.status,
            "detail": self.detail,
            "fix": self.fix,
        }


#: The extras of graflow-core that add an integration, and the distribution each pulls in (the
#: bridges as in ``graflow_core.spec.targets.KNOWN_DISTRIBUTIONS``, not imported: plugins'
#: entry points import this module, and the spec package is not cheap).
INTEGRATIONS: dict[str, str] = {
    "airflow": "graflow-airflow",
    "prefect": "graflow-prefect",
    "dagster": "graflow-dagster",
    "mlflow": "graflow-mlflow",
    "wandb": "graflow-wandb",
    "langchain": "graflow-langchain",
    "metrics": "graflow-metrics",
    "migrate": "graflow-migrate",
}

#: Where checkpoints go when a task checkpoints without a path (relative to the working dir).
DEFAULT_CHECKPOINT_DIR = "checkpoints"

_CORE = "core"


def install_fix(extra: str) -> str:
    """The command that installs the integration ``extra``."""
    return f'pip install "graflow-core[{extra}]"'


# -- helpers for checks ------------------------------------------------------------------------


def writable_problem(path: str | os.PathLike[str]) -> str | None:
    """Why files cannot be created in directory ``path``, or ``None`` when they can.

    A missing directory is fine when its nearest existing parent is a writable directory (it
    would be created there); nothing is created except a temporary file, removed at once.
    """
    import tempfile

    target = Path(path).expanduser()
    probe = target
    while not probe.exists():
        if probe.parent == probe:
            return f"{target}: no existing parent directory"
        probe = probe.parent
    if not probe.is_dir():
        return f"{probe} is not a directory" + ("" if probe == target else f" (for {target})")
    try:
        fd, name = tempfile.mkstemp(prefix=".graflow-doctor-", dir=probe)
    except OSError as exc:
        where = str(probe) if probe == target else f"{probe} (to create {target})"
        return f"cannot write in {where}: {exc.strerror or exc}"
    os.close(fd)
    os.unlink(name)
    return None


def writable_check(
    area: str, name: str, path: str | os.PathLike[str], fix: str, *, consequence: str = ""
) -> Check:
    """``ok`` when files can be created in directory ``path`` (see :func:`writable_problem`),
    else ``fail`` with ``fix``; ``consequence`` is added to the problem in brackets."""
    problem = writable_problem(path)
    if problem is None:
        return Check(area, name, "ok", f"{path} writable")
    return Check(area, name, "fail", problem + (f" ({consequence})" if consequence else ""), fix)


def port_problem(port: int, host: str = "127.0.0.1") -> str | None:
    """Why a server could not listen on ``host:port``, or ``None`` when it could."""
    import socket

    if not 0 <= port <= 65535:
        return f"{port} is not a TCP port (0-65535)"
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        try:
            sock.bind((host, port))
        except OSError as exc:
            return f"cannot listen on {host}:{port}: {exc.strerror or exc}"
    return None


def url_problem(url: str, timeout: float = 2.0) -> str | None:
    """Why ``url`` does not answer an HTTP GET within ``timeout`` seconds, or ``None``.

    Any HTTP response (an error status included) counts as an answer: the server is there.
    """
    import urllib.error
    import urllib.request
    from urllib.parse import urlsplit

    handlers = []
    if (urlsplit(url).hostname or "") in ("localhost", "127.0.0.1", "::1"):
        handlers.append(urllib.request.ProxyHandler({}))  # a local server: never via a proxy
    opener = urllib.request.build_opener(*handlers)
    try:
        with opener.open(url, timeout=timeout):
            return None
    except urllib.error.HTTPError:
        return None
    except urllib.error.URLError as exc:
        reason = exc.reason
        text = getattr(reason, "strerror", None) or str(reason)
        return f"{url} does not answer: {text}"
    except (OSError, ValueError) as exc:
        return f"{url} does not answer: {exc}"


def connect_problem(host: str, port: int, timeout: float = 2.0) -> str | None:
    """Why ``host:port`` does not accept a TCP connection within ``timeout`` seconds, or
    ``None`` when it does (a database server is there; nothing is sent)."""
    import socket

    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        return f"{host}:{port} does not accept connections ({exc.strerror or exc})"
    except (ValueError, OverflowError) as exc:
        return f"{host}:{port} is not a TCP address ({exc})"
    return None


def sqlite_problem(
    path: str | os.PathLike[str], *, timeout: float = 1.0, create_dir: bool = True
) -> str | None:
    """Why an SQLite database file at ``path`` cannot be used, or ``None`` when it can.

    Its directory must be writable (SQLite writes a journal next to the file; a missing
    directory is fine when ``create_dir`` and it could be created, see
    :func:`writable_problem`); an existing file must be writable and open read-only as a
    database (``file:`` URI from :meth:`Path.as_uri`, so ``#``, ``?`` and ``%`` in the path are
    escaped). Nothing is created: a missing file is not opened.
    """
    import sqlite3

    db = Path(path).expanduser().absolute()
    directory = db.parent
    if not create_dir and not directory.is_dir():
        return f"{db} is in {directory}, which is not an existing directory"
    problem = writable_problem(directory)
    if problem is not None:
        return problem
    if not db.exists():
        return None
    if not db.is_file():
        return f"{db} is not a file"
    if not os.access(db, os.R_OK | os.W_OK):
        return f"{db} cannot be read and written by this user"
    try:
        with contextlib.closing(
            sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, timeout=timeout)
        ) as conn:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as exc:
        return f"{db} cannot be read as an SQLite database ({exc})"
    return None


def check_maker(area: str) -> functools.partial[Check]:
    """:class:`Check` with ``area`` filled in, for a diagnosis of one area:
    ``check = check_maker("dagster")``, then ``check(name, status, detail, fix)``."""
    return functools.partial(Check, area)


def version_of(distribution: str) -> str | None:
    """The installed version of ``distribution``, or ``None`` when it is not installed."""
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version.split("+")[0])[:4])


def failed_check(
    area: str, name: str, exc: BaseException, distribution: str | None = None
) -> Check:
    """The ``fail`` check for a diagnosis (of ``distribution``) that raised ``exc``."""
    message = " ".join(str(exc).split()) or type(exc).__name__
    who = distribution or f"the {area} integration"
    if isinstance(exc, ImportError) or isinstance(exc.__cause__, ImportError):
        fix = f"its diagnosis cannot be imported: reinstall or upgrade {who}"
    else:
        fix = f"a bug of {who}: report it with this message"
    return Check(area, name, "fail", f"the diagnosis raised {type(exc).__name__}: {message}", fix)


# -- the core ----------------------------------------------------------------------------------


def core_checks(manager: Any = None) -> list[Check]:
    """graflow-core itself: version, Python, the signing key, the default checkpoint
    directory, and the ``graflow`` entry-point plugins that failed to load or are disabled."""
    from graflow_core import __version__

    checks = [
        Check(_CORE, "graflow-core", "ok", f"{__version__} ({Path(__file__).parent})"),
        _python_check(),
        _signing_check(),
        _checkpoint_dir_check(),
    ]
    checks.extend(_plugin_load_checks(manager))
    return checks


def _python_check() -> Check:
    version = ".".join(str(v) for v in sys.version_info[:3])
    return Check(_CORE, "python", "ok", f"{version} ({sys.executable})")


def _signing_check() -> Check:
    from graflow_core import signing
    from graflow_core.exceptions import GraflowError

    name = "signing key"
    generate = (
        'export GRAFLOW_SECRET_KEY=$(python -c "import secrets; print(secrets.token_hex(32))") '
        "— the same key in every process that writes or reads checkpoints and task values"
    )
    try:
        key = signing.signing_key()
    except GraflowError as exc:
        return Check(_CORE, name, "fail", str(exc), generate)
    if key is not None:
        return Check(
            _CORE, name, "ok", f"{signing.KEY_ENV} set (fingerprint {signing.key_fingerprint(key)})"
        )
    if signing.insecure_mode():
        return Check(
            _CORE,
            name,
            "warn",
            f"{signing.KEY_ENV} not set; {signing.INSECURE_ENV} writes and reads UNSIGNED data "
            "(local development only)",
            generate,
        )
    return Check(
        _CORE,
        name,
        "warn",
        f"{signing.KEY_ENV} not set: checkpoints and values that cross processes (bridges' "
        "steps) cannot be written or read",
        generate,
    )


def _checkpoint_dir_check() -> Check:
    return writable_check(
        _CORE,
        "checkpoint dir",
        Path.cwd() / DEFAULT_CHECKPOINT_DIR,
        "run from a writable directory, or give checkpoints a path: ctx.checkpoint(path=...)",
    )


def _plugin_load_checks(manager: Any) -> list[Check]:
    from graflow_core.core import hooks

    checks = []
    if not hooks.autoload_enabled():
        checks.append(
            Check(
                _CORE,
                "plugins",
                "info",
                f"{hooks.DISABLE_AUTOLOAD_ENV}=1: entry-point plugins are not loaded",
                f"unset {hooks.DISABLE_AUTOLOAD_ENV} to use installed integrations",
            )
        )
    if manager is None:
        return checks
    for name, error in sorted(manager.load_failures.items()):
        checks.append(
            Check(
                _CORE,
                f"plugin {name}",
                "fail",
                error,
                f"fix or uninstall it, or disable it with GRAFLOW_DISABLE_PLUGINS={name}",
            )
        )
    for name, plugin in manager.list_name_plugin():
        if plugin is None:
            checks.append(
                Check(_CORE, f"plugin {name}", "info", "disabled (GRAFLOW_DISABLE_PLUGINS)")
            )
    return checks


# -- integrations ------------------------------------------------------------------------------

_REQUIREMENT = re.compile(
    r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*([^;]*)(?:;(.*))?$"
)


def _floors(requirements: Iterable[str], extra: str | None) -> dict[str, str]:
    """``{library: minimum version}`` of the non-graflow requirements (of ``extra`` only when
    given, else the unconditional ones)."""
    found: dict[str, str] = {}
    for text in requirements:
        match = _REQUIREMENT.match(text)
        if match is None:
            continue
        name, specifier, marker = match.group(1), match.group(2), match.group(3) or ""
        if name.lower().startswith("graflow"):
            continue
        wanted = re.search(r"extra\s*==\s*['\"]([^'\"]+)['\"]", marker)
        if (wanted.group(1) if wanted else None) != extra:
            continue
        floor = re.search(r">=\s*([0-9][^,\s]*)", specifier)
        found[name] = _higher(found.get(name, ""), floor.group(1) if floor else "")
    return found


def _higher(a: str, b: str) -> str:
    """The higher of two minimum versions (``""``: none)."""
    return b if not a or (b and _version_key(b) > _version_key(a)) else a


def _requirements(distribution: str) -> list[str]:
    from importlib import metadata

    try:
        return metadata.requires(distribution) or []
    except metadata.PackageNotFoundError:
        return []


def integration_checks(names: Iterable[str] | None = None) -> list[Check]:
    """For each integration (default: every one of :data:`INTEGRATIONS`): is its
    distribution installed, which version, and the versions of the libraries it drives (an
    orchestrator, MLflow ...) against the minimum graflow-core's extra asks for."""
    core_requirements = _requirements("graflow-core")
    checks = []
    for extra in names if names is not None else INTEGRATIONS:
        distribution = INTEGRATIONS.get(extra)
        if distribution is None:
            continue
        version = version_of(distribution)
        if version is None:
            checks.append(Check(extra, distribution, "info", "not installed", install_fix(extra)))
            continue
        checks.append(Check(extra, distribution, "ok", version))
        floors = _floors(_requirements(distribution), None)
        for library, floor in _floors(core_requirements, extra).items():
            floors[library] = _higher(floors.get(library, ""), floor)
        for library, floor in floors.items():
            checks.append(_library_check(extra, library, floor))
    return checks


def _library_check(extra: str, library: str, floor: str) -> Check:
    installed = version_of(library)
    wanted = f"{library}>={floor}" if floor else library
    if installed is None:
        return Check(
            extra,
            library,
            "fail",
            f"not installed (graflow-{extra} needs {wanted})",
            install_fix(extra),
        )
    if floor and _version_key(installed) < _version_key(floor):
        return Check(
            extra,
            library,
            "fail",
            f"{installed} is older than graflow-core[{extra}] supports ({wanted})",
            f'pip install --upgrade "{wanted}"',
        )
    return Check(extra, library, "ok", installed + (f" (needs >={floor})" if floor else ""))


# -- bridges and plugins -----------------------------------------------------------------------


def call_diagnosis(
    area: str, diagnose: Callable[[], Any], distribution: str | None = None
) -> list[Check]:
    """``diagnose()`` (of ``distribution``) as a list of checks; if it raises or returns
    anything but checks (``None`` counts as none), one ``fail`` check named ``diagnose``."""
    try:
        produced = diagnose()
        items = list(produced) if isinstance(produced, (list, tuple)) else [produced]
        bad = [item for item in items if item is not None and not isinstance(item, Check)]
        if bad:
            raise TypeError(f"it returned {bad[0]!r}, not graflow_core.diagnostics.Check objects")
        return [item for item in items if item is not None]
    except Exception as exc:
        return [failed_check(area, "diagnose", exc, distribution)]


def bridge_checks(
    bridges: Sequence[Any], *, jobs: int = 1, timings: dict[str, float] | None = None
) -> list[Check]:
    """Each bridge's ``diagnose()`` (bridges without one are skipped), in bridge order.

    A ``diagnose`` that raises (or cannot be imported) becomes one ``fail`` check naming the
    error. With ``jobs`` > 1 (and ``fork`` available) up to ``jobs`` bridges are diagnosed at
    once, each in a forked process: each imports its orchestrator, which is most of the time.
    ``timings``, when given, receives each bridge's wall time in seconds.
    """
    chosen = [b for b in bridges if b.diagnose is not None]
    if jobs > 1 and len(chosen) > 1 and _can_fork():
        found = _in_processes(chosen, jobs)
    else:
        found = [_timed(bridge) for bridge in chosen]
    checks: list[Check] = []
    for bridge, (seconds, produced) in zip(chosen, found, strict=True):
        checks.extend(produced)
        if timings is not None:
            timings[bridge.name] = seconds
    return checks


#: Seconds a bridge's diagnosis may take in a child process before it is reported as hanging.
BRIDGE_TIMEOUT = 120.0

_pending: list[Any] = []  # the bridges a forked child diagnoses (by index)


def _timed(bridge: Any) -> tuple[float, list[Check]]:
    started = time.perf_counter()
    checks = call_diagnosis(bridge.name, bridge.diagnose, bridge.distribution)
    return time.perf_counter() - started, checks


def _timed_in_child(index: int) -> tuple[float, list[Check]]:
    return _timed(_pending[index])


def _can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


def _child(index: int, conn: Any) -> None:
    """A forked child: diagnose bridge ``index`` and send the outcome back."""
    try:
        conn.send(_timed(_pending[index]))
    except BaseException as exc:  # an unpicklable result, an interrupt ...
        conn.send(exc)
    finally:
        conn.close()


def _in_processes(bridges: list[Any], jobs: int) -> list[tuple[float, list[Check]]]:
    """Diagnose ``bridges`` in forked processes, up to ``jobs`` at a time, each within
    :data:`BRIDGE_TIMEOUT`; a process that hangs is terminated, one that dies is reported."""
    import multiprocessing
    from multiprocessing.connection import wait

    _pending[:] = bridges
    context = multiprocessing.get_context("fork")
    results: dict[int, tuple[float, list[Check]]] = {}
    running: dict[Any, tuple[int, Any, float]] = {}  # connection -> (index, process, deadline)

    def fail(index: int, exc: BaseException) -> None:
        bridge = bridges[index]
        results[index] = (0.0, [failed_check(bridge.name, "diagnose", exc, bridge.distribution)])

    queue = list(range(len(bridges)))
    try:
        while queue or running:
            while queue and len(running) < jobs:
                index = queue.pop(0)
                receive, send = context.Pipe(duplex=False)
                process = context.Process(target=_child, args=(index, send), daemon=True)
                process.start()
                send.close()
                running[receive] = (index, process, time.monotonic() + BRIDGE_TIMEOUT)
            soonest = min(deadline for _, _, deadline in running.values())
            for ready in wait(list(running), timeout=max(0.0, soonest - time.monotonic())):
                conn: Any = ready
                index, process, _ = running.pop(conn)
                outcome: Any
                try:
                    outcome = conn.recv()
                except EOFError:  # the process died without an answer
                    process.join()
                    outcome = RuntimeError(f"its process exited with code {process.exitcode}")
                conn.close()
                if isinstance(outcome, BaseException):
                    fail(index, outcome)
                else:
                    results[index] = outcome
            now = time.monotonic()
            for late, (index, process, deadline) in list(running.items()):
                if now >= deadline:
                    process.terminate()  # never wait for a check that hangs
                    running.pop(late)
                    late.close()
                    fail(index, TimeoutError(f"no answer within {BRIDGE_TIMEOUT:g} s"))
    finally:
        for _, process, _ in running.values():
            process.terminate()
        _pending.clear()
    return [results[i] for i in range(len(bridges))]


def plugin_checks(manager: Any, areas: Iterable[str] | None = None) -> list[Check]:
    """Every plugin's ``diagnose`` hook (each called on its own: one that raises becomes a
    ``fail`` check and the others still run); only plugins named in ``areas`` when given.
    Identical checks from two plugins are shown once."""
    return manager.collected_checks(areas=areas)


def gather_checks(
    targets: Sequence[str] | None = None,
    *,
    jobs: int = 1,
    timings: dict[str, float] | None = None,
) -> list[Check]:
    """Everything ``graflow doctor [--target NAME ...]`` shows, in order.

    With ``targets``, only those integrations, bridges and plugins (the core is always
    checked); a name that is none of these is reported as a ``fail`` check. ``jobs`` and
    ``timings``: see :func:`bridge_checks`.
    """
    import warnings

    from graflow_core.plugins import get_plugin_manager
    from graflow_core.spec.targets import available_targets

    with warnings.catch_warnings():
        # Load failures are shown as checks, not as warnings on stderr.
        warnings.simplefilter("ignore")
        manager = get_plugin_manager()
        bridges = available_targets()
    wanted = None if not targets else list(dict.fromkeys(targets))
    checks = core_checks(manager)
    if wanted is not None:
        known = {*INTEGRATIONS, *bridges}
        for name in wanted:
            if name not in known and not manager.has_plugin(name):
                checks.append(_unknown_target(name))
    checks.extend(integration_checks(wanted))
    chosen = [b for n, b in bridges.items() if wanted is None or n in wanted]
    checks.extend(bridge_checks(chosen, jobs=jobs, timings=timings))
    checks.extend(plugin_checks(manager, wanted))
    return checks


def _unknown_target(name: str) -> Check:
    from graflow_core.spec.targets import get_target

    try:
        get_target(name)
    except Exception as exc:
        detail = str(exc)
    else:  # registered meanwhile
        detail = f"'{name}' has no diagnosis"
    return Check(
        name, "target", "fail", detail, "check the name: 'graflow plugins' lists what is installed"
    )


def summary(checks: Iterable[Check]) -> dict[str, int]:
    """How many checks have each status: ``{"ok": n, "info": n, "warn": n, "fail": n}``."""
    counts = dict.fromkeys(STATUSES, 0)
    for check in checks:
        counts[check.status] += 1
    return counts


__all__ = [
    "DEFAULT_CHECKPOINT_DIR",
    "INTEGRATIONS",
    "STATUSES",
    "Check",
    "bridge_checks",
    "call_diagnosis",
    "check_maker",
    "connect_problem",
    "core_checks",
    "failed_check",
    "gather_checks",
    "install_fix",
    "integration_checks",
    "plugin_checks",
    "port_problem",
    "sqlite_problem",
    "summary",
    "url_problem",
    "version_of",
    "writable_check",
    "writable_problem",
]
