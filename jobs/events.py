"""Amazon Connect records, parsed: one raw Kinesis record in, a typed event or a dead letter out.

Connect's two feeds disagree on casing and shape from sample to sample, so every key is matched
case-insensitively and every optional field may be missing. Nothing here raises on bad input:
a record the job cannot use becomes a `DeadLetter` with a reason, never an exception.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import Enum

import orjson

MAX_RECORD_BYTES = 1_048_576
_NOT_SET = "1970-01-01T00:00:00.001Z"
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MILLISECOND = timedelta(milliseconds=1)
_CHANNELS = {"VOICE": "VOICE", "CHAT": "CHAT", "TASK": "TASK", "TASKS": "TASK", "EMAIL": "EMAIL"}


class DeadLetterReason(str, Enum):
    NOT_UTF8 = "not_utf8"
    INVALID_JSON = "invalid_json"
    NOT_CONNECT = "not_connect_record"
    MISSING_FIELD = "missing_field"
    BAD_TIMESTAMP = "bad_timestamp"
    TOO_LARGE = "record_too_large"


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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class QueueRef:
    queue_id: str
    arn: str
    name: str | None
    channels: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChannelConcurrency:
    channel: str
    max_slots: int
    available_slots: int


@dataclass(frozen=True)
class RoutingProfileInfo:
    profile_id: str
    arn: str
    name: str | None
    inbound_queues: tuple[QueueRef, ...] = ()
    default_outbound_queue: QueueRef | None = None
    concurrency: tuple[ChannelConcurrency, ...] = ()


@dataclass(frozen=True)
class HierarchyGroup:
    level: int
    group_id: str
    arn: str
    name: str | None


@dataclass(frozen=True)
class AgentStatus:
    name: str | None
    arn: str | None
    start_time: int | None
    type: str  # ROUTABLE | CUSTOM | OFFLINE (derived from the name when Connect omits it)


@dataclass(frozen=True)
class NextAgentStatus:
    name: str | None
    arn: str | None
    enqueued_time: int | None


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class AgentSnapshot:
    status: AgentStatus
    next_status: NextAgentStatus | None
    routing_profile: RoutingProfileInfo | None
    hierarchy_groups: tuple[HierarchyGroup, ...]
    contacts: tuple[AgentContact, ...]


@dataclass(frozen=True)
class AgentEvent:
    """One record of the agent event stream, normalised. Names are kept only when configured."""

    event_id: str
    event_type: str
    event_time: int
    agent_id: str
    instance_id: str
    status_name: str | None
    status_type: str | None
    agent_arn: str = ""
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    current: AgentSnapshot | None = None
    previous: AgentSnapshot | None = None

    @property
    def online(self) -> bool:
        return self.event_type != "LOGOUT" and self.status_type not in (None, "OFFLINE")


class _Reject(Exception):
    def __init__(self, reason: DeadLetterReason, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


def parse_record(
    data: bytes, stream: str, arrival_time: int
) -> ContactEvent | AgentEvent | DeadLetter:
    """Parse one record of either feed; the feed is recognised from the record itself."""
    try:
        return _parse(data)
    except _Reject as reject:
        return DeadLetter(reject.reason, reject.message, data, stream, arrival_time)
    except Exception as err:  # noqa: BLE001 - a record must never kill the job
        return DeadLetter(
            DeadLetterReason.NOT_CONNECT, f"unreadable record: {err!r}", data, stream, arrival_time
        )


def _parse(data: bytes) -> ContactEvent | AgentEvent:
    if len(data) > MAX_RECORD_BYTES:
        raise _Reject(DeadLetterReason.TOO_LARGE, f"record of {len(data)} bytes is over 1 MB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise _Reject(DeadLetterReason.NOT_UTF8, f"not UTF-8: {err.reason} at byte {err.start}")
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError as err:
        raise _Reject(DeadLetterReason.INVALID_JSON, f"invalid JSON: {err}")
    if not isinstance(document, dict):
        raise _Reject(DeadLetterReason.NOT_CONNECT, "not a JSON object")
    record = _Keys(document)
    if record.get("detail") is not None and record.get("detail-type") is not None:
        return _contact_event(record)
    if record.get("AgentARN") is not None or record.get("EventType") is not None:
        return _agent_event(record)
    raise _Reject(
        DeadLetterReason.NOT_CONNECT,
        "neither an agent event (AgentARN, EventType) nor an EventBridge contact event "
        "(detail-type, detail)",
    )


def _contact_event(envelope: _Keys) -> ContactEvent:
    detail = envelope.obj("detail")
    event_type = _required_text(detail, "eventType")
    contact_id = _required_text(detail, "contactId")
    instance_arn = detail.text("instanceArn") or ""
    queue = detail.obj("queueInfo")
    agent = detail.obj("agentInfo")
    queue_arn = queue.text("queueArn")
    own_time = {
        "INITIATED": detail.text("initiationTimestamp"),
        "CONNECTED_TO_SYSTEM": detail.text("connectedToSystemTimestamp"),
        "QUEUED": queue.text("enqueueTimestamp"),
        "CONNECTED_TO_AGENT": agent.text("connectedToAgentTimestamp"),
        "DISCONNECTED": detail.text("disconnectTimestamp"),
        "COMPLETED": agent.text("afterContactWorkEndTimestamp"),
    }.get(event_type)
    event_time = _timestamp(own_time) or _required_time(envelope, "time")
    return ContactEvent(
        event_id=envelope.text("id") or f"{contact_id}:{event_type}:{event_time}",
        event_type=event_type,
        event_time=event_time,
        contact_id=contact_id,
        instance_id=_arn_id(instance_arn, "instance"),
        channel=_channel(detail.text("channel")),
        initiation_method=_upper(detail.text("initiationMethod")),
        queue_id=_arn_id(queue_arn, "queue") if queue_arn else None,
    )


def _agent_event(record: _Keys) -> AgentEvent:
    event_type = _required_text(record, "EventType")
    agent_arn = _required_text(record, "AgentARN")
    snapshot = record.obj("CurrentAgentSnapshot")
    status = snapshot.obj("AgentStatus")
    status_name = status.text("Name")
    return AgentEvent(
        event_id=record.text("EventId") or "",
        event_type=event_type,
        event_time=_required_time(record, "EventTimestamp"),
        agent_id=_arn_id(agent_arn, "agent"),
        instance_id=_arn_id(agent_arn, "instance"),
        status_name=status_name,
        status_type=_status_type(status.text("Type"), status_name),
    )


def _status_type(declared: str | None, name: str | None) -> str | None:
    if declared:
        return declared.upper()
    if name is None:
        return None
    return {"available": "ROUTABLE", "offline": "OFFLINE"}.get(name.lower(), "CUSTOM")


class _Keys:
    """A JSON object whose keys are looked up case-insensitively."""

    __slots__ = ("_items",)

    def __init__(self, document: dict):
        self._items = {str(k).lower(): v for k, v in document.items()}

    def get(self, key: str):
        return self._items.get(key.lower())

    def text(self, key: str) -> str | None:
        value = self.get(key)
        if value is None or isinstance(value, (dict, list)):
            return None
        text = str(value).strip()
        return text or None

    def obj(self, key: str) -> _Keys:
        value = self.get(key)
        return _Keys(value) if isinstance(value, dict) else _EMPTY


_EMPTY = _Keys({})


def _required_text(record: _Keys, key: str) -> str:
    value = record.text(key)
    if value is None:
        raise _Reject(DeadLetterReason.MISSING_FIELD, f"missing {key}")
    return value


def _required_time(record: _Keys, key: str) -> int:
    value = record.text(key)
    if value is None:
        raise _Reject(DeadLetterReason.MISSING_FIELD, f"missing {key}")
    millis = _timestamp(value)
    if millis is None:
        raise _Reject(DeadLetterReason.BAD_TIMESTAMP, f"{key} {value!r} is not an ISO 8601 time")
    return millis


def _timestamp(value: str | None) -> int | None:
    """Epoch milliseconds of an ISO 8601 time; None when absent, unparseable or 'not set'."""
    if value is None or value == _NOT_SET:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return (parsed - _EPOCH) // _MILLISECOND


def _arn_id(arn: str, kind: str) -> str:
    """The id after `/kind/` in an ARN (`.../instance/ID/agent/ID`), or '' when absent."""
    parts = arn.split("/")
    for index, part in enumerate(parts[:-1]):
        if part == kind or part.endswith(":" + kind):
            return parts[index + 1]
    return ""


def _channel(value: str | None) -> str | None:
    if value is None:
        return None
    upper = value.upper()
    return _CHANNELS.get(upper, upper)


def _upper(value: str | None) -> str | None:
    return value.upper() if value else None
