"""dashboards/connect-metrics.json, checked against what the sink writes.

Every panel query must read tables the job writes (its FROM clauses), select their records by
their measure name, and name only dimensions and measures of those tables, or aliases it defined
before using them. The truth comes from the sql/*.sql files (jobs.schema), so renaming or
dropping a measure there fails this test until the dashboard follows.
"""

from __future__ import annotations

import json
import re

import pytest

from jobs.config import PROJECT_ROOT
from jobs.schema import WrittenTable, written_tables

DASHBOARD = json.loads((PROJECT_ROOT / "dashboards" / "connect-metrics.json").read_text())
TABLES = written_tables(PROJECT_ROOT / "sql")
DATASOURCE = "grafana-timestream-datasource"
KEYWORDS = frozenset("""
    SELECT FROM WHERE AND OR NOT AS GROUP BY ORDER ASC DESC WITH IN IS NULL LIKE BETWEEN CASE
    WHEN THEN ELSE END LIMIT HAVING DISTINCT TRUE FALSE CAST DOUBLE BIGINT VARCHAR BOOLEAN
    LEFT JOIN ON
    TIMESTAMP
""".split())
_TABLE_REFERENCE = re.compile(r'\$__database\s*\.\s*"?([\w.-]+)"?')
_MEASURE_NAME = re.compile(r"\bmeasure_name\s*=\s*'([^']*)'", re.IGNORECASE)
_STRING = re.compile(r"'(?:[^']|'')*'")
_ALIAS = re.compile(r"\bAS\s+([A-Za-z_]\w*)", re.IGNORECASE)
_CTE = re.compile(r"\b([A-Za-z_]\w*)\s+AS\s*\(", re.IGNORECASE)
_IDENTIFIER = re.compile(r"(?<![\w$.])([A-Za-z_]\w*)\b(?!\s*\()")
# $__timeFilter becomes a condition on `time`; units after numbers (15m, 2d) are not names.
_MACROS = {"$__timeFilter": "time > 0"}


def query_problems(sql: str, tables: dict[str, WrittenTable]) -> list[str]:
    """What is wrong with one panel query: unknown tables, a measure_name that is not its
    table's, names that are neither columns of the tables read nor aliases defined before."""
    read = sorted(set(_TABLE_REFERENCE.findall(sql)))
    if not read:
        return ['reads no table: write FROM $__database."<table>"']
    unknown = [t for t in read if t not in tables]
    if unknown:
        return [f"reads {', '.join(unknown)}, which the job does not write "
                f"(it writes {', '.join(sorted(tables))})"]
    problems = []
    wanted = {tables[t].measure_name for t in read}
    named = set(_MEASURE_NAME.findall(sql))
    if named != wanted:
        problems.append(f"selects measure_name {sorted(named)}; the tables read hold "
                        f"{sorted(wanted)}")
    text = _TABLE_REFERENCE.sub(" ", sql)
    for macro, replacement in _MACROS.items():
        text = text.replace(macro, replacement)
    text = _STRING.sub("''", text)
    if "$" in text:
        problems.append("uses a macro or variable this test does not know: "
                        + text[text.index("$"):][:30])
    columns = set().union(*(tables[t].columns for t in read))
    defined = {}
    for pattern in (_ALIAS, _CTE):
        for match in pattern.finditer(text):
            if match.group(1).upper() not in KEYWORDS:
                defined.setdefault(match.group(1), match.start(1))
    for match in _IDENTIFIER.finditer(text):
        name = match.group(1)
        if name.upper() in KEYWORDS or name in columns:
            continue
        if defined.get(name, len(text)) <= match.start(1):
            continue
        problems.append(f"names {name!r}, which is neither a dimension nor a measure of "
                        f"{', '.join(read)} nor an alias defined before it is used")
    return problems


def panels(dashboard: dict) -> list[dict]:
    found = []
    for panel in dashboard["panels"]:
        found.append(panel)
        found.extend(panel.get("panels", []))
    return [p for p in found if p["type"] != "row"]


PANELS = panels(DASHBOARD)


@pytest.mark.parametrize("panel", PANELS, ids=lambda p: p["title"])
def test_every_panel_query_names_tables_dimensions_and_measures_the_sink_writes(panel):
    assert panel["targets"], "a panel without a query"
    for target in panel["targets"]:
        assert target["datasource"]["type"] == DATASOURCE
        assert target["database"] == '"$database"'
        assert query_problems(target["rawQuery"], TABLES) == []


def test_the_dashboard_covers_queues_today_over_time_and_agents():
    read = {t for p in PANELS for target in p["targets"]
            for t in _TABLE_REFERENCE.findall(target["rawQuery"])}
    assert read == {"queue_realtime", "queue_today", "queue_interval", "queue_service_level",
                    "queue_service_level_today", "queue_names", "routing_profile_realtime",
                    "agent_realtime", "agent_interval"}
    ids = [p["id"] for p in DASHBOARD["panels"]]
    assert len(ids) == len(set(ids))
    variables = {v["name"]: v for v in DASHBOARD["templating"]["list"]}
    assert variables["datasource"]["query"] == DATASOURCE
    assert variables["database"]["query"] == "connect_metrics"


@pytest.mark.parametrize("sql, problem", [
    ('SELECT x FROM $__database."queue_realtim" WHERE measure_name = \'queue_realtim\'',
     "reads queue_realtim, which the job does not write"),
    ('SELECT max_by(contacts_in_queue, time) AS in_queue FROM $__database."queue_realtime" '
     "WHERE measure_name = 'queue_interval'",
     "selects measure_name ['queue_interval']; the tables read hold ['queue_realtime']"),
    ('SELECT SUM(contacts_handeld) AS contacts_handeld FROM $__database."queue_today" '
     "WHERE measure_name = 'queue_today' AND $__timeFilter",
     "names 'contacts_handeld', which is neither a dimension nor a measure of queue_today"),
    ('SELECT agent_username, activity FROM $__database."agent_interval" '
     "WHERE measure_name = 'agent_interval'",
     "names 'agent_username', which is neither a dimension nor a measure of agent_interval"),
])
def test_the_check_finds_what_the_job_does_not_write(sql, problem):
    assert any(p.startswith(problem) for p in query_problems(sql, TABLES)), query_problems(
        sql, TABLES)


def test_the_check_accepts_aliases_defined_before_use_and_strings():
    sql = """
        WITH latest AS (SELECT max_by(contacts_handled, time) AS handled
                        FROM $__database."queue_today"
                        WHERE measure_name = 'queue_today' AND local_date = 'some words'
                        GROUP BY queue_id)
        SELECT bin(time, 15m) AS t, SUM(handled) AS handled FROM latest ORDER BY t
    """
    assert query_problems(sql, TABLES) == []
