"""Parsing both Connect feeds: AWS-shaped samples of every event type and channel, each trap of
the data, the dead letters, and the personal-data options."""

from __future__ import annotations

import base64
import copy
from datetime import datetime

import orjson
import pytest

from jobs.core.events import (
    DEFAULT_OPTIONS,
    AgentContact,
    AgentEvent,
    AgentSnapshot,
    AgentStatus,
    ChannelConcurrency,
    ContactEvent,
    DeadLetter,
    DeadLetterReason,
    HierarchyGroup,
    NextAgentStatus,
    ParseOptions,
    QueueRef,
    RoutingProfileInfo,
    parse_record,
)
from simulator.records import (
    Agent,
    AgentState,
    ContactFacts,
    Queue,
    RoutingProfile,
    SnapshotContact,
    Status,
    agent_event,
    contact_event,
)


def ms(text: str) -> int:
    """Epoch milliseconds of an ISO 8601 time, computed independently of the parser."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return round(moment.timestamp() * 1000)


def parse(record: bytes | dict, options: ParseOptions = DEFAULT_OPTIONS):
    data = record if isinstance(record, bytes) else orjson.dumps(record)
    return parse_record(data, "stream", 1, options=options)


def load(sample: bytes) -> dict:
    return orjson.loads(sample)


INSTANCE = "aaaaaaaa-bbbb-cccc-dddd-111111111111"
INSTANCE_ARN = f"arn:aws:connect:us-west-2:012345678901:instance/{INSTANCE}"
AGENT = "agent-1111"
AGENT_ARN = f"{INSTANCE_ARN}/agent/{AGENT}"

# --- agent event stream samples (Kinesis), shaped like the AWS sample agent event stream --------

# The agent finished a call (now in After Contact Work for it: State ENDED) and set Lunch as the
# next status. No status Type (the documented sample omits it), `EnqueuedTimestamp` as in the
# sample, an agent queue with a null name, two hierarchy levels.
AGENT_STATE_CHANGE = b"""{
    "AWSAccountId": "012345678901",
    "AgentARN": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/agent/agent-1111",
    "CurrentAgentSnapshot": {
        "AgentStatus": {
            "ARN": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/agent-state/state-available",
            "Name": "Available",
            "StartTimestamp": "2019-08-13T20:52:30.704Z"
        },
        "NextAgentStatus": {
            "Name": "Lunch",
            "ARN": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/agent-state/state-lunch",
            "EnqueuedTimestamp": "2019-08-13T20:58:00.004Z"
        },
        "Configuration": {
            "AgentHierarchyGroups": {
                "Level1": {
                    "ARN": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/agent-group/group-emea",
                    "Name": "EMEA"
                },
                "Level2": {
                    "ARN": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/agent-group/group-berlin",
                    "Name": "Berlin"
                },
                "Level3": null,
                "Level4": null,
                "Level5": null
            },
            "FirstName": "AgentEventStreamTest",
            "LastName": "Agent",
            "Proficiencies": [
                {"Level": 3.0, "Name": "Technology", "Value": "Kinesis"},
                {"Level": 1.0, "Name": "Location", "Value": "WA"}
            ],
            "RoutingProfile": {
                "ARN": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/routing-profile/profile-basic",
                "Concurrency": [
                    {"AvailableSlots": 3, "Channel": "CHAT", "MaximumSlots": 3},
                    {"AvailableSlots": 0, "Channel": "VOICE", "MaximumSlots": 1}
                ],
                "DefaultOutboundQueue": {
                    "ARN": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/queue/queue-basic",
                    "Channels": ["VOICE"],
                    "Name": "BasicQueue"
                },
                "InboundQueues": [
                    {
                        "ARN": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/queue/queue-basic",
                        "Channels": ["CHAT", "VOICE"],
                        "Name": "BasicQueue"
                    },
                    {
                        "ARN": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/queue/agent/agent-1111",
                        "Channels": ["CHAT", "VOICE"],
                        "Name": null
                    }
                ],
                "Name": "Basic Routing Profile"
            },
            "Username": "agentUserName"
        },
        "Contacts": [
            {
                "Channel": "VOICE",
                "ConnectedToAgentTimestamp": "2019-08-13T20:55:12.000Z",
                "ContactId": "contact-2222",
                "InitialContactId": null,
                "InitiationMethod": "INBOUND",
                "Queue": {
                    "ARN": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/queue/queue-basic",
                    "Name": "BasicQueue"
                },
                "QueueTimestamp": "2019-08-13T20:54:57.123Z",
                "State": "ENDED",
                "StateStartTimestamp": "2019-08-13T20:58:00.004Z"
            }
        ]
    },
    "EventId": "477f2c4f-cd1a-4785-b1a8-d1fb44d6a6a0",
    "EventTimestamp": "2019-08-13T20:58:00.004Z",
    "EventType": "STATE_CHANGE",
    "InstanceARN": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111",
    "PreviousAgentSnapshot": {
        "AgentStatus": {
            "ARN": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/agent-state/state-available",
            "Name": "Available",
            "StartTimestamp": "2019-08-13T20:52:30.704Z"
        },
        "NextAgentStatus": null,
        "Configuration": {
            "AgentHierarchyGroups": null,
            "FirstName": "AgentEventStreamTest",
            "LastName": "Agent",
            "RoutingProfile": {
                "ARN": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/routing-profile/profile-basic",
                "Concurrency": [
                    {"AvailableSlots": 3, "Channel": "CHAT", "MaximumSlots": 3},
                    {"AvailableSlots": 0, "Channel": "VOICE", "MaximumSlots": 1}
                ],
                "DefaultOutboundQueue": {
                    "ARN": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/queue/queue-basic",
                    "Channels": ["VOICE"],
                    "Name": "BasicQueue"
                },
                "InboundQueues": [
                    {
                        "ARN": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/queue/queue-basic",
                        "Channels": ["CHAT", "VOICE"],
                        "Name": "BasicQueue"
                    }
                ],
                "Name": "Basic Routing Profile"
            },
            "Username": "agentUserName"
        },
        "Contacts": [
            {
                "Channel": "VOICE",
                "ConnectedToAgentTimestamp": "2019-08-13T20:55:12.000Z",
                "ContactId": "contact-2222",
                "InitialContactId": null,
                "InitiationMethod": "INBOUND",
                "Queue": {
                    "ARN": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/queue/queue-basic",
                    "Name": "BasicQueue"
                },
                "QueueTimestamp": "2019-08-13T20:54:57.123Z",
                "State": "CONNECTED",
                "StateStartTimestamp": "2019-08-13T20:55:12.000Z"
            }
        ]
    },
    "Version": "2019-05-25"
}"""

# LOGIN: no previous snapshot at all, a declared status Type, no contacts, `TASKS` concurrency.
AGENT_LOGIN = b"""{
    "AWSAccountId": "012345678901",
    "AgentARN": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/agent/agent-1111",
    "CurrentAgentSnapshot": {
        "AgentStatus": {
            "ARN": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/agent-state/state-available",
            "Name": "Available",
            "StartTimestamp": "2019-08-13T20:50:00.000Z",
            "Type": "ROUTABLE"
        },
        "Configuration": {
            "AgentHierarchyGroups": null,
            "FirstName": "AgentEventStreamTest",
            "LastName": "Agent",
            "RoutingProfile": {
                "ARN": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/routing-profile/profile-basic",
                "Concurrency": [
                    {"AvailableSlots": 1, "Channel": "VOICE", "MaximumSlots": 1},
                    {"AvailableSlots": 5, "Channel": "TASKS", "MaximumSlots": 5}
                ],
                "DefaultOutboundQueue": {
                    "ARN": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/queue/queue-basic",
                    "Channels": ["VOICE"],
                    "Name": "BasicQueue"
                },
                "InboundQueues": [
                    {
                        "ARN": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/queue/queue-basic",
                        "Channels": ["VOICE", "TASKS"],
                        "Name": "BasicQueue"
                    }
                ],
                "Name": "Basic Routing Profile"
            },
            "Username": "agentUserName"
        },
        "Contacts": []
    },
    "EventId": "0b3a1e5c-9f57-4d65-9a5e-43d0e1c3f001",
    "EventTimestamp": "2019-08-13T20:50:00.000Z",
    "EventType": "LOGIN",
    "InstanceARN": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111",
    "Version": "2019-05-25"
}"""

# LOGOUT: Offline, previous snapshot explicitly null, no routing profile in the configuration.
AGENT_LOGOUT = b"""{
    "AWSAccountId": "012345678901",
    "AgentARN": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/agent/agent-1111",
    "CurrentAgentSnapshot": {
        "AgentStatus": {
            "ARN": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/agent-state/state-offline",
            "Name": "Offline",
            "StartTimestamp": "2019-08-13T23:00:00.000Z"
        },
        "Configuration": {
            "AgentHierarchyGroups": null,
            "FirstName": "AgentEventStreamTest",
            "LastName": "Agent",
            "RoutingProfile": null,
            "Username": "agentUserName"
        },
        "Contacts": []
    },
    "EventId": "0b3a1e5c-9f57-4d65-9a5e-43d0e1c3f002",
    "EventTimestamp": "2019-08-13T23:00:00.000Z",
    "EventType": "LOGOUT",
    "InstanceARN": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111",
    "PreviousAgentSnapshot": null,
    "Version": "2019-05-25"
}"""

# HEART_BEAT: on a custom status (Lunch), a task PAUSED and a chat CONNECTED_ONHOLD, the older
# data model's `EnqueueTimestamp` spelling for the next status.
AGENT_HEART_BEAT = b"""{
    "AWSAccountId": "012345678901",
    "AgentARN": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/agent/agent-1111",
    "CurrentAgentSnapshot": {
        "AgentStatus": {
            "ARN": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/agent-state/state-lunch",
            "Name": "Lunch",
            "StartTimestamp": "2019-08-13T21:00:00.000Z"
        },
        "NextAgentStatus": {
            "Name": "Available",
            "ARN": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/agent-state/state-available",
            "EnqueueTimestamp": "2019-08-13T21:01:00.000Z"
        },
        "Configuration": {
            "AgentHierarchyGroups": null,
            "FirstName": "AgentEventStreamTest",
            "LastName": "Agent",
            "RoutingProfile": null,
            "Username": "agentUserName"
        },
        "Contacts": [
            {
                "Channel": "TASK",
                "ConnectedToAgentTimestamp": "2019-08-13T20:40:00.000Z",
                "ContactId": "task-3333",
                "InitialContactId": "task-3330",
                "InitiationMethod": "API",
                "Queue": null,
                "QueueTimestamp": null,
                "State": "PAUSED",
                "StateStartTimestamp": "2019-08-13T20:59:00.000Z"
            },
            {
                "Channel": "CHAT",
                "ConnectedToAgentTimestamp": "2019-08-13T20:58:30.000Z",
                "ContactId": "chat-4444",
                "InitialContactId": null,
                "InitiationMethod": "INBOUND",
                "Queue": {
                    "ARN": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/queue/queue-basic",
                    "Name": "BasicQueue"
                },
                "QueueTimestamp": "2019-08-13T20:58:10.000Z",
                "State": "CONNECTED_ONHOLD",
                "StateStartTimestamp": "2019-08-13T20:59:30.000Z"
            }
        ]
    },
    "EventId": "0b3a1e5c-9f57-4d65-9a5e-43d0e1c3f003",
    "EventTimestamp": "2019-08-13T21:02:00.000Z",
    "EventType": "HEART_BEAT",
    "InstanceARN": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111",
    "PreviousAgentSnapshot": {
        "AgentStatus": {
            "ARN": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/agent-state/state-lunch",
            "Name": "Lunch",
            "StartTimestamp": "2019-08-13T21:00:00.000Z"
        },
        "Configuration": {"Username": "agentUserName"},
        "Contacts": []
    },
    "Version": "2019-05-25"
}"""

AGENT_SAMPLES = {
    "STATE_CHANGE": AGENT_STATE_CHANGE,
    "LOGIN": AGENT_LOGIN,
    "LOGOUT": AGENT_LOGOUT,
    "HEART_BEAT": AGENT_HEART_BEAT,
}

# --- contact event samples (EventBridge envelopes, as an EventBridge rule puts them into Kinesis)

CONTACT_INITIATED = b"""{
    "version": "0",
    "id": "5b9b3b0e-1c1a-4d6a-9f3e-000000000001",
    "detail-type": "Amazon Connect Contact Event",
    "source": "aws.connect",
    "account": "012345678901",
    "time": "2021-08-04T17:43:48Z",
    "region": "us-west-2",
    "resources": [
        "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/contact/voice-5555",
        "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111"
    ],
    "detail": {
        "initiationTimestamp": "2021-08-04T17:43:47.519Z",
        "contactId": "voice-5555",
        "channel": "VOICE",
        "instanceArn": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111",
        "initiationMethod": "INBOUND",
        "eventType": "INITIATED"
    }
}"""

CONTACT_QUEUED = b"""{
    "version": "0",
    "id": "5b9b3b0e-1c1a-4d6a-9f3e-000000000002",
    "detail-type": "Amazon Connect Contact Event",
    "source": "aws.connect",
    "account": "012345678901",
    "time": "2021-08-04T17:43:58Z",
    "region": "us-west-2",
    "resources": [
        "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/contact/voice-5555",
        "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111"
    ],
    "detail": {
        "initiationTimestamp": "2021-08-04T17:43:47.519Z",
        "contactId": "voice-5555",
        "channel": "VOICE",
        "instanceArn": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111",
        "initiationMethod": "INBOUND",
        "eventType": "QUEUED",
        "queueInfo": {
            "queueType": "STANDARD",
            "queueArn": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/queue/queue-basic",
            "enqueueTimestamp": "2021-08-04T17:43:57.861Z"
        }
    }
}"""

CONTACT_CONNECTED_TO_AGENT = b"""{
    "version": "0",
    "id": "5b9b3b0e-1c1a-4d6a-9f3e-000000000003",
    "detail-type": "Amazon Connect Contact Event",
    "source": "aws.connect",
    "account": "012345678901",
    "time": "2021-08-04T17:44:10Z",
    "region": "us-west-2",
    "resources": [
        "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/contact/voice-5555",
        "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111"
    ],
    "detail": {
        "initiationTimestamp": "2021-08-04T17:43:47.519Z",
        "contactId": "voice-5555",
        "channel": "VOICE",
        "instanceArn": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111",
        "initiationMethod": "INBOUND",
        "eventType": "CONNECTED_TO_AGENT",
        "agentInfo": {
            "agentArn": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/agent/agent-1111",
            "connectedToAgentTimestamp": "2021-08-04T17:44:09.342Z"
        },
        "queueInfo": {
            "queueType": "STANDARD",
            "queueArn": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/queue/queue-basic",
            "enqueueTimestamp": "2021-08-04T17:43:57.861Z"
        }
    }
}"""

# DISCONNECTED as the samples show it: `Voice`, `AgentInfo` capitalised, no
# connectedToSystemTimestamp for an inbound call.
CONTACT_DISCONNECTED = b"""{
    "version": "0",
    "id": "5b9b3b0e-1c1a-4d6a-9f3e-000000000004",
    "detail-type": "Amazon Connect Contact Event",
    "source": "aws.connect",
    "account": "012345678901",
    "time": "2021-08-04T17:50:02Z",
    "region": "us-west-2",
    "resources": [
        "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/contact/voice-5555",
        "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111"
    ],
    "detail": {
        "initiationTimestamp": "2021-08-04T17:43:47.519Z",
        "disconnectTimestamp": "2021-08-04T17:50:01.732Z",
        "contactId": "voice-5555",
        "channel": "Voice",
        "instanceArn": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111",
        "initiationMethod": "INBOUND",
        "eventType": "DISCONNECTED",
        "AgentInfo": {
            "agentArn": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/agent/agent-1111",
            "connectedToAgentTimestamp": "2021-08-04T17:44:09.342Z"
        },
        "queueInfo": {
            "queueType": "STANDARD",
            "queueArn": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/queue/queue-basic",
            "enqueueTimestamp": "2021-08-04T17:43:57.861Z"
        }
    }
}"""

CONTACT_COMPLETED = b"""{
    "version": "0",
    "id": "5b9b3b0e-1c1a-4d6a-9f3e-000000000005",
    "detail-type": "Amazon Connect Contact Event",
    "source": "aws.connect",
    "account": "012345678901",
    "time": "2021-08-04T17:50:33Z",
    "region": "us-west-2",
    "resources": [
        "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/contact/voice-5555",
        "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111"
    ],
    "detail": {
        "initiationTimestamp": "2021-08-04T17:43:47.519Z",
        "disconnectTimestamp": "2021-08-04T17:50:01.732Z",
        "contactId": "voice-5555",
        "initialContactId": "voice-5550",
        "previousContactId": "voice-5550",
        "relatedContactId": "voice-5500",
        "channel": "VOICE",
        "instanceArn": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111",
        "initiationMethod": "TRANSFER",
        "eventType": "COMPLETED",
        "disconnectReason": "CUSTOMER_DISCONNECT",
        "agentInfo": {
            "agentArn": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/agent/agent-1111",
            "connectedToAgentTimestamp": "2021-08-04T17:44:09.342Z",
            "agentInitiatedHoldDuration": 42,
            "afterContactWorkStartTimestamp": "2021-08-04T17:50:01.732Z",
            "afterContactWorkEndTimestamp": "2021-08-04T17:50:32.101Z",
            "afterContactWorkDuration": 30
        },
        "queueInfo": {
            "queueType": "STANDARD",
            "queueArn": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/queue/queue-basic",
            "enqueueTimestamp": "2021-08-04T17:43:57.861Z"
        }
    }
}"""

# An outbound chat: no queueInfo at all.
CONTACT_CONNECTED_TO_SYSTEM = b"""{
    "version": "0",
    "id": "5b9b3b0e-1c1a-4d6a-9f3e-000000000006",
    "detail-type": "Amazon Connect Contact Event",
    "source": "aws.connect",
    "account": "012345678901",
    "time": "2021-08-04T18:00:01Z",
    "region": "us-west-2",
    "resources": [
        "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/contact/chat-6666",
        "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111"
    ],
    "detail": {
        "initiationTimestamp": "2021-08-04T18:00:00.250Z",
        "connectedToSystemTimestamp": "2021-08-04T18:00:00.980Z",
        "contactId": "chat-6666",
        "channel": "CHAT",
        "instanceArn": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111",
        "initiationMethod": "API",
        "eventType": "CONNECTED_TO_SYSTEM"
    }
}"""

CONTACT_DATA_UPDATED = b"""{
    "version": "0",
    "id": "5b9b3b0e-1c1a-4d6a-9f3e-000000000007",
    "detail-type": "Amazon Connect Contact Event",
    "source": "aws.connect",
    "account": "012345678901",
    "time": "2021-08-04T18:10:05Z",
    "region": "us-west-2",
    "resources": [
        "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/contact/task-7777",
        "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111"
    ],
    "detail": {
        "initiationTimestamp": "2021-08-04T18:09:00.000Z",
        "scheduledTimestamp": "2021-08-05T09:00:00.000Z",
        "contactId": "task-7777",
        "channel": "TASK",
        "instanceArn": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111",
        "initiationMethod": "API",
        "eventType": "CONTACT_DATA_UPDATED",
        "updatedProperties": ["ScheduledTimestamp", "Tags"],
        "tags": {"aws:connect:instanceId": "aaaaaaaa-bbbb-cccc-dddd-111111111111"}
    }
}"""

CONTACT_PAUSED = b"""{
    "version": "0",
    "id": "5b9b3b0e-1c1a-4d6a-9f3e-000000000008",
    "detail-type": "Amazon Connect Contact Event",
    "source": "aws.connect",
    "account": "012345678901",
    "time": "2021-08-04T18:20:00Z",
    "region": "us-west-2",
    "resources": [
        "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/contact/task-7777",
        "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111"
    ],
    "detail": {
        "initiationTimestamp": "2021-08-04T18:09:00.000Z",
        "contactId": "task-7777",
        "channel": "TASK",
        "instanceArn": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111",
        "initiationMethod": "API",
        "eventType": "PAUSED",
        "agentInfo": {
            "agentArn": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/agent/agent-1111",
            "connectedToAgentTimestamp": "2021-08-04T18:15:00.000Z"
        },
        "queueInfo": {
            "queueType": "STANDARD",
            "queueArn": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/queue/queue-tasks",
            "enqueueTimestamp": "2021-08-04T18:10:00.000Z"
        }
    }
}"""

CONTACT_RESUMED = CONTACT_PAUSED.replace(b'"PAUSED"', b'"RESUMED"').replace(
    b"2021-08-04T18:20:00Z", b"2021-08-04T18:25:00Z"
).replace(b"000000000008", b"000000000009")

# An email queued on an agent's own queue.
CONTACT_EMAIL_QUEUED = b"""{
    "version": "0",
    "id": "5b9b3b0e-1c1a-4d6a-9f3e-000000000010",
    "detail-type": "Amazon Connect Contact Event",
    "source": "aws.connect",
    "account": "012345678901",
    "time": "2021-08-04T19:00:02Z",
    "region": "us-west-2",
    "resources": [
        "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/contact/email-8888",
        "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111"
    ],
    "detail": {
        "initiationTimestamp": "2021-08-04T19:00:00.000Z",
        "contactId": "email-8888",
        "channel": "EMAIL",
        "instanceArn": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111",
        "initiationMethod": "INBOUND",
        "eventType": "QUEUED",
        "queueInfo": {
            "queueType": "AGENT",
            "queueArn": "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/queue/agent/agent-1111",
            "enqueueTimestamp": "2021-08-04T19:00:01.500Z"
        }
    }
}"""

CONTACT_SAMPLES = {
    "INITIATED": CONTACT_INITIATED,
    "CONNECTED_TO_SYSTEM": CONTACT_CONNECTED_TO_SYSTEM,
    "CONTACT_DATA_UPDATED": CONTACT_DATA_UPDATED,
    "QUEUED": CONTACT_QUEUED,
    "CONNECTED_TO_AGENT": CONTACT_CONNECTED_TO_AGENT,
    "DISCONNECTED": CONTACT_DISCONNECTED,
    "PAUSED": CONTACT_PAUSED,
    "RESUMED": CONTACT_RESUMED,
    "COMPLETED": CONTACT_COMPLETED,
}

SAMPLES = [*AGENT_SAMPLES.values(), *CONTACT_SAMPLES.values(), CONTACT_EMAIL_QUEUED]


def arn(resource: str) -> str:
    return f"{INSTANCE_ARN}/{resource}"


BASIC_QUEUE = QueueRef("queue-basic", arn("queue/queue-basic"), "BasicQueue", ("CHAT", "VOICE"))
ENDED_CALL = AgentContact(
    contact_id="contact-2222",
    initial_contact_id=None,
    channel="VOICE",
    initiation_method="INBOUND",
    state="ENDED",
    state_start_time=ms("2019-08-13T20:58:00.004Z"),
    queue=QueueRef("queue-basic", arn("queue/queue-basic"), "BasicQueue"),
    queue_time=ms("2019-08-13T20:54:57.123Z"),
    connected_to_agent_time=ms("2019-08-13T20:55:12.000Z"),
)
AVAILABLE = AgentStatus(
    "Available", arn("agent-state/state-available"), ms("2019-08-13T20:52:30.704Z"), "ROUTABLE"
)
CONCURRENCY = (ChannelConcurrency("CHAT", 3, 3), ChannelConcurrency("VOICE", 1, 0))
OUTBOUND = QueueRef("queue-basic", arn("queue/queue-basic"), "BasicQueue", ("VOICE",))


# --- agent events ---------------------------------------------------------------------------


def test_state_change_sample_reads_every_field():
    event = parse(AGENT_STATE_CHANGE)
    assert event == AgentEvent(
        event_id="477f2c4f-cd1a-4785-b1a8-d1fb44d6a6a0",
        event_type="STATE_CHANGE",
        event_time=ms("2019-08-13T20:58:00.004Z"),
        agent_id=AGENT,
        instance_id=INSTANCE,
        agent_arn=AGENT_ARN,
        username="agentUserName",
        first_name=None,
        last_name=None,
        current=AgentSnapshot(
            status=AVAILABLE,
            next_status=NextAgentStatus(
                "Lunch", arn("agent-state/state-lunch"), ms("2019-08-13T20:58:00.004Z")
            ),
            routing_profile=RoutingProfileInfo(
                profile_id="profile-basic",
                arn=arn("routing-profile/profile-basic"),
                name="Basic Routing Profile",
                inbound_queues=(
                    BASIC_QUEUE,
                    QueueRef("agent/agent-1111", arn("queue/agent/agent-1111"), None,
                             ("CHAT", "VOICE")),
                ),
                default_outbound_queue=OUTBOUND,
                concurrency=CONCURRENCY,
            ),
            hierarchy_groups=(
                HierarchyGroup(1, "group-emea", arn("agent-group/group-emea"), "EMEA"),
                HierarchyGroup(2, "group-berlin", arn("agent-group/group-berlin"), "Berlin"),
            ),
            contacts=(ENDED_CALL,),
        ),
        previous=AgentSnapshot(
            status=AVAILABLE,
            next_status=None,
            routing_profile=RoutingProfileInfo(
                "profile-basic", arn("routing-profile/profile-basic"), "Basic Routing Profile",
                (BASIC_QUEUE,), OUTBOUND, CONCURRENCY,
            ),
            hierarchy_groups=(),
            contacts=(
                AgentContact(
                    "contact-2222", None, "VOICE", "INBOUND", "CONNECTED",
                    ms("2019-08-13T20:55:12.000Z"), ENDED_CALL.queue,
                    ms("2019-08-13T20:54:57.123Z"), ms("2019-08-13T20:55:12.000Z"),
                ),
            ),
        ),
    )
    assert (event.status_name, event.status_type, event.online) == ("Available", "ROUTABLE", True)


def test_login_has_no_previous_snapshot_and_keeps_the_declared_type():
    event = parse(AGENT_LOGIN)
    assert isinstance(event, AgentEvent)
    assert (event.event_type, event.previous, event.online) == ("LOGIN", None, True)
    assert event.current.status == AgentStatus(
        "Available", arn("agent-state/state-available"), ms("2019-08-13T20:50:00.000Z"),
        "ROUTABLE",
    )
    assert event.current.next_status is None
    assert event.current.contacts == ()
    assert event.current.routing_profile.concurrency == (
        ChannelConcurrency("VOICE", 1, 1), ChannelConcurrency("TASK", 5, 5),
    )
    assert event.current.routing_profile.inbound_queues[0].channels == ("VOICE", "TASK")


def test_logout_is_offline_with_a_null_previous_snapshot():
    event = parse(AGENT_LOGOUT)
    assert (event.event_type, event.previous, event.online) == ("LOGOUT", None, False)
    assert (event.status_name, event.status_type) == ("Offline", "OFFLINE")
    assert event.current.routing_profile is None
    assert event.current.hierarchy_groups == ()


def test_heart_beat_on_a_custom_status_with_paused_task_and_held_chat():
    event = parse(AGENT_HEART_BEAT)
    assert (event.event_type, event.status_name, event.status_type) == (
        "HEART_BEAT", "Lunch", "CUSTOM",
    )
    assert event.online
    assert event.current.next_status == NextAgentStatus(
        "Available", arn("agent-state/state-available"), ms("2019-08-13T21:01:00.000Z")
    )
    task, chat = event.current.contacts
    assert task == AgentContact(
        "task-3333", "task-3330", "TASK", "API", "PAUSED", ms("2019-08-13T20:59:00.000Z"),
        None, None, ms("2019-08-13T20:40:00.000Z"),
    )
    assert (chat.channel, chat.state, chat.queue.queue_id) == (
        "CHAT", "CONNECTED_ONHOLD", "queue-basic",
    )
    assert event.previous.status.name == "Lunch"
    assert event.previous.contacts == ()
    assert event.previous.routing_profile is None


def test_status_type_is_declared_or_derived_from_the_name():
    record = load(AGENT_STATE_CHANGE)
    status = record["CurrentAgentSnapshot"]["AgentStatus"]
    for name, declared, expected in [
        ("Available", None, "ROUTABLE"),
        ("available", None, "ROUTABLE"),
        ("Offline", None, "OFFLINE"),
        ("Break", None, "CUSTOM"),
        ("Training", None, "CUSTOM"),
        ("Available", "custom", "CUSTOM"),  # the declared type wins over the name
        ("Lunch", "ROUTABLE", "ROUTABLE"),
        (None, None, None),
    ]:
        status["Name"] = name
        status.pop("Type", None)
        if declared is not None:
            status["Type"] = declared
        assert parse(record).status_type == expected, (name, declared)


def test_status_type_absent_when_the_snapshot_has_no_status():
    record = load(AGENT_LOGIN)
    del record["CurrentAgentSnapshot"]["AgentStatus"]
    event = parse(record)
    assert (event.status_name, event.status_type, event.online) == (None, None, False)
    record["CurrentAgentSnapshot"] = None
    event = parse(record)
    assert (event.current, event.status_type, event.online) == (None, None, False)


def test_next_status_enqueue_and_enqueued_spellings():
    record = load(AGENT_STATE_CHANGE)
    next_status = record["CurrentAgentSnapshot"]["NextAgentStatus"]
    expected = ms(next_status.pop("EnqueuedTimestamp"))
    next_status["EnqueueTimestamp"] = "2019-08-13T20:58:00.004Z"
    assert parse(record).current.next_status.enqueued_time == expected
    del next_status["EnqueueTimestamp"]
    assert parse(record).current.next_status.enqueued_time is None


def test_hierarchy_groups_allow_null_levels_and_a_null_object():
    record = load(AGENT_STATE_CHANGE)
    groups = record["CurrentAgentSnapshot"]["Configuration"]["AgentHierarchyGroups"]
    groups["Level1"] = None
    groups["Level5"] = {"ARN": arn("agent-group/group-desk"), "Name": None}
    assert parse(record).current.hierarchy_groups == (
        HierarchyGroup(2, "group-berlin", arn("agent-group/group-berlin"), "Berlin"),
        HierarchyGroup(5, "group-desk", arn("agent-group/group-desk"), None),
    )
    record["CurrentAgentSnapshot"]["Configuration"]["AgentHierarchyGroups"] = None
    assert parse(record).current.hierarchy_groups == ()


def test_agent_queue_with_a_null_name():
    queues = parse(AGENT_STATE_CHANGE).current.routing_profile.inbound_queues
    agent_queue = queues[1]
    assert (agent_queue.queue_id, agent_queue.name) == ("agent/agent-1111", None)


def test_contact_in_ended_state_marks_after_contact_work():
    event = parse(AGENT_STATE_CHANGE)
    (ended,) = event.current.contacts
    (before,) = event.previous.contacts
    assert (ended.contact_id, ended.state, before.state) == ("contact-2222", "ENDED", "CONNECTED")
    assert ended.state_start_time == ms("2019-08-13T20:58:00.004Z")


def test_numbers_given_as_strings():
    record = load(AGENT_STATE_CHANGE)
    concurrency = record["CurrentAgentSnapshot"]["Configuration"]["RoutingProfile"]["Concurrency"]
    concurrency[0].update(AvailableSlots="2", MaximumSlots=" 3 ")
    concurrency[1].update(AvailableSlots=0.0, MaximumSlots="1.0")
    assert parse(record).current.routing_profile.concurrency == (
        ChannelConcurrency("CHAT", 3, 2), ChannelConcurrency("VOICE", 1, 0),
    )
    concurrency[0]["AvailableSlots"] = "two"  # unusable: the entry is left out, never fatal
    assert parse(record).current.routing_profile.concurrency == (
        ChannelConcurrency("VOICE", 1, 0),
    )


def test_unknown_values_and_fields_are_kept_or_ignored():
    record = load(AGENT_STATE_CHANGE)
    record["EventType"] = "skill_change"
    record["SomethingNew"] = {"Nested": [1, 2]}
    contact = record["CurrentAgentSnapshot"]["Contacts"][0]
    contact.update(State="wrapping_up", InitiationMethod="campaign_preview", Channel="sms",
                   Sentiment="POSITIVE")
    record["CurrentAgentSnapshot"]["AgentStatus"]["Colour"] = "green"
    event = parse(record)
    assert event.event_type == "SKILL_CHANGE"
    (contact,) = event.current.contacts
    assert (contact.state, contact.initiation_method, contact.channel) == (
        "WRAPPING_UP", "CAMPAIGN_PREVIEW", "SMS",
    )
    assert event.current.status == AVAILABLE


def test_snapshot_garbage_is_read_as_absent():
    record = load(AGENT_STATE_CHANGE)
    current = record["CurrentAgentSnapshot"]
    current["Contacts"] = [None, "x", {"State": "CONNECTED"}, *current["Contacts"]]
    current["Configuration"]["RoutingProfile"]["InboundQueues"].append({"Name": "no ARN"})
    current["NextAgentStatus"] = "Lunch"
    event = parse(record)
    assert event.current.contacts == (ENDED_CALL,)
    assert len(event.current.routing_profile.inbound_queues) == 2
    assert event.current.next_status is None


def test_agent_ids_come_from_the_arn_and_instance_falls_back_to_instance_arn():
    record = load(AGENT_LOGIN)
    record["AgentARN"] = "agent/agent-9999"
    event = parse(record)
    assert (event.agent_id, event.instance_id) == ("agent-9999", INSTANCE)


def test_agent_event_without_event_id_gets_a_stable_one():
    record = load(AGENT_LOGIN)
    del record["EventId"]
    first, second = parse(record), parse(record)
    assert first.event_id == second.event_id == f"{AGENT}:LOGIN:{ms('2019-08-13T20:50:00Z')}"


def test_previous_snapshot_is_read_whenever_present():
    record = load(AGENT_HEART_BEAT)
    assert parse(record).previous is not None
    record["PreviousAgentSnapshot"] = None
    assert parse(record).previous is None
    del record["PreviousAgentSnapshot"]
    assert parse(record).previous is None


# --- personal data --------------------------------------------------------------------------


def test_names_are_dropped_and_usernames_kept_by_default():
    event = parse(AGENT_STATE_CHANGE)
    assert (event.username, event.first_name, event.last_name) == ("agentUserName", None, None)
    assert ParseOptions() == DEFAULT_OPTIONS == ParseOptions(False, True)


def test_names_are_kept_when_turned_on():
    event = parse(AGENT_STATE_CHANGE, ParseOptions(keep_agent_names=True))
    assert (event.username, event.first_name, event.last_name) == (
        "agentUserName", "AgentEventStreamTest", "Agent",
    )


def test_usernames_can_be_turned_off():
    event = parse(AGENT_STATE_CHANGE, ParseOptions(keep_usernames=False))
    assert (event.username, event.first_name, event.last_name) == (None, None, None)
    event = parse(AGENT_STATE_CHANGE, ParseOptions(keep_agent_names=True, keep_usernames=False))
    assert (event.username, event.first_name, event.last_name) == (
        None, "AgentEventStreamTest", "Agent",
    )


def test_options_are_frozen():
    with pytest.raises(AttributeError):
        DEFAULT_OPTIONS.keep_agent_names = True  # type: ignore[misc]


def test_personal_data_from_the_previous_snapshot_when_the_current_is_missing():
    record = load(AGENT_STATE_CHANGE)
    record["CurrentAgentSnapshot"] = None
    event = parse(record, ParseOptions(keep_agent_names=True))
    assert (event.username, event.first_name) == ("agentUserName", "AgentEventStreamTest")


# --- contact events -------------------------------------------------------------------------

EVENT_TIMES = {
    "INITIATED": "2021-08-04T17:43:47.519Z",  # initiationTimestamp
    "CONNECTED_TO_SYSTEM": "2021-08-04T18:00:00.980Z",  # connectedToSystemTimestamp
    "CONTACT_DATA_UPDATED": "2021-08-04T18:10:05Z",  # envelope time
    "QUEUED": "2021-08-04T17:43:57.861Z",  # queueInfo.enqueueTimestamp
    "CONNECTED_TO_AGENT": "2021-08-04T17:44:09.342Z",  # agentInfo.connectedToAgentTimestamp
    "DISCONNECTED": "2021-08-04T17:50:01.732Z",  # disconnectTimestamp
    "PAUSED": "2021-08-04T18:20:00Z",  # envelope time
    "RESUMED": "2021-08-04T18:25:00Z",  # envelope time
    "COMPLETED": "2021-08-04T17:50:32.101Z",  # agentInfo.afterContactWorkEndTimestamp
}


@pytest.mark.parametrize("event_type", list(CONTACT_SAMPLES))
def test_every_contact_event_type_and_its_event_time(event_type):
    event = parse(CONTACT_SAMPLES[event_type])
    assert isinstance(event, ContactEvent)
    assert event.event_type == event_type
    assert event.event_time == ms(EVENT_TIMES[event_type])
    assert event.instance_id == INSTANCE
    assert event.envelope_time == ms(load(CONTACT_SAMPLES[event_type])["time"])
    assert event.event_id == load(CONTACT_SAMPLES[event_type])["id"]


def test_completed_sample_reads_every_field():
    assert parse(CONTACT_COMPLETED) == ContactEvent(
        event_id="5b9b3b0e-1c1a-4d6a-9f3e-000000000005",
        event_type="COMPLETED",
        event_time=ms("2021-08-04T17:50:32.101Z"),
        contact_id="voice-5555",
        instance_id=INSTANCE,
        channel="VOICE",
        initiation_method="TRANSFER",
        queue_id="queue-basic",
        initial_contact_id="voice-5550",
        previous_contact_id="voice-5550",
        related_contact_id="voice-5500",
        queue_arn=arn("queue/queue-basic"),
        queue_type="STANDARD",
        enqueue_time=ms("2021-08-04T17:43:57.861Z"),
        agent_id=AGENT,
        agent_arn=AGENT_ARN,
        connected_to_agent_time=ms("2021-08-04T17:44:09.342Z"),
        acw_start_time=ms("2021-08-04T17:50:01.732Z"),
        acw_end_time=ms("2021-08-04T17:50:32.101Z"),
        acw_duration_s=30,
        hold_duration_s=42,
        initiation_time=ms("2021-08-04T17:43:47.519Z"),
        connected_to_system_time=None,
        disconnect_time=ms("2021-08-04T17:50:01.732Z"),
        disconnect_reason="CUSTOMER_DISCONNECT",
        envelope_time=ms("2021-08-04T17:50:33Z"),
    )


def test_connected_to_agent_sample_reads_every_field():
    assert parse(CONTACT_CONNECTED_TO_AGENT) == ContactEvent(
        event_id="5b9b3b0e-1c1a-4d6a-9f3e-000000000003",
        event_type="CONNECTED_TO_AGENT",
        event_time=ms("2021-08-04T17:44:09.342Z"),
        contact_id="voice-5555",
        instance_id=INSTANCE,
        channel="VOICE",
        initiation_method="INBOUND",
        queue_id="queue-basic",
        queue_arn=arn("queue/queue-basic"),
        queue_type="STANDARD",
        enqueue_time=ms("2021-08-04T17:43:57.861Z"),
        agent_id=AGENT,
        agent_arn=AGENT_ARN,
        connected_to_agent_time=ms("2021-08-04T17:44:09.342Z"),
        initiation_time=ms("2021-08-04T17:43:47.519Z"),
        envelope_time=ms("2021-08-04T17:44:10Z"),
    )


def test_disconnected_sample_with_capitalised_agent_info_and_voice():
    event = parse(CONTACT_DISCONNECTED)
    assert (event.channel, event.agent_id, event.connected_to_system_time) == (
        "VOICE", AGENT, None,
    )
    assert event.connected_to_agent_time == ms("2021-08-04T17:44:09.342Z")


@pytest.mark.parametrize(
    "given, expected",
    [("VOICE", "VOICE"), ("Voice", "VOICE"), ("CHAT", "CHAT"), ("chat", "CHAT"),
     ("TASK", "TASK"), ("TASKS", "TASK"), ("Tasks", "TASK"), ("EMAIL", "EMAIL"),
     ("Email", "EMAIL"), ("SMS", "SMS"), (None, None), ("", None)],
)
def test_channels_are_normalised(given, expected):
    record = load(CONTACT_INITIATED)
    record["detail"]["channel"] = given
    assert parse(record).channel == expected


def test_every_channel_from_the_samples():
    channels = {parse(sample).channel for sample in CONTACT_SAMPLES.values()}
    channels.add(parse(CONTACT_EMAIL_QUEUED).channel)
    assert channels == {"VOICE", "CHAT", "TASK", "EMAIL"}


def test_email_on_an_agent_queue():
    event = parse(CONTACT_EMAIL_QUEUED)
    assert (event.channel, event.queue_type, event.queue_id, event.event_time) == (
        "EMAIL", "AGENT", "agent/agent-1111", ms("2021-08-04T19:00:01.500Z"),
    )


def test_outbound_without_queue_info():
    event = parse(CONTACT_CONNECTED_TO_SYSTEM)
    assert (event.queue_id, event.queue_arn, event.queue_type, event.enqueue_time) == (
        None, None, None, None,
    )
    record = load(CONTACT_CONNECTED_TO_SYSTEM)
    record["detail"].update(eventType="QUEUED", queueInfo=None, initiationMethod="OUTBOUND")
    event = parse(record)  # QUEUED without queueInfo: falls back to the envelope time
    assert (event.queue_id, event.event_time) == (None, ms("2021-08-04T18:00:01Z"))


def test_not_set_timestamp_is_none_and_the_event_time_falls_back():
    record = load(CONTACT_CONNECTED_TO_AGENT)
    record["detail"]["agentInfo"]["connectedToAgentTimestamp"] = "1970-01-01T00:00:00.001Z"
    event = parse(record)
    assert event.connected_to_agent_time is None
    assert event.event_time == ms("2021-08-04T17:44:10Z")


def test_completed_without_after_contact_work_uses_the_disconnect_time():
    record = load(CONTACT_COMPLETED)
    agent = record["detail"]["agentInfo"]
    for key in ("afterContactWorkStartTimestamp", "afterContactWorkEndTimestamp",
                "afterContactWorkDuration"):
        del agent[key]
    event = parse(record)
    assert event.event_time == ms("2021-08-04T17:50:01.732Z")
    assert (event.acw_start_time, event.acw_end_time, event.acw_duration_s) == (None, None, None)
    del record["detail"]["disconnectTimestamp"]
    assert parse(record).event_time == ms("2021-08-04T17:50:33Z")


def test_own_time_garbage_falls_back_to_the_envelope_time():
    record = load(CONTACT_QUEUED)
    record["detail"]["queueInfo"]["enqueueTimestamp"] = "soon"
    event = parse(record)
    assert (event.event_time, event.enqueue_time) == (ms("2021-08-04T17:43:58Z"), None)


def test_no_usable_event_time():
    record = load(CONTACT_PAUSED)
    del record["time"]
    letter = parse(record)
    assert (letter.reason, letter.message) == (
        DeadLetterReason.MISSING_FIELD, "missing time (no own timestamp and no envelope time)",
    )
    record["time"] = "1970-01-01T00:00:00.001Z"
    assert parse(record).reason is DeadLetterReason.MISSING_FIELD
    record["time"] = "yesterday"
    letter = parse(record)
    assert letter.reason is DeadLetterReason.BAD_TIMESTAMP
    assert "time 'yesterday'" in letter.message
    record = load(CONTACT_QUEUED)
    del record["time"]
    record["detail"]["queueInfo"]["enqueueTimestamp"] = "2021-13-40T00:00:00Z"
    letter = parse(record)
    assert letter.reason is DeadLetterReason.BAD_TIMESTAMP
    assert "queueInfo.enqueueTimestamp" in letter.message


def test_numbers_as_strings_in_contact_events():
    record = load(CONTACT_COMPLETED)
    record["detail"]["agentInfo"].update(afterContactWorkDuration="30",
                                         agentInitiatedHoldDuration="42.0")
    event = parse(record)
    assert (event.acw_duration_s, event.hold_duration_s) == (30, 42)
    record["detail"]["agentInfo"]["afterContactWorkDuration"] = "thirty"
    assert parse(record).acw_duration_s is None


def test_unknown_contact_event_types_and_methods_are_kept():
    record = load(CONTACT_INITIATED)
    record["detail"].update(eventType="amd_disabled", initiationMethod="Campaign_Preview",
                            brandNewField={"x": 1})
    event = parse(record)
    assert (event.event_type, event.initiation_method) == ("AMD_DISABLED", "CAMPAIGN_PREVIEW")
    assert event.event_time == ms("2021-08-04T17:43:48Z")


def test_a_bare_detail_without_envelope():
    detail = load(CONTACT_QUEUED)["detail"]
    event = parse(detail)
    assert (event.contact_id, event.event_time, event.envelope_time) == (
        "voice-5555", ms("2021-08-04T17:43:57.861Z"), None,
    )
    assert event.event_id == f"voice-5555:QUEUED:{ms('2021-08-04T17:43:57.861Z')}"


def test_instance_from_the_resources_when_the_detail_lacks_it():
    record = load(CONTACT_INITIATED)
    del record["detail"]["instanceArn"]
    assert parse(record).instance_id == INSTANCE


def test_other_eventbridge_events_are_not_connect_records():
    record = load(CONTACT_INITIATED)
    record["detail-type"] = "EC2 Instance State-change Notification"
    letter = parse(record)
    assert letter.reason is DeadLetterReason.NOT_CONNECT
    assert "EC2 Instance State-change Notification" in letter.message


# --- traps shared by both feeds -------------------------------------------------------------


def recase(value, how):
    if isinstance(value, dict):
        return {how(key): recase(item, how) for key, item in value.items()}
    if isinstance(value, list):
        return [recase(item, how) for item in value]
    return value


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: load(s).get("EventType")
                         or load(s)["detail"]["eventType"])
@pytest.mark.parametrize("how", [str.lower, str.upper, str.swapcase], ids=["lower", "upper", "swap"])
def test_keys_match_case_insensitively_at_every_level(sample, how):
    assert parse(recase(load(sample), how)) == parse(sample)


def test_a_key_in_two_casings_prefers_the_non_null_value():
    record = load(CONTACT_DISCONNECTED)
    record["detail"]["agentInfo"] = None
    assert parse(record).agent_id == AGENT


@pytest.mark.parametrize(
    "text",
    [
        "2021-08-04T17:43:47.519Z",
        "2021-08-04T17:43:47.519+00:00",
        "2021-08-04T19:43:47.519+02:00",
        "2021-08-04T17:43:47.519000Z",
        "2021-08-04T17:43:47.5190Z",
        "2021-08-04 17:43:47.519Z",
    ],
)
def test_timestamp_forms_with_milliseconds(text):
    record = load(CONTACT_INITIATED)
    record["detail"]["initiationTimestamp"] = text
    assert parse(record).initiation_time == ms("2021-08-04T17:43:47.519Z")


@pytest.mark.parametrize(
    "text", ["2021-08-04T17:43:47Z", "2021-08-04T17:43:47+00:00", "2021-08-04T13:43:47-04:00"]
)
def test_timestamp_forms_without_milliseconds(text):
    record = load(AGENT_LOGIN)
    record["EventTimestamp"] = text
    assert parse(record).event_time == ms("2021-08-04T17:43:47Z")


@pytest.mark.parametrize(
    "text",
    ["2021-08-04T17:43:47", "2021-08-04", "2021-02-30T10:00:00.000Z", "2021-08-04T24:00:00.000Z",
     "2021-08-04T17:60:00.000Z", "2021-08-04T17:43:60Z", "2021-08-04T17:43:4a.000Z",
     "2021-08-04T17:43:47.5-9Z", "١٢٣٤-08-04T17:43:47.519Z", "tomorrow", ""],
)
def test_unusable_timestamps_are_absent(text):
    record = load(CONTACT_COMPLETED)
    record["detail"]["initiationTimestamp"] = text
    assert parse(record).initiation_time is None


def test_timestamps_that_are_not_strings_are_absent():
    record = load(CONTACT_COMPLETED)
    record["detail"]["initiationTimestamp"] = 1628099027519
    record["detail"]["disconnectTimestamp"] = {"at": "2021-08-04T17:50:01.732Z"}
    event = parse(record)
    assert (event.initiation_time, event.disconnect_time) == (None, None)


def test_ids_given_as_numbers():
    record = load(CONTACT_INITIATED)
    record["detail"]["contactId"] = 12345
    record["id"] = 678
    event = parse(record)
    assert (event.contact_id, event.event_id) == ("12345", "678")


def test_byte_order_mark_is_tolerated():
    assert parse(b"\xef\xbb\xbf" + CONTACT_QUEUED) == parse(CONTACT_QUEUED)


# --- dead letters ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, reason, message",
    [
        (b"\xff\xfe{}", DeadLetterReason.NOT_UTF8, "not UTF-8"),
        (b'{"EventType": "LOGIN", "x": "\xc3"}', DeadLetterReason.NOT_UTF8, "not UTF-8"),
        (b"{not json", DeadLetterReason.INVALID_JSON, "invalid JSON"),
        (b"", DeadLetterReason.INVALID_JSON, "invalid JSON"),
        (AGENT_LOGIN[:200], DeadLetterReason.INVALID_JSON, "invalid JSON"),
        (b"[" * 5000 + b"]" * 5000, DeadLetterReason.INVALID_JSON, "invalid JSON"),
        (b"[1, 2]", DeadLetterReason.NOT_CONNECT, "a JSON list"),
        (b'"text"', DeadLetterReason.NOT_CONNECT, "a JSON str"),
        (b"null", DeadLetterReason.NOT_CONNECT, "a JSON NoneType"),
        (b'{"hello": "world"}', DeadLetterReason.NOT_CONNECT, "neither an agent event"),
        (b'{"EventType": "LOGIN"}', DeadLetterReason.NOT_CONNECT, "neither an agent event"),
        (b'{"AgentARN": "arn:x", "EventTimestamp": "2026-01-01T00:00:00Z"}',
         DeadLetterReason.MISSING_FIELD, "missing EventType"),
        (b'{"EventType": "LOGIN", "EventTimestamp": "2026-01-01T00:00:00Z"}',
         DeadLetterReason.MISSING_FIELD, "missing AgentARN"),
        (b'{"AgentARN": "arn:x", "EventType": "LOGIN"}',
         DeadLetterReason.MISSING_FIELD, "missing EventTimestamp"),
        (b'{"AgentARN": "arn:x", "EventType": "LOGIN", "EventTimestamp": "2026-01-01T00:00:00Z"}',
         DeadLetterReason.MISSING_FIELD, "missing agent id: AgentARN 'arn:x'"),
        (b'{"AgentARN": "arn:x", "EventType": "LOGIN", "EventTimestamp": "yesterday"}',
         DeadLetterReason.BAD_TIMESTAMP, "EventTimestamp 'yesterday' is not a usable time"),
        (b'{"AgentARN": "arn:x", "EventType": "LOGIN", "EventTimestamp": 1767225600000}',
         DeadLetterReason.BAD_TIMESTAMP, "EventTimestamp <int> is not a usable time"),
        (b'{"AgentARN": "a/agent/b", "EventType": "LOGIN", '
         b'"EventTimestamp": "1970-01-01T00:00:00.001Z"}',
         DeadLetterReason.BAD_TIMESTAMP, "EventTimestamp '1970-01-01T00:00:00.001Z'"),
        (b'{"detail-type": "Amazon Connect Contact Event", "detail": {"contactId": "c"}}',
         DeadLetterReason.MISSING_FIELD, "missing eventType"),
        (b'{"detail-type": "Amazon Connect Contact Event", "detail": {"eventType": "QUEUED"}}',
         DeadLetterReason.MISSING_FIELD, "missing contactId"),
        (b'{"detail-type": "Amazon Connect Contact Event", "detail": "QUEUED"}',
         DeadLetterReason.MISSING_FIELD, "missing detail"),
        (b" " * 1_048_577, DeadLetterReason.TOO_LARGE, "over 1 MB"),
    ],
)
def test_unusable_records_become_precise_dead_letters(raw, reason, message):
    letter = parse_record(raw, "agent-events", 42)
    assert isinstance(letter, DeadLetter), raw[:40]
    assert letter.reason is reason, letter.message
    assert message in letter.message
    assert (letter.raw, letter.stream, letter.arrival_time) == (raw, "agent-events", 42)


def test_dead_letter_json_carries_the_raw_bytes_in_base64():
    raw = b"\x00\xffnot a record"
    letter = parse_record(raw, "contact-events", 7)
    document = letter.to_json()
    assert document == {
        "reason": "not_utf8",
        "message": letter.message,
        "raw_base64": base64.b64encode(raw).decode("ascii"),
        "stream": "contact-events",
        "arrival_time": 7,
    }
    assert base64.b64decode(document["raw_base64"]) == raw
    orjson.dumps(document)


def test_nothing_escapes_even_for_inputs_of_the_wrong_type():
    for data in (None, 42, "text", bytearray(CONTACT_QUEUED), memoryview(CONTACT_QUEUED)):
        result = parse_record(data, "s", 1)  # type: ignore[arg-type]
        assert isinstance(result, (ContactEvent, DeadLetter))
        if isinstance(result, DeadLetter):
            assert isinstance(result.raw, bytes)
            result.to_json()


def test_samples_are_not_modified_by_parsing():
    record = load(AGENT_STATE_CHANGE)
    kept = copy.deepcopy(record)
    parse(recase(record, str.lower))
    assert record == kept


# --- records built by the simulator ---------------------------------------------------------

SIM_INSTANCE = "11111111-2222-3333-4444-555555555555"
SIM_QUEUE = Queue(SIM_INSTANCE, "q-1", "Sales")
SIM_AGENT = Agent(SIM_INSTANCE, "agent-1", "jdoe", "Jane", "Doe",
                  RoutingProfile(SIM_INSTANCE, "rp-1", "Basic", (SIM_QUEUE,)))
T0 = 1_795_428_000_000


def test_simulated_queued_contact_event():
    facts = ContactFacts(SIM_INSTANCE, "c-1", "VOICE", "INBOUND", T0, SIM_QUEUE, T0 + 1500)
    event = parse(contact_event("e-1", "QUEUED", T0 + 2000, facts))
    assert event == ContactEvent(
        event_id="e-1", event_type="QUEUED", event_time=T0 + 1500, contact_id="c-1",
        instance_id=SIM_INSTANCE, channel="VOICE", initiation_method="INBOUND", queue_id="q-1",
        initial_contact_id="c-1", queue_arn=SIM_QUEUE.arn, queue_type="STANDARD",
        enqueue_time=T0 + 1500, initiation_time=T0, envelope_time=T0 + 2000,
    )


def test_simulated_completed_contact_event():
    facts = ContactFacts(
        SIM_INSTANCE, "c-1", "CHAT", "INBOUND", T0, SIM_QUEUE, T0 + 1500, SIM_AGENT, T0 + 9_000,
        T0 + 60_000, T0 + 60_000, T0 + 90_500, 12,
    )
    event = parse(contact_event("e-9", "COMPLETED", T0 + 91_000, facts))
    assert (event.event_time, event.acw_start_time, event.acw_end_time, event.acw_duration_s) == (
        T0 + 90_500, T0 + 60_000, T0 + 90_500, 30,
    )
    assert (event.agent_id, event.hold_duration_s, event.disconnect_time) == (
        "agent-1", 12, T0 + 60_000,
    )


def test_simulated_contact_event_time_falls_back_to_the_envelope_time():
    facts = ContactFacts(SIM_INSTANCE, "c-1", "VOICE", "INBOUND", T0)
    record = contact_event("e-1", "CONTACT_DATA_UPDATED", T0 + 5_400, facts)
    assert parse(record).event_time == T0 + 5_000


def test_simulated_agent_events_online_from_status_type():
    available = AgentState(Status("Available", "s-1", "ROUTABLE", T0))
    event = parse(agent_event("e-2", "STATE_CHANGE", T0, SIM_AGENT, available, available))
    assert isinstance(event, AgentEvent)
    assert (event.agent_id, event.instance_id, event.online) == ("agent-1", SIM_INSTANCE, True)
    offline = AgentState(Status("Offline", "s-2", "OFFLINE", T0))
    assert not parse(agent_event("e-3", "STATE_CHANGE", T0, SIM_AGENT, offline, available)).online
    assert not parse(agent_event("e-4", "LOGOUT", T0, SIM_AGENT, available, None)).online


def test_simulated_agent_snapshot_with_a_contact():
    contact = SnapshotContact("c-1", "VOICE", "INBOUND", "CONNECTED", T0, SIM_QUEUE, T0 - 5_000, T0)
    state = AgentState(Status("Available", "s-1", "ROUTABLE", T0), (contact,))
    event = parse(agent_event("e-5", "STATE_CHANGE", T0, SIM_AGENT, state, None))
    assert event.current.contacts == (
        AgentContact("c-1", None, "VOICE", "INBOUND", "CONNECTED", T0,
                     QueueRef("q-1", SIM_QUEUE.arn, "Sales"), T0 - 5_000, T0),
    )
    assert event.current.routing_profile.concurrency == (
        ChannelConcurrency("VOICE", 1, 0), ChannelConcurrency("CHAT", 2, 2),
    )


def test_repeated_configuration_and_contacts_parse_the_same_and_differences_show():
    first = parse(AGENT_STATE_CHANGE)
    assert parse(AGENT_STATE_CHANGE) == first
    record = load(AGENT_STATE_CHANGE)
    profile = record["CurrentAgentSnapshot"]["Configuration"]["RoutingProfile"]
    profile["InboundQueues"][0]["Name"] = "Renamed"
    record["CurrentAgentSnapshot"]["Contacts"][0]["State"] = "CONNECTED_ONHOLD"
    changed = parse(record)
    assert changed.current.routing_profile.inbound_queues[0].name == "Renamed"
    assert changed.current.contacts[0].state == "CONNECTED_ONHOLD"
    assert changed.previous == first.previous
