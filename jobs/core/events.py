"""Amazon Connect records, parsed: one raw Kinesis record in, a typed event or a dead letter out.

Two feeds arrive, and the feed is recognised from the record itself:

* the agent event stream (Connect writes it to Kinesis): `AgentARN`, `EventType`,
  `EventTimestamp`, full current and previous `AgentSnapshot`s;
* contact events (Connect publishes them to EventBridge, a rule puts the whole EventBridge
  envelope into Kinesis): `id`, `detail-type`, `time`, `detail` {`eventType`, `contactId`, ...}.
  A bare `detail` object (an EventBridge input transformer that forwards `$.detail`) is read too.

Tolerance. Connect's samples and real traffic disagree on casing and shape, so:

* keys are matched case-insensitively at every level (the documented spelling is tried first;
  an object whose keys are not all documented spellings is re-keyed once);
* every field except the ids, the event type and the event time may be missing, null, or of the
  wrong type: such a value is read as absent, never fatal;
* numbers given as strings are read as numbers; ids given as numbers are read as strings;
* event types, channels, initiation methods, contact states and queue types are upper-cased;
  unknown values are kept as they are (upper-cased), `TASKS` is read as `TASK`;
* timestamps are ISO 8601 with or without fractional seconds, with `Z` or a numeric offset; a
  time at or before `1970-01-01T00:00:00.001Z` (Connect's "not set" value) is read as absent;
* `NextAgentStatus` carries `EnqueueTimestamp` (data model) or `EnqueuedTimestamp` (sample);
* agent queues (`.../queue/agent/AGENT_ID`) get the queue id `agent/AGENT_ID`, so they do not
  collapse into one queue called `agent`.

All times are epoch milliseconds (UTC); durations are whole seconds as Connect gives them; ids
are the part of their ARN after the resource type (`.../instance/ID/agent/ID`); a queue, routing
profile or hierarchy group whose ARN has no such part keeps the whole ARN as its id.

Event time rule:

* agent events: `EventTimestamp`. Missing -> dead letter MISSING_FIELD; unparseable or "not
  set" -> BAD_TIMESTAMP.
* contact events: the most precise timestamp that belongs to the event type, else the envelope's
  `time` (second precision):

  ==================== ===================================================================
  INITIATED            `initiationTimestamp`
  CONNECTED_TO_SYSTEM  `connectedToSystemTimestamp`
  QUEUED               `queueInfo.enqueueTimestamp`
  CONNECTED_TO_AGENT   `agentInfo.connectedToAgentTimestamp`
  DISCONNECTED         `disconnectTimestamp`
  COMPLETED            `agentInfo.afterContactWorkEndTimestamp`, else `disconnectTimestamp`
  any other type       none (PAUSED, RESUMED, CONTACT_DATA_UPDATED, ...): envelope `time`
  ==================== ===================================================================

  A candidate that is absent or "not set" is skipped; one that is present but unparseable is
  skipped too. When no candidate is left: BAD_TIMESTAMP if some candidate was present but
  unparseable, else MISSING_FIELD (no own timestamp and no envelope `time`).

Nothing here raises on bad input: a record the job cannot use becomes a `DeadLetter` (reason,
message, raw bytes, stream, arrival time). Reasons: TOO_LARGE (over 1 MB), NOT_UTF8,
INVALID_JSON, NOT_CONNECT (not a JSON object, or neither feed: an agent record has `AgentARN`,
`CurrentAgentSnapshot`, `PreviousAgentSnapshot` or `EventTimestamp`; a contact record has
`detail`, or is a bare detail with `contactId`; an EventBridge event whose `detail-type` is not
a contact event), MISSING_FIELD (event type, contact id, agent ARN or an agent id in it, event
time), BAD_TIMESTAMP; UNEXPECTED only if the parser itself fails. Personal data: agents' first and last names are dropped unless
`ParseOptions.keep_agent_names`; usernames are kept unless `ParseOptions.keep_usernames` is off.
This module imports nothing from Flink.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from enum import Enum

import orjson

from jobs.core.fast_pickle import pickled_by_fields

MAX_RECORD_BYTES = 1_048_576
_NOT_SET_MILLIS = 1  # 1970-01-01T00:00:00.001Z, Connect's "not set"; at or before it: absent
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_MILLISECOND = timedelta(milliseconds=1)
_DAY_MS = 86_400_000
_CHANNELS = {"VOICE": "VOICE", "CHAT": "CHAT", "TASK": "TASK", "TASKS": "TASK", "EMAIL": "EMAIL"}
_STATUS_TYPES = {"available": "ROUTABLE", "offline": "OFFLINE"}
_BOM = b"\xef\xbb\xbf"
# The JSON decoder. orjson decodes Connect's records 2-3x as fast as the standard json module,
# which makes a whole parse about 1.3x as fast (benchmarks/parse_throughput.py swaps this to
# compare them).
_LOADS: Callable[[bytes], object] = orjson.loads
# Parsing caches (times, minutes, ARNs; routing profiles and snapshot contacts by their JSON)
# are cleared when full, and skip keys too long to be real, so garbage cannot grow them.
_CACHE_LIMIT = 20_000
_OBJECT_CACHE_LIMIT = 2_000
_MAX_TEXT_KEY = 512
_MAX_OBJECT_KEY = 16_384


class DeadLetterReason(str, Enum):
    NOT_UTF8 = "not_utf8"
    INVALID_JSON = "invalid_json"
    NOT_CONNECT = "not_connect_record"
    MISSING_FIELD = "missing_field"
    BAD_TIMESTAMP = "bad_timestamp"
    TOO_LARGE = "record_too_large"
    EVENT_IN_FUTURE = "event_in_future"  # see jobs.core.event_guard
    EVENT_TOO_OLD = "event_too_old"
    UNEXPECTED = "unexpected_error"  # the catch-all: a parser bug, not a bad record


@dataclass(frozen=True)
class ParseOptions:
    """What personal data parsed agent events keep."""

    keep_agent_names: bool = False
    keep_usernames: bool = True


DEFAULT_OPTIONS = ParseOptions()


@dataclass(frozen=True)
class DeadLetter:
    reason: DeadLetterReason
    message: str
    raw: bytes
    stream: str
    arrival_time: int

    def to_json(self) -> dict:
        return {
            "reason": self.reason.value,
            "message": self.message,
            "raw_base64": base64.b64encode(self.raw).decode("ascii"),
            "stream": self.stream,
            "arrival_time": self.arrival_time,
        }


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class ContactEvent:
    """One Amazon Connect contact event (EventBridge `detail`), normalised.

    Times are epoch milliseconds (None when absent or Connect's 'not set' value); durations are
    whole seconds as Connect gives them. Ids are the last part of their ARN.
    """

    event_id: str
    event_type: str
    event_time: int
    contact_id: str
    instance_id: str
    channel: str | None
    initiation_method: str | None
    queue_id: str | None
    initial_contact_id: str | None = None
    previous_contact_id: str | None = None
    related_contact_id: str | None = None
    queue_arn: str | None = None
    queue_type: str | None = None
    enqueue_time: int | None = None
    agent_id: str | None = None
    agent_arn: str | None = None
    connected_to_agent_time: int | None = None
    acw_start_time: int | None = None
    acw_end_time: int | None = None
    acw_duration_s: int | None = None
    hold_duration_s: int | None = None
    initiation_time: int | None = None
    connected_to_system_time: int | None = None
    disconnect_time: int | None = None
    disconnect_reason: str | None = None
    envelope_time: int | None = None


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class QueueRef:
    queue_id: str
    arn: str
    name: str | None
    channels: tuple[str, ...] = ()


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class ChannelConcurrency:
    channel: str
    max_slots: int
    available_slots: int


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class RoutingProfileInfo:
    profile_id: str
    arn: str
    name: str | None
    inbound_queues: tuple[QueueRef, ...] = ()
    default_outbound_queue: QueueRef | None = None
    concurrency: tuple[ChannelConcurrency, ...] = ()


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class HierarchyGroup:
    level: int
    group_id: str
    arn: str
    name: str | None


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class AgentStatus:
    name: str | None
    arn: str | None
    start_time: int | None
    # ROUTABLE | CUSTOM | OFFLINE: the declared Type, else derived from the name (Available ->
    # ROUTABLE, Offline -> OFFLINE, any other name -> CUSTOM); None when there is neither.
    type: str | None


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class NextAgentStatus:
    name: str | None
    arn: str | None
    enqueued_time: int | None


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class AgentContact:
    """A contact inside an agent snapshot, in the agent's view of it."""

    contact_id: str
    initial_contact_id: str | None
    channel: str | None
    initiation_method: str | None
    state: str | None  # INCOMING, PENDING, CONNECTING, CONNECTED, CONNECTED_ONHOLD, MISSED, ...
    state_start_time: int | None
    queue: QueueRef | None
    queue_time: int | None
    connected_to_agent_time: int | None


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class AgentSnapshot:
    status: AgentStatus
    next_status: NextAgentStatus | None
    routing_profile: RoutingProfileInfo | None
    hierarchy_groups: tuple[HierarchyGroup, ...]
    contacts: tuple[AgentContact, ...]


_NO_STATUS = AgentStatus(None, None, None, None)


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class AgentEvent:
    """One record of the agent event stream, normalised. Names are kept only when configured.

    `previous` is None when the record has no previous snapshot (LOGIN, LOGOUT) or it is null.
    """

    event_id: str
    event_type: str
    event_time: int
    agent_id: str
    instance_id: str
    agent_arn: str = ""
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    current: AgentSnapshot | None = None
    previous: AgentSnapshot | None = None

    @property
    def status_name(self) -> str | None:
        return self.current.status.name if self.current is not None else None

    @property
    def status_type(self) -> str | None:
        return self.current.status.type if self.current is not None else None

    @property
    def online(self) -> bool:
        return self.event_type != "LOGOUT" and self.status_type not in (None, "OFFLINE")


class _Reject(Exception):
    def __init__(self, reason: DeadLetterReason, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


def parse_record(
    data: bytes, stream: str, arrival_time: int, *, options: ParseOptions = DEFAULT_OPTIONS
) -> ContactEvent | AgentEvent | DeadLetter:
    """Parse one record of either feed; the feed is recognised from the record itself."""
    try:
        return _parse(data, options, _LOADS)
    except _Reject as reject:
        return DeadLetter(reject.reason, reject.message, _raw(data), stream, arrival_time)
    except Exception as err:  # noqa: BLE001 - a record must never kill the job
        return DeadLetter(
            DeadLetterReason.UNEXPECTED, f"unreadable record: {err!r}", _raw(data), stream,
            arrival_time,
        )


def _raw(data) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    return str(data).encode("utf-8", "replace")


def _parse(
    data: bytes, options: ParseOptions, loads: Callable[[bytes], object]
) -> ContactEvent | AgentEvent:
    if len(data) > MAX_RECORD_BYTES:
        raise _Reject(DeadLetterReason.TOO_LARGE, f"record of {len(data)} bytes is over 1 MB")
    try:
        document = loads(data)
    except (ValueError, RecursionError) as err:
        document = _unreadable(data, err, loads)
    if type(document) is not dict:
        raise _Reject(
            DeadLetterReason.NOT_CONNECT, f"a JSON {type(document).__name__}, not a JSON object"
        )
    if "AgentARN" in document or "CurrentAgentSnapshot" in document:
        return _agent_event(document, options)
    if "detail" in document:
        return _contact_envelope(document)
    keys = {key.lower() for key in document}
    if "detail" in keys:
        return _contact_envelope(document)
    if keys & _AGENT_MARKERS:
        return _agent_event(document, options)
    if "contactid" in keys:
        return _contact_event(document, None)
    raise _Reject(
        DeadLetterReason.NOT_CONNECT,
        "neither an agent event (AgentARN, CurrentAgentSnapshot, EventTimestamp) nor a contact "
        "event (EventBridge envelope with detail, or a detail with contactId)",
    )


def _unreadable(data: bytes, err: Exception, loads: Callable[[bytes], object]) -> object:
    """The document after a failed load when only a UTF-8 byte order mark was in the way;
    otherwise the precise reason the record cannot be read."""
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError as bad:
        raise _Reject(
            DeadLetterReason.NOT_UTF8, f"not UTF-8: {bad.reason} at byte {bad.start}"
        ) from None
    if text.startswith("\ufeff"):
        try:
            return loads(bytes(data)[len(_BOM):])
        except (ValueError, RecursionError) as again:
            err = again
    if isinstance(err, RecursionError):
        raise _Reject(DeadLetterReason.INVALID_JSON, "invalid JSON: nested too deeply") from None
    raise _Reject(DeadLetterReason.INVALID_JSON, f"invalid JSON: {err}") from None


# --- case-insensitive objects ---------------------------------------------------------------


class _Shape:
    """The documented keys of one kind of JSON object."""

    __slots__ = ("known", "canonical")

    def __init__(self, *keys: str):
        self.known = frozenset(keys)
        self.canonical = {key.lower(): key for key in keys}


def _keyed(obj: dict, shape: _Shape) -> dict:
    """`obj` itself when every key is spelled as documented, else a copy keyed as documented.

    On a clash (`agentInfo` and `AgentInfo` both present) a non-null value wins.
    """
    if obj.keys() <= shape.known:
        return obj
    canonical = shape.canonical
    keyed: dict = {}
    for key, value in obj.items():
        name = canonical.get(key.lower(), key)
        if value is None and keyed.get(name) is not None:
            continue
        keyed[name] = value
    return keyed


def _object(value, shape: _Shape) -> dict | None:
    return _keyed(value, shape) if type(value) is dict else None


_AGENT_MARKERS = frozenset(
    {"agentarn", "currentagentsnapshot", "previousagentsnapshot", "eventtimestamp"}
)
_AGENT_RECORD = _Shape(
    "AWSAccountId", "AgentARN", "CurrentAgentSnapshot", "EventId", "EventTimestamp", "EventType",
    "InstanceARN", "PreviousAgentSnapshot", "Version",
)
_SNAPSHOT = _Shape("AgentStatus", "NextAgentStatus", "Configuration", "Contacts")
_STATUS = _Shape("ARN", "Name", "StartTimestamp", "Type")
_NEXT_STATUS = _Shape("ARN", "Name", "EnqueueTimestamp", "EnqueuedTimestamp")
_CONFIGURATION = _Shape(
    "FirstName", "LastName", "Username", "AgentHierarchyGroups", "RoutingProfile", "Proficiencies",
)
_ROUTING_PROFILE = _Shape("ARN", "Name", "InboundQueues", "DefaultOutboundQueue", "Concurrency")
_QUEUE = _Shape("ARN", "Name", "Channels")
_CONCURRENCY = _Shape("Channel", "AvailableSlots", "MaximumSlots")
_HIERARCHY = _Shape("Level1", "Level2", "Level3", "Level4", "Level5")
_GROUP = _Shape("ARN", "Name")
_CONTACT = _Shape(
    "ContactId", "InitialContactId", "Channel", "InitiationMethod", "State",
    "StateStartTimestamp", "ConnectedToAgentTimestamp", "QueueTimestamp", "Queue",
)
_ENVELOPE = _Shape(
    "version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail",
)
_DETAIL = _Shape(
    "eventType", "contactId", "initialContactId", "previousContactId", "relatedContactId",
    "instanceArn", "channel", "initiationMethod", "initiationTimestamp",
    "connectedToSystemTimestamp", "disconnectTimestamp", "scheduledTimestamp", "queueInfo",
    "agentInfo", "disconnectReason", "tags", "updatedProperties", "routingCriteria",
)
_QUEUE_INFO = _Shape("queueArn", "queueType", "enqueueTimestamp")
_AGENT_INFO = _Shape(
    "agentArn", "connectedToAgentTimestamp", "acceptedByAgentTimestamp",
    "agentInitiatedHoldDuration", "afterContactWorkStartTimestamp",
    "afterContactWorkEndTimestamp", "afterContactWorkDuration", "hierarchyGroups",
)
_EMPTY: dict = {}


# --- contact events -------------------------------------------------------------------------


def _contact_envelope(document: dict) -> ContactEvent:
    envelope = _keyed(document, _ENVELOPE)
    detail_type = _text(envelope.get("detail-type"))
    if detail_type is not None and "contact event" not in detail_type.lower():
        raise _Reject(
            DeadLetterReason.NOT_CONNECT,
            f"an EventBridge event of type {_show(detail_type)}, not a Connect contact event",
        )
    detail = envelope.get("detail")
    if type(detail) is not dict:
        raise _Reject(DeadLetterReason.MISSING_FIELD, "missing detail (not an object)")
    return _contact_event(detail, envelope)


def _contact_event(raw_detail: dict, envelope: dict | None) -> ContactEvent:
    detail = _keyed(raw_detail, _DETAIL)
    event_type = _upper(detail.get("eventType"))
    if event_type is None:
        raise _Reject(DeadLetterReason.MISSING_FIELD, "missing eventType")
    contact_id = _text(detail.get("contactId"))
    if contact_id is None:
        raise _Reject(DeadLetterReason.MISSING_FIELD, "missing contactId")
    queue = _object(detail.get("queueInfo"), _QUEUE_INFO) or _EMPTY
    agent = _object(detail.get("agentInfo"), _AGENT_INFO) or _EMPTY
    if envelope is None:
        envelope = _EMPTY

    if event_type == "INITIATED":
        own = ("initiationTimestamp", detail.get("initiationTimestamp"))
    elif event_type == "CONNECTED_TO_SYSTEM":
        own = ("connectedToSystemTimestamp", detail.get("connectedToSystemTimestamp"))
    elif event_type == "QUEUED":
        own = ("queueInfo.enqueueTimestamp", queue.get("enqueueTimestamp"))
    elif event_type == "CONNECTED_TO_AGENT":
        own = ("agentInfo.connectedToAgentTimestamp", agent.get("connectedToAgentTimestamp"))
    elif event_type == "DISCONNECTED":
        own = ("disconnectTimestamp", detail.get("disconnectTimestamp"))
    elif event_type == "COMPLETED":
        own = (
            "agentInfo.afterContactWorkEndTimestamp", agent.get("afterContactWorkEndTimestamp"),
            "disconnectTimestamp", detail.get("disconnectTimestamp"),
        )
    else:
        own = ()
    envelope_time = _time(envelope.get("time"))
    event_time = _event_time(own, envelope_time, envelope.get("time"))

    queue_arn = _text(queue.get("queueArn"))
    agent_arn = _text(agent.get("agentArn"))
    instance_id = _arn_ids(_text(detail.get("instanceArn")) or "").get("instance")
    if instance_id is None:
        instance_id = _instance_from_resources(envelope.get("resources"))
    event_id = _text(envelope.get("id")) or f"{contact_id}:{event_type}:{event_time}"
    return ContactEvent(
        event_id=event_id,
        event_type=event_type,
        event_time=event_time,
        contact_id=contact_id,
        instance_id=instance_id,
        channel=_channel(detail.get("channel")),
        initiation_method=_upper(detail.get("initiationMethod")),
        queue_id=_arn_ids(queue_arn).get("queue") if queue_arn else None,
        initial_contact_id=_text(detail.get("initialContactId")),
        previous_contact_id=_text(detail.get("previousContactId")),
        related_contact_id=_text(detail.get("relatedContactId")),
        queue_arn=queue_arn,
        queue_type=_upper(queue.get("queueType")),
        enqueue_time=_time(queue.get("enqueueTimestamp")),
        agent_id=_arn_ids(agent_arn).get("agent") if agent_arn else None,
        agent_arn=agent_arn,
        connected_to_agent_time=_time(agent.get("connectedToAgentTimestamp")),
        acw_start_time=_time(agent.get("afterContactWorkStartTimestamp")),
        acw_end_time=_time(agent.get("afterContactWorkEndTimestamp")),
        acw_duration_s=_int(agent.get("afterContactWorkDuration")),
        hold_duration_s=_int(agent.get("agentInitiatedHoldDuration")),
        initiation_time=_time(detail.get("initiationTimestamp")),
        connected_to_system_time=_time(detail.get("connectedToSystemTimestamp")),
        disconnect_time=_time(detail.get("disconnectTimestamp")),
        disconnect_reason=_text(detail.get("disconnectReason")),
        envelope_time=envelope_time,
    )


def _event_time(own: tuple, envelope_time: int | None, raw_envelope_time) -> int:
    """The first usable candidate of `own` (name, value pairs), else the envelope time."""
    bad = []
    for index in range(0, len(own), 2):
        value = own[index + 1]
        if value is None:
            continue
        millis = _time(value)
        if millis is not None:
            return millis
        if not _is_not_set(value):
            bad.append(f"{own[index]} {_show(value)}")
    if envelope_time is not None:
        return envelope_time
    if raw_envelope_time is not None and not _is_not_set(raw_envelope_time):
        bad.append(f"time {_show(raw_envelope_time)}")
    if bad:
        raise _Reject(
            DeadLetterReason.BAD_TIMESTAMP, "no usable event time: " + ", ".join(bad)
        )
    raise _Reject(
        DeadLetterReason.MISSING_FIELD, "missing time (no own timestamp and no envelope time)"
    )


def _instance_from_resources(resources) -> str:
    if type(resources) is list:
        for resource in resources:
            if type(resource) is str:
                instance_id = _arn_ids(resource).get("instance")
                if instance_id:
                    return instance_id
    return ""


# --- agent events ---------------------------------------------------------------------------


def _agent_event(document: dict, options: ParseOptions) -> AgentEvent:
    record = _keyed(document, _AGENT_RECORD)
    event_type = _upper(record.get("EventType"))
    if event_type is None:
        raise _Reject(DeadLetterReason.MISSING_FIELD, "missing EventType")
    agent_arn = _text(record.get("AgentARN"))
    if agent_arn is None:
        raise _Reject(DeadLetterReason.MISSING_FIELD, "missing AgentARN")
    raw_time = record.get("EventTimestamp")
    if raw_time is None:
        raise _Reject(DeadLetterReason.MISSING_FIELD, "missing EventTimestamp")
    event_time = _time(raw_time)
    if event_time is None:
        raise _Reject(
            DeadLetterReason.BAD_TIMESTAMP, f"EventTimestamp {_show(raw_time)} is not a usable time"
        )
    ids = _arn_ids(agent_arn)
    agent_id = ids.get("agent")
    if not agent_id:
        raise _Reject(
            DeadLetterReason.MISSING_FIELD, f"missing agent id: AgentARN {_show(agent_arn)}"
        )
    instance_id = ids.get("instance")
    if instance_id is None:
        instance_id = _arn_ids(_text(record.get("InstanceARN")) or "").get("instance", "")

    current = previous = None
    configuration = None
    raw_current = record.get("CurrentAgentSnapshot")
    if type(raw_current) is dict:
        current, configuration = _snapshot(raw_current)
    raw_previous = record.get("PreviousAgentSnapshot")
    if type(raw_previous) is dict:
        previous, previous_configuration = _snapshot(raw_previous)
        if configuration is None:
            configuration = previous_configuration
    username = first_name = last_name = None
    if configuration is not None:
        if options.keep_usernames:
            username = _text(configuration.get("Username"))
        if options.keep_agent_names:
            first_name = _text(configuration.get("FirstName"))
            last_name = _text(configuration.get("LastName"))
    return AgentEvent(
        event_id=_text(record.get("EventId")) or f"{agent_id}:{event_type}:{event_time}",
        event_type=event_type,
        event_time=event_time,
        agent_id=agent_id,
        instance_id=instance_id,
        agent_arn=agent_arn,
        username=username,
        first_name=first_name,
        last_name=last_name,
        current=current,
        previous=previous,
    )


def _snapshot(raw: dict) -> tuple[AgentSnapshot, dict | None]:
    snapshot = _keyed(raw, _SNAPSHOT)
    configuration = _object(snapshot.get("Configuration"), _CONFIGURATION)
    if configuration is None:
        profile = None
        groups = ()
    else:
        profile = _routing_profile(configuration.get("RoutingProfile"))
        groups = _hierarchy_groups(configuration.get("AgentHierarchyGroups"))
    return (
        AgentSnapshot(
            status=_agent_status(snapshot.get("AgentStatus")),
            next_status=_next_status(snapshot.get("NextAgentStatus")),
            routing_profile=profile,
            hierarchy_groups=groups,
            contacts=_contacts(snapshot.get("Contacts")),
        ),
        configuration,
    )


def _agent_status(value) -> AgentStatus:
    status = _object(value, _STATUS)
    if status is None:
        return _NO_STATUS
    name = _text(status.get("Name"))
    declared = _upper(status.get("Type"))
    if declared is not None:
        kind = declared
    elif name is not None:
        kind = _STATUS_TYPES.get(name.lower(), "CUSTOM")
    else:
        kind = None
    return AgentStatus(name, _text(status.get("ARN")), _time(status.get("StartTimestamp")), kind)


def _next_status(value) -> NextAgentStatus | None:
    status = _object(value, _NEXT_STATUS)
    if status is None:
        return None
    enqueued = status.get("EnqueueTimestamp")
    if enqueued is None:
        enqueued = status.get("EnqueuedTimestamp")
    return NextAgentStatus(_text(status.get("Name")), _text(status.get("ARN")), _time(enqueued))


_PROFILES: dict[bytes, RoutingProfileInfo] = {}


def _routing_profile(value) -> RoutingProfileInfo | None:
    """The routing profile; equal profiles are shared (agents' snapshots repeat them)."""
    profile = _object(value, _ROUTING_PROFILE)
    if profile is None:
        return None
    arn = _text(profile.get("ARN"))
    if arn is None:
        return None
    inbound = profile.get("InboundQueues")
    outbound = profile.get("DefaultOutboundQueue")
    concurrency = profile.get("Concurrency")
    try:
        key = orjson.dumps((arn, profile.get("Name"), inbound, outbound, concurrency))
    except TypeError:  # a value orjson cannot write back (an integer over 64 bits, ...)
        key = None
    else:
        cached = _PROFILES.get(key)
        if cached is not None:
            return cached
    queues = ()
    if type(inbound) is list:
        queues = tuple(queue for queue in map(_queue_ref, inbound) if queue is not None)
    slots = ()
    if type(concurrency) is list:
        slots = tuple(item for item in map(_concurrency, concurrency) if item is not None)
    info = RoutingProfileInfo(
        profile_id=_arn_ids(arn).get("routing-profile") or arn,
        arn=arn,
        name=_text(profile.get("Name")),
        inbound_queues=queues,
        default_outbound_queue=_queue_ref(outbound),
        concurrency=slots,
    )
    if key is not None and len(key) <= _MAX_OBJECT_KEY:
        _remember(_PROFILES, key, info, _OBJECT_CACHE_LIMIT)
    return info


def _queue_ref(value) -> QueueRef | None:
    queue = _object(value, _QUEUE)
    if queue is None:
        return None
    arn = _text(queue.get("ARN"))
    if arn is None:
        return None
    channels = queue.get("Channels")
    if type(channels) is list:
        channels = tuple(channel for channel in map(_channel, channels) if channel is not None)
    else:
        channels = ()
    return QueueRef(_arn_ids(arn).get("queue") or arn, arn, _text(queue.get("Name")), channels)


def _concurrency(value) -> ChannelConcurrency | None:
    item = _object(value, _CONCURRENCY)
    if item is None:
        return None
    channel = _channel(item.get("Channel"))
    maximum = _int(item.get("MaximumSlots"))
    available = _int(item.get("AvailableSlots"))
    if channel is None or maximum is None or available is None:
        return None
    return ChannelConcurrency(channel, maximum, available)


def _hierarchy_groups(value) -> tuple[HierarchyGroup, ...]:
    levels = _object(value, _HIERARCHY)
    if not levels:
        return ()
    groups = []
    for level, key in enumerate(("Level1", "Level2", "Level3", "Level4", "Level5"), start=1):
        group = _object(levels.get(key), _GROUP)
        if group is None:
            continue
        arn = _text(group.get("ARN"))
        name = _text(group.get("Name"))
        if arn is None and name is None:
            continue
        group_id = (_arn_ids(arn).get("agent-group") or arn) if arn else ""
        groups.append(HierarchyGroup(level, group_id, arn or "", name))
    return tuple(groups)


_CONTACTS: dict[bytes, tuple[AgentContact, ...]] = {}


def _contacts(value) -> tuple[AgentContact, ...]:
    """The contacts of a snapshot; equal lists are shared (the previous and the current
    snapshot usually hold the same contacts)."""
    if type(value) is not list or not value:
        return ()
    try:
        key = orjson.dumps(value)
    except TypeError:  # a value orjson cannot write back (an integer over 64 bits, ...)
        return _read_contacts(value)
    contacts = _CONTACTS.get(key)
    if contacts is None:
        contacts = _read_contacts(value)
        if len(key) <= _MAX_OBJECT_KEY:
            _remember(_CONTACTS, key, contacts, _OBJECT_CACHE_LIMIT)
    return contacts


def _read_contacts(value: list) -> tuple[AgentContact, ...]:
    contacts = []
    for item in value:
        contact = _object(item, _CONTACT)
        if contact is None:
            continue
        contact_id = _text(contact.get("ContactId"))
        if contact_id is None:
            continue
        contacts.append(
            AgentContact(
                contact_id=contact_id,
                initial_contact_id=_text(contact.get("InitialContactId")),
                channel=_channel(contact.get("Channel")),
                initiation_method=_upper(contact.get("InitiationMethod")),
                state=_upper(contact.get("State")),
                state_start_time=_time(contact.get("StateStartTimestamp")),
                queue=_queue_ref(contact.get("Queue")),
                queue_time=_time(contact.get("QueueTimestamp")),
                connected_to_agent_time=_time(contact.get("ConnectedToAgentTimestamp")),
            )
        )
    return tuple(contacts)


# --- values ---------------------------------------------------------------------------------


def _remember(cache: dict, key, value, limit: int):
    """Store in a parsing cache, emptied first when full."""
    if len(cache) >= limit:
        cache.clear()
    cache[key] = value
    return value


def _text(value) -> str | None:
    """A non-empty string; numbers become their decimal text; anything else is absent."""
    kind = type(value)
    if kind is str:
        value = value.strip()
        return value or None
    if kind is int or kind is float:
        return str(value)
    return None


def _upper(value) -> str | None:
    text = _text(value)
    return text.upper() if text is not None else None


def _channel(value) -> str | None:
    text = _text(value)
    if text is None:
        return None
    upper = text.upper()
    return _CHANNELS.get(upper, upper)


def _int(value) -> int | None:
    """A whole number from a JSON number or a numeric string; anything else is absent."""
    kind = type(value)
    if kind is int:
        return value
    if kind is str:
        try:
            return int(value)
        except ValueError:
            try:
                value = float(value)
            except ValueError:
                return None
            kind = float
    if kind is float and value == value and -1e18 < value < 1e18:
        return int(value)
    return None


def _show(value) -> str:
    """A value for a dead letter's message: strings quoted and cut short, others by type."""
    if type(value) is str:
        return repr(value if len(value) <= 60 else value[:60] + "...")
    return f"<{type(value).__name__}>"


def _is_not_set(value) -> bool:
    millis = _parse_time(value) if type(value) is str else None
    return millis is not None and millis <= _NOT_SET_MILLIS


_TIMES: dict[str, int | None] = {}


def _time(value) -> int | None:
    """Epoch milliseconds of an ISO 8601 time; None when absent, unparseable or 'not set'.

    Cached: one agent event repeats its status and contact times in both snapshots, and an
    agent's status start repeats in every event until the status changes.
    """
    if type(value) is not str:
        return None
    millis = _TIMES.get(value, -1)
    if millis == -1:
        millis = _parse_time(value)
        if millis is not None and millis <= _NOT_SET_MILLIS:
            millis = None
        if len(value) <= _MAX_TEXT_KEY:
            _remember(_TIMES, value, millis, _CACHE_LIMIT)
    return millis


_MINUTES = {f"T{h:02d}:{m:02d}:": (h * 60 + m) * 60_000 for h in range(24) for m in range(60)}
_MINUTE_STARTS: dict[str, int] = {}


def _parse_time(text: str) -> int | None:
    """Epoch milliseconds of an ISO 8601 time with a time zone; None when it is not one.

    `YYYY-MM-DDTHH:MM:SS.mmmZ` and `YYYY-MM-DDTHH:MM:SSZ` (what Connect and EventBridge
    write) are read directly; every other form goes through `datetime.fromisoformat`.
    """
    size = len(text)
    if size == 24 and text[23] == "Z" and text[19] == ".":
        rest = text[17:19] + text[20:23]
    elif size == 20 and text[19] == "Z":
        rest = text[17:19] + "000"
    else:
        rest = None
    if rest is not None and rest.isdigit() and rest.isascii():
        minute = text[:17]
        start = _MINUTE_STARTS.get(minute)
        if start is None:
            start = _minute_start(minute)
        millis = int(rest)
        if start is not None and millis < 60_000:
            return start + millis
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return (parsed - _EPOCH) // _MILLISECOND


def _minute_start(minute: str) -> int | None:
    """Epoch milliseconds of a `YYYY-MM-DDTHH:MM:` prefix (cached when valid), else None."""
    offset = _MINUTES.get(minute[10:])
    digits = minute[:4] + minute[5:7] + minute[8:10]
    if offset is None or minute[4] != "-" or minute[7] != "-" or not (
        digits.isascii() and digits.isdigit()
    ):
        return None
    try:
        day = date(int(minute[:4]), int(minute[5:7]), int(minute[8:10])).toordinal()
    except ValueError:
        return None
    return _remember(_MINUTE_STARTS, minute, (day - _EPOCH_ORDINAL) * _DAY_MS + offset,
                     _CACHE_LIMIT)


_ARNS: dict[str, dict[str, str]] = {}


def _arn_ids(arn: str) -> dict[str, str]:
    """The ids in an ARN by resource type (`.../instance/ID/agent/ID` -> instance, agent),
    cached. An agent queue (`.../queue/agent/ID`) has the queue id `agent/ID`."""
    ids = _ARNS.get(arn)
    if ids is None:
        ids = _split_arn(arn)
        if len(arn) <= _MAX_TEXT_KEY:
            _remember(_ARNS, arn, ids, _CACHE_LIMIT)
    return ids


def _split_arn(arn: str) -> dict[str, str]:
    fields = arn.split(":", 5)
    resource = fields[5] if len(fields) == 6 and fields[0] == "arn" else arn
    parts = resource.split("/")
    ids: dict[str, str] = {}
    index = 0
    while index + 1 < len(parts):
        kind, value = parts[index], parts[index + 1]
        index += 2
        if kind == "queue" and value == "agent" and index < len(parts) and parts[index]:
            value = "agent/" + parts[index]
            index += 1
        if kind and value and kind not in ids:
            ids[kind] = value
    return ids
