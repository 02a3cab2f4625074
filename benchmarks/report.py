"""What a benchmark run found, and the markdown table `benchmarks/results.md` is made of.

Pure: no Flink, no clock. Each part of `python -m benchmarks` returns `Measurement`s; the
targets are the project's goals and live only here, never in the test suite.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    """A goal for one measurement: `value <= limit` (`at_most`) or `value >= limit`."""

    limit: float
    at_most: bool
    text: str

    def met(self, value: float) -> bool:
        return value <= self.limit if self.at_most else value >= self.limit


@dataclass(frozen=True)
class Measurement:
    part: str
    name: str
    value: float | None  # None: not measured (see `note`)
    unit: str
    target: Target | None = None
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.value is None:
            return "skipped"
        if self.target is None:
            return ""
        return "pass" if self.target.met(self.value) else "FAIL"


def percentile(values: Sequence[float], share: float) -> float:
    """The `share` (0..1) percentile by the nearest-rank method: a value that was observed."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= share <= 1:
        raise ValueError(f"share {share} is not within 0..1")
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def per_agent_hour(total: float, agents: int, simulated_ms: int) -> float:
    """`total` normalised by agent-hours: agents logged into the simulation times its length."""
    hours = simulated_ms / 3_600_000
    if agents <= 0 or hours <= 0:
        raise ValueError("agent-hours must be positive")
    return total / (agents * hours)


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "ratio":
        return f"{value:.3f}"
    if abs(value) >= 100 or value == int(value):
        return f"{value:,.0f} {unit}".strip()
    return f"{value:,.2f} {unit}".strip()


def markdown_table(measurements: Iterable[Measurement]) -> str:
    """One row per measurement: part, what, value, target, verdict, note."""
    lines = ["| part | measurement | value | target | result | note |",
             "|---|---|---|---|---|---|"]
    for m in measurements:
        target = m.target.text if m.target else ""
        cells = [m.part, m.name, format_value(m.value, m.unit), target, m.verdict, m.note]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"
