"""Whatever arrives, `parse_record` returns an event or a dead letter with a precise reason.

Random bytes, random JSON, and random mutations of valid records (keys dropped or re-cased,
values replaced by nulls, wrong types or garbage strings, values nested, numbers turned into
strings, bytes truncated or flipped). Over 100,000 inputs in all; the batch test checks many
inputs per example to keep the run short.
"""

from __future__ import annotations

import copy
import random
from datetime import datetime, timedelta, timezone

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobs.core.events import (
    AgentEvent,
    AgentSnapshot,
    ContactEvent,
    DeadLetter,
    DeadLetterReason,
    _parse_time,
    parse_record,
)
from simulator.centre import AGENT_FEED, CONTACT_FEED, Centre, CentreSettings
from tests.unit.test_events import SAMPLES

BATCH = 150
BATCH_EXAMPLES = 800  # x BATCH inputs
PROPERTY = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=False)


def _simulated(per_feed: int) -> list[bytes]:
    """The first records of each feed from a small simulated contact centre."""
    centre = Centre(CentreSettings(agents=4, arrivals_per_minute=30), seed=7,
                    start_ms=1_795_428_000_000)
    feeds: dict[str, list[bytes]] = {AGENT_FEED: [], CONTACT_FEED: []}
    for emitted in centre.events(8 * 3_600_000):
        records = feeds[emitted.feed]
        if len(records) < per_feed:
            records.append(orjson.dumps(emitted.record))
        if all(len(records) == per_feed for records in feeds.values()):
            break
    return feeds[AGENT_FEED] + feeds[CONTACT_FEED]


BASES: list[bytes] = [*SAMPLES, *_simulated(30)]
BASE_DOCUMENTS = [orjson.loads(raw) for raw in BASES]

GARBAGE = [
    None, True, False, 0, -1, 1, 3.5, -0.0, 1e300, 2**63 - 1, -(2**63), "", " ", "x", "null",
    "NaN", "1e999", "-0", "0x10", "1_000", "\u0000", "\U0001f642", "Ǆ", "ß", "İ", "\ufeff",
    "1970-01-01T00:00:00.001Z", "1970-01-01T00:00:00.000Z", "2021-02-30T00:00:00Z",
    "2021-08-04T24:00:00.000Z", "2021-08-04T17:43:47", "9999-12-31T23:59:59.999Z",
    "0001-01-01T00:00:00+14:00", "2021-08-04T17:43:47.519+25:00", "2021-08-04T17:43:47.5191234Z",
    "arn:", "arn:aws:connect:us-west-2:0:instance/", "agent/", "/", "//agent//", "queue/agent/",
    "arn:aws:connect:us-west-2:0:instance/i/queue/agent", "TASKS", "Voice", "ENDED",
    [], {}, [None], [[]], {"": None}, {"ARN": None}, ["VOICE", None, 3, "tasks"],
]


# --- the invariant --------------------------------------------------------------------------


def check(data: bytes) -> None:
    result = parse_record(data, "stream", 7)
    if isinstance(result, DeadLetter):
        assert result.reason is not DeadLetterReason.UNEXPECTED, result.message
        assert (result.raw, result.stream, result.arrival_time) == (data, "stream", 7)
        assert isinstance(result.message, str) and result.message
        result.to_json()
    elif isinstance(result, AgentEvent):
        assert result.agent_id and isinstance(result.agent_id, str)
        assert isinstance(result.instance_id, str) and isinstance(result.event_id, str)
        assert type(result.event_time) is int and result.event_time > 1
        assert result.event_type and result.event_type == result.event_type.upper()
        assert isinstance(result.online, bool)
        for snapshot in (result.current, result.previous):
            assert snapshot is None or isinstance(snapshot, AgentSnapshot)
            if snapshot is not None:
                check_snapshot(snapshot)
    elif isinstance(result, ContactEvent):
        assert result.contact_id and isinstance(result.contact_id, str)
        assert type(result.event_time) is int and result.event_time > 1
        assert result.event_type and result.event_type == result.event_type.upper()
        assert isinstance(result.instance_id, str) and isinstance(result.event_id, str)
        for time in (result.enqueue_time, result.connected_to_agent_time, result.disconnect_time,
                     result.initiation_time, result.acw_end_time, result.envelope_time):
            assert time is None or (type(time) is int and time > 1)
        for number in (result.acw_duration_s, result.hold_duration_s):
            assert number is None or type(number) is int
        assert result.channel is None or result.channel == result.channel.upper()
    else:
        raise AssertionError(f"unexpected result {result!r}")


def check_snapshot(snapshot: AgentSnapshot) -> None:
    status = snapshot.status
    assert status.type is None or status.type == status.type.upper()
    for contact in snapshot.contacts:
        assert contact.contact_id and isinstance(contact.contact_id, str)
        assert contact.channel != "TASKS"
    profile = snapshot.routing_profile
    if profile is not None:
        assert profile.profile_id and isinstance(profile.profile_id, str)
        for queue in profile.inbound_queues:
            assert queue.queue_id and all(isinstance(c, str) for c in queue.channels)
        for slots in profile.concurrency:
            assert type(slots.max_slots) is int and type(slots.available_slots) is int
    for group in snapshot.hierarchy_groups:
        assert 1 <= group.level <= 5


# --- mutations ------------------------------------------------------------------------------


def pick(document, rng: random.Random):
    """A (container, key) pair of the document, by a random walk from the top: shallow and
    deep fields (contacts inside snapshots) both get picked."""
    container, key = None, None
    value = document
    while isinstance(value, (dict, list)) and value:
        keys = list(value) if isinstance(value, dict) else range(len(value))
        container, key = value, rng.choice(keys)
        value = container[key]
        if rng.random() < 0.2:
            break
    return container, key


def recase(key: str, how: int) -> str:
    return (key.lower, key.upper, key.swapcase, key.title)[how % 4]()


OPERATIONS = ("drop", "recase", "replace", "nest_list", "nest_object", "stringify",
              "duplicate_key", "truncate", "flip", "wrap_document")


def mutate(document, operation: str, index: int, value) -> tuple[object, bytes | None]:
    """One mutation; returns the document and, for byte-level mutations, the bytes."""
    if operation in ("truncate", "flip"):
        data = orjson.dumps(document)
        where = index % max(len(data), 1)
        if operation == "truncate":
            return document, data[:where]
        return document, data[:where] + bytes([(data[where] + 1 + index % 255) % 256]) + data[
            where + 1:]
    if operation == "wrap_document":
        return ([document] if index % 2 else {"detail": document}), None
    container, key = pick(document, random.Random(index))
    if container is None:
        return document, None
    if operation == "drop":
        del container[key]
    elif operation == "recase" and isinstance(key, str):
        container[recase(key, index)] = container.pop(key)
    elif operation == "replace":
        container[key] = copy.deepcopy(value)
    elif operation == "nest_list":
        container[key] = [container[key]]
    elif operation == "nest_object":
        container[key] = {"value": container[key]}
    elif operation == "stringify":
        item = container[key]
        if isinstance(item, (int, float)) and not isinstance(item, bool):
            container[key] = str(item)
        elif isinstance(item, str):
            container[key] = item.upper() if index % 2 else item.lower()
    elif operation == "duplicate_key" and isinstance(key, str):
        container[recase(key, index)] = copy.deepcopy(value)
    return document, None


def mutated_bytes(base: int, mutations) -> bytes:
    document = orjson.loads(BASES[base % len(BASES)])
    for operation, index, value in mutations:
        document, data = mutate(document, operation, index, value)
        if data is not None:
            return data
    return orjson.dumps(document)


def random_mutations(rng: random.Random):
    return [
        (rng.choice(OPERATIONS), rng.randrange(1 << 30), rng.choice(GARBAGE))
        for _ in range(rng.randint(1, 5))
    ]


# --- properties -----------------------------------------------------------------------------

garbage = st.one_of(
    st.sampled_from(GARBAGE),
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=8), st.none() | st.text(max_size=8), max_size=3),
)
mutation = st.tuples(st.sampled_from(OPERATIONS), st.integers(0, 1 << 30), garbage)


@settings(PROPERTY, max_examples=10_000)
@given(st.binary(max_size=1024))
def test_random_bytes(data):
    check(data)


@settings(PROPERTY, max_examples=4_000)
@given(
    st.sampled_from(BASES),
    st.integers(min_value=0),
    st.binary(min_size=1, max_size=16),
)
def test_bytes_spliced_into_valid_records(base, where, junk):
    at = where % (len(base) + 1)
    check(base[:at] + junk + base[at:])
    check(base[:at] + base[at + len(junk):])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20)
    | st.sampled_from([g for g in GARBAGE if isinstance(g, str)]),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(
        st.sampled_from(["AgentARN", "EventType", "EventTimestamp", "CurrentAgentSnapshot",
                         "AgentStatus", "Contacts", "detail", "detail-type", "eventType",
                         "contactId", "time", "queueInfo", "agentInfo", "Configuration",
                         "RoutingProfile", "InboundQueues", "agentarn", "DETAIL"])
        | st.text(max_size=8),
        children, max_size=5,
    ),
    max_leaves=30,
)


@settings(PROPERTY, max_examples=1_000)
@given(json_values)
def test_random_json_documents(document):
    check(orjson.dumps(document))


@settings(PROPERTY, max_examples=3_000)
@given(st.integers(min_value=0, max_value=len(BASES) - 1), st.lists(mutation, max_size=6))
def test_mutated_records(base, mutations):
    check(mutated_bytes(base, mutations))


@settings(PROPERTY, max_examples=BATCH_EXAMPLES)
@given(st.integers(min_value=0, max_value=2**64))
def test_batches_of_random_mutations(seed):
    rng = random.Random(seed)
    for _ in range(BATCH):
        check(mutated_bytes(rng.randrange(len(BASES)), random_mutations(rng)))


def recase_everything(value, rng: random.Random):
    if isinstance(value, dict):
        return {recase(key, rng.randrange(4)): recase_everything(item, rng)
                for key, item in value.items()}
    if isinstance(value, list):
        return [recase_everything(item, rng) for item in value]
    return value


@settings(PROPERTY, max_examples=2_000)
@given(st.integers(min_value=0, max_value=len(BASES) - 1), st.integers(min_value=0))
def test_key_casing_never_changes_the_result(base, seed):
    recased = orjson.dumps(recase_everything(BASE_DOCUMENTS[base], random.Random(seed)))
    assert parse_record(recased, "s", 1) == parse_record(BASES[base], "s", 1)


EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@settings(PROPERTY, max_examples=2_000)
@given(st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9999, 12, 30)))
def test_fast_timestamp_path_agrees_with_datetime(moment):
    moment = moment.replace(tzinfo=timezone.utc)
    millis = (moment - EPOCH) // timedelta(milliseconds=1)
    whole = moment.strftime("%Y-%m-%dT%H:%M:%S")
    assert _parse_time(f"{whole}.{moment.microsecond // 1000:03d}Z") == millis
    assert _parse_time(f"{whole}Z") == millis - millis % 1000
    assert _parse_time(moment.isoformat()) == millis
