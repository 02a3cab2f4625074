"""Live, end to end, into InfluxDB: simulated events put into kinesis-mock as they happen (20
simulated minutes across the reporting time zone's midnight, at `SPEED` times real time), the
job (`connect-metrics run`) reading them, and every metric table read back from the local
InfluxDB with InfluxQL equal to the simulator's ground truth, compared as the Timestream truth
tests compare (`tests.truth`): counts exact, durations within 1 ms, gauges at every instant.
Every point of a queue table carries a `queue_name` tag that is one of its queue's names."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import replace

import pytest

from jobs.config import PROJECT_ROOT
from cli.influxdb_landed import influxdb_records
from jobs.core.queue_naming import NAME_TAG
from jobs.core.service_levels import ServiceLevels
from simulator.faults import FaultSettings
from tests.e2e.conftest import write_properties
from tests.e2e.scenario import closing_events, publish, rows, start_job, stop_group
from tests.truth import (
    assert_agents_equal_truth, assert_names_equal_truth, assert_service_levels_equal_truth, assert_tables_equal_truth,
    hour_across_midnight,
)

pytestmark = pytest.mark.e2e

SPAN_MS = 20 * 60_000
SPEED = 20.0  # a 100 ms poll spans 2 s of events, within the 5 s allowed lateness
FAULTS = FaultSettings(duplicates=0.02, reorder=0.05, reorder_ms=3_000, casing=0.02)
SETTLE_S = 300.0
QUIET_S = 15.0


def test_every_table_read_back_from_influxdb_equals_the_ground_truth(local_stack, job_config,
                                                                     tmp_path):
    events, truth, zone = hour_across_midnight(
        3, FAULTS, agents=10, arrivals_per_minute=6.0, span_ms=SPAN_MS,
        queue_renames=((1, 600.0, "Support line"),))
    base, _ = job_config
    config = replace(
        base,
        timestream=replace(base.timestream, target="influxdb"),
        job=replace(base.job, sql_dir=str(PROJECT_ROOT / "sql"), reporting_time_zone=zone),
    )
    properties = write_properties(config, tmp_path / "influxdb.json")
    closing = closing_events(events)
    end_ms = truth.of("meta")[0]["end_ms"]

    job = start_job(properties, tmp_path / "job.log")
    started = time.monotonic()
    try:
        publish(config, events, speed=SPEED)
        publish(config, closing)
        put_s = time.monotonic() - started
        lines = settled(config, job, tmp_path / "job.log", end_ms)
        settled_s = time.monotonic() - started
    finally:
        stop_group(job)
    print(f"\n{len(events)} events put in {put_s:.0f} s; InfluxDB settled {settled_s:.0f} s "
          f"after start, {len(lines)} points")

    lines, tagged = without_name_tags(lines, truth)
    second_queue = truth.of("instance")[0]["queues"][1]["queue_id"]
    assert {"Support", "Support line"} <= tagged[second_queue]  # renamed at 10 minutes
    compared = assert_tables_equal_truth(lines, truth, zone)
    assert compared.days == 2  # the span crosses midnight
    assert compared.realtime_rows > 50 and compared.agent_instants > 150
    levels = assert_service_levels_equal_truth(lines, truth, zone, ServiceLevels.parse("20,60", ""))
    assert {seconds for _, seconds in levels} == {"20", "60"}
    names = assert_names_equal_truth(lines, truth)
    assert [name for _, name in names[second_queue]] == ["Support", "Support line"]
    assert assert_agents_equal_truth(lines, truth) > 150
    dead = tmp_path / "dead-letters.jsonl"
    letters = dead.read_text().splitlines() if dead.exists() else []
    assert [line for line in letters if "influxdb_refused" in line] == []


def without_name_tags(lines: list[dict], truth) -> tuple[list[dict], dict[str, set[str]]]:
    """The points without their `queue_name` tags, as the truth compares them, once each tag is
    checked: one of the names its queue had, or its id (a queue never named, or a row written
    before the job learned the name). Also the tags each queue's points carried."""
    (instance,) = truth.of("instance")
    names: dict[str, set[str]] = defaultdict(set)
    for named in [*instance["queues"], *truth.of("queue_renamed")]:
        names[named["queue_id"]].add(named["name"])
    tagged: dict[str, set[str]] = defaultdict(set)
    out = []
    for line in lines:
        dims = {d["Name"]: d["Value"] for d in line["record"]["Dimensions"]}
        if "queue_id" in dims and line["table"] != "queue_names":
            queue = dims["queue_id"]
            assert dims.get(NAME_TAG) in names.get(queue, set()) | {queue}, (line["table"], dims)
            tagged[queue].add(dims[NAME_TAG])
        kept = [d for d in line["record"]["Dimensions"] if d["Name"] != NAME_TAG]
        out.append({**line, "record": {**line["record"], "Dimensions": kept}})
    return out, tagged


def settled(config, job, log, end_ms: int) -> list[dict]:
    """The points once a row past `end_ms` has landed (the closing events are read) and no
    point has been added or changed for `QUIET_S`, as sink lines."""
    deadline = time.monotonic() + SETTLE_S

    def points() -> list:
        return influxdb_records(config.influxdb.url, config.influxdb.database)

    def alive() -> None:
        assert job.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, "not settled; job log:\n" + log.read_text()[-3000:]

    landed = points()
    while not any(r.time_ms > end_ms for r in landed):
        alive()
        time.sleep(2)
        landed = points()
    quiet_since = time.monotonic()
    while time.monotonic() - quiet_since < QUIET_S:
        alive()
        time.sleep(2)
        now = points()
        if rows(now) != rows(landed):
            landed, quiet_since = now, time.monotonic()
    return [{"table": r.table, "record": r.record} for r in landed]
