"""The contact lifecycle in the job, at parallelism 2: duplicates and disorder count once."""

from __future__ import annotations

import time

from simulator.records import Agent, ContactFacts, Queue, RoutingProfile, contact_event
from tests.truth import dimensions, measures

INSTANCE = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
SALES = Queue(INSTANCE, "q-sales", "Sales")
AGENT = Agent(INSTANCE, "agent-1", "one", "A", "One", RoutingProfile(INSTANCE, "rp", "Basic", (SALES,)))
M = (int(time.time()) // 60 - 30) * 60_000

# A metric file the project does not ship: picked up with no Python change.
COMPLETED_DUMP = """-- dimensions: contact_id, outcome
-- time: window_start
-- measure_name: completed
SELECT contact_id, outcome, window_start, COUNT(*) AS summaries,
       MAX(queue_wait_ms) AS queue_wait_ms, MAX(handle_ms) AS handle_ms
FROM TABLE(TUMBLE(TABLE contacts_completed, DESCRIPTOR(event_time), INTERVAL '1' MINUTE))
GROUP BY contact_id, outcome, window_start, window_end
"""


def answered() -> list[dict]:
    """Queued at +2 s, answered at +12 s, talk until +42 s, ACW until +52 s."""
    base = ContactFacts(INSTANCE, "c-answered", "VOICE", "INBOUND", M, SALES, M + 2_000)
    connected = ContactFacts(**{**base.__dict__, "agent": AGENT, "connected_to_agent_at": M + 12_000})
    gone = ContactFacts(**{**connected.__dict__, "disconnected_at": M + 42_000})
    done = ContactFacts(**{**gone.__dict__, "acw_start": M + 42_000, "acw_end": M + 52_000})
    return [
        contact_event("a1", "INITIATED", M, base),
        contact_event("a2", "QUEUED", M + 2_000, base),
        contact_event("a3", "CONNECTED_TO_AGENT", M + 12_000, connected),
        contact_event("a4", "DISCONNECTED", M + 42_000, gone),
        contact_event("a5", "COMPLETED", M + 52_000, done),
    ]


def abandoned() -> list[dict]:
    base = ContactFacts(INSTANCE, "c-abandoned", "VOICE", "INBOUND", M + 1_000, SALES, M + 3_000)
    gone = ContactFacts(**{**base.__dict__, "disconnected_at": M + 33_000})
    return [
        contact_event("b1", "INITIATED", M + 1_000, base),
        contact_event("b2", "QUEUED", M + 3_000, base),
        contact_event("b3", "DISCONNECTED", M + 33_000, gone),
        contact_event("b4", "COMPLETED", M + 33_500, gone),
    ]


def test_each_contact_counts_once_whatever_the_order_and_duplicates(job_output):
    a, b = answered(), abandoned()
    # QUEUED before INITIATED (2 s apart), every QUEUED twice, a DISCONNECTED repeated late.
    recording = [a[1], a[0], b[1], b[0], a[1], b[1], a[2], b[2], a[3], b[3], a[4], a[3]]
    # Sales' own targets: the answer after exactly 10 s and the abandon after 30 s count within.
    lines = job_output(recording, {"completed_dump.sql": COMPLETED_DUMP},
                       service_level_queue_thresholds="q-sales=30,10")

    queued = {
        (dimensions(line)["queue_id"], int(line["record"]["Time"])): measures(line)
        for line in lines if line["table"] == "queue_interval"
    }
    assert queued == {("q-sales", M): {
        "contacts_queued": "2", "callbacks_queued": "0", "contacts_handled": "1",
        "contacts_abandoned": "1", "contacts_removed": "2", "sum_queue_answer_time": "10.0", "max_queued_time": "30.0", "sum_abandon_time": "30.0",
        "contacts_completed": "1", "sum_handle_time": "40.0", "sum_hold_time": "0.0",
        "sum_after_contact_work_time": "10.0", "contacts_transferred_out": "0",
        "avg_queue_answer_time": "10.0", "avg_handle_time": "40.0",
        "avg_after_contact_work_time": "10.0", "avg_abandon_time": "30.0",
        "abandonment_rate": "50.0",
    }}

    service_level = {
        (dimensions(line)["queue_id"], dimensions(line)["threshold_s"], int(line["record"]["Time"])):
        measures(line) for line in lines if line["table"] == "queue_service_level"
    }
    assert service_level == {
        ("q-sales", "10", M): {"contacts_removed": "2", "contacts_removed_within": "1",
                               "sum_contacts_answered_within": "1", "service_level": "50.0"},
        ("q-sales", "30", M): {"contacts_removed": "2", "contacts_removed_within": "2",
                               "sum_contacts_answered_within": "1", "service_level": "100.0"},
    }

    completed = {
        dimensions(line)["contact_id"]: (dimensions(line)["outcome"], measures(line))
        for line in lines if line["table"] == "completed_dump"
    }
    assert completed["c-answered"] == (
        "HANDLED", {"summaries": "1", "queue_wait_ms": "10000", "handle_ms": "40000"},
    )
    assert completed["c-abandoned"][0] == "ABANDONED"
    assert completed["c-abandoned"][1]["summaries"] == "1"
