"""Parse throughput of `jobs.core.events.parse_record` on one core, agent events and contact events
apart, with orjson (what the job uses) and with the standard json module.

    python -m benchmarks.parse_throughput

Records are built with `simulator.records` in Connect's formats: agent events (STATE_CHANGE,
HEART_BEAT, LOGIN, LOGOUT) of 200 agents whose state evolves from event to event (status
changes, contacts offered, connected, held, ended), with full current and previous snapshots,
routing profiles of three queues, up to two contacts per snapshot; EventBridge contact events
of whole contact lifecycles (INITIATED, QUEUED, CONNECTED_TO_AGENT, DISCONNECTED, COMPLETED). Every
record is distinct (ids, times). Each figure is the best of three rounds of 100,000 parses,
timed in CPU time of this process (one core, and steady on a busy machine); every round starts
with the parser's caches empty. `run()` returns the rows for a results table.
"""

from __future__ import annotations

import itertools
import json
import random
import time
import uuid
from collections.abc import Callable

import orjson

from jobs.core import events
from jobs.core.events import AgentEvent, ContactEvent, parse_record
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

DISTINCT_RECORDS = 20_000  # per feed
PARSES = 100_000  # per round
ROUNDS = 3
START_MS = 1_795_428_000_000
INSTANCE = "11111111-2222-3333-4444-555555555555"


def realistic_records(count: int = DISTINCT_RECORDS,
                      seed: int = 11) -> tuple[list[bytes], list[bytes]]:
    """`count` agent event records and `count` contact event records."""
    rng = random.Random(seed)

    def new_id() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    queues = [Queue(INSTANCE, new_id(), name, channels) for name, channels in (
        ("Sales", ("VOICE", "CHAT")), ("Support", ("VOICE", "CHAT", "TASK")),
        ("Billing", ("VOICE",)), ("Retention", ("CHAT", "TASK")),
    )]
    profiles = [
        RoutingProfile(INSTANCE, new_id(), "Voice and chat", tuple(queues[:3]),
                       (("VOICE", 1), ("CHAT", 3))),
        RoutingProfile(INSTANCE, new_id(), "Back office", tuple(queues[1:]),
                       (("VOICE", 1), ("CHAT", 2), ("TASK", 5))),
    ]
    agents = [Agent(INSTANCE, new_id(), f"agent{n}", f"First{n}", f"Last{n}", profiles[n % 2])
              for n in range(200)]
    statuses = [("Available", "ROUTABLE"), ("Break", "CUSTOM"), ("Lunch", "CUSTOM"),
                ("Training", "CUSTOM")]
    status_ids = {name: new_id() for name, _ in statuses}
    next_state = {"CONNECTING": "CONNECTED", "CONNECTED": "CONNECTED_ONHOLD",
                  "CONNECTED_ONHOLD": "CONNECTED", "ENDED": None}

    def changed(current: AgentState, at: int) -> AgentState:
        """The agent's next state: a status change, a new contact, or a contact moving on."""
        contacts = list(current.contacts)
        status = current.status
        roll = rng.random()
        if roll < 0.25:
            name, kind = rng.choice(statuses)
            status = Status(name, status_ids[name], kind, at)
        elif roll < 0.5 and len(contacts) < 2:
            queue = rng.choice(queues)
            contacts.append(SnapshotContact(
                new_id(), rng.choice(queue.channels),
                rng.choice(("INBOUND", "INBOUND", "TRANSFER")), "CONNECTING", at, queue,
                at - rng.randint(1_000, 300_000), None,
            ))
        elif contacts:
            index = rng.randrange(len(contacts))
            contact = contacts[index]
            state = "ENDED" if rng.random() < 0.3 else next_state[contact.state]
            if state is None:
                del contacts[index]
            else:
                contacts[index] = SnapshotContact(
                    contact.contact_id, contact.channel, contact.initiation_method, state, at,
                    contact.queue, contact.queued_at, contact.connected_at or at,
                )
        return AgentState(status, tuple(contacts))

    clock = START_MS
    agent_states = {
        agent.agent_id: AgentState(Status("Available", status_ids["Available"], "ROUTABLE",
                                          clock - rng.randint(0, 3_600_000)))
        for agent in agents
    }
    agent_records = []
    for _ in range(count):
        clock += rng.randint(1, 500)
        agent = rng.choice(agents)
        previous = agent_states[agent.agent_id]
        event_type = rng.choices(("STATE_CHANGE", "HEART_BEAT", "LOGIN", "LOGOUT"),
                                 (65, 25, 5, 5))[0]
        if event_type == "STATE_CHANGE":
            current = changed(previous, clock)
        elif event_type == "LOGOUT":
            current = AgentState(Status("Offline", new_id(), "OFFLINE", clock))
        elif event_type == "LOGIN":
            current = AgentState(Status("Available", status_ids["Available"], "ROUTABLE", clock))
        else:
            current = previous
        agent_states[agent.agent_id] = current
        record = agent_event(new_id(), event_type, clock, agent, current,
                             None if event_type in ("LOGIN", "LOGOUT") else previous)
        agent_records.append(orjson.dumps(record))

    clock = START_MS
    contact_records: list[bytes] = []
    while len(contact_records) < count:
        clock += rng.randint(1, 2_000)
        queue = rng.choice(queues)
        initiated = ContactFacts(INSTANCE, new_id(), rng.choice(queue.channels), "INBOUND", clock)
        queued = ContactFacts(**{**initiated.__dict__, "queue": queue,
                                 "enqueued_at": clock + rng.randint(200, 3_000)})
        answered_at = queued.enqueued_at + rng.randint(1_000, 120_000)
        connected = ContactFacts(**{**queued.__dict__, "agent": rng.choice(agents),
                                    "connected_to_agent_at": answered_at})
        ended_at = answered_at + rng.randint(30_000, 600_000)
        ended = ContactFacts(**{**connected.__dict__, "disconnected_at": ended_at,
                                "hold_seconds": rng.randint(0, 60)})
        completed = ContactFacts(**{**ended.__dict__, "acw_start": ended_at,
                                    "acw_end": ended_at + rng.randint(5_000, 90_000)})
        for event_type, facts, at in (
            ("INITIATED", initiated, clock), ("QUEUED", queued, queued.enqueued_at),
            ("CONNECTED_TO_AGENT", connected, answered_at), ("DISCONNECTED", ended, ended_at),
            ("COMPLETED", completed, completed.acw_end),
        ):
            record = contact_event(new_id(), event_type, at + rng.randint(0, 900), facts)
            contact_records.append(orjson.dumps(record))
    return agent_records, contact_records[:count]


def _clear_caches() -> None:
    for cache in (events._TIMES, events._MINUTE_STARTS, events._ARNS, events._PROFILES,
                  events._CONTACTS):
        cache.clear()


def _best_rate(step: Callable[[bytes], object], records: list[bytes], parses: int,
               rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        _clear_caches()
        batch = itertools.islice(itertools.cycle(records), parses)
        started = time.process_time()
        for data in batch:
            step(data)
        best = min(best, time.process_time() - started)
    return parses / best


def _parse(data: bytes) -> object:
    return parse_record(data, "benchmark", 0)


def run(parses: int = PARSES, rounds: int = ROUNDS,
        distinct: int = DISTINCT_RECORDS) -> list[dict]:
    """Rows {"benchmark": name, "events_per_s": rate}, one core, best of `rounds`."""
    agent, contact = realistic_records(distinct)
    if not all(isinstance(_parse(r), AgentEvent) for r in agent) or not all(
        isinstance(_parse(r), ContactEvent) for r in contact
    ):
        raise RuntimeError("a benchmark record did not parse as an event")
    rows = []
    saved = events._LOADS
    try:
        for name, loads in (("orjson", orjson.loads), ("json", json.loads)):
            events._LOADS = loads
            for feed, records in (("agent", agent), ("contact", contact)):
                rows.append({"benchmark": f"parse {feed} events ({name})",
                             "events_per_s": _best_rate(_parse, records, parses, rounds)})
    finally:
        events._LOADS = saved
    for name, loads in (("orjson", orjson.loads), ("json", json.loads)):
        for feed, records in (("agent", agent), ("contact", contact)):
            rows.append({"benchmark": f"decode {feed} records only ({name}.loads)",
                         "events_per_s": _best_rate(loads, records, parses, rounds)})
    return rows


def main() -> None:
    rows = run()
    width = max(len(row["benchmark"]) for row in rows)
    print(f"{'benchmark':<{width}}  events/s (one core, best of {ROUNDS} x {PARSES:,} parses)")
    for row in rows:
        print(f"{row['benchmark']:<{width}}  {row['events_per_s']:>12,.0f}")
    rates = {row["benchmark"]: row["events_per_s"] for row in rows}
    for feed in ("agent", "contact"):
        ratio = rates[f"parse {feed} events (orjson)"] / rates[f"parse {feed} events (json)"]
        print(f"{feed} events: parsing with orjson is {ratio:.2f}x as fast as with json")


if __name__ == "__main__":
    main()
