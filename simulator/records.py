"""Amazon Connect's two record formats, built from plain values.

Agent events follow the agent event stream data model (version 2019-05-25, full previous and
current snapshots); contact events are the EventBridge envelope an EventBridge rule puts into
Kinesis. Field names and casing follow the AWS documentation samples.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"

#: Contact states that hold none of the agent's slots: the contact went elsewhere, or failed.
SLOTLESS_STATES = frozenset({"MISSED", "REJECTED", "ERROR"})


@lru_cache(maxsize=4096)
def _second(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def iso(millis: int) -> str:
    """Connect's timestamp form: ISO 8601, milliseconds, `Z`."""
    seconds, rest = divmod(millis, 1000)
    return f"{_second(seconds)}.{rest:03d}Z"


def iso_seconds(millis: int) -> str:
    """EventBridge's envelope `time`: second precision."""
    return _second(millis // 1000) + "Z"


def instance_arn(instance_id: str) -> str:
    return f"arn:aws:connect:{REGION}:{ACCOUNT_ID}:instance/{instance_id}"


@dataclass(frozen=True)
class Queue:
    """A queue. An agent's own queue has the id `agent/AGENT_ID` and no name, as Connect has."""

    instance_id: str
    queue_id: str
    name: str | None
    channels: tuple[str, ...] = ("VOICE", "CHAT")

    @property
    def arn(self) -> str:
        return f"{instance_arn(self.instance_id)}/queue/{self.queue_id}"

    @property
    def queue_type(self) -> str:
        return "AGENT" if self.queue_id.startswith("agent/") else "STANDARD"


@dataclass(frozen=True)
class RoutingProfile:
    """A routing profile. With `exclusive_channels` (Connect without cross-channel concurrency)
    a contact on one channel takes every slot of the other channels."""

    instance_id: str
    profile_id: str
    name: str
    queues: tuple[Queue, ...]
    concurrency: tuple[tuple[str, int], ...] = (("VOICE", 1), ("CHAT", 2))
    outbound_queue: Queue | None = None
    exclusive_channels: bool = False

    @property
    def arn(self) -> str:
        return f"{instance_arn(self.instance_id)}/routing-profile/{self.profile_id}"


@dataclass(frozen=True)
class HierarchyGroup:
    level: int
    group_id: str
    name: str


@dataclass(frozen=True)
class Agent:
    instance_id: str
    agent_id: str
    username: str
    first_name: str
    last_name: str
    routing_profile: RoutingProfile
    hierarchy: tuple[HierarchyGroup, ...] = ()
    #: channels of the agent's own queue; empty: the snapshot does not list that queue
    agent_queue_channels: tuple[str, ...] = ()

    @property
    def arn(self) -> str:
        return f"{instance_arn(self.instance_id)}/agent/{self.agent_id}"

    @property
    def agent_queue(self) -> Queue:
        channels = self.agent_queue_channels or tuple(
            channel for channel, _ in self.routing_profile.concurrency)
        return Queue(self.instance_id, f"agent/{self.agent_id}", None, channels)


@dataclass(frozen=True)
class Status:
    """An agent status. In `AgentState.next_status`, `start` is when it was chosen."""

    name: str
    status_id: str
    type: str
    start: int

    def arn(self, instance_id: str) -> str:
        return f"{instance_arn(instance_id)}/agent-state/{self.status_id}"


@dataclass(frozen=True)
class SnapshotContact:
    contact_id: str
    channel: str
    initiation_method: str
    state: str
    state_start: int
    queue: Queue | None
    queued_at: int | None
    connected_at: int | None
    initial_contact_id: str | None = None


@dataclass(frozen=True)
class AgentState:
    status: Status
    contacts: tuple[SnapshotContact, ...] = field(default=())
    next_status: Status | None = None


def available_slots(profile: RoutingProfile, contacts) -> list[tuple[str, int, int]]:
    """(channel, maximum, available) per channel of the profile, for the contacts held."""
    busy: dict[str, int] = {}
    for contact in contacts:
        if contact.state not in SLOTLESS_STATES:
            busy[contact.channel] = busy.get(contact.channel, 0) + 1
    slots = []
    for channel, maximum in profile.concurrency:
        if profile.exclusive_channels and any(
            count for other, count in busy.items() if other != channel
        ):
            free = 0
        else:
            free = max(0, maximum - busy.get(channel, 0))
        slots.append((channel, maximum, free))
    return slots


@lru_cache(maxsize=4096)
def _configuration(agent: Agent) -> tuple[dict, dict]:
    """The parts of an agent's `Configuration` that do not change with its contacts."""
    profile = agent.routing_profile
    inbound = [{"ARN": q.arn, "Name": q.name, "Channels": list(q.channels)} for q in profile.queues]
    if agent.agent_queue_channels:
        own = agent.agent_queue
        inbound.append({"ARN": own.arn, "Name": None, "Channels": list(own.channels)})
    outbound = profile.outbound_queue or profile.queues[0]
    groups = None
    if agent.hierarchy:
        groups = {f"Level{n}": None for n in range(1, 6)}
        for group in agent.hierarchy:
            groups[f"Level{group.level}"] = {
                "ARN": f"{instance_arn(agent.instance_id)}/agent-group/{group.group_id}",
                "Name": group.name,
            }
    profile_part = {
        "ARN": profile.arn,
        "Name": profile.name,
        "InboundQueues": inbound,
        "DefaultOutboundQueue": {
            "ARN": outbound.arn, "Name": outbound.name, "Channels": ["VOICE"],
        },
    }
    person = {
        "FirstName": agent.first_name,
        "LastName": agent.last_name,
        "Username": agent.username,
        "AgentHierarchyGroups": groups,
    }
    return person, profile_part


def agent_snapshot(agent: Agent, state: AgentState) -> dict:
    person, profile_part = _configuration(agent)
    next_status = None
    if state.next_status is not None:
        next_status = {
            "ARN": state.next_status.arn(agent.instance_id),
            "Name": state.next_status.name,
            "EnqueuedTimestamp": iso(state.next_status.start),
        }
    return {
        "AgentStatus": {
            "ARN": state.status.arn(agent.instance_id),
            "Name": state.status.name,
            "StartTimestamp": iso(state.status.start),
            "Type": state.status.type,
        },
        "NextAgentStatus": next_status,
        "Configuration": {
            **person,
            "RoutingProfile": {
                **profile_part,
                "Concurrency": [
                    {"Channel": channel, "MaximumSlots": maximum, "AvailableSlots": free}
                    for channel, maximum, free in available_slots(
                        agent.routing_profile, state.contacts
                    )
                ],
            },
        },
        "Contacts": [
            {
                "ContactId": c.contact_id,
                "InitialContactId": c.initial_contact_id,
                "Channel": c.channel,
                "InitiationMethod": c.initiation_method,
                "State": c.state,
                "StateStartTimestamp": iso(c.state_start),
                "ConnectedToAgentTimestamp": iso(c.connected_at) if c.connected_at else None,
                "QueueTimestamp": iso(c.queued_at) if c.queued_at else None,
                "Queue": {"ARN": c.queue.arn, "Name": c.queue.name} if c.queue else None,
            }
            for c in state.contacts
        ],
    }


def agent_event(
    event_id: str,
    event_type: str,
    at: int,
    agent: Agent,
    current: AgentState,
    previous: AgentState | None,
) -> dict:
    """One record of the agent event stream."""
    return {
        "AWSAccountId": ACCOUNT_ID,
        "AgentARN": agent.arn,
        "CurrentAgentSnapshot": agent_snapshot(agent, current),
        "EventId": event_id,
        "EventTimestamp": iso(at),
        "EventType": event_type,
        "InstanceARN": instance_arn(agent.instance_id),
        "PreviousAgentSnapshot": agent_snapshot(agent, previous) if previous else None,
        "Version": "2019-05-25",
    }


@dataclass(frozen=True)
class ContactFacts:
    """What is known about a contact when one of its events is published."""

    instance_id: str
    contact_id: str
    channel: str
    initiation_method: str
    initiated_at: int
    queue: Queue | None = None
    enqueued_at: int | None = None
    agent: Agent | None = None
    connected_to_agent_at: int | None = None
    disconnected_at: int | None = None
    acw_start: int | None = None
    acw_end: int | None = None
    hold_seconds: int | None = None
    initial_contact_id: str | None = None
    previous_contact_id: str | None = None
    connected_to_system_at: int | None = None
    related_contact_id: str | None = None


def contact_event(event_id: str, event_type: str, at: int, facts: ContactFacts) -> dict:
    """One Amazon Connect contact event as EventBridge delivers it to a Kinesis target."""
    detail: dict = {
        "eventType": event_type,
        "contactId": facts.contact_id,
        "initialContactId": facts.initial_contact_id or facts.contact_id,
        "channel": facts.channel,
        "instanceArn": instance_arn(facts.instance_id),
        "initiationMethod": facts.initiation_method,
        "initiationTimestamp": iso(facts.initiated_at),
    }
    if facts.previous_contact_id:
        detail["previousContactId"] = facts.previous_contact_id
    if facts.related_contact_id:
        detail["relatedContactId"] = facts.related_contact_id
    if facts.connected_to_system_at is not None:
        detail["connectedToSystemTimestamp"] = iso(facts.connected_to_system_at)
    if facts.queue is not None and facts.enqueued_at is not None:
        detail["queueInfo"] = {
            "queueArn": facts.queue.arn,
            "queueType": facts.queue.queue_type,
            "enqueueTimestamp": iso(facts.enqueued_at),
        }
    if facts.agent is not None:
        agent_info: dict = {"agentArn": facts.agent.arn}
        if facts.connected_to_agent_at is not None:
            agent_info["connectedToAgentTimestamp"] = iso(facts.connected_to_agent_at)
        if facts.hold_seconds is not None:
            agent_info["agentInitiatedHoldDuration"] = facts.hold_seconds
        if facts.acw_start is not None and facts.acw_end is not None:
            agent_info["afterContactWorkStartTimestamp"] = iso(facts.acw_start)
            agent_info["afterContactWorkEndTimestamp"] = iso(facts.acw_end)
            agent_info["afterContactWorkDuration"] = (facts.acw_end - facts.acw_start) // 1000
        detail["agentInfo"] = agent_info
    if facts.disconnected_at is not None:
        detail["disconnectTimestamp"] = iso(facts.disconnected_at)
    contact_arn = f"{instance_arn(facts.instance_id)}/contact/{facts.contact_id}"
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "Amazon Connect Contact Event",
        "source": "aws.connect",
        "account": ACCOUNT_ID,
        "time": iso_seconds(at),
        "region": REGION,
        "resources": [contact_arn, instance_arn(facts.instance_id)],
        "detail": detail,
    }
