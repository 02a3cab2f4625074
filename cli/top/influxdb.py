"""The dashboard's rows from InfluxDB (the local server, Timestream for InfluxDB, any InfluxDB),
with one InfluxQL query per table, which InfluxDB 1.x, 2.x (its v1 API) and 3 all answer."""

from __future__ import annotations

from collections.abc import Sequence

from connectors.influxdb import InfluxDBQueryError, influxql, quoted_identifier
from cli.top.store import Latest, Row, StoreError


class InfluxDBStore:
    def __init__(self, url: str, database: str, token: str = ""):
        self.url = url
        self.database = database
        self.description = f"InfluxDB {url}, database {database}"
        self._token = token

    def latest(self, reads: Sequence[Latest], now_ms: int) -> dict[str, list[Row]]:
        return {read.table: self._rows(read, now_ms) for read in reads}

    def _rows(self, read: Latest, now_ms: int) -> list[Row]:
        try:
            answer = influxql(self.url, latest_influxql(read, now_ms), self.database,
                              self._token)
        except InfluxDBQueryError as err:
            raise StoreError(
                f"{err}; start the local InfluxDB with `connect-metrics dev up`, or check "
                "InfluxDB.url, InfluxDB.database and the token"
            ) from None
        return rows_from_answer(answer, read)


def latest_influxql(read: Latest, now_ms: int) -> str:
    """The newest point of each series (one value of each key tag) within the lookback."""
    since_ms = now_ms - read.lookback_s * 1000
    fields = ", ".join(quoted_identifier(m) for m in read.measures)
    keys = ", ".join(quoted_identifier(k) for k in read.keys)
    table = quoted_identifier(read.table)
    return (f"SELECT {fields} FROM {table} WHERE time > {since_ms}ms "
            f"GROUP BY {keys} ORDER BY time DESC LIMIT 1")


def rows_from_answer(answer: dict, read: Latest) -> list[Row]:
    rows = []
    for result in answer.get("results", []):
        for series in result.get("series", []):
            tags = series.get("tags", {})
            for values in series["values"]:
                point = dict(zip(series["columns"], values))
                rows.append(Row(
                    dimensions={k: tags[k] for k in read.keys if tags.get(k)},
                    time_ms=point["time"],
                    measures={m: point[m] for m in read.measures if point.get(m) is not None},
                ))
    return rows

