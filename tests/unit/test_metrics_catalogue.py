from pathlib import Path

import pytest

from jobs.metrics import MetricFileError, load_catalogue, parse_metric_file

PROJECT_SQL = Path(__file__).resolve().parents[2] / "sql"
HEADER = "-- dimensions: instance_id\n-- time: t\n-- measure_name: m\n"
GOOD = """-- A comment that explains the metric.
-- dimensions: instance_id, queue_id
-- time: window_start
-- measure_name: queue_interval
SELECT instance_id, queue_id, window_start, COUNT(*) AS contacts_queued
FROM t GROUP BY instance_id, queue_id, window_start;
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_header_maps_the_file_to_a_table(tmp_path):
    metric = parse_metric_file(write(tmp_path, "queue_interval.sql", GOOD))
    assert metric.table == "queue_interval"
    assert metric.dimensions == ("instance_id", "queue_id")
    assert metric.time_column == "window_start"
    assert metric.measure_name == "queue_interval"
    assert metric.query_line == 5
    assert metric.query.startswith("SELECT") and not metric.query.endswith(";")


@pytest.mark.parametrize(
    "text, where, reason",
    [
        (GOOD.replace("-- time: window_start\n", ""), ":1:", "lacks '-- time"),
        (GOOD.replace("-- measure_name", "-- measure"), ":4:", "unknown header key 'measure'"),
        (GOOD.replace("instance_id, queue_id\n", "\n"), ":2:", "at least one dimension"),
        (GOOD.replace("queue_id\n", "queue_id, instance_id\n"), ":2:", "listed twice"),
        (GOOD.replace("-- time: window_start", "-- time: queue_id"), ":3:", "also be a dimension"),
        (GOOD.replace("-- time: window_start", "-- time: window start"), ":3:", "not a column"),
        (GOOD.split("SELECT")[0], ":4:", "no SQL query"),
        (GOOD.replace("FROM t", "FROM t; SELECT 1 FROM t"), ":5:", "one query per file"),
    ],
)
def test_a_bad_header_names_file_line_and_reason(tmp_path, text, where, reason):
    path = write(tmp_path, "queue_interval.sql", text)
    with pytest.raises(MetricFileError) as err:
        parse_metric_file(path)
    assert str(err.value).startswith(f"{path}{where}")
    assert reason in str(err.value)


def test_file_name_must_be_a_valid_table_name(tmp_path):
    with pytest.raises(MetricFileError, match="not a valid Timestream table name"):
        parse_metric_file(write(tmp_path, "q$.sql", GOOD))


def test_header_columns_are_checked_against_the_query_result(tmp_path):
    metric = parse_metric_file(write(tmp_path, "queue_interval.sql", GOOD))
    metric.check_columns(["instance_id", "queue_id", "window_start", "contacts_queued"])
    with pytest.raises(MetricFileError, match=r"queue_interval.sql:1: .*queue_id"):
        metric.check_columns(["instance_id", "window_start", "contacts_queued"])
    with pytest.raises(MetricFileError, match="no measure column"):
        metric.check_columns(["instance_id", "queue_id", "window_start"])


def test_catalogue_is_every_sql_file_in_name_order(tmp_path):
    write(tmp_path, "b_table.sql", GOOD)
    write(tmp_path, "a_table.sql", GOOD)
    write(tmp_path, "notes.txt", "not a metric")
    assert [m.table for m in load_catalogue(tmp_path)] == ["a_table", "b_table"]


def test_empty_or_missing_directory_is_an_error(tmp_path):
    with pytest.raises(MetricFileError, match="no .sql files"):
        load_catalogue(tmp_path)
    with pytest.raises(MetricFileError, match="no such directory"):
        load_catalogue(tmp_path / "missing")


def test_the_shipped_catalogue_loads_with_tables_before_the_files_that_read_them():
    tables = [m.table for m in load_catalogue(PROJECT_SQL, {"interval_minutes": 1})]
    assert set(tables) == {"agent_interval", "agent_realtime", "queue_interval", "queue_realtime",
                           "queue_today", "routing_profile_realtime", "queue_service_level",
                           "queue_service_level_today", "queue_names", "routing_profile_names"}
    assert tables.index("queue_interval") < tables.index("queue_today")
    assert tables.index("queue_service_level") < tables.index("queue_service_level_today")


def test_parameters_are_replaced_and_an_unknown_one_is_named_with_its_line(tmp_path):
    (tmp_path / "a_minutes.sql").write_text(
        HEADER + "SELECT instance_id, t, n\nFROM x GROUP BY ${interval_minutes}\n")
    (table,) = load_catalogue(tmp_path, {"interval_minutes": 5})
    assert table.query.endswith("GROUP BY 5")
    (tmp_path / "a_minutes.sql").write_text(HEADER + "SELECT ${interval}\n")
    with pytest.raises(MetricFileError, match=r"a_minutes.sql:4: unknown parameter \$\{interval\}; "
                                              r"known: \$\{interval_minutes\}"):
        load_catalogue(tmp_path, {"interval_minutes": 5})


def test_a_file_that_reads_another_table_comes_after_it_and_a_cycle_is_an_error(tmp_path):
    (tmp_path / "a_rollup.sql").write_text(HEADER + "SELECT instance_id, t, n FROM z_base\n")
    (tmp_path / "z_base.sql").write_text(HEADER + "SELECT instance_id, t, n FROM agent_events\n")
    assert [t.table for t in load_catalogue(tmp_path)] == ["z_base", "a_rollup"]
    (tmp_path / "z_base.sql").write_text(HEADER + "SELECT instance_id, t, n FROM a_rollup\n")
    with pytest.raises(MetricFileError, match="read each other in a cycle"):
        load_catalogue(tmp_path)


def test_a_file_reads_a_view_it_names_outside_comments(tmp_path):
    (tmp_path / "a_events.sql").write_text(
        HEADER + "-- not agent_events_x, not contact_events\nSELECT instance_id, t, n\n"
        "FROM agent_events\n")
    (table,) = load_catalogue(tmp_path)
    assert table.reads("agent_events")
    assert not table.reads("contact_events")  # named in a comment only
    assert not table.reads("agent")
