"""The whole job on a bounded input at parallelism 2: agent events in, agent_interval rows out."""

from __future__ import annotations

import time

from tests.truth import dimensions, measures
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


# Agent 2 never logs out: it goes stale `Job.agent.stale.after.ms` after its last event.
GONE_OFFLINE = """-- dimensions: agent_id
-- time: event_time
-- measure_name: offline
SELECT agent_id, event_time, from_activity FROM agent_transitions WHERE to_activity = 'OFFLINE'
"""


def in_time_order(records: list[dict]) -> list[dict]:
    """The records as an archive of the stream has them: each agent's in order, the agents'
    interleaved by time. Agent 1's last event (+110 s) read before agent 2's (+5 to +45 s) is
    more than the allowed lateness out of order: when a watermark went out between them, agent
    2's rows were late for their minute and dropped, in about 1 run of 8."""
    return sorted(records, key=lambda r: r["EventTimestamp"])


def test_agent_work_lands_per_agent_and_minute(job_output):
    lines = job_output(in_time_order(agent_one() + agent_two()),
                       {"gone_offline.sql": GONE_OFFLINE},
                       raw_tables=True, agent_stale_after_ms=60_000)
    work = ("contacts_handled", "contacts_missed", "sum_handle_time",
            "sum_after_contact_work_time", "contacts_with_after_contact_work")
    rows = {
        ({d["Name"]: d["Value"] for d in line["record"]["Dimensions"]}["agent_id"],
         int(line["record"]["Time"])): measures(line)
        for line in lines if line["table"] == "agent_interval"
    }
    agent_rows = {  # minutes with work; the others hold only time per activity
        key: {name: row[name] for name in work} for key, row in rows.items()
        if any(float(row[name]) for name in work)
    }
    assert sum(float(row["time_on_contact"]) for (agent, _), row in rows.items()
               if agent == "agent-1") > 0
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
    raw = [line for line in lines if line["table"] == "AgentEvent"]
    assert sorted(line["record"]["MeasureValues"][0]["Value"] for line in raw) == sorted(
        r["EventId"] for r in agent_one() + agent_two()
    )
    offline = {
        dimensions(line)["agent_id"]: int(line["record"]["Time"])
        for line in lines if line["table"] == "gone_offline"
    }
    assert offline == {"agent-1": M + 110_000, "agent-2": M + 45_000 + 60_000}
