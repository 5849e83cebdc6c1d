"""``graflow doctor`` checks of graflow-wandb: tracking on or off, the W&B mode, its directory,
and that a run cannot fail for want of an API key (offline without one). Does not import wandb.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

from graflow_core.diagnostics import Check, writable_check
from graflow_core.plugins import env_flag

AREA = "wandb"
ENABLE_ENV = "GRAFLOW_WANDB"  # graflow_wandb.tracking.ENABLE_ENV (not imported: it is heavier)
_OFFLINE = ("offline", "dryrun", "disabled")


def diagnose() -> list[Check]:
    """The checks: tracking, W&B's directory, its mode against the API key."""
    enabled = env_flag(ENABLE_ENV)
    base = Path(os.environ.get("WANDB_DIR", "").strip() or Path.cwd())
    checks = [
        Check(AREA, "tracking", "ok", f"{ENABLE_ENV}=1: every workflow run is tracked")
        if enabled
        else Check(
            AREA,
            "tracking",
            "info",
            "off for plain runs (the wandb task type and WandbTracking still work)",
            f"set {ENABLE_ENV}=1 to track every workflow run of a process",
        )
    ]
    checks.append(writable_check(AREA, "dir", base, "set WANDB_DIR to a writable directory"))
    checks.append(_mode_check(_mode(base), enabled))
    return checks


def _mode(base: Path) -> tuple[str, str]:
    """W&B's mode and where it comes from: ``$WANDB_MODE``, else ``wandb offline``'s settings
    file, else ``online`` (W&B's default)."""
    mode = os.environ.get("WANDB_MODE", "").strip().lower()
    if mode:
        return mode, "WANDB_MODE"
    import configparser

    settings = base / "wandb" / "settings"
    parser = configparser.ConfigParser()
    try:
        parser.read(settings, encoding="utf-8")
    except (OSError, configparser.Error):
        return "online", "default"
    mode = parser.get("default", "mode", fallback="").strip().lower()
    return (mode, str(settings)) if mode else ("online", "default")


def _has_api_key() -> bool:
    if os.environ.get("WANDB_API_KEY", "").strip():
        return True
    import netrc

    host = urlparse(os.environ.get("WANDB_BASE_URL", "") or "https://api.wandb.ai").hostname
    try:
        return netrc.netrc(os.environ.get("NETRC") or None).authenticators(host or "") is not None
    except (OSError, netrc.NetrcParseError):
        return False


def _mode_check(found: tuple[str, str], enabled: bool) -> Check:
    mode, source = found
    where = f"mode {mode} ({source})"
    if mode in _OFFLINE:
        later = "" if mode == "disabled" else "; upload later with `wandb sync`"
        return Check(AREA, "mode", "ok", where + later)
    if _has_api_key():
        return Check(AREA, "mode", "ok", f"{where}, API key found")
    return Check(
        AREA,
        "mode",
        "fail" if enabled else "warn",
        f"{where} without an API key: W&B runs cannot start (wandb.init raises)",
        "set WANDB_MODE=offline (then `wandb sync`), or WANDB_API_KEY / `wandb login`",
    )


__all__ = ["diagnose"]
