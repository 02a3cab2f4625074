"""The dashboard's rows from the local Timestream emulator.

moto answers no Timestream queries, but it keeps every record written to it (`cli.landed`), so
the emulator store applies Timestream's semantics itself: one row per dimensions and time, the
highest version winning, then the newest row of each series within the lookback.
"""

from __future__ import annotations

import urllib.error
from collections.abc import Callable, Sequence

from cli.landed import LandedRecord, as_timestream_table, landed_records
from cli.top.store import Latest, Row, StoreError, typed


class EmulatorStore:
    def __init__(self, endpoint: str, database: str,
                 fetch: Callable[[str, str], list[LandedRecord]] = landed_records):
        self.endpoint = endpoint
        self.database = database
        self.description = f"Timestream emulator {endpoint}, database {database}"
        self._fetch = fetch

    def latest(self, reads: Sequence[Latest], now_ms: int) -> dict[str, list[Row]]:
        try:
            records = as_timestream_table(self._fetch(self.endpoint, self.database))
        except (urllib.error.URLError, OSError, ValueError) as err:
            raise StoreError(
                f"cannot read the Timestream emulator at {self.endpoint} ({err}); start it with "
                "`connect-metrics dev up` or `make demo`, or read Amazon Timestream with "
                "--timestream"
            ) from None
        return {read.table: newest_rows(records, read, now_ms) for read in reads}


def newest_rows(records: Sequence[LandedRecord], read: Latest, now_ms: int) -> list[Row]:
    """What `SELECT keys, max(time), max_by(measure, time) ... WHERE time > ago(lookback)
    GROUP BY keys` returns over `records` (already one per dimensions and time)."""
    since = now_ms - read.lookback_s * 1000
    newest: dict[tuple, LandedRecord] = {}
    for record in records:
        if (record.table != read.table or record.record["MeasureName"] != read.measure_name
                or record.time_ms <= since):
            continue
        dimensions = record.dimensions
        key = tuple(dimensions.get(name) for name in read.keys)
        kept = newest.get(key)
        if kept is None or record.time_ms > kept.time_ms:
            newest[key] = record
    return [_row(record, read) for record in newest.values()]


def _row(record: LandedRecord, read: Latest) -> Row:
    dimensions = record.dimensions
    values = {m["Name"]: m for m in record.record.get("MeasureValues", [])}
    return Row(
        dimensions={name: dimensions[name] for name in read.keys if name in dimensions},
        time_ms=record.time_ms,
        measures={
            name: typed(values[name]["Value"], values[name]["Type"])
            for name in read.measures if name in values
        },
    )
