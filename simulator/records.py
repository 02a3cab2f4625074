"""Amazon Connect's two record formats, built from plain values.

Agent events follow the agent event stream data model (version 2019-05-25, full previous and
current snapshots); contact events are the EventBridge envelope an EventBridge rule puts into
Kinesis. Field names and casing follow the AWS documentation samples.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"


def iso(millis: int) -> str:
    """Connect's timestamp form: ISO 8601, milliseconds, `Z`."""
    moment = datetime.fromtimestamp(millis / 1000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis % 1000:03d}Z"


def iso_seconds(millis: int) -> str:
    """EventBridge's envelope `time`: second precision."""
    return datetime.fromtimestamp(millis // 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def instance_arn(instance_id: str) -> str:
    return f"arn:aws:connect:{REGION}:{ACCOUNT_ID}:instance/{instance_id}"


@dataclass(frozen=True)
class Queue:
    instance_id: str
    queue_id: str
    name: str
    channels: tuple[str, ...] = ("VOICE", "CHAT")

    @property
    def arn(self) -> str:
        return f"{instance_arn(self.instance_id)}/queue/{self.queue_id}"


@dataclass(frozen=True)
class RoutingProfile:
    instance_id: str
    profile_id: str
    name: str
    queues: tuple[Queue, ...]
    concurrency: tuple[tuple[str, int], ...] = (("VOICE", 1), ("CHAT", 2))

    @property
    def arn(self) -> str:
        return f"{instance_arn(self.instance_id)}/routing-profile/{self.profile_id}"


@dataclass(frozen=True)
class Agent:
    instance_id: str
    agent_id: str
    username: str
    first_name: str
    last_name: str
    routing_profile: RoutingProfile

    @property
    def arn(self) -> str:
        return f"{instance_arn(self.instance_id)}/agent/{self.agent_id}"


@dataclass(frozen=True)
class Status:
    name: str
    status_id: str
    type: str
    start: int


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


def agent_snapshot(agent: Agent, state: AgentState) -> dict:
    profile = agent.routing_profile
    busy = {c.channel: 0 for c in state.contacts}
    for contact in state.contacts:
        busy[contact.channel] = busy.get(contact.channel, 0) + 1
    return {
        "AgentStatus": {
            "ARN": f"{instance_arn(agent.instance_id)}/agent-state/{state.status.status_id}",
            "Name": state.status.name,
            "StartTimestamp": iso(state.status.start),
            "Type": state.status.type,
        },
        "NextAgentStatus": None,
        "Configuration": {
            "FirstName": agent.first_name,
            "LastName": agent.last_name,
            "Username": agent.username,
            "AgentHierarchyGroups": None,
            "RoutingProfile": {
                "ARN": profile.arn,
                "Name": profile.name,
                "InboundQueues": [
                    {"ARN": q.arn, "Name": q.name, "Channels": list(q.channels)}
                    for q in profile.queues
                ],
                "DefaultOutboundQueue": {
                    "ARN": profile.queues[0].arn,
                    "Name": profile.queues[0].name,
                    "Channels": ["VOICE"],
                },
                "Concurrency": [
                    {
                        "Channel": channel,
                        "MaximumSlots": slots,
                        "AvailableSlots": max(0, slots - busy.get(channel, 0)),
                    }
                    for channel, slots in profile.concurrency
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
    if facts.queue is not None and facts.enqueued_at is not None:
        detail["queueInfo"] = {
            "queueArn": facts.queue.arn,
            "queueType": "STANDARD",
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
