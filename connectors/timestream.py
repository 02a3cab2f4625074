"""Metric rows as Timestream multi-measure records, and the batched, retried `WriteRecords` call.

No Flink import: the Flink operator in `connectors.timestream_sink` only keeps the pending
records in checkpointed state and calls `TimestreamWriter.write` with them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
from decimal import Decimal
from pathlib import Path

import orjson
from botocore.exceptions import ClientError, ConnectionError as BotoConnectionError, HTTPClientError

from connectors.retry import BoundedRetry

MAX_RECORDS_PER_CALL = 100
_RETRYABLE_CODES = {
    "ThrottlingException",
    "InternalServerException",
    "ServiceUnavailableException",
    "RequestTimeout",
    "RequestTimeoutException",
}
_VALUE_TYPES = {"BIGINT", "DOUBLE", "BOOLEAN", "VARCHAR", "TIMESTAMP"}


class TimestreamWriteError(RuntimeError):
    """A write that cannot succeed by retrying; the job fails rather than drop data."""


def version_now() -> int:
    """A record's `Version`: the time it was computed, in microseconds, so a recomputed or
    corrected row upserts the one written before it."""
    return time.time_ns() // 1000


@dataclass(frozen=True)
class RecordShape:
    """How a row becomes a record: its measure name, the columns that are dimensions, the time
    column, and columns not written at all; the other columns are measures."""

    measure_name: str
    dimensions: tuple[str, ...]
    time_column: str
    not_written: tuple[str, ...] = ()


def to_record(shape: RecordShape, row: Mapping[str, object], version: int,
              zone: tzinfo = timezone.utc, times: frozenset[str] = frozenset()) -> dict:
    """One multi-measure record of `row`, shaped by `shape`. `zone` is the job's SQL time zone,
    in which TIMESTAMP values are wall-clock times; `times` names the time columns, whose values
    may also be epoch milliseconds."""
    dimensions = [
        {"Name": name, "Value": str(row[name]), "DimensionValueType": "VARCHAR"}
        for name in shape.dimensions
        if row[name] is not None and str(row[name]) != ""
    ]
    measures = [
        measure
        for name, value in row.items()
        if name not in shape.dimensions and name != shape.time_column
        and name not in shape.not_written
        for measure in [_measure(name, value, zone, name in times)]
        if measure is not None
    ]
    return {
        "Dimensions": dimensions,
        "MeasureName": shape.measure_name,
        "MeasureValueType": "MULTI",
        "MeasureValues": measures,
        "Time": str(_epoch_millis(row[shape.time_column], zone)),
        "TimeUnit": "MILLISECONDS",
        "Version": version,
    }


def _measure(name: str, value: object, zone: tzinfo, is_time: bool = False) -> dict | None:
    if value is None:
        return None
    if is_time:
        kind, text = "TIMESTAMP", str(_epoch_millis(value, zone))
    elif isinstance(value, bool):
        kind, text = "BOOLEAN", "true" if value else "false"
    elif isinstance(value, int):
        kind, text = "BIGINT", str(value)
    elif isinstance(value, (float, Decimal)):
        kind, text = "DOUBLE", repr(float(value))
    elif isinstance(value, datetime) or hasattr(value, "to_epoch_milli"):
        kind, text = "TIMESTAMP", str(_epoch_millis(value, zone))
    else:
        kind, text = "VARCHAR", str(value)
    return {"Name": name, "Value": text, "Type": kind}


def _epoch_millis(value: object, zone: tzinfo = timezone.utc) -> int:
    """TIMESTAMP columns (a window's start and end) arrive as naive datetimes in the SQL time
    zone, TIMESTAMP_LTZ ones as instants (objects with `to_epoch_milli`), BIGINT ones as epoch
    milliseconds."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=zone)
        return int(moment.timestamp() * 1000)
    if isinstance(value, int):
        return value
    if hasattr(value, "to_epoch_milli"):
        return value.to_epoch_milli()
    raise TypeError(f"time column value {value!r} is neither a timestamp nor epoch millis")


@dataclass(frozen=True)
class RecordLimits:
    """Timestream's write limits, checked before sending because the emulator does not."""

    memory_retention_hours: int = 6
    magnetic_writes: bool = False
    max_record_bytes: int = 2048
    max_dimension_name_bytes: int = 60
    max_measure_name_bytes: int = 256
    max_measures: int = 256
    max_dimensions: int = 128
    max_future_ms: int = 15 * 60_000


def check_record(record: dict, now_ms: int, limits: RecordLimits) -> str | None:
    """Why Timestream would refuse this record whatever we retry, or None when it may be written."""
    dimensions = record.get("Dimensions", [])
    measures = record.get("MeasureValues", [])
    if len(dimensions) > limits.max_dimensions:
        return f"{len(dimensions)} dimensions (at most {limits.max_dimensions})"
    for dimension in dimensions:
        if len(dimension["Name"].encode()) > limits.max_dimension_name_bytes:
            return f"dimension name {dimension['Name']!r} over {limits.max_dimension_name_bytes} bytes"
        if dimension["Value"] == "":
            return f"dimension {dimension['Name']!r} has an empty value"
    if not measures:
        return "no measure values (every measure column was null)"
    if len(measures) > limits.max_measures:
        return f"{len(measures)} measures (at most {limits.max_measures})"
    for name in [record["MeasureName"], *(m["Name"] for m in measures)]:
        if not name or len(name.encode()) > limits.max_measure_name_bytes:
            return f"measure name {name!r} empty or over {limits.max_measure_name_bytes} bytes"
    for measure in measures:
        if measure["Type"] not in _VALUE_TYPES:
            return f"measure {measure['Name']!r} has unsupported type {measure['Type']}"
    size = record_size(record)
    if size > limits.max_record_bytes:
        return f"record of {size} bytes (at most {limits.max_record_bytes})"
    time_ms = int(record["Time"])
    if time_ms > now_ms + limits.max_future_ms:
        return f"time {time_ms} is more than 15 minutes in the future"
    oldest = now_ms - limits.memory_retention_hours * 3_600_000
    if time_ms < oldest and not limits.magnetic_writes:
        return (
            f"time {time_ms} is older than the memory store retention "
            f"({limits.memory_retention_hours} h) and magnetic store writes are off"
        )
    return None


def record_size(record: dict) -> int:
    """Bytes Timestream counts for a record: names and values of dimensions and measures, and time."""
    size = len(record["MeasureName"].encode()) + 8
    for dimension in record.get("Dimensions", []):
        size += len(dimension["Name"].encode()) + len(dimension["Value"].encode())
    for measure in record.get("MeasureValues", []):
        size += len(measure["Name"].encode()) + len(measure["Value"].encode())
    return size


@dataclass
class WriteOutcome:
    """What one flush did: written records, calls and retries, and the records refused for good."""

    written: int = 0
    calls: int = 0
    retries: int = 0
    rejected: int = 0  # records Timestream answered with RejectedRecords (any reason)
    superseded: int = 0
    refused: list[tuple[dict, str]] = field(default_factory=list)


class TimestreamWriter:
    """Writes records in calls of at most 100; retries what may succeed later, for a bounded time.

    Throttling, 5xx and network errors back off exponentially with jitter until `max_retry_s`
    has passed, then the write fails loudly (the job restarts from its last checkpoint, which
    still holds the pending records). A version conflict keeps the newest value: a record whose
    stored version is newer is superseded; an equal version is re-sent one version higher.
    """

    def __init__(
        self,
        client,
        database: str,
        limits: RecordLimits = RecordLimits(),
        max_retry_s: float = 300.0,
        base_delay_s: float = 0.2,
        max_delay_s: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._client = client
        self._database = database
        self._limits = limits
        self._retry = BoundedRetry(max_retry_s, base_delay_s, max_delay_s, sleep, clock)

    def write(self, table: str, records: Iterable[dict], now_ms: int) -> WriteOutcome:
        outcome = WriteOutcome()
        valid = []
        for record in records:
            reason = check_record(record, now_ms, self._limits)
            if reason is None:
                valid.append(record)
            else:
                outcome.refused.append((record, reason))
        for start in range(0, len(valid), MAX_RECORDS_PER_CALL):
            self._write_batch(table, valid[start : start + MAX_RECORDS_PER_CALL], outcome)
        return outcome

    def _write_batch(self, table: str, batch: list[dict], outcome: WriteOutcome) -> None:
        attempts = self._retry.attempts()
        while batch:
            attempts.begin()
            outcome.calls += 1
            try:
                self._client.write_records(
                    DatabaseName=self._database, TableName=table, Records=batch
                )
                outcome.written += len(batch)
                return
            except ClientError as err:
                code = err.response.get("Error", {}).get("Code", "")
                if code == "RejectedRecordsException":
                    batch = self._resolve_rejections(batch, err.response, outcome)
                    continue
                if code == "ResourceNotFoundException":
                    raise TimestreamWriteError(
                        f"Timestream table {self._database}.{table} does not exist: create it "
                        f"(aws timestream-write create-table --database-name {self._database} "
                        f"--table-name {table}; locally `connect-metrics dev up` does) or fix "
                        "Timestream.database"
                    ) from err
                status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
                if code not in _RETRYABLE_CODES and status < 500:
                    raise TimestreamWriteError(
                        f"writing {len(batch)} records to {self._database}.{table} failed: {err}"
                    ) from err
                problem = f"Timestream {code or status}"
            except (BotoConnectionError, HTTPClientError) as err:
                problem = f"Timestream unreachable ({err})"
            attempts.failed(f"{problem} on {table}",
                            f"{len(batch)} records for {self._database}.{table}",
                            TimestreamWriteError)
            outcome.retries += 1

    def _resolve_rejections(self, batch: list[dict], response: dict, outcome: WriteOutcome):
        """The records to send again; Timestream wrote every record it did not reject."""
        rejected = {r["RecordIndex"]: r for r in response.get("RejectedRecords", [])}
        outcome.written += len(batch) - len(rejected)
        outcome.rejected += len(rejected)
        again = []
        for index, rejection in sorted(rejected.items()):
            record = batch[index]
            existing = rejection.get("ExistingVersion")
            if existing is None:
                outcome.refused.append((record, f"rejected by Timestream: {rejection.get('Reason')}"))
            elif existing > record["Version"]:
                outcome.superseded += 1
            else:
                again.append({**record, "Version": existing + 1})
        return again


class JsonLinesRecordWriter:
    """Writes the exact records a Timestream write would send, one JSON object per line."""

    def __init__(self, path: Path, database: str, limits: RecordLimits = RecordLimits()):
        self._path = Path(path)
        self._database = database
        self._limits = limits

    def write(self, table: str, records: Iterable[dict], now_ms: int) -> WriteOutcome:
        outcome = WriteOutcome()
        self._path.parent.mkdir(parents=True, exist_ok=True)
        with self._path.open("ab") as out:
            for record in records:
                reason = check_record(record, now_ms, self._limits)
                if reason is not None:
                    outcome.refused.append((record, reason))
                    continue
                line = {"database": self._database, "table": table, "record": record}
                out.write(orjson.dumps(line) + b"\n")
                outcome.written += 1
            out.flush()
        outcome.calls = 1
        return outcome
