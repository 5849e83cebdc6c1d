#!/usr/bin/env python3
"""One entry point for setting up and running the project on a fresh machine.

    python3 dev.py demo     # set everything up, then run the main demo
    python3 dev.py test     # set everything up, then run the whole test suite

Set-up is idempotent and needs only Python >= 3.10 and pip: it installs ``uv`` from PyPI into
``.bootstrap/`` (unless ``uv`` is already on PATH), then ``uv sync`` creates ``.venv/`` with every
workspace package, every extra and the dev tools, compiled to bytecode.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
BOOTSTRAP = ROOT / ".bootstrap"
VENV = ROOT / ".venv"
VENV_BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("UV_PYTHON_DOWNLOADS", "never")  # use this machine's Python, never fetch one
    env.setdefault("UV_COMPILE_BYTECODE", "1")  # PYTHONDONTWRITEBYTECODE may be set: precompile
    env.setdefault("UV_LINK_MODE", "copy")
    env.pop("VIRTUAL_ENV", None)
    return env


def _run(cmd: list[str], **kwargs: object) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=ROOT, env=_env(), **kwargs)  # type: ignore[call-overload]


def _uv() -> str:
    found = shutil.which("uv")
    if found:
        return found
    local = BOOTSTRAP / "bin" / "uv"
    if not local.exists():
        _run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--target",
                str(BOOTSTRAP),
                "uv>=0.5",
            ]
        )
    return str(local)


def setup() -> None:
    """Create or update ``.venv`` with every workspace package and extra."""
    uv = _uv()
    _run([uv, "sync", "--all-packages", "--all-extras", "--python", sys.executable])
    # Editable sources live outside site-packages, so uv's bytecode pass does not reach them;
    # compile them too so that imports stay fast with PYTHONDONTWRITEBYTECODE set.
    sources = ("graflow_core", "bridges", "plugins", "migration_tools")
    dirs = [d for d in sources if (ROOT / d).exists()]
    _run([str(VENV_BIN / "python"), "-m", "compileall", "-q", *dirs])


def demo() -> int:
    setup()
    return subprocess.call([str(VENV_BIN / "python"), "examples/demo.py"], cwd=ROOT, env=_env())


def test(extra: list[str]) -> int:
    setup()
    code = subprocess.call([str(VENV_BIN / "python"), "-m", "pytest", *extra], cwd=ROOT, env=_env())
    if code == 5:  # pytest's "no tests collected" is a failure for us
        print("pytest collected no tests", file=sys.stderr)
        return 1
    return code


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"setup", "demo", "test"}:
        print(__doc__)
        return 2
    if argv[0] == "setup":
        setup()
        return 0
    if argv[0] == "demo":
        return demo()
    return test(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
