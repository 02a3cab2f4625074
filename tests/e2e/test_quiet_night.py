"""With no events at all (a contact centre at night) windows still close and gauges keep
ticking: the Kinesis source's clock rows move event time on with the wall clock, after a
restore too."""

from __future__ import annotations

import shutil
import time
from dataclasses import replace
from pathlib import Path

import boto3
import orjson
import pytest

from jobs.config import PROJECT_ROOT
from cli.landed import landed_records
from cli.local_stack import create_timestream_tables
from simulator.records import AgentState, ContactFacts, agent_event, contact_event
from tests.e2e.conftest import write_properties
from tests.e2e.scenario import (
    AVAILABLE, INSTANCE, SALES, agent, completed_checkpoints, kill_group, put, start_job,
    stop_group, wait_for, with_source_clock,
)

pytestmark = pytest.mark.e2e


def now_ms() -> int:
    return int(time.time() * 1000)


def wait_for_record(config, job, log: Path, table: str, accept, timeout_s: float = 240):
    deadline = time.monotonic() + timeout_s
    while True:
        for record in landed_records(config.timestream.endpoint, config.timestream.database):
            if record.table == table and accept(record):
                return record, time.time() * 1000
        assert job.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, f"no {table} record; job log:\n{log.read_text()[-3000:]}"
        time.sleep(0.25)


def test_windows_close_and_gauges_tick_without_events(local_stack, job_config, tmp_path):
    config, _ = job_config
    # Nothing changes after the contact queues: its gauge row is rewritten every refresh.
    config = replace(with_source_clock(config), job=replace(config.job, gauge_refresh_ms=20_000))
    shutil.copy(PROJECT_ROOT / "sql" / "queue_realtime.sql", config.job.sql_dir)
    create_timestream_tables(config.timestream.endpoint, config.timestream.region,
                             config.timestream.database, ["queue_realtime"])
    properties = write_properties(config, tmp_path / "night.json")
    kinesis = boto3.client("kinesis", region_name="us-east-1", endpoint_url=config.kinesis.endpoint,
                           aws_access_key_id="test", aws_secret_access_key="test")
    log = tmp_path / "job.log"
    job = start_job(properties, log)
    try:
        # One login, then silence: its minute closes on the clock alone.
        login = now_ms()
        put(kinesis, config.kinesis.agent_stream, [orjson.dumps(
            agent_event("night-a1", "LOGIN", login, agent(1), AgentState(AVAILABLE), None))])
        wait_for_record(config, job, log, "agents_online",
                        lambda r: r.time_ms == login - login % 60_000)

        # The job is reading live now: a contact queues, and nothing else happens.
        queued_at = now_ms()
        minute = queued_at - queued_at % 60_000
        facts = ContactFacts(INSTANCE, "night-c1", "VOICE", "INBOUND", queued_at - 3_000, SALES,
                             queued_at)
        put(kinesis, config.kinesis.contact_stream, [orjson.dumps(contact_event(
            "night-e1", "INITIATED", queued_at - 3_000, facts)), orjson.dumps(contact_event(
                "night-e2", "QUEUED", queued_at, facts))])
        row, landed_at = wait_for_record(config, job, log, "queue_interval",
                                         lambda r: r.time_ms == minute)
        assert row.measures["contacts_queued"] == "1"
        delay_s = (landed_at - (minute + 60_000)) / 1000
        print(f"\nqueue_interval row of a quiet minute landed {delay_s:.1f} s after the minute "
              f"ended (allowed lateness {config.job.allowed_lateness_ms / 1000:.0f} s)")
        # Generous against a loaded machine; without ticks it would never land.
        assert delay_s < 30

        # Gauges go on: a row well after the last event still shows the waiting contact.
        sample, _ = wait_for_record(
            config, job, log, "queue_realtime",
            lambda r: r.time_ms >= queued_at + 30_000 and r.dimensions["channel"] == "VOICE"
            and r.dimensions["queue_id"] == SALES.queue_id)
        assert sample.measures["contacts_in_queue"] == "1"
        assert float(sample.measures["oldest_contact_age"]) >= 30
    finally:
        stop_group(job)


def test_a_job_restored_at_night_closes_the_minute_its_checkpoint_holds_open(
        local_stack, job_config, tmp_path):
    """Each feed's clock is in the checkpoint: the restored job reads nothing more, and the
    minute whose events the first job read before it died still closes on the clock alone."""
    config, _ = job_config
    config = replace(with_source_clock(config),
                     job=replace(config.job, checkpoint_interval_ms=1_000))
    properties = write_properties(config, tmp_path / "night.json")
    checkpoints = Path(config.job.checkpoint_dir)
    kinesis = boto3.client("kinesis", region_name="us-east-1", endpoint_url=config.kinesis.endpoint,
                           aws_access_key_id="test", aws_secret_access_key="test")
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    first = start_job(properties, first_log)
    try:
        wait_for(lambda: completed_checkpoints(checkpoints), first, first_log)
        # Early enough in a minute that the first job reads, checkpoints and dies before the
        # clock closes it (allowed lateness after its end).
        while not 5 <= time.time() % 60 < 20:
            time.sleep(0.5)
        now = now_ms()
        minute = now - now % 60_000
        put(kinesis, config.kinesis.agent_stream, [orjson.dumps(r) for r in (
            agent_event("night-a1", "LOGIN", minute - 30_000, agent(1), AgentState(AVAILABLE), None),
            agent_event("night-a2", "LOGIN", now, agent(2), AgentState(AVAILABLE), None))])
        # The minute before closes at once: the first job has read the newest event.
        _, landed_at = wait_for_record(config, first, first_log, "agents_online",
                                       lambda r: r.time_ms == minute - 60_000, timeout_s=40)
        wait_for(lambda: any(p.stat().st_mtime * 1000 > landed_at + 1_000
                             for p in completed_checkpoints(checkpoints)),
                 first, first_log, every_s=0.2)
    finally:
        kill_group(first)
    assert now_ms() < minute + 60_000 + config.job.allowed_lateness_ms, "the test was too slow"
    landed = landed_records(config.timestream.endpoint, config.timestream.database)
    assert [r.time_ms for r in landed if r.table == "agents_online"] == [minute - 60_000]

    second = start_job(properties, second_log, "--restore",
                       str(completed_checkpoints(checkpoints)[-1]))
    try:
        row, _ = wait_for_record(config, second, second_log, "agents_online",
                                 lambda r: r.time_ms == minute, timeout_s=180)
    finally:
        stop_group(second)
    assert row.measures["agents_online"] == "1"
