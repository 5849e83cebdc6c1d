"""/health: healthy / degraded / unhealthy from registered checks, HTTP 200 / 503."""

from __future__ import annotations

import pytest
from metrics_test_helpers import get_health

from graflow_core import task, workflow


@pytest.mark.usefixtures("clean_health_checks")
def test_health_transitions(served) -> None:
    from graflow_metrics import register_health_check, unregister_health_check

    url = served.server.url
    code, body = get_health(url)
    assert (code, body["status"], body["checks"]) == (200, "healthy", {})

    state = {"db": True, "cache": True}
    register_health_check("db", lambda: state["db"], critical=True)
    register_health_check("cache", lambda: (state["cache"], "redis ping"), critical=False)
    code, body = get_health(url)
    assert (code, body["status"]) == (200, "healthy")
    assert body["checks"]["cache"]["detail"] == "redis ping"

    state["cache"] = False  # non-critical failure: degraded, still 200
    code, body = get_health(url)
    assert (code, body["status"]) == (200, "degraded")
    assert body["checks"]["cache"] | {"duration_ms": 0} == {
        "status": "unhealthy",
        "critical": False,
        "effect": "degraded",
        "detail": "redis ping",
        "duration_ms": 0,
    }

    state["db"] = False  # critical failure: unhealthy, 503
    code, body = get_health(url)
    assert (code, body["status"], body["checks"]["db"]["effect"]) == (503, "unhealthy", "unhealthy")

    state["db"] = True

    def explode() -> bool:
        raise ConnectionError("refused")

    register_health_check("db", explode)  # replaces; a raising check fails
    code, body = get_health(url)
    assert code == 503 and body["checks"]["db"]["detail"] == "ConnectionError: refused"

    register_health_check("db", lambda: "degraded")
    state["cache"] = True
    code, body = get_health(url)
    assert (code, body["status"]) == (200, "degraded")

    unregister_health_check("db")
    assert get_health(url)[1]["status"] == "healthy"


@pytest.mark.usefixtures("clean_health_checks")
def test_failure_rate_check_follows_task_outcomes(served) -> None:
    from graflow_metrics import failure_rate_check, register_health_check

    register_health_check(
        "failure_rate", failure_rate_check(served.metrics.window, min_tasks=4), critical=True
    )
    outcomes: list[bool] = []

    with workflow("rates") as wf:

        @task
        def work() -> None:
            if not outcomes.pop(0):
                raise ValueError("bad input")

    def run(ok: bool) -> None:
        outcomes.append(ok)
        try:
            wf.execute(plugins=[served])
        except Exception:
            assert not ok

    for _ in range(3):
        run(False)
    code, body = get_health(served.server.url)
    assert (code, body["status"]) == (200, "healthy")  # fewer than 4 outcomes: not judged
    assert "not judged" in body["checks"]["failure_rate"]["detail"]
    for _ in range(3):
        run(True)
    code, body = get_health(served.server.url)  # 3 of 6 failed: 50% -> degraded
    assert (code, body["status"]) == (200, "degraded")
    run(False)  # 4 of 7: unhealthy
    code, body = get_health(served.server.url)
    assert (code, body["status"]) == (503, "unhealthy")
    assert body["checks"]["failure_rate"]["detail"].startswith("57.1% of the last 7 tasks")


@pytest.mark.usefixtures("clean_health_checks")
def test_checkpoint_dir_check(served, tmp_path) -> None:
    from graflow_metrics import checkpoint_dir_check, register_health_check

    register_health_check("checkpoints", checkpoint_dir_check(tmp_path / "ckpt"))
    code, body = get_health(served.server.url)
    assert (code, body["status"]) == (200, "healthy")
    assert (tmp_path / "ckpt").is_dir() and not list((tmp_path / "ckpt").iterdir())

    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    register_health_check("checkpoints", checkpoint_dir_check(blocker / "sub"))
    code, body = get_health(served.server.url)
    assert (code, body["status"]) == (503, "unhealthy")
    assert "is not writable" in body["checks"]["checkpoints"]["detail"]


def test_bad_check_registration_and_unknown_paths(served) -> None:
    import urllib.error
    import urllib.request

    from graflow_metrics import register_health_check

    from graflow_core.exceptions import ConfigError

    with pytest.raises(ConfigError, match="must be callable"):
        register_health_check("x", "not a function")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="non-empty string"):
        register_health_check("", lambda: True)
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"{served.server.url}/nope", timeout=10)
    assert info.value.code == 404
