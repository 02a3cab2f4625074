"""The replay's closing summary: counts per table and reason, and the exit code with its fix."""

import orjson

from jobs.replay_summary import (
    EVENTS, MEMORY_STORE_FIX, OTHER_REFUSAL_FIX, REFUSED_EXIT, RETENTION_POLICY_FIX, file_end,
    jsonl_file, summarise,
)


def append(path, *lines: dict) -> None:
    with path.open("ab") as out:
        out.writelines(orjson.dumps(line) + b"\n" for line in lines)


def refused(table: str, message: str, sink: str = "timestream") -> dict:
    return {"reason": f"{sink}_refused", "message": message, "table": table, "record": {}}


OLD = "time 1 is older than the memory store retention (6 h) and magnetic store writes are off"


def test_counts_only_what_this_run_appended_per_table_and_reason(tmp_path):
    dead, sink = tmp_path / "dead.jsonl", tmp_path / "sink.jsonl"
    append(dead, {"reason": "invalid_json"})
    append(sink, {"table": "queue_interval", "record": {}})
    dead_from, sink_from = file_end(dead), file_end(sink)
    append(dead, {"reason": "event_in_future"}, {"reason": "event_in_future"},
           {"reason": "invalid_json"})
    append(sink, *({"table": t, "record": {}} for t in ("queue_interval", "agent_interval",
                                                         "queue_interval")))
    summary = summarise(dead, dead_from, sink, sink_from)
    assert summary.written == {"queue_interval": 2, "agent_interval": 1}
    assert summary.dead_letters == {(EVENTS, "event_in_future"): 2, (EVENTS, "invalid_json"): 1}
    assert summary.exit_code == 0  # the data's own faults: reported, the rest was written
    assert summary.lines() == [
        "written: 3 records", "  agent_interval: 1", "  queue_interval: 2",
        "dead-lettered: 3 records", "  (events): event_in_future: 2",
        "  (events): invalid_json: 1",
    ]


def test_records_older_than_the_memory_store_exit_non_zero_naming_magnetic_writes(tmp_path):
    dead = tmp_path / "dead.jsonl"
    append(dead, refused("queue_interval", OLD), refused("queue_interval", OLD),
           refused("agent_interval", OLD))
    summary = summarise(dead, 0, None, 0)
    assert summary.exit_code == REFUSED_EXIT
    assert summary.fixes == [MEMORY_STORE_FIX]
    assert "Timestream.magnetic.writes=true" in summary.lines()[-1]
    assert "  queue_interval: timestream_refused: 2" in summary.lines()
    assert summary.lines()[0].startswith("written: not counted here")


def test_other_refusals_exit_non_zero_pointing_at_their_messages(tmp_path):
    dead = tmp_path / "dead.jsonl"
    append(dead, refused("queue_interval", "record of 3000 bytes (at most 2048)"))
    summary = summarise(dead, 0, None, 0)
    assert (summary.exit_code, summary.fixes) == (
        REFUSED_EXIT, [OTHER_REFUSAL_FIX.format(sink="Timestream")])


BEYOND_RETENTION = ("refused by InfluxDB (400): partial write: points beyond retention policy "
                    "dropped=1")  # what influxd 1.8 answers


def test_points_older_than_the_influxdb_retention_policy_exit_non_zero_naming_it(tmp_path):
    dead = tmp_path / "dead.jsonl"
    append(dead, refused("queue_interval", BEYOND_RETENTION, sink="influxdb"),
           refused("agent_interval", "field type conflict", sink="influxdb"))
    summary = summarise(dead, 0, None, 0)
    assert summary.exit_code == REFUSED_EXIT
    assert summary.fixes == [RETENTION_POLICY_FIX, OTHER_REFUSAL_FIX.format(sink="InfluxDB")]
    assert "  queue_interval: influxdb_refused: 1" in summary.lines()
    assert summary.lines()[-2:] == [f"fix: {fix}" for fix in summary.fixes]


def test_targets_that_are_not_files_are_said_not_counted(tmp_path):
    assert jsonl_file("kinesis:dead") is None and jsonl_file("timestream") is None
    assert jsonl_file(f"jsonl:{tmp_path}/a.jsonl") == tmp_path / "a.jsonl"
    summary = summarise(None, 0, None, 0)
    assert summary.exit_code == 0
    assert summary.lines()[-1] == "dead-lettered: not counted here (the dead letters go to Kinesis)"
    assert file_end(tmp_path / "absent.jsonl") == 0


def test_records_ahead_of_the_wall_clock_are_reported_without_a_fix(tmp_path):
    dead = tmp_path / "dead.jsonl"
    append(dead, refused("queue_interval", "time 9 is more than 15 minutes in the future"))
    summary = summarise(dead, 0, None, 0)
    assert summary.dead_letters == {("queue_interval", "timestream_refused"): 1}
    assert (summary.exit_code, summary.fixes) == (0, [])
