"""Properties of the agent activity core over random agent sessions.

A session is generated as a model agent acting in time order (login, statuses, contacts through
their states, heartbeats, routing profile changes, silences long enough to go stale, logout and
the heartbeats after it). It is then run the way the Flink operator runs it: events in order,
timers (`wake_at`, `clear_at`) firing as the watermark (the newest event time) passes them; every
state a step keeps must come with a timer.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobs.core.agents import (
    Activity,
    ActivityTransition,
    AgentFacts,
    AgentSettings,
    AgentWork,
    WorkKind,
    agent_facts,
    apply,
    expire,
)
from tests.unit.test_agents import T0, contact, event, profile, snapshot

# Copies that arrive after the state was dropped (a replay more than an hour after a LOGOUT)
# cannot be recognised, by design; the order and duplicate properties are about a kept state.
KEEP = AgentSettings(forget_after_ms=10**12)
PROFILES = (
    profile("rp-1"),
    profile("rp-2", ("q-4",), (("CHAT", 2, 2),)),
    profile("rp-3", ("q-1",), None),
)
STATUSES = ("Available", "Available", "Break", "Lunch", "Offline")
NEXT = {
    "CONNECTING": ("CONNECTED", "CONNECTED", "CONNECTED", "MISSED", "REJECTED", "ERROR"),
    "INCOMING": ("CONNECTING", "MISSED"),
    "CONNECTED": ("ENDED", "ENDED", "CONNECTED_ONHOLD", None),
    "CONNECTED_ONHOLD": ("CONNECTED", "ENDED"),
    "PAUSED": ("CONNECTED", "ENDED"),
    "ENDED": (None,),
    "MISSED": (None,),
    "REJECTED": (None,),
    "ERROR": (None,),
}


@dataclass
class _Contact:
    contact_id: str
    channel: str
    method: str
    state: str
    since: int
    connected: int | None = None


@dataclass
class _Agent:
    status: str = "Available"
    routing: int = 0
    logged_in: bool = True  # the job may start mid-shift: the first event need not be a LOGIN
    contacts: dict[str, _Contact] = field(default_factory=dict)
    made: int = 0

    def snapshot(self):
        contacts = tuple(
            contact(
                c.contact_id,
                c.state,
                c.since,
                channel=c.channel,
                method=c.method,
                connected=c.connected,
            )
            for c in self.contacts.values()
        )
        return snapshot(self.status, contacts, PROFILES[self.routing])


ACTIONS = (
    "heartbeat",
    "status",
    "profile",
    "offer",
    "offer",
    "advance",
    "advance",
    "advance",
    "advance",
    "advance",
    "logout",
)

actions = st.lists(
    st.tuples(
        st.sampled_from(ACTIONS),
        st.integers(0, 99),  # which one
        st.integers(0, 99),  # how long after the previous event
    ),
    min_size=1,
    max_size=40,
)


def session(steps) -> list:
    """In-order agent events acted out by a model agent."""
    agent = _Agent()
    events: list = []
    at = T0
    same_ms = 0
    previous = None
    for n, (what, which, wait) in enumerate(steps):
        # mostly seconds apart, sometimes in the same millisecond, now and then a long silence
        gap = 0 if wait < 5 else 300_000 + wait * 7_000 if wait >= 94 else wait * 900
        same_ms = same_ms + 1 if gap == 0 else 0
        at += gap if same_ms < 3 else 1
        kind = "STATE_CHANGE"
        if not agent.logged_in:
            if which % 2:
                kind, agent.logged_in, agent.status = "LOGIN", True, "Available"
            else:  # the heartbeats after a LOGOUT, showing the last status
                kind = "HEART_BEAT"
        elif what == "logout":
            kind, agent.logged_in = "LOGOUT", False
            agent.contacts.clear()
        elif what == "heartbeat":
            kind = "HEART_BEAT"
        elif what == "status":
            agent.status = STATUSES[which % len(STATUSES)]
        elif what == "profile":
            agent.routing = which % len(PROFILES)
        elif what == "offer" and len(agent.contacts) < 3:
            agent.made += 1
            channel = ("VOICE", "CHAT", "CHAT", "TASK")[which % 4]
            method = ("INBOUND", "OUTBOUND", "CALLBACK", "TRANSFER")[which // 4 % 4]
            state = "INCOMING" if method == "CALLBACK" else "CONNECTING"
            contact_id = f"c-{agent.made}"
            agent.contacts[contact_id] = _Contact(contact_id, channel, method, state, at)
        elif agent.contacts:
            ids = sorted(agent.contacts)
            moving = agent.contacts[ids[which % len(ids)]]
            options = NEXT[moving.state]
            if moving.channel == "TASK" and moving.state == "CONNECTED":
                options = options + ("PAUSED",)
            nxt = options[which // 7 % len(options)]
            if nxt is None:
                del agent.contacts[moving.contact_id]
            else:
                if nxt == "CONNECTED" and moving.connected is None:
                    moving.connected = at
                moving.state, moving.since = nxt, at
        else:
            kind = "HEART_BEAT"
        current = agent.snapshot()
        before = previous if kind not in ("LOGIN", "LOGOUT") else None
        events.append(event(kind, at, current, before, event_id=f"e-{n}"))
        previous = current
    return events


def drive(events, agent_settings: AgentSettings = KEEP):
    """Run events as the operator does; every output, in order, and the final state."""
    state = None
    outputs: list = []
    timers: set[int] = set()
    watermark = None
    for item in events:
        if watermark is None or item.event_time > watermark:
            watermark = item.event_time
            for timer in sorted(t for t in timers if t <= watermark):
                timers.discard(timer)
                step = expire(state, timer, agent_settings)
                state = step.state
                outputs.extend(step.outputs)
                timers.update(keeps_a_timer(step))
        step = apply(state, item, agent_settings)
        state = step.state
        outputs.extend(step.outputs)
        timers.update(keeps_a_timer(step))
    return outputs, state


def keeps_a_timer(step) -> set[int]:
    """The step's timers; keyed state has no time-to-live, so a state kept without one would
    be kept forever."""
    wanted = {t for t in (step.wake_at, step.clear_at) if t is not None}
    assert step.state is None or wanted
    return wanted


@st.composite
def corrupted(draw):
    """A clean session and the same session with duplicates and replays of earlier events."""
    clean = session(draw(actions))
    noisy = list(clean)
    for _ in range(draw(st.integers(1, 12))):
        source = draw(st.integers(0, len(clean) - 1))
        original = clean[source]
        first_after = noisy.index(original) + 1
        noisy.insert(draw(st.integers(first_after, len(noisy))), original)
    return clean, noisy


FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(corrupted())
def test_duplicates_and_replays_change_nothing(streams):
    clean, noisy = streams
    assert drive(noisy) == drive(clean)


@FAST
@given(actions)
def test_invariants_of_a_session(steps):
    outputs, state = drive(session(steps), AgentSettings())
    facts = [o for o in outputs if isinstance(o, AgentFacts)]
    for f in facts:
        assert f.staffed == (f.online and not f.non_productive)
        assert not (f.stale and f.online)
        assert f.online or (f.activity is Activity.OFFLINE and not f.on_contact and not f.available)
        assert f.slots_available == sum(free for _, free in f.available)
        assert not f.available or not (
            f.in_error or f.activity in (Activity.MISSED, Activity.REJECTED)
        )
    # facts are only emitted when they change
    for a, b in zip(facts, facts[1:]):
        assert replace(a, at=0) != replace(b, at=0)

    transitions = [o for o in outputs if isinstance(o, ActivityTransition)]
    times = [o for o in outputs if isinstance(o, AgentWork) and o.kind is WorkKind.ACTIVITY_TIME]
    for a, b in zip(transitions, transitions[1:]):
        assert b.from_activity in (a.to_activity, None)
        assert b.at >= a.at
    for transition, spent in zip([t for t in transitions if t.from_activity is not None], times):
        assert (spent.activity, spent.duration_ms, spent.at) == (
            transition.from_activity,
            transition.time_in_previous_ms,
            transition.at,
        )
    assert all(t.duration_ms >= 0 for t in times)

    work = Counter(
        (o.kind, o.contact_id)
        for o in outputs
        if isinstance(o, AgentWork) and o.kind is not WorkKind.ACTIVITY_TIME
    )
    assert all(count == 1 for count in work.values())
    assert all(
        o.duration_ms is None or o.duration_ms >= 0 for o in outputs if isinstance(o, AgentWork)
    )
    if state is not None and facts:  # the gauges saw the final state
        assert agent_facts(state, facts[-1].at) == facts[-1]
