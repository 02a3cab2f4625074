"""What the sink writes to each Timestream table, read from the metric files themselves.

Readers of the tables (the terminal dashboard, the Grafana dashboard's test) check their queries
against this, so a renamed or removed measure fails their tests rather than a dashboard.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from jobs.metrics import NOT_WRITTEN, MetricTable, load_catalogue

_TOKEN = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|\w+|[(),]|\S")
_ALIAS = re.compile(r"(?is)^(.*\S)\s+AS\s+(\w+)$")
_COLUMN = re.compile(r"^(?:\w+\.)?(\w+)$")


@dataclass(frozen=True)
class WrittenTable:
    """One table as Timestream holds it: records named `measure_name`, keyed by `dimensions`
    and `time`, carrying `measures`."""

    table: str
    measure_name: str
    dimensions: tuple[str, ...]
    measures: tuple[str, ...]

    @property
    def columns(self) -> frozenset[str]:
        """Every column a Timestream query of this table may name."""
        return frozenset((*self.dimensions, *self.measures, "time", "measure_name"))


def written_tables(sql_dir: Path) -> dict[str, WrittenTable]:
    """Each metric file's table: the header's dimensions, the query's other output columns."""
    return {metric.table: _written(metric) for metric in load_catalogue(sql_dir)}


def _written(metric: MetricTable) -> WrittenTable:
    outputs = output_columns(metric.query)
    skipped = {*metric.dimensions, metric.time_column, *NOT_WRITTEN}
    return WrittenTable(
        table=metric.table,
        measure_name=metric.measure_name,
        dimensions=metric.dimensions,
        measures=tuple(c for c in outputs if c not in skipped),
    )


def output_columns(query: str) -> list[str]:
    """The names of the columns a SQL query returns: each item of its outermost SELECT list,
    named by its `AS` alias or, for a plain column, by the column."""
    tokens = [t for t in _TOKEN.findall(query) if not t.startswith("--")]
    depth, start, items, item = 0, None, [], []
    for index, token in enumerate(tokens):
        upper = token.upper()
        if token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
        if depth != 0 or upper not in ("SELECT", "FROM"):
            if start is not None:
                if token == "," and depth == 0:
                    items.append(item)
                    item = []
                else:
                    item.append(token)
            continue
        if upper == "SELECT":
            start, items, item = index, [], []
        elif start is not None:
            items.append(item)
            break
    else:
        raise ValueError("no top-level SELECT ... FROM in the query")
    return [_item_name(item) for item in items]


def _item_name(tokens: list[str]) -> str:
    text = " ".join(tokens)
    alias = _ALIAS.match(text)
    if alias:
        return alias.group(2)
    column = _COLUMN.match(re.sub(r"\s*\.\s*", ".", text))
    if column:
        return column.group(1)
    raise ValueError(f"select item {text!r} has no name; give it one with AS")
