"""A small known scenario for the end-to-end tests: its records, expected rows, and job control."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import replace
from pathlib import Path

import boto3

from connectors.settings import KinesisSettings
from jobs.config import PROJECT_ROOT, Config
from tests.conftest import CLI_ENV
from simulator.centre import AGENT_FEED, CONTACT_FEED, Emitted
from simulator.publish import KinesisPublisher
from simulator.records import (
    Agent, AgentState, ContactFacts, Queue, RoutingProfile, Status, agent_event, contact_event, iso,
)

INSTANCE = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
SALES = Queue(INSTANCE, "q-sales", "Sales")
SUPPORT = Queue(INSTANCE, "q-support", "Support")
PROFILE = RoutingProfile(INSTANCE, "rp-1", "Basic", (SALES, SUPPORT))
MINUTE = (int(time.time()) // 60 - 10) * 60_000
AVAILABLE = Status("Available", "s-available", "ROUTABLE", MINUTE)
BREAK = Status("Break", "s-break", "CUSTOM", MINUTE)
OFFLINE = Status("Offline", "s-offline", "OFFLINE", MINUTE)
PUT_EVERY_S = 0.1


def agent(n: int) -> Agent:
    return Agent(INSTANCE, f"agent-{n}", f"user{n}", "First", "Last", PROFILE)


def contact_records(minute: int = MINUTE) -> list[dict]:
    """Contacts queued in `minute` (epoch ms), and a later one that closes its window."""
    def facts(contact, channel, method, queue=None, enqueued_at=None, initiated_at=minute + 500):
        contact = f"{contact}-{minute}"
        return ContactFacts(INSTANCE, contact, channel, method, initiated_at, queue, enqueued_at)

    return [
        contact_event(f"{minute}-e1", "INITIATED", minute + 500, facts("c1", "VOICE", "INBOUND")),
        contact_event(f"{minute}-e2", "QUEUED", minute + 5_000, facts("c1", "VOICE", "INBOUND", SALES, minute + 5_000)),
        contact_event(f"{minute}-e3", "QUEUED", minute + 9_000, facts("c2", "VOICE", "INBOUND", SALES, minute + 9_000)),
        contact_event(f"{minute}-e4", "QUEUED", minute + 20_000, facts("c3", "CHAT", "INBOUND", SUPPORT, minute + 20_000)),
        # OUTBOUND never counts as queued, even with queue information on the event.
        contact_event(f"{minute}-e5", "QUEUED", minute + 30_000, facts("c4", "VOICE", "OUTBOUND", SALES, minute + 30_000)),
        # A later event moves event time on, so the first minute's window closes.
        contact_event(f"{minute}-e6", "INITIATED", minute + 150_000,
                      facts("c5", "VOICE", "INBOUND", initiated_at=minute + 150_000)),
    ]


def agent_records(minute: int = MINUTE) -> list[dict]:
    """Two agents online and one offline in `minute`, and a later heartbeat."""
    return [
        agent_event(f"{minute}-a1", "LOGIN", minute + 2_000, agent(1), AgentState(AVAILABLE), None),
        agent_event(f"{minute}-a2", "STATE_CHANGE", minute + 3_000, agent(2), AgentState(BREAK), AgentState(AVAILABLE)),
        agent_event(f"{minute}-a3", "STATE_CHANGE", minute + 4_000, agent(3), AgentState(OFFLINE), AgentState(AVAILABLE)),
        agent_event(f"{minute}-a4", "HEART_BEAT", minute + 150_000, agent(1), AgentState(AVAILABLE), AgentState(AVAILABLE)),
    ]


def put(client, stream: str, records: list[bytes]) -> None:
    response = client.put_records(
        StreamName=stream, Records=[{"Data": r, "PartitionKey": str(i)} for i, r in enumerate(records)]
    )
    assert response["FailedRecordCount"] == 0


def landed(config) -> list:
    """The rows the configured sink target holds, as `LandedRecord`s: the Timestream emulator's
    (one per upsert key, the highest version) or InfluxDB's, read back with InfluxQL."""
    from cli.influxdb_landed import influxdb_records
    from cli.landed import as_timestream_table, landed_records

    if config.timestream.target == "influxdb":
        return influxdb_records(config.influxdb.url, config.influxdb.database)
    return as_timestream_table(
        landed_records(config.timestream.endpoint, config.timestream.database))


def rows(records) -> set:
    return {
        (r.table, r.time_ms, tuple(sorted(r.dimensions.items())), tuple(sorted(r.measures.items())))
        for r in records
    }


def stop_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(20)
    except (subprocess.TimeoutExpired, ProcessLookupError):
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()
    wait_group_gone(process)


def expected_rows(minute: int = MINUTE, sink: str = "timestream") -> set:
    """What `contact_records(minute)` and `agent_records(minute)` must produce, as `rows()`,
    for the `sink` target (InfluxDB's queue rows carry a `queue_name` tag: no snapshot names
    these queues, so it holds their ids)."""
    def queued(count: int) -> tuple:
        """Contacts only entered the queue in this minute: every other count is zero and the
        averages and service levels, with nothing to divide by, are left out."""
        zeros = ("callbacks_queued", "contacts_abandoned", "contacts_handled", "contacts_removed",
                 "contacts_completed", "contacts_transferred_out")
        seconds = ("sum_queue_answer_time", "sum_abandon_time", "sum_handle_time",
                   "sum_hold_time", "sum_after_contact_work_time", "abandonment_rate")
        return tuple(sorted([("contacts_queued", str(count)), *((name, "0") for name in zeros),
                             *((name, "0.0") for name in seconds)]))

    def queue(channel: str, queue_id: str) -> tuple:
        named = (("queue_name", queue_id),) if sink == "influxdb" else ()
        return (("channel", channel), ("instance_id", INSTANCE), ("queue_id", queue_id), *named)

    return {
        ("queue_interval", minute, queue("VOICE", "q-sales"), queued(2)),
        ("queue_interval", minute, queue("CHAT", "q-support"), queued(1)),
        ("agents_online", minute, (("instance_id", INSTANCE),), (("agents_online", "2"),)),
    }


def start_job(properties: Path, log: Path, *extra: str) -> subprocess.Popen:
    """`connect-metrics run` in its own process group, so the whole job can be stopped."""
    return subprocess.Popen(
        [sys.executable, "-m", "cli", "run", "--config", str(properties), *extra],
        cwd=PROJECT_ROOT, env=CLI_ENV, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )


def with_source_clock(config: Config) -> Config:
    """`config` with the source clock on, as it is by default (the e2e configuration has it
    off: a scenario's pause between bursts of past events would move event time on)."""
    return replace(config, kinesis=replace(config.kinesis,
                                           idle_clock_ms=KinesisSettings().idle_clock_ms))


def wait_for(condition, job: subprocess.Popen, log: Path, timeout_s: float = 180,
             every_s: float = 0.5) -> None:
    """Until `condition()` holds; fails with the job's log if the job ends or time runs out."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert job.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, "timed out; job log:\n" + log.read_text()[-3000:]
        time.sleep(every_s)


def completed_checkpoints(directory: Path) -> list[Path]:
    """The `chk-N` folders of a job's completed checkpoints, oldest first."""
    found = [p.parent for p in directory.glob("*/chk-*/_metadata")]
    return sorted(found, key=lambda p: int(p.name.split("-")[1]))


def kill_group(process: subprocess.Popen) -> None:
    """What a crash does: no clean-up at all."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    wait_group_gone(process)


def wait_group_gone(process: subprocess.Popen, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)


def shard_of(partition_key: str, shards: int) -> int:
    """The shard of a stream of `shards` even hash ranges that Kinesis puts the key in."""
    return int(hashlib.md5(partition_key.encode()).hexdigest(), 16) * shards >> 128


def closing_events(events: list[Emitted], shards: int = 1) -> list[Emitted]:
    """Events ten minutes after the last of `events` in every shard of both streams, so event
    time passes their end everywhere and their last windows close: for each shard, the heartbeat of its
    last agent (its state unchanged) and a contact of another instance."""
    at = max(e.at for e in events) + 600_000
    closing = []
    for shard in range(shards):
        last = next(e for e in reversed(events)
                    if e.feed == AGENT_FEED and shard_of(e.partition_key, shards) == shard)
        heartbeat = {**last.record, "EventId": str(uuid.uuid4()), "EventType": "HEART_BEAT",
                     "EventTimestamp": iso(at),
                     "PreviousAgentSnapshot": last.record["CurrentAgentSnapshot"]}
        closing.append(Emitted(AGENT_FEED, last.partition_key, heartbeat, at))
        contact_id = next(key for key in (f"closing-{n}" for n in range(100))
                          if shard_of(key, shards) == shard)
        facts = ContactFacts(INSTANCE, contact_id, "VOICE", "INBOUND", at, None, None)
        closing.append(Emitted(CONTACT_FEED, contact_id,
                               contact_event(str(uuid.uuid4()), "INITIATED", at, facts), at))
    return closing


def publish(config: Config, events: list[Emitted], speed: float | None = None) -> None:
    """Put the events into their streams: all at once, or as they happen at `speed` times
    real time (the reader then meets them in each shard as they arrive, as it does live)."""
    client = boto3.client("kinesis", region_name=config.kinesis.region,
                          endpoint_url=config.kinesis.endpoint,
                          aws_access_key_id="test", aws_secret_access_key="test")
    publisher = KinesisPublisher(client, {AGENT_FEED: config.kinesis.agent_stream,
                                          CONTACT_FEED: config.kinesis.contact_stream})
    started, first = time.monotonic(), events[0].at if events else 0
    for event in events:
        if speed is not None:
            wait = (event.at - first) / 1000 / speed - (time.monotonic() - started)
            if wait > PUT_EVERY_S:
                publisher.flush()
                time.sleep(wait)
        publisher.add(event)
    publisher.flush()
