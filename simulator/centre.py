"""A simulated Amazon Connect instance: a discrete-event simulation of one contact centre.

Agents work shifts (LOGIN, Available, breaks and lunch in custom statuses, Offline, LOGOUT), are
offered contacts by their routing profile (queues, channels, slots per channel, one channel at a
time), may miss an offer (the contact goes back to the queue, the agent stays in Missed until it
sets its status again) or fail it (Error). Contacts arrive per queue and channel, wait with
exponential patience (abandon), may ask for a callback, are answered, held, paused (tasks),
transferred to a queue or an agent, end, and get After Contact Work. Agents also place outbound
calls. A status chosen while on a contact becomes the agent's NextAgentStatus until the agent is
free. HEART_BEAT comes every 120 s when nothing else was published for an agent, and for an hour
after LOGOUT.

Events come out in time order as `Emitted(feed, partition_key, record, at)`, in Connect's own
formats, deterministic for a seed. With a truth sink the simulation also writes what happened
and the metric values it implies (see `simulator.truth` and docs/simulator-truth.md).
"""

from __future__ import annotations

import bisect
import dataclasses
import heapq
import itertools
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import orjson

from simulator.records import (
    SLOTLESS_STATES,
    Agent,
    AgentState,
    ContactFacts,
    HierarchyGroup,
    Queue,
    RoutingProfile,
    SnapshotContact,
    Status,
    agent_event,
    available_slots,
    contact_event,
    instance_arn,
)
from simulator.settings import (
    CentreSettings,
    ChannelSettings,
    lognormal_ms,
    uniform_ms,
    whole_seconds_ms,
)
from simulator.truth import GAUGE_PERIOD_MS, SERVICE_LEVELS_S, IntervalBook, TruthSink

# Re-exported: the settings used to live here.
__all__ = ["AGENT_FEED", "CONTACT_FEED", "HEARTBEAT_MS", "Centre", "CentreSettings", "Emitted"]

AGENT_FEED = "agent"
CONTACT_FEED = "contact"
HEARTBEAT_MS = 120_000

QUEUE_NAMES = ("Sales", "Support", "Billing", "Retention", "Technical", "Claims", "Bookings",
               "Returns", "Loyalty", "Onboarding")
FIRST_NAMES = ("Ana", "Ben", "Chloe", "Dev", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jonas",
               "Kira", "Liam", "Maya", "Noah", "Olga", "Pedro", "Quinn", "Rosa", "Sami", "Tara")
LAST_NAMES = ("Adams", "Baker", "Costa", "Diaz", "Evans", "Fischer", "Garcia", "Hansen", "Ito",
              "Jensen", "Kowalski", "Lopez", "Martin", "Nagy", "Okafor", "Patel", "Rossi",
              "Silva", "Tanaka", "Weber")

# Contact states in an agent's snapshot.
CONNECTING, INCOMING, CONNECTED, ONHOLD, PAUSED = (
    "CONNECTING", "INCOMING", "CONNECTED", "CONNECTED_ONHOLD", "PAUSED")
MISSED, ERROR, ENDED = "MISSED", "ERROR", "ENDED"
_TALKING = frozenset({CONNECTED, ONHOLD, PAUSED})

# Agent activities, by Connect's precedence (first wins) - the names jobs/ uses too.
PRECEDENCE = ("ERROR", "MISSED", "REJECTED", "ON_CONTACT", "ACW", "INCOMING", "NON_PRODUCTIVE",
              "AVAILABLE")
_RANK = {name: rank for rank, name in enumerate(PRECEDENCE)}
_OUTBOUND_METHODS = frozenset({"OUTBOUND", "EXTERNAL_OUTBOUND", "AGENT_REPLY"})


@dataclass(frozen=True)
class Emitted:
    """One record for one feed. `at` is when it is published (its event time, unless a fault
    delayed it); `data`, when set, are the exact bytes to send instead of `record` as JSON."""

    feed: str
    partition_key: str
    record: dict
    at: int
    data: bytes | None = None

    @property
    def payload(self) -> bytes:
        return self.data if self.data is not None else orjson.dumps(self.record)


def contact_state_activity(state: str, initiation_method: str) -> str | None:
    if state in _TALKING or state == ENDED:
        return "ACW" if state == ENDED else "ON_CONTACT"
    if state == CONNECTING:
        return "ON_CONTACT" if initiation_method in _OUTBOUND_METHODS else "INCOMING"
    if state in ("INCOMING", "PENDING"):
        return "INCOMING"
    if state in ("ERROR", "MISSED", "REJECTED"):
        return state
    return None


# --- the simulation's state ------------------------------------------------------------------


@dataclass(eq=False)
class _Contact:
    id: str
    initial_id: str
    previous_id: str | None
    channel: str
    method: str
    initiated_at: int
    settings: ChannelSettings
    seq: int
    queue: Queue | None = None
    enqueued_at: int | None = None
    connected_to_system_at: int | None = None
    state: str = "flow"  # flow, queued, offered, talking, acw, done
    left_queue_at: int | None = None
    queue_outcome: str | None = None
    offer_agent: _Agent | None = None
    offer_token: int = 0
    offers: list = field(default_factory=list)
    agent: _Agent | None = None
    outbound_queue: Queue | None = None
    connected_at: int | None = None
    holds: list = field(default_factory=list)
    pauses: list = field(default_factory=list)
    disconnected_at: int | None = None
    acw_start: int | None = None
    acw_end: int | None = None
    outcome: str | None = None
    transferred_to: str | None = None
    callback_contact_id: str | None = None

    @property
    def hold_ms(self) -> int:
        return sum(end - start for start, end in self.holds if end is not None)

    @property
    def pause_ms(self) -> int:
        return sum(end - start for start, end in self.pauses if end is not None)


@dataclass(eq=False)
class _Held:
    """One contact as the agent sees it."""

    contact: _Contact
    state: str
    since: int
    connected_at: int | None = None

    @property
    def channel(self) -> str:
        return self.contact.channel


@dataclass(eq=False)
class _Agent:
    record: Agent
    index: int
    queue_ids: tuple[str, ...]
    concurrency: dict[str, int]
    status: Status
    logged_in: bool = False
    logged_out_at: int | None = None
    shift_over: bool = False
    next_status: Status | None = None
    wanted: tuple[Status, int | None] | None = None  # status to take once free, its duration
    status_token: int = 0
    contacts: dict[str, _Held] = field(default_factory=dict)
    published: AgentState | None = None
    last_event_at: int | None = None
    heartbeat_at: int | None = None
    reset_pending: bool = False
    idle_since: int = 0
    segment: list = field(default_factory=list)  # [activity, status, start]
    closed_segment: list | None = None

    @property
    def agent_id(self) -> str:
        return self.record.agent_id

    @property
    def blocked(self) -> bool:
        return any(h.state in SLOTLESS_STATES for h in self.contacts.values())

    @property
    def working(self) -> bool:
        return any(h.state not in SLOTLESS_STATES for h in self.contacts.values())


@dataclass(order=True)
class _Due:
    at: int
    order: int
    action: Callable[[int], None] = field(compare=False)


class Centre:
    """One simulated Amazon Connect instance.

    `events(duration_ms)` runs it once from `start_ms` and yields every record published in
    [start_ms, start_ms + duration_ms) (forever when None). With `truth`, truth lines go there
    as the simulation goes; they are complete when the generator is exhausted.
    """

    def __init__(self, settings: CentreSettings | None = None, seed: int | str = 1,
                 start_ms: int = 0, truth: TruthSink | None = None):
        self.settings = settings = settings or CentreSettings()
        self.seed = seed
        self.start_ms = start_ms
        self._random = random.Random(seed)
        self._truth = truth
        self._book = IntervalBook(truth) if truth is not None else None
        self._sequence = itertools.count()
        self._contact_seq = itertools.count()
        self._due: list[_Due] = []
        self._out: list[Emitted] = []
        self._started = False
        self._end: int | None = None
        self.instance_id = settings.instance_id or self._uuid()
        self.counts = {"agent_records": 0, "contact_records": 0}
        self._outcomes: dict[str, int] = {}
        self._build()

    # --- the instance: queues, statuses, routing profiles, agents ----------------------------

    def _build(self) -> None:
        settings = self.settings
        instance = self.instance_id
        channels = tuple(settings.channels)
        self.queues = [
            Queue(instance, self._uuid(),
                  QUEUE_NAMES[n] if n < len(QUEUE_NAMES) else f"Queue {n + 1}", channels)
            for n in range(settings.queues)
        ]
        self.available = Status("Available", self._uuid(), "ROUTABLE", self.start_ms)
        self.offline = Status("Offline", self._uuid(), "OFFLINE", self.start_ms)
        self.break_status = Status("Break", self._uuid(), "CUSTOM", self.start_ms)
        self.lunch = Status("Lunch", self._uuid(), "CUSTOM", self.start_ms)
        concurrency = tuple((c, settings.channel(c).concurrency) for c in channels)

        def profile(name: str, queues: tuple[Queue, ...]) -> RoutingProfile:
            return RoutingProfile(instance, self._uuid(), name, queues, concurrency,
                                  outbound_queue=queues[0], exclusive_channels=True)

        generalists = profile("Generalists", tuple(self.queues))
        teams = [generalists]
        if len(self.queues) > 1:
            teams += [profile(f"{q.name} team", (q,)) for q in self.queues]
        self.routing_profiles = teams
        sites = [HierarchyGroup(1, self._uuid(), name) for name in ("North site", "South site")]
        groups: dict[int, HierarchyGroup] = {}
        self._agents: list[_Agent] = []
        for n in range(settings.agents):
            team = teams[0] if n % 3 == 0 or len(teams) == 1 else teams[1 + n % (len(teams) - 1)]
            if n // 10 not in groups:
                groups[n // 10] = HierarchyGroup(2, self._uuid(), f"Team {n // 10 + 1}")
            first = FIRST_NAMES[n % len(FIRST_NAMES)]
            last = LAST_NAMES[(n * 7 + n // len(FIRST_NAMES)) % len(LAST_NAMES)]
            agent = Agent(
                instance, self._uuid(), f"{first.lower()}.{last.lower()}{n + 1}", first, last,
                team, (sites[n % 2], groups[n // 10]), channels,
            )
            offline_since = self.start_ms - int(
                self._random.uniform(0, settings.shifts.off_s * 1000))
            self._agents.append(_Agent(
                record=agent,
                index=n,
                queue_ids=tuple(q.queue_id for q in team.queues) + (f"agent/{agent.agent_id}",),
                concurrency=dict(concurrency),
                status=dataclasses.replace(self.offline, start=offline_since),
                segment=["OFFLINE", "Offline", self.start_ms],
            ))
        self._by_queue = {q.queue_id: q for q in self.queues}
        self._queue_names: dict[str, str] = {}  # queue id -> name after a rename
        self._waiting: list[_Contact] = []  # in queue, not being offered, by (enqueued, seq)
        self._in_queue: dict[str, dict[str, _Contact]] = {q.queue_id: {} for q in self.queues}
        self._live: dict[str, _Contact] = {}
        rates = settings.rates_per_minute()
        self._rates = {(self.queues[q], c): rate for (q, c), rate in rates.items()}
        profile_max = max(settings.day_profile) if settings.day_profile else 1.0
        self._profile_max = profile_max

    @property
    def agents(self) -> list[Agent]:
        return [run.record for run in self._agents]

    # --- running ----------------------------------------------------------------------------

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self._random.getrandbits(128), version=4))

    def _at(self, when: int, action: Callable[[int], None]) -> None:
        heapq.heappush(self._due, _Due(when, next(self._sequence), action))

    def events(self, duration_ms: int | None = None) -> Iterator[Emitted]:
        """Every record up to `duration_ms` of simulated time (forever when None)."""
        if self._started:
            raise RuntimeError("a Centre runs once; make a new one to run again")
        self._started = True
        end = None if duration_ms is None else self.start_ms + duration_ms
        self._end = end
        self._bootstrap()
        sample = -(-self.start_ms // GAUGE_PERIOD_MS) * GAUGE_PERIOD_MS
        truth = self._truth is not None
        due = self._due
        while due:
            at = due[0].at
            if end is not None and at >= end:
                break
            if truth:
                while sample < at:
                    self._sample(sample)
                    sample += GAUGE_PERIOD_MS
            item = heapq.heappop(due)
            item.action(item.at)
            if self._out:
                out, self._out = self._out, []
                yield from out
        if end is not None and truth:
            while sample < end:
                self._sample(sample)
                sample += GAUGE_PERIOD_MS
            self._finish(end)

    def _bootstrap(self) -> None:
        shifts = self.settings.shifts
        self._write_instance()
        for run in self._agents:
            when = self.start_ms + int(self._random.uniform(0, shifts.login_spread_s * 1000))
            elapsed = 0
            if shifts.staggered:
                elapsed = int(self._random.uniform(0, shifts.shift_s * 1000))
            self._at(when, lambda t, r=run, e=elapsed: self._login(t, r, e))
        for (queue, channel), rate in self._rates.items():
            self._next_arrival(queue, channel, float(self.start_ms))
        self._next_outbound(float(self.start_ms))
        for index, after_s, name in self.settings.queue_renames:
            queue_id = self.queues[index].queue_id
            self._at(self.start_ms + int(after_s * 1000),
                     lambda t, q=queue_id, n=name: self._rename(t, q, n))

    def _rename(self, at: int, queue_id: str, name: str) -> None:
        """The queue is renamed: agents' snapshots name it so from now on."""
        self._queue_names[queue_id] = name
        if self._truth is not None:
            self._truth.write({"kind": "queue_renamed", "instance_id": self.instance_id,
                               "queue_id": queue_id, "name": name, "at": at})

    def _named(self, queue: Queue | None) -> Queue | None:
        """The queue with its name after any rename."""
        if queue is None or queue.queue_id not in self._queue_names:
            return queue
        return dataclasses.replace(queue, name=self._queue_names[queue.queue_id])

    def _named_agent(self, agent: Agent) -> Agent:
        """The agent's record with its routing profile's queues named as they are now."""
        if not self._queue_names:
            return agent
        profile = agent.routing_profile
        return dataclasses.replace(agent, routing_profile=dataclasses.replace(
            profile, queues=tuple(map(self._named, profile.queues)),
            outbound_queue=self._named(profile.outbound_queue)))

    def _rate_multiplier(self, at: int) -> float:
        profile = self.settings.day_profile
        if profile is None:
            return 1.0
        local = at + self.settings.utc_offset_minutes * 60_000
        return profile[(local // 3_600_000) % 24]

    def _arrivals_over(self, at: float) -> bool:
        cutoff = self.settings.arrivals_end_s
        return cutoff is not None and at >= self.start_ms + cutoff * 1000

    def _next_arrival(self, queue: Queue, channel: str, after: float) -> None:
        rate = self._rates[(queue, channel)] * self._profile_max / 60_000
        if rate <= 0:
            return
        when = after + self._random.expovariate(rate)
        if self._arrivals_over(when):
            return
        self._at(int(when), lambda t: self._arrival(t, when, queue, channel))

    def _arrival(self, at: int, exact: float, queue: Queue, channel: str) -> None:
        self._next_arrival(queue, channel, exact)
        if self.settings.day_profile is not None:
            if self._random.random() * self._profile_max >= self._rate_multiplier(at):
                return  # thinned out: the rate is lower at this hour
        cs = self.settings.channel(channel)
        contact = self._new_contact(channel, cs.initiation_method, at)
        contact.queue = queue  # where its contact flow will put it
        self._contact_event(contact, "INITIATED", at)
        if cs.system_s is not None:
            self._at(at + uniform_ms(self._random, cs.system_s),
                     lambda t: self._connected_to_system(t, contact))
        self._at(at + uniform_ms(self._random, cs.flow_s),
                 lambda t: self._enqueue(t, contact, queue))

    def _new_contact(self, channel: str, method: str, at: int,
                     previous: _Contact | None = None) -> _Contact:
        contact_id = self._uuid()
        contact = _Contact(
            id=contact_id,
            initial_id=previous.initial_id if previous else contact_id,
            previous_id=previous.id if previous else None,
            channel=channel,
            method=method,
            initiated_at=at,
            settings=self.settings.channel(channel),
            seq=next(self._contact_seq),
        )
        self._live[contact_id] = contact
        return contact

    # --- contacts ---------------------------------------------------------------------------

    def _connected_to_system(self, at: int, contact: _Contact) -> None:
        if contact.state == "flow":
            contact.connected_to_system_at = at
            self._contact_event(contact, "CONNECTED_TO_SYSTEM", at)

    def _enqueue(self, at: int, contact: _Contact, queue: Queue) -> None:
        contact.queue = queue
        contact.enqueued_at = at
        contact.state = "queued"
        self._contact_event(contact, "QUEUED", at)
        self._in_queue.setdefault(queue.queue_id, {})[contact.id] = contact
        bisect.insort(self._waiting, contact, key=_waiting_order)
        self._count(contact, at, "contacts_queued")
        if contact.method == "CALLBACK":
            self._count(contact, at, "callbacks")
        cs = contact.settings
        if cs.mean_patience_s is not None and contact.method != "CALLBACK":
            patience = int(self._random.expovariate(1 / (cs.mean_patience_s * 1000)))
            self._at(at + patience, lambda t: self._patience_over(t, contact))
        if (contact.method == "INBOUND" and contact.channel == "VOICE"
                and self._random.random() < cs.callback_probability):
            self._at(at + int(cs.callback_after_s * 1000), lambda t: self._callback(t, contact))
        self._dispatch(at)

    def _leave_queue(self, at: int, contact: _Contact, outcome: str) -> None:
        """The contact is no longer in its queue: answered, abandoned or callback requested."""
        contact.left_queue_at = at
        contact.queue_outcome = outcome
        self._in_queue[contact.queue.queue_id].pop(contact.id, None)
        waited = at - contact.enqueued_at
        self._count(contact, at, "contacts_removed")
        for seconds in SERVICE_LEVELS_S:
            if waited <= seconds * 1000:
                self._count(contact, at, f"contacts_removed_in_{seconds}")
        if outcome == "answered":
            self._count(contact, at, "contacts_handled")
            self._count(contact, at, "sum_queue_answer_time_ms", waited)
            for seconds in SERVICE_LEVELS_S:
                if waited <= seconds * 1000:
                    self._count(contact, at, f"sum_contacts_answered_in_{seconds}")
        elif outcome == "abandoned":
            self._count(contact, at, "contacts_abandoned")

    def _patience_over(self, at: int, contact: _Contact) -> None:
        if contact.state not in ("queued", "offered"):
            return
        if contact.state == "offered":
            run = contact.offer_agent
            self._end_offer(contact, at, "customer_left")
            del run.contacts[contact.id]
            run.idle_since = at
            self._agent_event(run, "STATE_CHANGE", at)
        else:
            self._waiting.remove(contact)
        self._leave_queue(at, contact, "abandoned")
        contact.disconnected_at = at
        self._contact_event(contact, "DISCONNECTED", at)
        self._finish_contact(contact, at, "abandoned")
        self._dispatch(at)

    def _callback(self, at: int, contact: _Contact) -> None:
        if contact.state != "queued":
            return
        self._waiting.remove(contact)
        self._leave_queue(at, contact, "callback_requested")
        contact.disconnected_at = at
        callback = self._new_contact("VOICE", "CALLBACK", at, previous=contact)
        contact.callback_contact_id = callback.id
        self._contact_event(contact, "DISCONNECTED", at)
        self._finish_contact(contact, at, "callback_requested")
        self._contact_event(callback, "INITIATED", at)
        self._enqueue(at, callback, contact.queue)

    def _finish_contact(self, contact: _Contact, at: int, outcome: str) -> None:
        """A contact without (more) agent work is over: COMPLETED right after its end."""
        contact.state = "done"
        contact.outcome = outcome
        self._contact_event(contact, "COMPLETED", at)
        self._close_contact(contact, at)

    def _close_contact(self, contact: _Contact, at: int) -> None:
        del self._live[contact.id]
        self._outcomes[contact.outcome] = self._outcomes.get(contact.outcome, 0) + 1
        if self._truth is not None:
            self._truth.write(self._contact_line(contact, at))

    # --- routing ----------------------------------------------------------------------------

    def _routable(self, run: _Agent) -> bool:
        return (run.logged_in and run.status.type == "ROUTABLE" and run.wanted is None
                and not run.blocked)

    def _free_slot(self, run: _Agent, channel: str) -> bool:
        maximum = run.concurrency.get(channel, 0)
        if not maximum:
            return False
        busy = 0
        for held in run.contacts.values():
            if held.state in SLOTLESS_STATES:
                continue
            if held.channel != channel:
                return False  # one channel at a time
            busy += 1
        return busy < maximum

    def _dispatch(self, at: int) -> None:
        if not self._waiting:
            return
        candidates = [run for run in self._agents if self._routable(run)]
        if not candidates:
            return
        for contact in list(self._waiting):
            queue_id = contact.queue.queue_id
            best = None
            for run in candidates:
                if queue_id in run.queue_ids and self._free_slot(run, contact.channel):
                    if best is None or (run.idle_since, run.index) < (best.idle_since, best.index):
                        best = run
            if best is None:
                continue
            self._offer(at, contact, best)
            if not any(self._free_slot(best, c) for c in best.concurrency):
                candidates.remove(best)
                if not candidates:
                    return

    def _offer(self, at: int, contact: _Contact, run: _Agent) -> None:
        self._waiting.remove(contact)
        contact.state = "offered"
        contact.offer_agent = run
        contact.offer_token += 1
        token = contact.offer_token
        contact.offers.append({"agent_id": run.agent_id, "at": at, "outcome": None, "until": None})
        state = INCOMING if contact.method == "CALLBACK" else CONNECTING
        run.contacts[contact.id] = _Held(contact, state, at)
        run.idle_since = at
        self._agent_event(run, "STATE_CHANGE", at)
        cs = contact.settings
        draw = self._random.random()
        if draw < cs.error_probability:
            self._at(at + uniform_ms(self._random, cs.answer_s),
                     lambda t: self._offer_failed(t, contact, run, token, ERROR))
        elif draw < cs.error_probability + cs.miss_probability:
            self._at(at + int(cs.ring_timeout_s * 1000),
                     lambda t: self._offer_failed(t, contact, run, token, MISSED))
        else:
            self._at(at + uniform_ms(self._random, cs.answer_s),
                     lambda t: self._accept(t, contact, run, token))

    def _end_offer(self, contact: _Contact, at: int, outcome: str) -> None:
        contact.offers[-1].update(outcome=outcome, until=at)
        contact.offer_token += 1
        contact.offer_agent = None

    def _offer_failed(self, at: int, contact: _Contact, run: _Agent, token: int,
                      state: str) -> None:
        """The agent missed the offer (or its softphone failed): the contact goes back to the
        queue, the agent keeps it in its snapshot as MISSED / ERROR until it sets a status."""
        if contact.offer_token != token:
            return
        self._end_offer(contact, at, "missed" if state == MISSED else "error")
        held = run.contacts[contact.id]
        held.state, held.since = state, at
        contact.state = "queued"
        bisect.insort(self._waiting, contact, key=_waiting_order)
        self._agent_event(run, "STATE_CHANGE", at)
        if not run.reset_pending:
            run.reset_pending = True
            shifts = self.settings.shifts
            self._at(at + uniform_ms(self._random, shifts.set_status_s),
                     lambda t: self._set_status_again(t, run))
        self._dispatch(at)

    def _set_status_again(self, at: int, run: _Agent) -> None:
        run.reset_pending = False
        for contact_id in [i for i, h in run.contacts.items() if h.state in SLOTLESS_STATES]:
            del run.contacts[contact_id]
        if not self._apply_wanted(at, run):
            run.status = dataclasses.replace(run.status, start=at)
            run.status_token += 1
        run.idle_since = at
        self._agent_event(run, "STATE_CHANGE", at)
        self._after_status(at, run)
        self._dispatch(at)

    def _accept(self, at: int, contact: _Contact, run: _Agent, token: int) -> None:
        if contact.offer_token != token:
            return
        self._end_offer(contact, at, "accepted")
        self._leave_queue(at, contact, "answered")
        contact.agent = run
        contact.connected_at = at
        contact.state = "talking"
        held = run.contacts[contact.id]
        held.state, held.since, held.connected_at = CONNECTED, at, at
        self._contact_event(contact, "CONNECTED_TO_AGENT", at)
        self._agent_event(run, "STATE_CHANGE", at)
        self._converse(at, contact, run)

    def _converse(self, at: int, contact: _Contact, run: _Agent) -> None:
        """Plan the conversation: talk, at most one hold (or one pause for tasks), the end."""
        cs = contact.settings
        rng = self._random
        talk = max(1, lognormal_ms(rng, cs.mean_talk_s, cs.talk_cv))
        hold = pause = 0
        if rng.random() < cs.hold_probability:
            hold = whole_seconds_ms(rng, cs.mean_hold_s)
        elif rng.random() < cs.pause_probability:
            pause = whole_seconds_ms(rng, cs.mean_pause_s)
        if hold or pause:
            start = at + int(talk * rng.uniform(0.2, 0.7))
            self._at(start, lambda t: self._interrupt(t, contact, run, ONHOLD if hold else PAUSED,
                                                      hold or pause))
        self._at(at + talk + hold + pause, lambda t: self._hang_up(t, contact, run))

    def _interrupt(self, at: int, contact: _Contact, run: _Agent, state: str, length: int) -> None:
        held = run.contacts[contact.id]
        held.state, held.since = state, at
        (contact.holds if state == ONHOLD else contact.pauses).append([at, None])
        if state == PAUSED:
            self._contact_event(contact, "PAUSED", at)
        self._agent_event(run, "STATE_CHANGE", at)
        self._at(at + length, lambda t: self._resume(t, contact, run, state))

    def _resume(self, at: int, contact: _Contact, run: _Agent, state: str) -> None:
        held = run.contacts[contact.id]
        held.state, held.since = CONNECTED, at
        (contact.holds if state == ONHOLD else contact.pauses)[-1][1] = at
        if state == PAUSED:
            self._contact_event(contact, "RESUMED", at)
        self._agent_event(run, "STATE_CHANGE", at)

    def _hang_up(self, at: int, contact: _Contact, run: _Agent) -> None:
        cs = contact.settings
        transfer_to = None
        if contact.queue is not None and self._random.random() < cs.transfer_probability:
            transfer_to = self._transfer_target(contact, run)
        contact.disconnected_at = at
        contact.state = "acw"
        self._contact_event(contact, "DISCONNECTED", at)
        if transfer_to is not None:
            transfer = self._new_contact(contact.channel, "TRANSFER", at, previous=contact)
            contact.transferred_to = transfer.id
            self._contact_event(transfer, "INITIATED", at)
            self._at(at + uniform_ms(self._random, (0.5, 2.0)),
                     lambda t: self._enqueue(t, transfer, transfer_to))
        self._start_acw(at, contact, run, whole_seconds_ms(self._random, cs.mean_acw_s))

    def _transfer_target(self, contact: _Contact, run: _Agent) -> Queue:
        rng = self._random
        if rng.random() < contact.settings.agent_transfer_share:
            others = [r for r in self._agents
                      if r is not run and r.logged_in and contact.channel in r.concurrency]
            if others:
                return rng.choice(others).record.agent_queue
        others = [q for q in self.queues if q.queue_id != contact.queue.queue_id]
        return rng.choice(others) if others else self.queues[0]

    def _start_acw(self, at: int, contact: _Contact, run: _Agent, acw: int) -> None:
        contact.acw_start = at
        held = run.contacts[contact.id]
        held.state, held.since = ENDED, at
        self._agent_event(run, "STATE_CHANGE", at)
        self._at(at + acw, lambda t: self._end_acw(t, contact, run))

    def _end_acw(self, at: int, contact: _Contact, run: _Agent) -> None:
        contact.acw_end = at
        contact.state = "done"
        if contact.method == "OUTBOUND":
            answered = contact.connected_at is not None
            contact.outcome = "outbound" if answered else "outbound_no_answer"
        else:
            contact.outcome = "handled"
        self._contact_event(contact, "COMPLETED", at)
        del run.contacts[contact.id]
        run.idle_since = at
        self._apply_wanted(at, run)
        self._agent_event(run, "STATE_CHANGE", at)
        self._after_status(at, run)
        if contact.queue_outcome == "answered":
            handle = contact.disconnected_at - contact.connected_at + at - contact.acw_start
            self._count(contact, at, "contacts_completed")
            self._count(contact, at, "sum_handle_time_ms", handle)
            self._count(contact, at, "sum_hold_time_ms", contact.hold_ms)
            self._count(contact, at, "sum_acw_time_ms", at - contact.acw_start)
            if contact.transferred_to is not None:
                self._count(contact, at, "contacts_transferred_out")
        self._close_contact(contact, at)
        self._dispatch(at)

    # --- outbound ---------------------------------------------------------------------------

    def _next_outbound(self, after: float) -> None:
        rate = self.settings.outbound_rate_per_minute() * self._profile_max / 60_000
        if rate <= 0:
            return
        when = after + self._random.expovariate(rate)
        if self._arrivals_over(when):
            return
        self._at(int(when), lambda t: self._outbound(t, when))

    def _outbound(self, at: int, exact: float) -> None:
        self._next_outbound(exact)
        if self.settings.day_profile is not None:
            if self._random.random() * self._profile_max >= self._rate_multiplier(at):
                return
        idle = [run for run in self._agents
                if self._routable(run) and not run.contacts and "VOICE" in run.concurrency]
        if not idle:
            return
        run = min(idle, key=lambda r: (r.idle_since, r.index))
        contact = self._new_contact("VOICE", "OUTBOUND", at)
        contact.agent = run
        contact.outbound_queue = run.record.routing_profile.outbound_queue
        contact.state = "talking"
        self._contact_event(contact, "INITIATED", at)
        run.contacts[contact.id] = _Held(contact, CONNECTING, at)
        run.idle_since = at
        self._agent_event(run, "STATE_CHANGE", at)
        outbound = self.settings.outbound
        if self._random.random() < outbound.answer_probability:
            self._at(at + uniform_ms(self._random, outbound.answer_s),
                     lambda t: self._outbound_answered(t, contact, run))
        else:
            self._at(at + int(outbound.no_answer_s * 1000),
                     lambda t: self._outbound_unanswered(t, contact, run))

    def _outbound_answered(self, at: int, contact: _Contact, run: _Agent) -> None:
        contact.connected_at = at
        held = run.contacts[contact.id]
        held.state, held.since, held.connected_at = CONNECTED, at, at
        self._contact_event(contact, "CONNECTED_TO_AGENT", at)
        self._agent_event(run, "STATE_CHANGE", at)
        self._converse(at, contact, run)

    def _outbound_unanswered(self, at: int, contact: _Contact, run: _Agent) -> None:
        contact.disconnected_at = at
        contact.state = "acw"
        self._contact_event(contact, "DISCONNECTED", at)
        acw = whole_seconds_ms(self._random, self.settings.outbound.no_answer_acw_s)
        self._start_acw(at, contact, run, acw)

    # --- agents: shifts and statuses ----------------------------------------------------------

    def _login(self, at: int, run: _Agent, elapsed: int = 0) -> None:
        """A shift starts; `elapsed` of it is already over (agents already at work when the
        simulation starts), so breaks before that are skipped and it ends that much sooner."""
        shifts = self.settings.shifts
        run.logged_in = True
        run.logged_out_at = None
        run.shift_over = False
        run.published = None
        self._agent_event(run, "LOGIN", at)
        self._at(at + uniform_ms(self._random, shifts.login_to_available_s),
                 lambda t: self._start_work(t, run))
        began = at - elapsed
        shift_end = max(began + int(shifts.shift_s * 1000), at + 600_000)
        self._at(shift_end, lambda t: self._end_shift(t, run))
        when = began + uniform_ms(self._random, shifts.first_break_s)
        lunch = began + int(shifts.lunch_after_s * 1000)
        while when + shifts.break_s * 1000 < shift_end:
            at_lunch = lunch - shifts.break_s * 1000 <= when <= lunch + shifts.lunch_s * 1000
            if when > at and not at_lunch:
                self._at(when, lambda t: self._request(t, run, self.break_status,
                                                       int(shifts.break_s * 1000)))
            when += int(shifts.break_every_s * 1000)
        if lunch > at and lunch + shifts.lunch_s * 1000 < shift_end:
            self._at(lunch, lambda t: self._request(t, run, self.lunch, int(shifts.lunch_s * 1000)))

    def _start_work(self, at: int, run: _Agent) -> None:
        if run.logged_in and not run.shift_over and run.status.type == "OFFLINE":
            self._set_status(at, run, self.available, None)
            run.idle_since = at
            self._agent_event(run, "STATE_CHANGE", at)
            self._dispatch(at)

    def _end_shift(self, at: int, run: _Agent) -> None:
        if run.logged_in:
            run.shift_over = True
            self._request(at, run, self.offline, None)

    def _request(self, at: int, run: _Agent, status: Status, length: int | None) -> None:
        """The agent chooses `status`: now when it has no contact, else as its next status."""
        if not run.logged_in or run.status.type == "OFFLINE":
            return
        if status.type == "CUSTOM" and (run.status.type == "CUSTOM" or run.shift_over):
            return  # already on a break, or about to leave
        if run.wanted is not None and run.wanted[0].type == "OFFLINE":
            return
        if run.contacts:
            run.wanted = (status, length)
            if run.working:
                run.next_status = dataclasses.replace(status, start=at)
                self._agent_event(run, "STATE_CHANGE", at)
            return
        self._set_status(at, run, status, length)
        self._agent_event(run, "STATE_CHANGE", at)
        self._after_status(at, run)

    def _apply_wanted(self, at: int, run: _Agent) -> bool:
        if run.wanted is None or run.contacts:
            return False
        status, length = run.wanted
        self._set_status(at, run, status, length)
        return True

    def _set_status(self, at: int, run: _Agent, status: Status, length: int | None) -> None:
        run.status = dataclasses.replace(status, start=at)
        run.next_status = None
        run.wanted = None
        run.status_token += 1
        token = run.status_token
        if length is not None:
            self._at(at + length, lambda t: self._end_break(t, run, token))

    def _after_status(self, at: int, run: _Agent) -> None:
        """What follows a status just published: an Offline agent logs out."""
        if run.status.type == "OFFLINE" and run.logged_in and not run.contacts:
            token = run.status_token
            shifts = self.settings.shifts
            self._at(at + uniform_ms(self._random, shifts.logout_after_offline_s),
                     lambda t: self._logout(t, run, token))

    def _end_break(self, at: int, run: _Agent, token: int) -> None:
        if run.status_token == token and run.logged_in:
            self._set_status(at, run, self.available, None)
            run.idle_since = at
            self._agent_event(run, "STATE_CHANGE", at)
            self._dispatch(at)

    def _logout(self, at: int, run: _Agent, token: int) -> None:
        if run.status_token != token or not run.logged_in or run.contacts:
            return
        self._agent_event(run, "LOGOUT", at)
        run.logged_in = False
        run.logged_out_at = at
        self._track(run, at)
        shifts = self.settings.shifts
        self._at(at + int(shifts.off_s * 1000), lambda t: self._login(t, run))

    # --- publishing ---------------------------------------------------------------------------

    def _agent_event(self, run: _Agent, event_type: str, at: int) -> None:
        contacts = tuple(
            SnapshotContact(
                contact_id=held.contact.id,
                channel=held.contact.channel,
                initiation_method=held.contact.method,
                state=held.state,
                state_start=held.since,
                queue=self._named(held.contact.queue or held.contact.outbound_queue),
                queued_at=held.contact.enqueued_at,
                connected_at=held.connected_at,
                initial_contact_id=(held.contact.initial_id
                                    if held.contact.initial_id != held.contact.id else None),
            )
            for held in run.contacts.values()
        )
        state = AgentState(run.status, contacts, run.next_status)
        previous = run.published if event_type in ("STATE_CHANGE", "HEART_BEAT") else None
        record = agent_event(self._uuid(), event_type, at, self._named_agent(run.record), state,
                             previous)
        run.published = state
        run.last_event_at = at
        self.counts["agent_records"] += 1
        self._out.append(Emitted(AGENT_FEED, run.record.arn, record, at))
        if run.heartbeat_at is None:
            run.heartbeat_at = at + HEARTBEAT_MS
            self._at(run.heartbeat_at, lambda t: self._heartbeat(t, run))
        self._track(run, at)

    def _heartbeat(self, at: int, run: _Agent) -> None:
        run.heartbeat_at = None
        if not run.logged_in:
            after = self.settings.shifts.heartbeat_after_logout_s * 1000
            if run.logged_out_at is None or at > run.logged_out_at + after:
                return
        if at >= run.last_event_at + HEARTBEAT_MS:
            self._agent_event(run, "HEART_BEAT", at)
        else:
            run.heartbeat_at = run.last_event_at + HEARTBEAT_MS
            self._at(run.heartbeat_at, lambda t: self._heartbeat(t, run))

    def _contact_event(self, contact: _Contact, event_type: str, at: int) -> None:
        hold = None
        if contact.channel == "VOICE" and contact.connected_at is not None and (
            event_type in ("DISCONNECTED", "COMPLETED")
        ):
            hold = contact.hold_ms // 1000
        facts = ContactFacts(
            instance_id=self.instance_id,
            contact_id=contact.id,
            channel=contact.channel,
            initiation_method=contact.method,
            initiated_at=contact.initiated_at,
            queue=contact.queue,
            enqueued_at=contact.enqueued_at,
            agent=contact.agent.record if contact.agent else None,
            connected_to_agent_at=contact.connected_at,
            disconnected_at=contact.disconnected_at,
            acw_start=contact.acw_start,
            acw_end=contact.acw_end,
            hold_seconds=hold,
            initial_contact_id=contact.initial_id,
            previous_contact_id=contact.previous_id,
            connected_to_system_at=contact.connected_to_system_at,
        )
        record = contact_event(self._uuid(), event_type, at, facts)
        self.counts["contact_records"] += 1
        self._out.append(Emitted(CONTACT_FEED, contact.id, record, at))

    # --- truth --------------------------------------------------------------------------------

    def _count(self, contact: _Contact, at: int, metric: str, value: int = 1) -> None:
        if self._book is not None:
            self._book.add(self.instance_id, contact.queue.queue_id, contact.channel, at,
                           metric, value)

    def _activity(self, run: _Agent) -> str:
        if not run.logged_in or run.status.type == "OFFLINE":
            return "OFFLINE"
        best = "NON_PRODUCTIVE" if run.status.type == "CUSTOM" else "AVAILABLE"
        for held in run.contacts.values():
            activity = contact_state_activity(held.state, held.contact.method)
            if activity is not None and _RANK[activity] < _RANK[best]:
                best = activity
        return best

    def _track(self, run: _Agent, at: int) -> None:
        """Keep the agent's activity timeline: segments of (activity, status name)."""
        if self._truth is None:
            return
        activity = self._activity(run)
        status = run.status.name if run.logged_in else "Offline"
        segment = run.segment
        if segment[0] == activity and segment[1] == status:
            return
        if at == segment[2]:
            done = run.closed_segment
            if done is not None and done[3] == at and done[:2] == [activity, status]:
                run.segment = done[:3]
                run.closed_segment = None
            else:
                segment[0], segment[1] = activity, status
            return
        if run.closed_segment is not None:
            self._write_segment(run, run.closed_segment)
        run.closed_segment = [*segment, at]
        run.segment = [activity, status, at]

    def _write_segment(self, run: _Agent, segment: list, still_open: bool = False) -> None:
        activity, status, start, end = segment
        self._truth.write({
            "kind": "agent_activity", "instance_id": self.instance_id,
            "agent_id": run.agent_id, "activity": activity, "status": status,
            "start": start, "end": end, "open": still_open,
        })

    def _agent_flags(self, run: _Agent) -> dict[str, bool] | None:
        if not run.logged_in or run.status.type == "OFFLINE":
            return None
        held = list(run.contacts.values())
        states = {h.state for h in held}
        free = any(slots for _, _, slots in available_slots(run.record.routing_profile, held))
        non_productive = run.status.type == "CUSTOM"
        return {
            "available": (run.status.type == "ROUTABLE" and free
                          and not states & {MISSED, ERROR, "REJECTED"}),
            "on_contact": any(
                h.state in _TALKING or h.state == ENDED
                or (h.state == CONNECTING and h.contact.method in _OUTBOUND_METHODS)
                for h in held
            ),
            "acw": ENDED in states,
            "non_productive": non_productive,
            "error": ERROR in states,
            "staffed": not non_productive,
        }

    def _sample(self, at: int) -> None:
        """The gauges at `at`: the state after every event at or before `at`."""
        truth = self._truth
        self._book.close_before(at)
        counts = {"online": 0, "available": 0, "on_contact": 0, "acw": 0, "non_productive": 0,
                  "error": 0, "staffed": 0}
        activities = {name: 0 for name in PRECEDENCE}
        for run in self._agents:
            flags = self._agent_flags(run)
            if flags is None:
                continue
            counts["online"] += 1
            for name, on in flags.items():
                counts[name] += on
            activities[self._activity(run)] += 1
        truth.write({"kind": "agent_gauge", "instance_id": self.instance_id, "at": at, **counts,
                     "activities": activities})
        for queue_id, waiting in self._in_queue.items():
            standard = queue_id in self._by_queue
            if not waiting and not standard:
                continue
            channels = self.settings.channels if standard else sorted(
                {c.channel for c in waiting.values()})
            for channel in channels:
                ages = [at - c.enqueued_at for c in waiting.values() if c.channel == channel]
                if not ages and not standard:
                    continue
                truth.write({
                    "kind": "queue_gauge", "instance_id": self.instance_id,
                    "queue_id": queue_id, "channel": channel, "at": at,
                    "contacts_in_queue": len(ages), "oldest_contact_age_ms": max(ages, default=0),
                })

    def _contact_line(self, contact: _Contact, at: int) -> dict:
        handled = contact.queue_outcome == "answered"
        complete = contact.acw_end is not None
        queue = contact.queue
        line = {
            "kind": "contact",
            "instance_id": self.instance_id,
            "contact_id": contact.id,
            "initial_contact_id": contact.initial_id,
            "previous_contact_id": contact.previous_id,
            "channel": contact.channel,
            "initiation_method": contact.method,
            "initiated_at": contact.initiated_at,
            "connected_to_system_at": contact.connected_to_system_at,
            "queue_id": queue.queue_id if queue else None,
            "queue_type": queue.queue_type if queue else None,
            "enqueued_at": contact.enqueued_at,
            "left_queue_at": contact.left_queue_at,
            "queue_outcome": contact.queue_outcome or (
                "waiting" if contact.enqueued_at is not None else None),
            "offers": contact.offers,
            "agent_id": contact.agent.agent_id if contact.agent else None,
            "connected_at": contact.connected_at,
            "holds": contact.holds,
            "pauses": contact.pauses,
            "disconnected_at": contact.disconnected_at,
            "acw_start": contact.acw_start,
            "acw_end": contact.acw_end,
            "outcome": contact.outcome or "in_progress",
            "transferred_to": contact.transferred_to,
            "callback_contact_id": contact.callback_contact_id,
            "queue_answer_time_ms": (contact.left_queue_at - contact.enqueued_at
                                     if handled else None),
            "talk_time_ms": None,
            "hold_time_ms": None,
            "pause_time_ms": None,
            "acw_time_ms": None,
            "handle_time_ms": None,
        }
        if contact.connected_at is not None and contact.disconnected_at is not None:
            connected = contact.disconnected_at - contact.connected_at
            line["hold_time_ms"] = contact.hold_ms
            line["pause_time_ms"] = contact.pause_ms
            line["talk_time_ms"] = connected - contact.hold_ms - contact.pause_ms
            if complete:
                line["acw_time_ms"] = contact.acw_end - contact.acw_start
                line["handle_time_ms"] = connected + line["acw_time_ms"]
        return line

    def _write_instance(self) -> None:
        truth = self._truth
        if truth is None:
            return
        settings = dataclasses.asdict(self.settings)
        truth.write({
            "kind": "instance",
            "instance_id": self.instance_id,
            "instance_arn": instance_arn(self.instance_id),
            "seed": self.seed,
            "start_ms": self.start_ms,
            "end_ms": self._end,
            "settings": settings,
            "rates_per_minute": [
                {"queue_id": queue.queue_id, "channel": channel, "per_minute": rate}
                for (queue, channel), rate in self._rates.items()
            ],
            "queues": [
                {"queue_id": q.queue_id, "arn": q.arn, "name": q.name, "channels": list(q.channels)}
                for q in self.queues
            ],
            "routing_profiles": [
                {"routing_profile_id": p.profile_id, "name": p.name,
                 "queue_ids": [q.queue_id for q in p.queues],
                 "concurrency": dict(p.concurrency)}
                for p in self.routing_profiles
            ],
            "statuses": [
                {"status_id": s.status_id, "name": s.name, "type": s.type}
                for s in (self.available, self.offline, self.break_status, self.lunch)
            ],
        })
        for run in self._agents:
            agent = run.record
            truth.write({
                "kind": "agent", "instance_id": self.instance_id, "agent_id": agent.agent_id,
                "agent_arn": agent.arn, "username": agent.username,
                "routing_profile_id": agent.routing_profile.profile_id,
                "queue_ids": list(run.queue_ids), "concurrency": run.concurrency,
            })

    def _finish(self, end: int) -> None:
        """At the end: open intervals, contacts and activity segments are written as they are."""
        truth = self._truth
        self._book.close_all()
        for contact in list(self._live.values()):
            truth.write(self._contact_line(contact, end))
        for run in self._agents:
            if run.closed_segment is not None:
                self._write_segment(run, run.closed_segment)
            self._write_segment(run, [*run.segment, end], still_open=True)
        in_progress = len(self._live)
        truth.write({
            "kind": "summary",
            "instance_id": self.instance_id,
            "end_ms": end,
            "records": dict(self.counts),
            "contacts": {**dict(sorted(self._outcomes.items())), "in_progress": in_progress},
        })


def _waiting_order(contact: _Contact) -> tuple[int, int]:
    return contact.enqueued_at, contact.seq
