"""A small simulated contact centre: agents log in, contacts queue, are answered or abandon.

Events come out in time order as `Emitted(feed, partition_key, record, at)`, in Connect's own
formats, deterministic for a seed.
"""

from __future__ import annotations

import heapq
import itertools
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

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

AGENT_FEED = "agent"
CONTACT_FEED = "contact"
HEARTBEAT_MS = 120_000


@dataclass(frozen=True)
class Emitted:
    feed: str
    partition_key: str
    record: dict
    at: int


@dataclass(frozen=True)
class CentreSettings:
    agents: int = 10
    queues: int = 2
    arrivals_per_minute: float = 6.0
    mean_handle_s: float = 120.0
    mean_acw_s: float = 20.0
    mean_patience_s: float = 90.0
    chat_share: float = 0.3
    outbound_share: float = 0.05
    instance_id: str = "11111111-2222-3333-4444-555555555555"


@dataclass
class _AgentRun:
    agent: Agent
    state: AgentState
    last_event: int = 0
    busy_until: int = 0


@dataclass(order=True)
class _Due:
    at: int
    order: int
    action: object = field(compare=False)


class Centre:
    def __init__(self, settings: CentreSettings, seed: int, start_ms: int):
        self._settings = settings
        self._random = random.Random(seed)
        self._start = start_ms
        self._sequence = itertools.count()
        self._due: list[_Due] = []
        self._out: list[Emitted] = []
        self._waiting: list[tuple[ContactFacts, int]] = []
        instance = settings.instance_id
        self.queues = [
            Queue(instance, self._uuid(), f"Queue{n + 1}") for n in range(settings.queues)
        ]
        profile = RoutingProfile(instance, self._uuid(), "Basic Routing Profile", tuple(self.queues))
        self._agents = [
            _AgentRun(
                Agent(instance, self._uuid(), f"agent{n + 1}", f"First{n + 1}", f"Last{n + 1}", profile),
                AgentState(Status("Offline", self._uuid(), "OFFLINE", start_ms)),
            )
            for n in range(settings.agents)
        ]
        self._available = Status("Available", self._uuid(), "ROUTABLE", start_ms)

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self._random.getrandbits(128), version=4))

    def _at(self, when: int, action) -> None:
        heapq.heappush(self._due, _Due(when, next(self._sequence), action))

    def events(self, duration_ms: int | None = None) -> Iterator[Emitted]:
        """Every event up to `duration_ms` of simulated time (forever when None)."""
        end = None if duration_ms is None else self._start + duration_ms
        for run in self._agents:
            self._at(self._start + self._random.randint(0, 5_000), lambda t, r=run: self._login(t, r))
        self._at(self._start + self._gap(), self._arrival)
        self._at(self._start + HEARTBEAT_MS, self._heartbeats)
        while self._due:
            due = heapq.heappop(self._due)
            if end is not None and due.at > end:
                return
            due.action(due.at)
            self._out.sort(key=lambda e: e.at)
            yield from self._out
            self._out.clear()

    def _gap(self) -> int:
        return int(self._random.expovariate(self._settings.arrivals_per_minute / 60_000)) + 1

    def _publish_agent(self, run: _AgentRun, event_type: str, at: int, new: AgentState) -> None:
        previous = None if event_type in ("LOGIN", "LOGOUT") else run.state
        record = agent_event(self._uuid(), event_type, at, run.agent, new, previous)
        run.state = new
        run.last_event = at
        self._out.append(Emitted(AGENT_FEED, run.agent.arn, record, at))

    def _publish_contact(self, event_type: str, at: int, facts: ContactFacts) -> None:
        record = contact_event(self._uuid(), event_type, at, facts)
        self._out.append(Emitted(CONTACT_FEED, facts.contact_id, record, at))

    def _login(self, at: int, run: _AgentRun) -> None:
        self._publish_agent(run, "LOGIN", at, AgentState(replace(self._available, start=at)))
        self._publish_agent(run, "STATE_CHANGE", at, run.state)
        self._dispatch(at)

    def _heartbeats(self, at: int) -> None:
        for run in self._agents:
            if at - run.last_event >= HEARTBEAT_MS:
                self._publish_agent(run, "HEART_BEAT", at, run.state)
        self._at(at + HEARTBEAT_MS // 4, self._heartbeats)

    def _arrival(self, at: int) -> None:
        settings = self._settings
        queue = self._random.choice(self.queues)
        channel = "CHAT" if self._random.random() < settings.chat_share else "VOICE"
        outbound = channel == "VOICE" and self._random.random() < settings.outbound_share
        facts = ContactFacts(
            settings.instance_id, self._uuid(), channel,
            "OUTBOUND" if outbound else "INBOUND", at,
        )
        self._publish_contact("INITIATED", at, facts)
        self._publish_contact("CONNECTED_TO_SYSTEM", at + 300, facts)
        if outbound:
            self._answer(at + 1_000, facts, self._free_agent(at))
        else:
            queued = replace(facts, queue=queue, enqueued_at=at + 1_500)
            self._publish_contact("QUEUED", at + 1_500, queued)
            patience = int(self._random.expovariate(1 / (settings.mean_patience_s * 1000)))
            self._waiting.append((queued, at + 1_500 + patience))
            self._at(at + 1_500 + patience, lambda t, c=queued: self._abandon(t, c))
            self._at(at + 1_500, self._dispatch)
        self._at(at + self._gap(), self._arrival)

    def _free_agent(self, at: int) -> _AgentRun | None:
        free = [
            r for r in self._agents
            if r.state.status.type == "ROUTABLE" and not r.state.contacts and r.busy_until <= at
        ]
        return self._random.choice(free) if free else None

    def _dispatch(self, at: int) -> None:
        while self._waiting:
            run = self._free_agent(at)
            if run is None:
                return
            facts, _ = self._waiting.pop(0)
            self._answer(at, facts, run)

    def _abandon(self, at: int, facts: ContactFacts) -> None:
        if not any(w[0].contact_id == facts.contact_id for w in self._waiting):
            return
        self._waiting = [w for w in self._waiting if w[0].contact_id != facts.contact_id]
        gone = replace(facts, disconnected_at=at)
        self._publish_contact("DISCONNECTED", at, gone)
        self._publish_contact("COMPLETED", at + 200, gone)

    def _answer(self, at: int, facts: ContactFacts, run: _AgentRun | None) -> None:
        if run is None:
            gone = replace(facts, disconnected_at=at)
            self._publish_contact("DISCONNECTED", at, gone)
            self._publish_contact("COMPLETED", at + 200, gone)
            return
        settings = self._settings
        handle = int(self._random.expovariate(1 / (settings.mean_handle_s * 1000))) + 5_000
        acw = int(self._random.expovariate(1 / (settings.mean_acw_s * 1000))) + 1_000
        connected = replace(facts, agent=run.agent, connected_to_agent_at=at)
        contact = SnapshotContact(
            facts.contact_id, facts.channel, facts.initiation_method, "CONNECTED", at,
            facts.queue, facts.enqueued_at, at,
        )
        run.busy_until = at + handle + acw
        self._publish_contact("CONNECTED_TO_AGENT", at, connected)
        self._publish_agent(run, "STATE_CHANGE", at, replace(run.state, contacts=(contact,)))
        ended_at = at + handle
        self._at(ended_at, lambda t: self._hang_up(t, run, connected, contact, acw))

    def _hang_up(self, at, run, facts, contact, acw) -> None:
        ended = replace(contact, state="ENDED", state_start=at)
        self._publish_contact("DISCONNECTED", at, replace(facts, disconnected_at=at))
        self._publish_agent(run, "STATE_CHANGE", at, replace(run.state, contacts=(ended,)))
        self._at(at + acw, lambda t: self._complete(t, run, facts, at))

    def _complete(self, at, run, facts, disconnected_at) -> None:
        done = replace(facts, disconnected_at=disconnected_at, acw_start=disconnected_at, acw_end=at)
        self._publish_contact("COMPLETED", at, done)
        self._publish_agent(run, "STATE_CHANGE", at, replace(run.state, contacts=()))
        self._dispatch(at)
