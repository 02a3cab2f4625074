"""What has landed in the local Timestream emulator, read back through moto's state endpoint.

moto does not implement Timestream queries, so the demo and the end-to-end tests read the
records it stored from `/moto-api/data.json`.
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone


@dataclass(frozen=True)
class LandedRecord:
    database: str
    table: str
    record: dict

    @property
    def dimensions(self) -> dict[str, str]:
        return {d["Name"]: d["Value"] for d in self.record.get("Dimensions", [])}

    @property
    def measures(self) -> dict[str, str]:
        return {m["Name"]: m["Value"] for m in self.record.get("MeasureValues", [])}

    @property
    def time_ms(self) -> int:
        return int(self.record["Time"])

    def describe(self) -> str:
        moment = datetime.fromtimestamp(self.time_ms / 1000, tz=timezone.utc)
        dims = " ".join(f"{k}={v}" for k, v in self.dimensions.items())
        values = " ".join(f"{k}={v}" for k, v in self.measures.items())
        return f"{self.table:<18} {moment:%Y-%m-%dT%H:%M:%SZ}  {dims}  | {values}"


def landed_records(endpoint: str, database: str) -> list[LandedRecord]:
    """Every record the emulator holds for `database`, in the order they were written."""
    with urllib.request.urlopen(f"{endpoint.rstrip('/')}/moto-api/data.json", timeout=10) as r:
        state = json.load(r)
    tables = state.get("timestreamwrite", {}).get("TimestreamTable", [])
    return [
        LandedRecord(database, table["name"], record)
        for table in tables
        if table.get("db_name") == database
        for record in table.get("records", [])
    ]


def as_timestream_table(records: list[LandedRecord]) -> list[LandedRecord]:
    """The rows a Timestream table would hold: one per dimensions, measure name and time, the
    highest version winning (moto keeps every write; Timestream upserts)."""
    rows: dict[tuple, LandedRecord] = {}
    for landed in records:
        key = (
            landed.table,
            tuple(sorted(landed.dimensions.items())),
            landed.record["MeasureName"],
            landed.time_ms,
        )
        kept = rows.get(key)
        if kept is None or landed.record.get("Version", 0) >= kept.record.get("Version", 0):
            rows[key] = landed
    return list(rows.values())
