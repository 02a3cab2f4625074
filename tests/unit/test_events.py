import orjson

from jobs.events import AgentEvent, ContactEvent, DeadLetter, DeadLetterReason, parse_record
from simulator.records import (
    Agent, AgentState, ContactFacts, Queue, RoutingProfile, Status, agent_event, contact_event,
)

INSTANCE = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
QUEUE = Queue(INSTANCE, "q-1", "Sales")
AGENT = Agent(INSTANCE, "agent-1", "jdoe", "Jane", "Doe", RoutingProfile(INSTANCE, "rp-1", "Basic", (QUEUE,)))
T0 = 1_795_428_000_000


def parse(document) -> object:
    return parse_record(orjson.dumps(document), "stream", 1)


def test_queued_contact_event():
    facts = ContactFacts(INSTANCE, "c-1", "VOICE", "INBOUND", T0, QUEUE, T0 + 1500)
    event = parse(contact_event("e-1", "QUEUED", T0 + 2000, facts))
    assert event == ContactEvent(
        event_id="e-1", event_type="QUEUED", event_time=T0 + 1500, contact_id="c-1",
        instance_id=INSTANCE, channel="VOICE", initiation_method="INBOUND", queue_id="q-1",
    )


def test_contact_event_time_falls_back_to_the_envelope_time():
    facts = ContactFacts(INSTANCE, "c-1", "VOICE", "INBOUND", T0)
    record = contact_event("e-1", "CONTACT_DATA_UPDATED", T0 + 5_400, facts)
    assert parse(record).event_time == T0 + 5_000


def test_agent_event_online_from_status_type():
    available = AgentState(Status("Available", "s-1", "ROUTABLE", T0))
    event = parse(agent_event("e-2", "STATE_CHANGE", T0, AGENT, available, available))
    assert isinstance(event, AgentEvent)
    assert (event.agent_id, event.instance_id, event.online) == ("agent-1", INSTANCE, True)
    offline = AgentState(Status("Offline", "s-2", "OFFLINE", T0))
    assert not parse(agent_event("e-3", "STATE_CHANGE", T0, AGENT, offline, available)).online
    assert not parse(agent_event("e-4", "LOGOUT", T0, AGENT, available, None)).online


def test_unusable_records_become_dead_letters():
    cases = {
        b"\xff\xfe": DeadLetterReason.NOT_UTF8,
        b"{not json": DeadLetterReason.INVALID_JSON,
        b"[1, 2]": DeadLetterReason.NOT_CONNECT,
        b'{"hello": "world"}': DeadLetterReason.NOT_CONNECT,
        b'{"AgentARN": "arn:x", "EventTimestamp": "2026-01-01T00:00:00Z"}':
            DeadLetterReason.MISSING_FIELD,
        b'{"AgentARN": "arn:x", "EventType": "LOGIN", "EventTimestamp": "yesterday"}':
            DeadLetterReason.BAD_TIMESTAMP,
        b" " * 1_048_577: DeadLetterReason.TOO_LARGE,
    }
    for raw, reason in cases.items():
        letter = parse_record(raw, "agent-events", 42)
        assert isinstance(letter, DeadLetter), raw[:40]
        assert letter.reason is reason, raw[:40]
        assert (letter.raw, letter.stream, letter.arrival_time) == (raw, "agent-events", 42)
