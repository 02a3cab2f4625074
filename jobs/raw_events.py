"""Raw events as Timestream records, in the layout dashboards built on raw-event storage expect.

The common do-it-yourself setup stores every event in three tables, `AgentEvent`,
`AgentEvent_Contact` (one row per contact inside an agent snapshot) and `ContactEvent`, with
snapshot attributes flattened into `CurrentAgentSnapshot_<Field>` columns, and computes metrics
in dashboard SQL. Writing the same tables (off by default) lets such dashboards keep working
while they move to the metric tables. Names are never written; usernames only when the parser
keeps them.
"""

from __future__ import annotations

from jobs.core.events import AgentEvent, AgentSnapshot, ContactEvent

AGENT_EVENT_TABLE = "AgentEvent"
AGENT_CONTACT_TABLE = "AgentEvent_Contact"
CONTACT_EVENT_TABLE = "ContactEvent"
RAW_TABLES = (AGENT_EVENT_TABLE, AGENT_CONTACT_TABLE, CONTACT_EVENT_TABLE)


def agent_event_records(event: AgentEvent, version: int) -> list[tuple[str, dict]]:
    """One `AgentEvent` record, and one `AgentEvent_Contact` record per contact it holds."""
    current = event.current
    fields = {
        "EventId": event.event_id,
        "CurrentAgentSnapshot_Configuration_Username": event.username,
        **_snapshot_fields("CurrentAgentSnapshot", current),
        **_snapshot_fields("PreviousAgentSnapshot", event.previous),
    }
    records = [(AGENT_EVENT_TABLE, _record(
        {"AgentARN": event.agent_arn, "EventType": event.event_type,
         "InstanceId": event.instance_id},
        event.event_time, fields, version,
    ))]
    for contact in current.contacts if current else ():
        records.append((AGENT_CONTACT_TABLE, _record(
            {"AgentARN": event.agent_arn, "ContactId": contact.contact_id,
             "Channel": contact.channel},
            event.event_time,
            {
                "EventId": event.event_id,
                "EventType": event.event_type,
                "InitialContactId": contact.initial_contact_id,
                "InitiationMethod": contact.initiation_method,
                "State": contact.state,
                "StateStartTimestamp": contact.state_start_time,
                "ConnectedToAgentTimestamp": contact.connected_to_agent_time,
                "QueueTimestamp": contact.queue_time,
                "Queue_ARN": contact.queue.arn if contact.queue else None,
                "Queue_Name": contact.queue.name if contact.queue else None,
            },
            version,
        )))
    return records


def contact_event_records(event: ContactEvent, version: int) -> list[tuple[str, dict]]:
    return [(CONTACT_EVENT_TABLE, _record(
        {"ContactId": event.contact_id, "EventType": event.event_type,
         "Channel": event.channel, "InstanceId": event.instance_id},
        event.event_time,
        {
            "EventId": event.event_id,
            "InitiationMethod": event.initiation_method,
            "InitialContactId": event.initial_contact_id,
            "PreviousContactId": event.previous_contact_id,
            "QueueARN": event.queue_arn,
            "QueueType": event.queue_type,
            "EnqueueTimestamp": event.enqueue_time,
            "AgentARN": event.agent_arn,
            "ConnectedToAgentTimestamp": event.connected_to_agent_time,
            "AfterContactWorkStartTimestamp": event.acw_start_time,
            "AfterContactWorkEndTimestamp": event.acw_end_time,
            "AfterContactWorkDuration": event.acw_duration_s,
            "AgentInitiatedHoldDuration": event.hold_duration_s,
            "InitiationTimestamp": event.initiation_time,
            "DisconnectTimestamp": event.disconnect_time,
            "DisconnectReason": event.disconnect_reason,
        },
        version,
    ))]


def _snapshot_fields(prefix: str, snapshot: AgentSnapshot | None) -> dict:
    if snapshot is None:
        return {}
    profile = snapshot.routing_profile
    return {
        f"{prefix}_AgentStatus_Name": snapshot.status.name,
        f"{prefix}_AgentStatus_Type": snapshot.status.type,
        f"{prefix}_AgentStatus_StartTimestamp": snapshot.status.start_time,
        f"{prefix}_RoutingProfile_ARN": profile.arn if profile else None,
        f"{prefix}_RoutingProfile_Name": profile.name if profile else None,
        f"{prefix}_Contacts_Count": len(snapshot.contacts),
    }


def _record(dimensions: dict, time_ms: int, fields: dict, version: int) -> dict:
    measures = []
    for name, value in fields.items():
        if value is None:
            continue
        kind = "BIGINT" if isinstance(value, int) and not isinstance(value, bool) else "VARCHAR"
        measures.append({"Name": name, "Value": str(value), "Type": kind})
    return {
        "Dimensions": [
            {"Name": name, "Value": str(value), "DimensionValueType": "VARCHAR"}
            for name, value in dimensions.items() if value
        ],
        "MeasureName": "event",
        "MeasureValueType": "MULTI",
        "MeasureValues": measures,
        "Time": str(time_ms),
        "TimeUnit": "MILLISECONDS",
        "Version": version,
    }


def event_records(event: AgentEvent | ContactEvent, version: int) -> list[tuple[str, dict]]:
    """The raw-event table records of one event of either feed."""
    if isinstance(event, ContactEvent):
        return contact_event_records(event, version)
    return agent_event_records(event, version)
