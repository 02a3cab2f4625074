"""The metric catalogue: one `.sql` file per Timestream table, found and checked at start-up.

A file starts with a header of `-- key: value` comment lines that maps the query's result to
Timestream; everything after the header is one Flink SQL query. The table name is the file name,
so adding a metric is adding a file.

    -- dimensions: instance_id, queue_id, channel
    -- time: window_start
    -- measure_name: queue_interval
    SELECT ...

`${name}` in a query is replaced by the job setting of that name (`${interval_minutes}`). A
file may read another file's table by its name (files are ordered so that it comes first); a
windowed table that selects `window_time` can be windowed again over its `event_time`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from connectors.timestream import RecordShape

HEADER_KEYS = ("dimensions", "time", "measure_name")
NOT_WRITTEN = ("window_time",)
"""Columns a query may return for other files' sake that are not written to Timestream."""
_PARAMETER = re.compile(r"\$\{([^}]*)\}")
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

    @property
    def record_shape(self) -> RecordShape:
        return RecordShape(self.measure_name, self.dimensions, self.time_column, NOT_WRITTEN)

    def reads(self, name: str) -> bool:
        """Whether the query names the view or table `name` (comments aside)."""
        return re.search(rf"\b{re.escape(name)}\b", _without_comments(self.query)) is not None

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
        if len([c for c in columns if c not in NOT_WRITTEN]) == len(self.dimensions) + 1:
            raise MetricFileError(
                f"{self.where()}: the query returns no measure column besides the dimensions "
                "and the time column"
            )


def load_catalogue(sql_dir: Path, parameters: Mapping[str, object] | None = None,
                   ) -> list[MetricTable]:
    """Every `*.sql` file of `sql_dir`, each checked, with `${name}` replaced from `parameters`
    (left as written when None), in an order where a table comes before the files that read
    it (else by name)."""
    sql_dir = Path(sql_dir)
    if not sql_dir.is_dir():
        raise MetricFileError(f"{sql_dir}: no such directory; set Job.sql.dir to the sql/ folder")
    files = sorted(sql_dir.glob("*.sql"))
    if not files:
        raise MetricFileError(f"{sql_dir}: no .sql files; add at least one metric file")
    tables = [parse_metric_file(path) for path in files]
    if parameters is not None:
        tables = [_substitute(table, parameters) for table in tables]
    return _in_dependency_order(tables)


def _substitute(table: MetricTable, parameters: Mapping[str, object]) -> MetricTable:
    lines = table.query.splitlines()
    for offset, line in enumerate(lines):
        for match in _PARAMETER.finditer(line):
            if match.group(1) not in parameters:
                raise MetricFileError(
                    f"{table.where(table.query_line + offset)}: unknown parameter "
                    f"{match.group(0)}; known: "
                    f"{', '.join('${' + name + '}' for name in sorted(parameters))}"
                )
    query = _PARAMETER.sub(lambda m: str(parameters[m.group(1)]), table.query)
    return dataclasses.replace(table, query=query)


def _in_dependency_order(tables: list[MetricTable]) -> list[MetricTable]:
    names = {t.table for t in tables}
    reads = {t.table: {n for n in names - {t.table} if t.reads(n)} for t in tables}
    ordered: list[MetricTable] = []
    done: set[str] = set()
    remaining = list(tables)
    while remaining:
        ready = [t for t in remaining if reads[t.table] <= done]
        if not ready:
            cycle = ", ".join(f"{t.path.name} reads {', '.join(sorted(reads[t.table]))}"
                              for t in remaining)
            raise MetricFileError(f"{remaining[0].where(1)}: metric files read each other in a "
                                  f"cycle ({cycle}); break the cycle")
        ordered.extend(ready)
        done.update(t.table for t in ready)
        remaining = [t for t in remaining if t.table not in done]
    return ordered


def timestream_tables(sql_dir: Path, raw_tables: bool) -> list[str]:
    """Every Timestream table the job writes: one per metric file, and the raw-event tables."""
    from jobs.raw_events import RAW_TABLES

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
