"""The dashboard's rows from Amazon Timestream, with one `timestream-query` SQL query per table."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from cli.top.store import Latest, Row, StoreError, typed

NEWEST_TIME = "newest_time"
_UNITS = (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1))


class TimestreamStore:
    def __init__(self, client: Any, database: str, region: str):
        self.client = client
        self.database = database
        self.description = f"Amazon Timestream {region}, database {database}"

    @classmethod
    def connect(cls, region: str, database: str) -> TimestreamStore:
        """A `timestream-query` client from the AWS default credential chain."""
        import boto3

        return cls(boto3.client("timestream-query", region_name=region), database, region)

    def latest(self, reads: Sequence[Latest], now_ms: int) -> dict[str, list[Row]]:
        """`now_ms` is unused: Timestream's `ago()` measures the lookback from its own clock."""
        return {read.table: self._rows(read) for read in reads}

    def _rows(self, read: Latest) -> list[Row]:
        sql = latest_sql(self.database, read)
        try:
            return rows_from_pages(self._pages(sql), read)
        except (BotoCoreError, ClientError) as err:
            raise StoreError(
                f"Timestream query of {self.database}.{read.table} failed ({err}); check the "
                "AWS credentials, --region and --database, and that the job writes there"
            ) from None

    def _pages(self, sql: str) -> Iterable[dict]:
        token = None
        while True:
            page = self.client.query(QueryString=sql, **({"NextToken": token} if token else {}))
            yield page
            token = page.get("NextToken")
            if not token:
                return


def latest_sql(database: str, read: Latest) -> str:
    """The newest record of each series: `max_by(measure, time)` per key, within the lookback."""
    keys = ", ".join(read.keys)
    measures = "".join(f",\n       max_by({m}, time) AS {m}" for m in read.measures)
    return (
        f"SELECT {keys}, max(time) AS {NEWEST_TIME}{measures}\n"
        f"FROM {_quoted(database)}.{_quoted(read.table)}\n"
        f"WHERE measure_name = '{read.measure_name}' AND time > ago({_duration(read.lookback_s)})\n"
        f"GROUP BY {keys}"
    )


def rows_from_pages(pages: Iterable[dict], read: Latest) -> list[Row]:
    """Rows of `latest_sql`'s result pages (`ColumnInfo`, `Rows` of `Data` scalars)."""
    rows = []
    for page in pages:
        columns = [(c["Name"], c["Type"].get("ScalarType", "VARCHAR")) for c in page["ColumnInfo"]]
        for raw in page.get("Rows", []):
            values = {
                name: _value(datum, kind) for (name, kind), datum in zip(columns, raw["Data"])
            }
            rows.append(Row(
                dimensions={k: values[k] for k in read.keys if values.get(k) is not None},
                time_ms=values[NEWEST_TIME],
                measures={m: values[m] for m in read.measures if values.get(m) is not None},
            ))
    return rows


def _value(datum: dict, kind: str) -> object:
    if datum.get("NullValue") or "ScalarValue" not in datum:
        return None
    if kind == "TIMESTAMP":
        return _epoch_ms(datum["ScalarValue"])
    return typed(datum["ScalarValue"], kind)


def _epoch_ms(text: str) -> int:
    """Timestream's `2026-11-24 00:04:00.123000000` (UTC, nanoseconds) in epoch milliseconds."""
    whole, _, fraction = text.partition(".")
    moment = datetime.strptime(whole, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)
    return int(moment.timestamp()) * 1000 + int((fraction + "000")[:3])


def _duration(seconds: int) -> str:
    """In the largest unit that divides it: `ago(5m)`, `ago(2d)`."""
    return next(f"{seconds // size}{unit}" for unit, size in _UNITS if seconds % size == 0)


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
