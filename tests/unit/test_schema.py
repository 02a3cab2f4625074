import pytest

from jobs.config import PROJECT_ROOT
from jobs.schema import output_columns, written_tables


def test_output_columns_are_the_outermost_select_lists_names():
    query = """
        WITH facts AS (SELECT a, b AS inner_only FROM t)  -- a comment, FROM x
        SELECT f.instance_id, channel,
               DATE_FORMAT(window_start, 'yyyy-MM-dd, HH') AS local_date,
               CAST(COUNT(*) FILTER (WHERE x IN ('A', 'B')) AS DOUBLE) / 1000
                   as seconds,
               (SELECT MAX(c) FROM u) AS nested
        FROM facts AS f
        GROUP BY f.instance_id
    """
    assert output_columns(query) == ["instance_id", "channel", "local_date", "seconds", "nested"]


def test_an_unnamed_expression_or_no_select_is_refused_with_the_fix():
    with pytest.raises(ValueError, match="has no name; give it one with AS"):
        output_columns("SELECT a, COUNT(*) FROM t")
    with pytest.raises(ValueError, match="no top-level SELECT"):
        output_columns("VALUES (1)")


def test_the_written_tables_are_the_metric_files_headers_and_measures():
    tables = written_tables(PROJECT_ROOT / "sql")
    today = tables["queue_today"]
    assert today.dimensions == ("instance_id", "queue_id", "channel", "local_date")
    assert today.measures[:2] == ("contacts_queued", "callbacks_queued")
    assert "updated_at" not in today.measures and "window_time" not in tables[
        "queue_interval"].measures
    assert tables["agent_realtime"].measures == (
        "activity", "status_name", "routing_profile_name", "online", "slots_active",
        "slots_available")
    assert {"time", "measure_name", "queue_id", "oldest_contact_age"} <= tables[
        "queue_realtime"].columns
