"""The metric catalogue: one `.sql` file per Timestream table, found and checked at start-up.

A file starts with a header of `-- key: value` comment lines that maps the query's result to
Timestream; everything after the header is one Flink SQL query. The table name is the file name,
so adding a metric is adding a file.

    -- dimensions: instance_id, queue_id, channel
    -- time: window_start
    -- measure_name: queue_interval
    SELECT ...
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

HEADER_KEYS = ("dimensions", "time", "measure_name")
_HEADER_LINE = re.compile(r"^--\s*([A-Za-z_]+)\s*:\s*(.*?)\s*$")
_TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,256}$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class MetricFileError(ValueError):
    """A metric file that cannot be used; the message starts with `file:line`."""


@dataclass(frozen=True)
class MetricTable:
    """A metric query and how its rows map onto a Timestream multi-measure record."""

    table: str
    path: Path
    query: str
    query_line: int
    dimensions: tuple[str, ...]
    time_column: str
    measure_name: str

    def where(self, line: int | None = None) -> str:
        return f"{self.path}:{line or self.query_line}"

    def check_columns(self, columns: list[str]) -> None:
        """Fail with `file:line` when the header names a column the query does not return."""
        missing = [c for c in (*self.dimensions, self.time_column) if c not in columns]
        if missing:
            raise MetricFileError(
                f"{self.where(1)}: header names column(s) {', '.join(missing)} that the query "
                f"does not return (it returns: {', '.join(columns)})"
            )
        if len(columns) == len(self.dimensions) + 1:
            raise MetricFileError(
                f"{self.where()}: the query returns no measure column besides the dimensions "
                "and the time column"
            )


def load_catalogue(sql_dir: Path) -> list[MetricTable]:
    """Every `*.sql` file of `sql_dir`, sorted by name, each checked."""
    sql_dir = Path(sql_dir)
    if not sql_dir.is_dir():
        raise MetricFileError(f"{sql_dir}: no such directory; set Job.sql.dir to the sql/ folder")
    files = sorted(sql_dir.glob("*.sql"))
    if not files:
        raise MetricFileError(f"{sql_dir}: no .sql files; add at least one metric file")
    return [parse_metric_file(path) for path in files]


def timestream_tables(sql_dir: Path, raw_tables: bool) -> list[str]:
    """Every Timestream table the job writes: one per metric file, and the raw-event tables."""
    from connectors.raw_events import RAW_TABLES

    tables = [metric.table for metric in load_catalogue(sql_dir)]
    return tables + list(RAW_TABLES) if raw_tables else tables


def parse_metric_file(path: Path) -> MetricTable:
    text = path.read_text(encoding="utf-8")
    header: dict[str, tuple[int, str]] = {}
    query_start = None
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped:
            continue
        match = _HEADER_LINE.match(stripped)
        if match is None:
            if stripped.startswith("--"):
                continue
            query_start = number
            break
        key, value = match.group(1).lower(), match.group(2)
        if key not in HEADER_KEYS:
            raise MetricFileError(
                f"{path}:{number}: unknown header key {key!r}; known: {', '.join(HEADER_KEYS)}"
            )
        if key in header:
            raise MetricFileError(f"{path}:{number}: header key {key!r} given twice")
        header[key] = (number, value)
    if query_start is None:
        raise MetricFileError(f"{path}:{len(lines) or 1}: no SQL query after the header")
    for key in HEADER_KEYS:
        if key not in header:
            raise MetricFileError(
                f"{path}:1: header lacks '-- {key}: ...' (needed: {', '.join(HEADER_KEYS)})"
            )
    table = path.stem
    if not _TABLE_NAME.match(table):
        raise MetricFileError(
            f"{path}:1: file name {table!r} is not a valid Timestream table name "
            "(3-256 characters: letters, digits, '_', '-', '.')"
        )
    dims_line, dims_text = header["dimensions"]
    dimensions = tuple(d.strip() for d in dims_text.split(",") if d.strip())
    if not dimensions:
        raise MetricFileError(f"{path}:{dims_line}: list at least one dimension column")
    time_line, time_column = header["time"]
    name_line, measure_name = header["measure_name"]
    for line_no, name in [(dims_line, d) for d in dimensions] + [(time_line, time_column)]:
        if not _IDENTIFIER.match(name):
            raise MetricFileError(f"{path}:{line_no}: {name!r} is not a column name")
    if len(dimensions) != len(set(dimensions)):
        raise MetricFileError(f"{path}:{dims_line}: a dimension is listed twice")
    if time_column in dimensions:
        raise MetricFileError(f"{path}:{time_line}: the time column cannot also be a dimension")
    if not measure_name or len(measure_name.encode()) > 256:
        raise MetricFileError(f"{path}:{name_line}: measure_name must be 1-256 bytes")
    query = "\n".join(lines[query_start - 1 :]).strip().rstrip(";").strip()
    if ";" in _without_comments(query):
        raise MetricFileError(f"{path}:{query_start}: one query per file (found a ';' inside)")
    return MetricTable(
        table=table,
        path=path,
        query=query,
        query_line=query_start,
        dimensions=dimensions,
        time_column=time_column,
        measure_name=measure_name,
    )


def _without_comments(query: str) -> str:
    return "\n".join(line.split("--", 1)[0] for line in query.splitlines())
