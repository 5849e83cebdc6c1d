"""Retry policies (exponential backoff with a cap and optional jitter) and retry bookkeeping."""

from __future__ import annotations

import random

from graflow_core.exceptions import RetryLimitExceededError


class RetryPolicy:
    """How often and how patiently a failing task is retried.

    ``max_retries`` counts attempts after the first failure.  The delay before retry ``k``
    (0-based) is ``min(initial_interval * backoff_factor**k, max_interval)``; with ``jitter`` it
    is multiplied by a random factor in [0.5, 1.5) and capped again.
    """

    __slots__ = ("backoff_factor", "initial_interval", "jitter", "max_interval", "max_retries")

    def __init__(
        self,
        max_retries: int = 0,
        initial_interval: float = 1.0,
        backoff_factor: float = 2.0,
        max_interval: float = 60.0,
        jitter: bool = False,
    ) -> None:
        if not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError(f"RetryPolicy.max_retries must be an int >= 0, got {max_retries!r}")
        if initial_interval < 0 or max_interval < 0 or backoff_factor < 0:
            raise ValueError(
                "RetryPolicy intervals and backoff_factor must be >= 0, got "
                f"initial_interval={initial_interval!r}, backoff_factor={backoff_factor!r}, "
                f"max_interval={max_interval!r}"
            )
        self.max_retries = max_retries
        self.initial_interval = initial_interval
        self.backoff_factor = backoff_factor
        self.max_interval = max_interval
        self.jitter = jitter

    def get_delay(self, retry_count: int) -> float:
        """Seconds to wait before retry number ``retry_count`` (0 = the first retry)."""
        delay = min(self.initial_interval * (self.backoff_factor**retry_count), self.max_interval)
        if self.jitter:
            delay = min(delay * random.uniform(0.5, 1.5), self.max_interval)
        return float(delay)

    def _astuple(self) -> tuple[int, float, float, float, bool]:
        return (
            self.max_retries,
            self.initial_interval,
            self.backoff_factor,
            self.max_interval,
            self.jitter,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RetryPolicy):
            return NotImplemented
        return self._astuple() == other._astuple()

    def __hash__(self) -> int:
        return hash(self._astuple())

    def __repr__(self) -> str:
        return (
            f"RetryPolicy(max_retries={self.max_retries}, "
            f"initial_interval={self.initial_interval}, "
            f"backoff_factor={self.backoff_factor}, max_interval={self.max_interval}, "
            f"jitter={self.jitter})"
        )

    def __getstate__(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__slots__}

    def __setstate__(self, state: dict[str, object]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)


class RetryController:
    """Per-run retry counters, budgets and policies, keyed by task id.

    ``default_policy`` (the workflow's ``retry_policy``) applies to tasks without their own:
    its ``max_retries`` is the default budget and its backoff gives the delays.
    """

    default_policy: RetryPolicy | None = None

    def __init__(self, default_max_retries: int = 0) -> None:
        self.default_max_retries = default_max_retries
        self.retry_counts: dict[str, int] = {}
        self.node_max_retries: dict[str, int] = {}
        self.node_policies: dict[str, RetryPolicy] = {}
        self.last_errors: dict[str, BaseException] = {}

    def set_default_policy(self, policy: RetryPolicy | None) -> None:
        """Use ``policy`` for every task that has no policy or retry budget of its own."""
        self.default_policy = policy
        if policy is not None:
            self.default_max_retries = policy.max_retries

    def set_node_max_retries(self, node_id: str, max_retries: int) -> None:
        """Give ``node_id`` its own retry budget."""
        self.node_max_retries[node_id] = max_retries

    def set_node_policy(self, node_id: str, policy: RetryPolicy) -> None:
        """Give ``node_id`` a policy (its ``max_retries`` becomes the node's budget)."""
        self.node_policies[node_id] = policy
        self.node_max_retries[node_id] = policy.max_retries

    def get_policy_for_node(self, node_id: str) -> RetryPolicy | None:
        """The node's policy, if one was set."""
        return self.node_policies.get(node_id)

    def get_max_retries_for_node(self, node_id: str) -> int:
        """The node's retry budget (its own, else the default)."""
        return self.node_max_retries.get(node_id, self.default_max_retries)

    def accept_retry(self, node_id: str) -> bool:
        """True while the node has retries left."""
        return self.retry_counts.get(node_id, 0) < self.get_max_retries_for_node(node_id)

    def increment(self, node_id: str, error: BaseException | None = None) -> int:
        """Count one more retry of ``node_id`` (remembering ``error``); return the new count."""
        count = self.retry_counts.get(node_id, 0) + 1
        self.retry_counts[node_id] = count
        if error is not None:
            self.last_errors[node_id] = error
        return count

    def check_retry_limit(self, node_id: str) -> None:
        """Raise :class:`RetryLimitExceededError` once the budget is spent."""
        count = self.retry_counts.get(node_id, 0)
        max_retries = self.get_max_retries_for_node(node_id)
        if count >= max_retries:
            raise RetryLimitExceededError(
                task_id=node_id,
                retry_count=count,
                max_retries=max_retries,
                last_error=self.last_errors.get(node_id),
            )

    def get_retry_count(self, node_id: str) -> int:
        """How often ``node_id`` has been retried so far."""
        return self.retry_counts.get(node_id, 0)

    def get_delay(self, node_id: str) -> float:
        """Delay before the retry just counted (0 without a policy)."""
        policy = self.node_policies.get(node_id) or self.default_policy
        if policy is None:
            return 0.0
        return policy.get_delay(max(0, self.retry_counts.get(node_id, 0) - 1))

    def get_last_error(self, node_id: str) -> BaseException | None:
        """The last error recorded for ``node_id``."""
        return self.last_errors.get(node_id)
