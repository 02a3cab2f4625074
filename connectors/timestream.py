"""Metric rows as Timestream multi-measure records, and the batched, retried `WriteRecords` call.

No Flink import: the Flink operator in `connectors.timestream_sink` only keeps the pending
records in checkpointed state and calls `TimestreamWriter.write` with them.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from decimal import Decimal

from botocore.exceptions import ClientError, ConnectionError as BotoConnectionError

from jobs.metrics import MetricTable

MAX_RECORDS_PER_CALL = 100
_RETRYABLE_CODES = {
    "ThrottlingException",
    "InternalServerException",
    "ServiceUnavailableException",
    "RequestTimeout",
}
LOG = logging.getLogger(__name__)


class TimestreamWriteError(RuntimeError):
    """A write that cannot succeed by retrying; the job fails rather than drop data."""


def to_record(metric: MetricTable, row: Mapping[str, object], version: int) -> dict:
    """One multi-measure record: dimensions and time from the file header, measures from the rest."""
    dimensions = [
        {"Name": name, "Value": str(row[name]), "DimensionValueType": "VARCHAR"}
        for name in metric.dimensions
        if row[name] is not None and str(row[name]) != ""
    ]
    measures = [
        measure
        for name, value in row.items()
        if name not in metric.dimensions and name != metric.time_column
        for measure in [_measure(name, value)]
        if measure is not None
    ]
    return {
        "Dimensions": dimensions,
        "MeasureName": metric.measure_name,
        "MeasureValueType": "MULTI",
        "MeasureValues": measures,
        "Time": str(_epoch_millis(row[metric.time_column])),
        "TimeUnit": "MILLISECONDS",
        "Version": version,
    }


def _measure(name: str, value: object) -> dict | None:
    if value is None:
        return None
    if isinstance(value, bool):
        kind, text = "BOOLEAN", "true" if value else "false"
    elif isinstance(value, int):
        kind, text = "BIGINT", str(value)
    elif isinstance(value, (float, Decimal)):
        kind, text = "DOUBLE", repr(float(value))
    elif isinstance(value, datetime):
        kind, text = "TIMESTAMP", str(_epoch_millis(value))
    else:
        kind, text = "VARCHAR", str(value)
    return {"Name": name, "Value": text, "Type": kind}


def _epoch_millis(value: object) -> int:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return int(moment.timestamp() * 1000)
    if isinstance(value, int):
        return value
    raise TypeError(f"time column value {value!r} is neither a timestamp nor epoch millis")


class TimestreamWriter:
    """Writes records in calls of at most 100, retrying what may succeed later."""

    def __init__(
        self,
        client,
        database: str,
        max_attempts: int = 8,
        base_delay_s: float = 0.2,
        max_delay_s: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self._client = client
        self._database = database
        self._max_attempts = max_attempts
        self._base_delay_s = base_delay_s
        self._max_delay_s = max_delay_s
        self._sleep = sleep

    def write(self, table: str, records: Iterable[dict]) -> int:
        """Write every record or raise; returns the number of calls made."""
        pending = list(records)
        calls = 0
        for start in range(0, len(pending), MAX_RECORDS_PER_CALL):
            self._write_batch(table, pending[start : start + MAX_RECORDS_PER_CALL])
            calls += 1
        return calls

    def _write_batch(self, table: str, batch: list[dict]) -> None:
        for attempt in range(1, self._max_attempts + 1):
            try:
                self._client.write_records(
                    DatabaseName=self._database, TableName=table, Records=batch
                )
                return
            except ClientError as err:
                code = err.response.get("Error", {}).get("Code", "")
                if code == "ResourceNotFoundException":
                    raise TimestreamWriteError(
                        f"Timestream table {self._database}.{table} does not exist: create it "
                        "(locally `connect-metrics dev up` does) or fix Timestream.database"
                    ) from err
                if code not in _RETRYABLE_CODES or attempt == self._max_attempts:
                    raise TimestreamWriteError(
                        f"writing {len(batch)} records to {self._database}.{table} failed: {err}"
                    ) from err
                LOG.warning("Timestream %s on %s (attempt %d), retrying", code, table, attempt)
            except BotoConnectionError as err:
                if attempt == self._max_attempts:
                    raise TimestreamWriteError(
                        f"Timestream unreachable after {attempt} attempts: {err}"
                    ) from err
                LOG.warning("Timestream unreachable (attempt %d), retrying: %s", attempt, err)
            self._sleep(self._backoff(attempt))

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self._max_delay_s, self._base_delay_s * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)
