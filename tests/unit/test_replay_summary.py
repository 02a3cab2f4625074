"""The replay's closing summary: counts per table and reason from the job's counts file, and
the exit code with its fix, for each sink's refusals."""

from connectors.counts import CountsFile
from cli.replay_summary import (
    EVENTS, MEMORY_STORE_FIX, OTHER_REFUSAL_FIX, REFUSED_EXIT, RETENTION_POLICY_FIX, summarise,
)

OLD = "time 1 is older than the memory store retention (6 h) and magnetic store writes are off"
BEYOND_RETENTION = ("refused by InfluxDB (400): partial write: points beyond retention policy "
                    "dropped=1")
TYPE_CONFLICT = ('refused by InfluxDB (400): partial write: field type conflict: input field '
                 '"contacts_queued" on measurement "queue_interval" is type float, already '
                 'exists as type integer dropped=1')


def counted(path, written: dict[str, list[int]] = {}, letters: list[dict] = ()):  # noqa: B006
    """`path` as the sink and dead-letter operators leave it: flushes per table, then letters."""
    counts = CountsFile(path)
    for table, flushes in written.items():
        for records in flushes:
            counts.written(table, records)
    for letter in letters:
        counts.dead_lettered(letter)
    counts.close()
    return path


def refused(sink: str, table: str, message: str) -> dict:
    return {"reason": f"{sink}_refused", "message": message, "table": table, "record": {}}


def test_counts_what_was_written_per_table_and_dead_lettered_per_reason(tmp_path):
    path = counted(tmp_path / "counts.jsonl",
                   {"queue_interval": [2, 0, 3], "agent_interval": [1]},
                   [{"reason": "event_in_future", "message": "ahead"},
                    {"reason": "event_in_future", "message": "ahead"},
                    {"reason": "invalid_json", "message": "not JSON", "raw_base64": "e30="}])
    summary = summarise(path)
    assert summary.written == {"queue_interval": 5, "agent_interval": 1}
    assert summary.dead_letters == {(EVENTS, "event_in_future"): 2, (EVENTS, "invalid_json"): 1}
    assert summary.exit_code == 0  # the data's own faults: reported, the rest was written
    assert summary.lines() == [
        "written: 6 records", "  agent_interval: 1", "  queue_interval: 5",
        "dead-lettered: 3 records", "  (events): event_in_future: 2",
        "  (events): invalid_json: 1",
    ]


def test_a_job_that_counted_nothing_wrote_nothing(tmp_path):
    summary = summarise(tmp_path / "absent.jsonl")
    assert summary.lines() == ["written: 0 records", "dead-lettered: 0 records"]
    assert summary.exit_code == 0


def test_timestream_records_older_than_the_memory_store_exit_non_zero_naming_magnetic_writes(
        tmp_path):
    path = counted(tmp_path / "counts.jsonl", {"agent_interval": [4]},
                   [refused("timestream", "queue_interval", OLD),
                    refused("timestream", "queue_interval", OLD),
                    refused("timestream", "agent_interval", OLD)])
    summary = summarise(path)
    assert summary.exit_code == REFUSED_EXIT
    assert summary.fixes == [MEMORY_STORE_FIX]
    assert "Timestream.magnetic.writes=true" in summary.lines()[-1]
    assert "  queue_interval: timestream_refused: 2" in summary.lines()
    assert "  agent_interval: 4" in summary.lines()


def test_other_timestream_refusals_exit_non_zero_pointing_at_their_messages(tmp_path):
    path = counted(tmp_path / "counts.jsonl", letters=[
        refused("timestream", "queue_interval", "record of 3000 bytes (at most 2048)")])
    summary = summarise(path)
    assert (summary.exit_code, summary.fixes) == (
        REFUSED_EXIT, [OTHER_REFUSAL_FIX.format(sink="Timestream")])


def test_timestream_records_ahead_of_the_wall_clock_are_reported_without_a_fix(tmp_path):
    path = counted(tmp_path / "counts.jsonl", letters=[
        refused("timestream", "queue_interval", "time 9 is more than 15 minutes in the future")])
    summary = summarise(path)
    assert summary.dead_letters == {("queue_interval", "timestream_refused"): 1}
    assert (summary.exit_code, summary.fixes) == (0, [])


def test_influxdb_points_beyond_the_retention_policy_exit_non_zero_naming_the_fix(tmp_path):
    path = counted(tmp_path / "counts.jsonl", {"queue_interval": [7]},
                   [refused("influxdb", "queue_interval", BEYOND_RETENTION)] * 2)
    summary = summarise(path)
    assert (summary.exit_code, summary.fixes) == (REFUSED_EXIT, [RETENTION_POLICY_FIX])
    assert summary.lines()[-3:] == ["dead-lettered: 2 records",
                                    "  queue_interval: influxdb_refused: 2",
                                    f"fix: {RETENTION_POLICY_FIX}"]


def test_an_influxdb_field_type_conflict_exits_non_zero_pointing_at_its_message(tmp_path):
    path = counted(tmp_path / "counts.jsonl", letters=[
        refused("influxdb", "queue_interval", TYPE_CONFLICT)])
    summary = summarise(path)
    assert (summary.exit_code, summary.fixes) == (
        REFUSED_EXIT, [OTHER_REFUSAL_FIX.format(sink="InfluxDB")])
    assert "InfluxDB refused records" in summary.lines()[-1]


def test_an_influxdb_row_with_nothing_to_write_is_reported_without_a_fix(tmp_path):
    path = counted(tmp_path / "counts.jsonl", letters=[
        refused("influxdb", "queue_interval", "no field to write (every measure was null)")])
    summary = summarise(path)
    assert summary.dead_letters == {("queue_interval", "influxdb_refused"): 1}
    assert (summary.exit_code, summary.fixes) == (0, [])


def test_each_fix_is_named_once_in_the_order_first_met(tmp_path):
    path = counted(tmp_path / "counts.jsonl", letters=[
        refused("influxdb", "queue_interval", BEYOND_RETENTION),
        refused("timestream", "queue_interval", OLD),
        refused("influxdb", "agent_interval", BEYOND_RETENTION)])
    assert summarise(path).fixes == [RETENTION_POLICY_FIX, MEMORY_STORE_FIX]
