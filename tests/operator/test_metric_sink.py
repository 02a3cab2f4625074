"""The metric sink driven in memory (`benchmarks.keyed.KeyedRunner`): of single records, a full
batch is written at once, the rest when the flush interval passes; only the records are state,
so a task restored with records pending writes them by the restored timer. A batch the JVM made
is written as it comes."""

from __future__ import annotations

import json

from benchmarks.keyed import KeyedRunner
from connectors.settings import InfluxDBSettings, TimestreamSettings
from connectors.timestream_sink import MetricSinkFunction

FLUSH_MS = 100
NOW_MS = 1_790_000_000_000


def record(n: int) -> str:
    return json.dumps({"Dimensions": [{"Name": "queue_id", "Value": f"q{n}"}],
                       "MeasureName": "m", "MeasureValueType": "MULTI", "Time": str(NOW_MS),
                       "TimeUnit": "MILLISECONDS", "Version": n,
                       "MeasureValues": [{"Name": "x", "Value": str(n), "Type": "BIGINT"}]})


def sink(path) -> MetricSinkFunction:
    return MetricSinkFunction(TimestreamSettings(target=f"jsonl:{path}", batch_size=3,
                                                 flush_interval_ms=FLUSH_MS,
                                                 magnetic_writes=True), InfluxDBSettings())


def written(path) -> list[tuple[str, str]]:
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    return [(line["table"], line["record"]["Dimensions"][0]["Value"]) for line in lines]


def put(runner: KeyedRunner, table: str, n: int) -> None:
    runner.process(table, (table, record(n)), NOW_MS)


def test_a_full_batch_is_written_at_once_and_the_rest_when_the_interval_passes(tmp_path):
    out = tmp_path / "records.jsonl"
    runner = KeyedRunner(sink(out))
    runner.clock = 1_000
    for n in range(4):
        put(runner, "queue_realtime", n)
    put(runner, "agent_realtime", 9)

    assert written(out) == [("queue_realtime", f"q{n}") for n in range(3)]
    # Only the records are state: one call into it per record.
    assert {name for _, name in runner.stored} == {"pending-records"}
    runner.tick(1_000 + FLUSH_MS - 1)
    assert len(written(out)) == 3
    runner.tick(1_000 + FLUSH_MS)
    assert sorted(written(out)[3:]) == [("agent_realtime", "q9"), ("queue_realtime", "q3")]
    assert runner.stored == {} and runner.processing_timers == []


def test_a_batch_written_when_full_drops_its_flush_timer(tmp_path):
    out = tmp_path / "records.jsonl"
    runner = KeyedRunner(sink(out))
    for n in range(3):
        put(runner, "queue_realtime", n)
    assert len(written(out)) == 3
    assert runner.processing_timers == []


def test_records_pending_at_a_restore_are_written_by_the_restored_timer(tmp_path):
    out = tmp_path / "records.jsonl"
    runner = KeyedRunner(sink(out))
    put(runner, "queue_realtime", 1)
    put(runner, "queue_realtime", 2)
    assert written(out) == []

    runner.restore(sink(out))  # the count and the timer's time were in the old task's memory
    put(runner, "queue_realtime", 3)
    assert written(out) == [], "the count starts again: 1 of 3 after the restore"
    runner.tick(FLUSH_MS)
    assert written(out) == [("queue_realtime", f"q{n}") for n in (1, 2, 3)]
    assert runner.processing_timers == []


def test_a_sink_fed_batches_of_a_metrics_rows_writes_each_at_once_and_keeps_nothing(tmp_path):
    out = tmp_path / "records.jsonl"
    runner = KeyedRunner(MetricSinkFunction(
        TimestreamSettings(target=f"jsonl:{out}", batch_size=2, magnetic_writes=True),
        InfluxDBSettings(),
        batch_records=lambda rows: ("queue_realtime", [json.loads(record(n)) for _, n in rows])))
    runner.process("queue_realtime", [("q", 4)], NOW_MS)
    assert written(out) == [("queue_realtime", "q4")], "a batch of one, under the batch size"
    runner.process("queue_realtime", [("q", 5), ("q", 6), ("q", 7)], NOW_MS)

    assert written(out) == [("queue_realtime", f"q{n}") for n in (4, 5, 6, 7)]
    assert runner.stored == {} and runner.processing_timers == [] and runner.timers == set()
    assert runner.counters["recordsWritten"].count == 4
    assert runner.counters["batches"].count == 2
    assert runner.counters["retries"].calls == 0, "a count of 0 is not a call into the JVM"
