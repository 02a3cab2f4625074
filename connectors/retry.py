"""Bounded retrying shared by the sinks: exponential back-off with jitter, for a time budget.

A write that keeps failing for longer than the budget raises instead of waiting for ever, so
the job stops loudly and restarts from its last checkpoint, which still holds what was pending.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class BoundedRetry:
    max_retry_s: float = 300.0
    base_delay_s: float = 0.2
    max_delay_s: float = 10.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def attempts(self) -> "Attempts":
        """The attempts of one write, timed from now."""
        return Attempts(self, self.clock())

    def backoff(self, attempt: int) -> float:
        ceiling = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)


class Attempts:
    """Counts the attempts of one write; `failed` waits before the next or gives up."""

    def __init__(self, policy: BoundedRetry, started: float):
        self._policy = policy
        self._started = started
        self.count = 0

    def begin(self) -> None:
        self.count += 1

    def failed(self, problem: str, unwritten: str, error: type[Exception]) -> None:
        """Sleep before the next attempt, or raise `error` once the time budget is spent."""
        waited = self._policy.clock() - self._started
        if waited >= self._policy.max_retry_s:
            raise error(
                f"{problem}: {unwritten} still unwritten after {self.count} attempts over "
                f"{waited:.0f} s; the job stops rather than drop them and resumes from its last "
                "checkpoint"
            )
        LOG.warning("%s (attempt %d), retrying", problem, self.count)
        self._policy.sleep(self._policy.backoff(self.count))
