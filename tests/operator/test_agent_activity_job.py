"""The whole job on a bounded input at parallelism 2: agent events in, agent_interval rows out."""

from __future__ import annotations

import json
import time

import orjson
import pytest
from connectors.file_source import file_sources
from jobs.config import Config, JobSettings, TimestreamSettings
from jobs.main import local_environment
from jobs.pipeline import build_job
from simulator.records import (
    Agent, AgentState, Queue, RoutingProfile, SnapshotContact, Status, agent_event,
)

INSTANCE = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
QUEUE = Queue(INSTANCE, "q-sales", "Sales")
PROFILE = RoutingProfile(INSTANCE, "rp-1", "Basic", (QUEUE,))
M = (int(time.time()) // 60 - 30) * 60_000


def available(at: int) -> Status:
    return Status("Available", "s-available", "ROUTABLE", at)


def call(state: str, since: int, connected: int | None) -> SnapshotContact:
    return SnapshotContact("call-1", "VOICE", "INBOUND", state, since, QUEUE, M, connected)


def agent_one() -> list[dict]:
    """Answers a call at +10 s, talks 60 s, 30 s of after contact work, logs out."""
    me = Agent(INSTANCE, "agent-1", "one", "A", "One", PROFILE)
    idle = AgentState(available(M))
    talking = AgentState(available(M), (call("CONNECTED", M + 10_000, M + 10_000),))
    wrapping = AgentState(available(M), (call("ENDED", M + 70_000, M + 10_000),))
    return [
        agent_event("1a", "LOGIN", M, me, idle, None),
        agent_event("1b", "STATE_CHANGE", M + 10_000, me, talking, idle),
        agent_event("1c", "STATE_CHANGE", M + 70_000, me, wrapping, talking),
        agent_event("1d", "STATE_CHANGE", M + 100_000, me, idle, wrapping),
        agent_event("1e", "LOGOUT", M + 110_000, me, AgentState(Status("Offline", "s-off", "OFFLINE", M + 110_000)), None),
    ]


def agent_two() -> list[dict]:
    """Misses a call offered at +20 s."""
    me = Agent(INSTANCE, "agent-2", "two", "B", "Two", PROFILE)
    idle = AgentState(available(M))
    ringing = AgentState(available(M), (call("CONNECTING", M + 20_000, None),))
    missed = AgentState(available(M), (call("MISSED", M + 40_000, None),))
    return [
        agent_event("2a", "LOGIN", M + 5_000, me, idle, None),
        agent_event("2b", "STATE_CHANGE", M + 20_000, me, ringing, idle),
        agent_event("2c", "STATE_CHANGE", M + 40_000, me, missed, ringing),
        agent_event("2d", "STATE_CHANGE", M + 45_000, me, AgentState(available(M + 45_000)), missed),
    ]


@pytest.fixture
def job_output(tmp_path):
    def run(records: list[dict]) -> list[dict]:
        config = Config(
            timestream=TimestreamSettings(target=f"jsonl:{tmp_path / 'records.jsonl'}"),
            job=JobSettings(parallelism=2, checkpoint_interval_ms=0,
                            checkpoint_dir=str(tmp_path / "checkpoints"),
                            dead_letter=f"jsonl:{tmp_path / 'dead.jsonl'}"),
        )
        recording = tmp_path / "recorded.jsonl"
        recording.write_bytes(b"".join(orjson.dumps(record) + b"\n" for record in records))
        env = local_environment(config)
        build_job(env, config, file_sources(env, [recording]))
        env.execute("bounded agent activity")
        return [json.loads(line) for line in (tmp_path / "records.jsonl").read_text().splitlines()]

    return run


def measures(line: dict) -> dict:
    return {m["Name"]: m["Value"] for m in line["record"]["MeasureValues"]}


def test_agent_work_lands_per_agent_and_minute(job_output):
    lines = job_output(agent_one() + agent_two())
    agent_rows = {
        ({d["Name"]: d["Value"] for d in line["record"]["Dimensions"]}["agent_id"],
         int(line["record"]["Time"])): measures(line)
        for line in lines if line["table"] == "agent_interval"
    }
    assert agent_rows == {
        ("agent-1", M + 60_000): {
            "contacts_handled": "1", "contacts_missed": "0", "sum_handle_time": "90.0",
            "sum_after_contact_work_time": "30.0", "contacts_with_after_contact_work": "1",
        },
        ("agent-2", M): {
            "contacts_handled": "0", "contacts_missed": "1", "sum_handle_time": "0.0",
            "sum_after_contact_work_time": "0.0", "contacts_with_after_contact_work": "0",
        },
    }
