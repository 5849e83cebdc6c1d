"""Cycle bookkeeping: how often each task ran, and its cycle budget."""

from __future__ import annotations

from graflow_core.exceptions import CycleLimitExceededError


class CycleController:
    """Counts executions per base task id and enforces ``max_cycles`` budgets."""

    def __init__(self, default_max_cycles: int = 100) -> None:
        self.default_max_cycles = default_max_cycles
        self.cycle_counts: dict[str, int] = {}
        self.node_max_cycles: dict[str, int] = {}

    def set_node_max_cycles(self, node_id: str, max_cycles: int) -> None:
        """Give ``node_id`` its own cycle budget."""
        self.node_max_cycles[node_id] = max_cycles

    def get_max_cycles_for_node(self, node_id: str) -> int:
        """The node's cycle budget (its own, else the default)."""
        return self.node_max_cycles.get(node_id, self.default_max_cycles)

    def accept_next_cycle(self, node_id: str) -> bool:
        """True while the node has executed fewer times than its budget."""
        return self.cycle_counts.get(node_id, 0) < self.get_max_cycles_for_node(node_id)

    def increment(self, node_id: str) -> int:
        """Count one execution of ``node_id``; return the new count."""
        count = self.cycle_counts.get(node_id, 0) + 1
        self.cycle_counts[node_id] = count
        return count

    def check_cycle_limit(self, node_id: str) -> None:
        """Raise :class:`CycleLimitExceededError` when the budget is used up."""
        count = self.cycle_counts.get(node_id, 0)
        max_cycles = self.get_max_cycles_for_node(node_id)
        if count >= max_cycles:
            raise CycleLimitExceededError(task_id=node_id, cycle_count=count, max_cycles=max_cycles)

    def get_cycle_count(self, node_id: str) -> int:
        """How many times ``node_id`` has executed."""
        return self.cycle_counts.get(node_id, 0)
