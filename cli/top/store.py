"""What the dashboard reads, and the one interface both stores answer it through.

Every panel of the dashboard needs the newest record of each series of a table (a queue's
latest gauge sample, an agent's latest state, a queue's latest running total for the day), so
that is the only question a store answers: the emulator by scanning moto's stored writes with
Timestream's upsert semantics, Amazon Timestream with one `max_by(..., time)` query per table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol


class StoreError(RuntimeError):
    """A store that cannot be read; the message names the store and the fix."""


@dataclass(frozen=True)
class Latest:
    """The newest record of each series of `table` (a series: one value of each of `keys`)
    whose time is within `lookback_s` of now, with the `measures` wanted from it."""

    table: str
    keys: tuple[str, ...]
    measures: tuple[str, ...]
    lookback_s: int

    @property
    def measure_name(self) -> str:
        """Every metric table's records are named after the table (sql/*.sql headers)."""
        return self.table


@dataclass(frozen=True)
class Row:
    """One series' newest record: its key dimensions, time, and the wanted measures it has."""

    dimensions: Mapping[str, str]
    time_ms: int
    measures: Mapping[str, object]


class Store(Protocol):
    description: str
    """Where the rows come from, for the dashboard's title line."""

    def latest(self, reads: Sequence[Latest], now_ms: int) -> dict[str, list[Row]]:
        """The rows of each read, by table; raises StoreError when the store cannot answer."""


def typed(text: str, kind: str) -> object:
    """A Timestream scalar value (always sent and returned as text) as a Python value."""
    kind = kind.upper()
    if kind == "BIGINT":
        return int(text)
    if kind == "DOUBLE":
        return float(text)
    if kind == "BOOLEAN":
        return text.lower() == "true"
    return text
