"""One path, end to end: Kinesis emulator -> the job with the real connector -> Timestream emulator."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import boto3
import orjson
import pytest

from jobs.config import PROJECT_ROOT
from jobs.landed import landed_records
from simulator.records import (
    Agent, AgentState, ContactFacts, Queue, RoutingProfile, Status, agent_event, contact_event,
)

pytestmark = pytest.mark.e2e

INSTANCE = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
SALES = Queue(INSTANCE, "q-sales", "Sales")
SUPPORT = Queue(INSTANCE, "q-support", "Support")
PROFILE = RoutingProfile(INSTANCE, "rp-1", "Basic", (SALES, SUPPORT))
MINUTE = (int(time.time()) // 60 - 10) * 60_000
AVAILABLE = Status("Available", "s-available", "ROUTABLE", MINUTE)
BREAK = Status("Break", "s-break", "CUSTOM", MINUTE)
OFFLINE = Status("Offline", "s-offline", "OFFLINE", MINUTE)


def agent(n: int) -> Agent:
    return Agent(INSTANCE, f"agent-{n}", f"user{n}", "First", "Last", PROFILE)


def contact_records() -> list[dict]:
    def facts(contact, channel, method, queue=None, enqueued_at=None, initiated_at=MINUTE + 500):
        return ContactFacts(INSTANCE, contact, channel, method, initiated_at, queue, enqueued_at)

    return [
        contact_event("e1", "INITIATED", MINUTE + 500, facts("c1", "VOICE", "INBOUND")),
        contact_event("e2", "QUEUED", MINUTE + 5_000, facts("c1", "VOICE", "INBOUND", SALES, MINUTE + 5_000)),
        contact_event("e3", "QUEUED", MINUTE + 9_000, facts("c2", "VOICE", "INBOUND", SALES, MINUTE + 9_000)),
        contact_event("e4", "QUEUED", MINUTE + 20_000, facts("c3", "CHAT", "INBOUND", SUPPORT, MINUTE + 20_000)),
        # OUTBOUND never counts as queued, even with queue information on the event.
        contact_event("e5", "QUEUED", MINUTE + 30_000, facts("c4", "VOICE", "OUTBOUND", SALES, MINUTE + 30_000)),
        # A later event moves event time on, so the first minute's window closes.
        contact_event("e6", "INITIATED", MINUTE + 150_000,
                      facts("c5", "VOICE", "INBOUND", initiated_at=MINUTE + 150_000)),
    ]


def agent_records() -> list[dict]:
    return [
        agent_event("a1", "LOGIN", MINUTE + 2_000, agent(1), AgentState(AVAILABLE), None),
        agent_event("a2", "STATE_CHANGE", MINUTE + 3_000, agent(2), AgentState(BREAK), AgentState(AVAILABLE)),
        agent_event("a3", "STATE_CHANGE", MINUTE + 4_000, agent(3), AgentState(OFFLINE), AgentState(AVAILABLE)),
        agent_event("a4", "HEART_BEAT", MINUTE + 150_000, agent(1), AgentState(AVAILABLE), AgentState(AVAILABLE)),
    ]


def put(client, stream: str, records: list[bytes]) -> None:
    response = client.put_records(
        StreamName=stream, Records=[{"Data": r, "PartitionKey": str(i)} for i, r in enumerate(records)]
    )
    assert response["FailedRecordCount"] == 0


def rows(records) -> set:
    return {
        (r.table, r.time_ms, tuple(sorted(r.dimensions.items())), tuple(sorted(r.measures.items())))
        for r in records
    }


def test_events_travel_from_kinesis_through_sql_to_timestream(local_stack, job_config, tmp_path):
    config, properties = job_config
    kinesis = boto3.client("kinesis", region_name="us-east-1", endpoint_url=config.kinesis.endpoint,
                           aws_access_key_id="test", aws_secret_access_key="test")
    put(kinesis, config.kinesis.contact_stream, [orjson.dumps(r) for r in contact_records()])
    put(kinesis, config.kinesis.agent_stream,
        [orjson.dumps(r) for r in agent_records()] + [b'{"EventType": "LOGIN", broken'])

    started = time.monotonic()
    job = subprocess.Popen(
        [sys.executable, "-m", "jobs.cli", "run", "--config", str(properties)],
        cwd=PROJECT_ROOT, stdout=open(tmp_path / "job.log", "w"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    expected = {
        ("queue_interval", MINUTE, (("channel", "VOICE"), ("instance_id", INSTANCE), ("queue_id", "q-sales")),
         (("contacts_queued", "2"),)),
        ("queue_interval", MINUTE, (("channel", "CHAT"), ("instance_id", INSTANCE), ("queue_id", "q-support")),
         (("contacts_queued", "1"),)),
        ("instance_interval", MINUTE, (("instance_id", INSTANCE),), (("agents_online", "2"),)),
    }
    try:
        landed = []
        first_row_after = None
        while time.monotonic() - started < 240 and len(landed) < len(expected):
            assert job.poll() is None, (tmp_path / "job.log").read_text()[-3000:]
            landed = landed_records(config.timestream.endpoint, config.timestream.database)
            if landed and first_row_after is None:
                first_row_after = time.monotonic() - started
            time.sleep(0.5)
        time.sleep(3)  # anything extra would land by now
        landed = landed_records(config.timestream.endpoint, config.timestream.database)
        print(f"first metric row {first_row_after:.1f} s after `connect-metrics run`")
        assert rows(landed) == expected, "\n".join(r.describe() for r in landed)
        assert len(landed) == len(expected)
        assert all(r.record["MeasureValueType"] == "MULTI" for r in landed)
        dead = [json.loads(line) for line in (tmp_path / "dead-letters.jsonl").read_text().splitlines()]
        assert [d["reason"] for d in dead] == ["invalid_json"]
        assert dead[0]["stream"] == config.kinesis.agent_stream
    finally:
        _stop_group(job)
    with pytest.raises(ProcessLookupError):
        os.killpg(job.pid, 0)


def _stop_group(process: subprocess.Popen) -> None:
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
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
