import orjson

from jobs.raw_events import agent_event_records, contact_event_records
from connectors.timestream import RecordLimits, check_record
from jobs.core.events import parse_record
from simulator.records import (
    Agent, AgentState, ContactFacts, Queue, RoutingProfile, SnapshotContact, Status, agent_event,
    contact_event,
)

INSTANCE = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
QUEUE = Queue(INSTANCE, "q-1", "Sales")
AGENT = Agent(INSTANCE, "agent-1", "jdoe", "Jane", "Doe", RoutingProfile(INSTANCE, "rp", "Basic", (QUEUE,)))
T0 = 1_795_428_000_000


def fields(record: dict) -> dict:
    return {m["Name"]: m["Value"] for m in record["MeasureValues"]}


def test_agent_event_flattens_the_snapshot_and_one_row_per_contact():
    talking = AgentState(Status("Available", "s", "ROUTABLE", T0),
                         (SnapshotContact("c-1", "VOICE", "INBOUND", "CONNECTED", T0, QUEUE, T0, T0),))
    event = parse_record(orjson.dumps(agent_event("e-1", "STATE_CHANGE", T0, AGENT, talking,
                                                  AgentState(talking.status))), "s", 0)
    records = agent_event_records(event, version=3)
    assert [table for table, _ in records] == ["AgentEvent", "AgentEvent_Contact"]
    agent_row, contact_row = records[0][1], records[1][1]
    assert fields(agent_row)["CurrentAgentSnapshot_AgentStatus_Name"] == "Available"
    assert fields(agent_row)["CurrentAgentSnapshot_Contacts_Count"] == "1"
    assert fields(agent_row)["PreviousAgentSnapshot_Contacts_Count"] == "0"
    assert "Jane" not in orjson.dumps(agent_row).decode()
    assert fields(contact_row)["State"] == "CONNECTED"
    assert {d["Name"] for d in contact_row["Dimensions"]} == {"AgentARN", "ContactId", "Channel"}
    for _, record in records:
        assert check_record(record, T0, RecordLimits()) is None


def test_contact_event_row():
    facts = ContactFacts(INSTANCE, "c-1", "CHAT", "INBOUND", T0, QUEUE, T0 + 1_000)
    event = parse_record(orjson.dumps(contact_event("e-2", "QUEUED", T0 + 1_000, facts)), "s", 0)
    [(table, record)] = contact_event_records(event, version=1)
    assert table == "ContactEvent"
    assert record["Time"] == str(T0 + 1_000)
    assert fields(record)["EnqueueTimestamp"] == str(T0 + 1_000)
    assert check_record(record, T0, RecordLimits()) is None
