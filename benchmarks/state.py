"""State: a simulated 24-hour day through the job's parser and keyed operators, in memory.

Events go through `jobs.core.events.parse_record` and, keyed as the job keys them (contact id, plus
the link to the previous contact; agent ARN), into `ContactLifecycleFunction` and
`AgentActivityFunction` themselves (see `benchmarks.keyed`). The watermark trails the newest
event time by the job's 5 s of allowed disorder. Every simulated hour the state is weighed key
by key: each open contact and each logged-in agent, and the total.

What is weighed is the operators' own keyed state (pickled values). The SQL windows' state is
not in it: it is per interval and per queue or agent, not per contact, and goes when the
window fires.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

from benchmarks.keyed import KeyedRunner
from benchmarks.report import Measurement, Target
from jobs.core.contacts import DEFAULT_SETTINGS as CONTACT_SETTINGS
from jobs.core.contacts import link_event
from jobs.core.events import AgentEvent, ContactEvent, parse_record
from jobs.operators import AgentActivityFunction, ContactLifecycleFunction
from simulator.settings import OFFICE_DAY, CentreSettings
from simulator.simulation import Simulation

PART = "state"
DAY_MS = 24 * 3_600_000
DAY_START_MS = 1_767_571_200_000  # 2026-01-05T00:00:00Z: the office profile's whole day
ALLOWED_DISORDER_MS = 5_000  # jobs.pipeline._event_time
MAX_CONTACT_BYTES = 2048
MAX_AGENT_BYTES = 4096


@dataclass(frozen=True)
class Sample:
    """The state at one moment of event time."""

    at: int
    open_contacts: list[int]  # bytes per open contact (events buffered or not yet closed)
    closed_contacts: int  # keys of closed contacts kept for the grace period
    closed_contact_bytes: int
    agents_in: list[int]  # bytes per logged-in agent
    agents_out: int  # keys of logged-out or stale agents kept to recognise late events
    agents_out_bytes: int
    leaked_keys: int  # keys with state and no timer left that would clear it

    @property
    def total_bytes(self) -> int:
        return (sum(self.open_contacts) + self.closed_contact_bytes + sum(self.agents_in)
                + self.agents_out_bytes)


class Day:
    """Both keyed operators fed one simulated day, sampled every `sample_every_ms`."""

    def __init__(self, agents: int, queues: int, rate: float, seed: int = 7,
                 sample_every_ms: int = 3_600_000):
        self.settings = CentreSettings(agents=agents, queues=queues, arrivals_per_minute=rate,
                                       day_profile=OFFICE_DAY)
        self.seed = seed
        self.sample_every_ms = sample_every_ms
        self.contacts = KeyedRunner(ContactLifecycleFunction(CONTACT_SETTINGS))
        self.agents = KeyedRunner(AgentActivityFunction())
        self.samples: list[Sample] = []
        self.events = 0

    def run(self) -> Day:
        simulation = Simulation([self.settings], seed=self.seed, start_ms=DAY_START_MS)
        next_sample = DAY_START_MS + self.sample_every_ms
        newest = {"contact": DAY_START_MS, "agent": DAY_START_MS}
        started = time.monotonic()
        for emitted in simulation.events(DAY_MS):
            while emitted.at >= next_sample:
                self.samples.append(self.sample(next_sample))
                hours = (next_sample - DAY_START_MS) / 3_600_000
                print(f"state: {hours:.0f} of 24 simulated hours, {self.events:,} events, "
                      f"{time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
                next_sample += self.sample_every_ms
            self.feed(parse_record(emitted.payload, "simulation", emitted.at), newest)
        self.samples.append(self.sample(DAY_START_MS + DAY_MS))
        return self

    def feed(self, event, newest: dict[str, int]) -> None:
        if isinstance(event, ContactEvent):
            self.events += 1
            for routed in (event, link_event(event)):
                if routed is not None:
                    self.contacts.process(routed.contact_id, routed, routed.event_time)
            newest["contact"] = max(newest["contact"], event.event_time)
            self.contacts.advance(newest["contact"] - ALLOWED_DISORDER_MS)
        elif isinstance(event, AgentEvent):
            self.events += 1
            self.agents.process(event.agent_arn or event.agent_id, event, event.event_time)
            newest["agent"] = max(newest["agent"], event.event_time)
            self.agents.advance(newest["agent"] - ALLOWED_DISORDER_MS)

    def sample(self, at: int) -> Sample:
        open_contacts, closed, closed_bytes = [], 0, 0
        for key, size in self.contacts.bytes_by_key().items():
            state, _, _ = self.contacts.value(key, "contact")  # (state, order, timers)
            if state is not None and state.closed_at is not None:
                closed += 1
                closed_bytes += size
            else:
                open_contacts.append(size)
        agents_in, out, out_bytes = [], 0, 0
        for key, size in self.agents.bytes_by_key().items():
            state, _, _ = self.agents.value(key, "agent")  # (state, waiting events, timers)
            if state is not None and not state.logged_out and not state.stale:
                agents_in.append(size)
            else:
                out += 1
                out_bytes += size
        leaked = (len(self.contacts.keys_without_timers())
                  + len(self.agents.keys_without_timers()))
        return Sample(at, open_contacts, closed, closed_bytes, agents_in, out, out_bytes, leaked)


def _mean(values: list[int]) -> float:
    return sum(values) / len(values) if values else 0.0


def measure(agents: int, queues: int, rate: float) -> tuple[list[Measurement], str]:
    day = Day(agents, queues, rate).run()
    contact_sizes = [s for sample in day.samples for s in sample.open_contacts]
    agent_sizes = [s for sample in day.samples for s in sample.agents_in]
    end = day.samples[-1]
    peak = max(day.samples, key=lambda s: s.total_bytes)
    peak_hour = (peak.at - DAY_START_MS) / 3_600_000
    setup = f"{agents} agents, {queues} queues, office day profile, {day.events:,} events"
    measurements = [
        Measurement(PART, "state per open contact (mean of hourly samples)",
                    _mean(contact_sizes), "bytes",
                    Target(MAX_CONTACT_BYTES, True, f"<= {MAX_CONTACT_BYTES} bytes"),
                    f"largest {max(contact_sizes, default=0):,} bytes; {len(contact_sizes):,} "
                    "samples"),
        Measurement(PART, "state per logged-in agent (mean of hourly samples)",
                    _mean(agent_sizes), "bytes",
                    Target(MAX_AGENT_BYTES, True, f"<= {MAX_AGENT_BYTES} bytes"),
                    f"largest {max(agent_sizes, default=0):,} bytes; {len(agent_sizes):,} "
                    "samples"),
        Measurement(PART, "total keyed state after 24 h", end.total_bytes, "bytes",
                    note=f"{len(end.open_contacts)} open contacts, {end.closed_contacts} "
                    f"closed ones in their grace period, {len(end.agents_in)} agents logged "
                    f"in, {end.agents_out} logged out; peak {peak.total_bytes:,} bytes at hour "
                    f"{peak_hour:.0f}; {setup}"),
        Measurement(PART, "keys left with no timer to clear them, after 24 h",
                    end.leaked_keys, "keys", Target(0, True, "0"),
                    "state that would never go; the rest is open work or within its retention"),
    ]
    return measurements, _hourly(day)


def _hourly(day: Day) -> str:
    lines = ["| hour | open contacts | bytes | closed, in grace | bytes | agents in | bytes | "
             "agents out, kept | bytes | total bytes |", "|---|---|---|---|---|---|---|---|---|---|"]
    for s in day.samples:
        hour = (s.at - DAY_START_MS) // 3_600_000
        lines.append(f"| {hour} | {len(s.open_contacts)} | {sum(s.open_contacts):,} | "
                     f"{s.closed_contacts} | {s.closed_contact_bytes:,} | {len(s.agents_in)} | "
                     f"{sum(s.agents_in):,} | {s.agents_out} | {s.agents_out_bytes:,} | "
                     f"{s.total_bytes:,} |")
    return "\n".join(lines) + "\n"
