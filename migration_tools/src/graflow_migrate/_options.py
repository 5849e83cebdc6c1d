"""Retry and timeout options → graflow ``@task`` keyword arguments (shared by both front ends).

Prefect waits ``retry_delay_seconds[k]`` (or the last item) before retry ``k``; Airflow waits
``retry_delay`` (doubling with ``retry_exponential_backoff``). graflow's :class:`RetryPolicy`
waits ``min(initial_interval * backoff_factor**k, max_interval)``. A schedule that is constant
or geometric converts exactly; any other becomes the geometric schedule through its first and
last delay, reported as lossy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graflow_migrate._source import number


@dataclass
class RetryTranslation:
    """The graflow keyword arguments for a retry setting and what was lost on the way."""

    kwargs: list[tuple[str, str]] = field(default_factory=list)
    lossy: str | None = None
    uses_policy: bool = False


def _policy(retries: str, initial: float, backoff: float, cap: float, jitter: bool) -> str:
    parts = [
        f"max_retries={retries}",
        f"initial_interval={number(initial)}",
        f"backoff_factor={number(backoff)}",
        f"max_interval={number(cap)}",
    ]
    if jitter:
        parts.append("jitter=True")
    return "RetryPolicy(" + ", ".join(parts) + ")"


def translate_retries(
    retries: str,
    delays: list[float] | None,
    *,
    jitter: bool = False,
    exponential_base: float | None = None,
    retries_value: int | None = None,
) -> RetryTranslation:
    """graflow keyword arguments for ``retries`` (source code) and a delay schedule.

    Args:
        retries: the retry count as source code (``"3"``, ``"MAX_RETRIES"``).
        delays: the delay before each retry in seconds (one item: constant), or None for none.
        jitter: the original randomises its delays.
        exponential_base: delays are ``base * 2**k`` (Prefect ``exponential_backoff``, Airflow
            ``retry_exponential_backoff``); ``delays`` is ignored then.
        retries_value: the retry count when it is a literal (caps an exponential schedule).
    """
    out = RetryTranslation()
    if exponential_base is not None:
        cap = exponential_base * 2 ** max((retries_value or 1) - 1, 0)
        if retries_value is None:
            cap = max(cap, 3600.0)
        out.kwargs.append(("retry_policy", _policy(retries, exponential_base, 2.0, cap, jitter)))
        out.uses_policy = True
    elif not delays or all(d == 0 for d in delays):
        if jitter:
            out.lossy = "jitter without a delay has no graflow counterpart; dropped"
        out.kwargs.append(("max_retries", retries))
        return out
    elif len(delays) == 1 or len(set(delays)) == 1:
        out.kwargs.append(("retry_policy", _policy(retries, delays[0], 1.0, delays[0], jitter)))
        out.uses_policy = True
    else:
        first, last = delays[0], delays[-1]
        used = delays[:retries_value] if retries_value else delays
        ratio = (last / first) ** (1 / (len(delays) - 1)) if first > 0 else 1.0
        approx = [min(first * ratio**k, last) for k in range(len(delays))]
        exact = first > 0 and all(
            abs(a - d) <= 1e-6 * max(1.0, d) for a, d in zip(approx, delays, strict=True)
        )
        backoff = round(ratio, 6)
        out.kwargs.append(("retry_policy", _policy(retries, first, backoff, max(delays), jitter)))
        out.uses_policy = True
        if not exact:
            shown = ", ".join(number(round(a, 3)) for a in approx[: len(used)])
            out.lossy = (
                f"the delay list [{', '.join(number(d) for d in delays)}] is not geometric; "
                f"approximated by RetryPolicy delays [{shown}]"
            )
    if jitter and out.lossy is None:
        out.lossy = "the jitter factor becomes RetryPolicy(jitter=True) (delays x 0.5-1.5)"
    return out
