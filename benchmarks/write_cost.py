"""Write cost: Timestream records and bytes per agent-hour, our metric tables against the
raw-event layout (one record per event, plus one per contact in an agent snapshot).

Ours are the records the full job wrote in the throughput run (its JSON-lines sink holds
exactly what `WriteRecords` would get). The raw layout's are built from the same files with
the job's parser and `jobs.raw_events`, as `Timestream.raw.tables=true` writes them.
Bytes are counted two ways: the record as compact JSON (its share of the `WriteRecords`
payload) and what Timestream meters for it (`connectors.timestream.record_size`: names and
values of dimensions and measures, plus the time).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from benchmarks.data import Dataset
from benchmarks.report import Measurement, Target, per_agent_hour
from jobs.raw_events import event_records
from connectors.timestream import record_size, version_now
from jobs.core.events import DeadLetter, parse_record

PART = "write cost"
MAX_SHARE = 0.1


@dataclass
class TableCost:
    records: Counter = field(default_factory=Counter)
    payload_bytes: Counter = field(default_factory=Counter)
    metered_bytes: Counter = field(default_factory=Counter)

    def add(self, table: str, record: dict) -> None:
        self.records[table] += 1
        self.payload_bytes[table] += len(orjson.dumps(record))
        self.metered_bytes[table] += record_size(record)

    def total(self, counter: str) -> int:
        return sum(getattr(self, counter).values())


def sink_records(path: Path) -> Iterator[tuple[str, dict]]:
    """(table, record) of each line the JSON-lines Timestream target wrote."""
    with path.open("rb") as lines:
        for line in lines:
            written = orjson.loads(line)
            yield written["table"], written["record"]


def raw_layout_records(paths: Iterable[Path]) -> Iterator[tuple[str, dict]]:
    """(table, record) of the raw-event layout for every parsable record in the files."""
    version = version_now()
    for path in paths:
        with path.open("rb") as lines:
            for line in lines:
                event = parse_record(line.rstrip(b"\n"), "replay", 0)
                if not isinstance(event, DeadLetter):
                    yield from event_records(event, version)


def cost(records: Iterable[tuple[str, dict]]) -> TableCost:
    result = TableCost()
    for table, record in records:
        result.add(table, record)
    return result


def measure(data: Dataset, sink: Path) -> tuple[list[Measurement], str]:
    ours = cost(sink_records(sink))
    raw = cost(raw_layout_records(data.files(1)))

    def hourly(value: int) -> float:
        return per_agent_hour(value, data.agents, data.simulated_ms)

    hours = data.simulated_ms / 3_600_000
    basis = f"{data.agents:,} agents x {hours:.2f} simulated h"
    target = Target(MAX_SHARE, True, f"<= {MAX_SHARE}")
    result = []
    for counter, unit, what in (("records", "records", "records"),
                                ("payload_bytes", "bytes", "JSON bytes"),
                                ("metered_bytes", "bytes", "metered bytes")):
        mine, theirs = ours.total(counter), raw.total(counter)
        result.append(Measurement(PART, f"{what} per agent-hour, metric tables", hourly(mine),
                                  unit, note=basis))
        result.append(Measurement(PART, f"{what} per agent-hour, raw-event layout",
                                  hourly(theirs), unit, note=basis))
        result.append(Measurement(PART, f"{what}: metric tables / raw-event layout",
                                  mine / theirs, "ratio",
                                  target if counter != "metered_bytes" else None))
    return result, _details(ours, raw, hourly)


def _details(ours: TableCost, raw: TableCost, hourly) -> str:
    lines = ["| layout | table | records per agent-hour | JSON bytes per record |",
             "|---|---|---|---|"]
    for layout, costs in (("metric tables", ours), ("raw-event layout", raw)):
        for table in sorted(costs.records):
            count = costs.records[table]
            lines.append(f"| {layout} | {table} | {hourly(count):,.1f} | "
                         f"{costs.payload_bytes[table] / count:,.0f} |")
    return "\n".join(lines) + "\n"
