"""Order and duplicates do not change a contact's story.

Random contacts follow a random path (answered, abandoned, moved between queues, transferred,
called back, outbound, paused task, missed then answered, self service, stuck), with events
randomly lost. Then:
- through the operator's buffer (watermark = max seen time - lateness - 1, like Flink's bounded
  out-of-orderness), any arrival order within the lateness plus duplicates (same envelope, or a
  re-published one; at any delay), with timers fired whenever the watermark passes `wake_at`,
  gives exactly the outputs of applying the events in order;
- fed straight to the core in any order, with duplicates, the contact ends with the same
  summary, and its transitions still form one valid chain;
- every state a step keeps comes with a timer (`wake_at` or `clear_at`) that moves it on.
"""

from __future__ import annotations

import dataclasses

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobs.core.contacts import (
    DEFAULT_SETTINGS,
    MINUTE,
    CompletedContact,
    LifecycleSettings,
    Phase,
    PhaseTransition,
    expire,
    link_event,
    step,
)
from jobs.core.event_order import LATE, EventOrder, order_key
from tests.unit.test_contacts import T0, Story, envelope

FAR = 10**15
# Timeouts the random durations cross, so contacts also expire mid-story.
TIGHT = LifecycleSettings(max_queue_time_ms=10 * MINUTE, max_handle_time_ms=20 * MINUTE,
                          acw_timeout_ms=5 * MINUTE, completed_grace_ms=MINUTE,
                          no_acw_timeout_ms=MINUTE)
PATHS = ("answered", "abandoned", "queue_move", "queue_transfer", "agent_transfer", "callback",
         "outbound", "task", "missed", "reoffered", "self_service", "stuck")
EXAMPLES = settings(max_examples=250, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@st.composite
def contact_events(draw, long_waits: bool):
    """One contact's events in time order, some of them lost."""
    path = draw(st.sampled_from(PATHS))
    channel = "TASK" if path == "task" else draw(st.sampled_from(["VOICE", "CHAT"]))
    method = "OUTBOUND" if path == "outbound" else draw(st.sampled_from(["INBOUND", "API"]))
    top = 25 * MINUTE if long_waits else 5 * MINUTE

    def span(low=0, high=top):
        return draw(st.integers(low, high))

    s = Story("c-1", channel, method)
    events = [s.initiated(0)]
    t = span(0, 2_000)
    events.append(s.system(t))

    def answer_and_end(t, agent="a-1", transfer=False):
        t += span()
        events.append(s.connected(t, agent))
        talk = span(1_000)
        if transfer:
            link_at = t + span(1, talk)
            events.append(link_event(s.successor("c-9", "TRANSFER", link_at).first))
        if path == "task":
            at = t
            for _ in range(draw(st.integers(0, 2))):
                at += span(2_000, 60_000)
                events.append(s.paused(at))
                at += span(2_000, top)
                events.append(s.resumed(at))
            talk += at - t
        end(t + talk, hold_s=draw(st.integers(0, talk // 2_000)), agent=True)

    def end(t, hold_s=None, agent=False):
        if path == "stuck":
            return
        events.append(s.disconnected(t, hold_s=hold_s))
        if agent and draw(st.booleans()):
            events.append(s.completed(0, acw_ms=span(0, 8 * MINUTE)))
        else:
            events.append(s.completed(t + span(0, 3_000)))

    def linked(method, t):
        t += span()
        events.append(link_event(s.successor("c-9", method, t).first))
        end(t + span(0, 1_000))

    if path == "outbound":
        t += span(0, 5_000)
        events.append(s.connected(t))
        events.append(s.system(t + span(0, 30_000)))
        end(t + span(31_000, top), hold_s=0, agent=True)
    elif path == "self_service":
        end(t + span(1_000))
    else:
        t += span(0, 60_000)
        events.append(s.queued(t, "q-1"))
        if path == "queue_move":
            t += span()
            events.append(s.queued(t, "q-2"))
        if path in ("missed", "reoffered"):
            if path == "missed":
                t += span(1_000, 30_000)
                events.append(s.connected(t, "a-0"))
            t += span(1_000, 30_000)
            events.append(s.queued(t, "q-1"))
        if path in ("abandoned", "stuck") or (path == "queue_move" and draw(st.booleans())):
            end(t + span())
        elif path == "queue_transfer":
            linked("QUEUE_TRANSFER", t)
        elif path == "callback":
            linked("CALLBACK", t)
        else:
            answer_and_end(t, "a-2" if path == "missed" else "a-1", path == "agent_transfer")
    if draw(st.booleans()):  # a data update carries what was known when it was sent
        own = sorted((e for e in events if is_own(e)), key=order_key)
        last = own[draw(st.integers(0, len(own) - 1))]
        events.append(dataclasses.replace(
            last, event_id="c-1/updated", event_type="CONTACT_DATA_UPDATED",
            event_time=envelope(last.event_time - T0 + span(0, 999))))

    kept = [e for e in events if not draw(st.booleans()) or draw(st.integers(0, 7))]
    if not any(is_own(e) for e in kept):
        kept.append(events[0])
    unique, seen = [], set()
    for event in sorted(kept, key=order_key):
        key = (event.contact_id, event.event_type, event.event_time)
        if key not in seen:  # the buffer treats these as one event: keep the generator's clear
            seen.add(key)
            unique.append(event)
    return unique


def is_own(event) -> bool:
    return event.contact_id == "c-1" and event.event_type != "SUCCESSOR_INITIATED"


def in_order(events, lifecycle):
    state, outputs = None, []
    for event in sorted(events, key=order_key):
        result = step(state, event, lifecycle)
        state = result.state
        outputs.extend(result.outputs)
    if state is not None and state.closed_at is None:
        outputs.extend(expire(state, FAR, lifecycle).outputs)
    return outputs


@st.composite
def deliveries(draw, events, lateness):
    """Arrival order within the lateness, plus duplicates arriving at any delay."""
    arrivals = [(e.event_time + draw(st.integers(0, lateness)), draw(st.integers(0, 99)), e)
                for e in events]
    for event in draw(st.lists(st.sampled_from(events), max_size=len(events))):
        if draw(st.booleans()):
            event = dataclasses.replace(event, event_id=event.event_id + "-republished")
        delay = draw(st.integers(0, 3 * lateness + 10 * MINUTE))
        arrivals.append((event.event_time + delay, draw(st.integers(0, 99)), event))
    arrivals.sort(key=lambda a: (a[0], a[1]))
    return [a[2] for a in arrivals]


def through_buffer(arrivals, lateness, lifecycle):
    buffer = EventOrder()
    state, outputs, wake_at, max_seen = None, [], None, None

    def take(result):
        nonlocal state, wake_at
        # Keyed state has no time-to-live: a state kept without a timer would be kept forever.
        assert result.state is None or (result.wake_at, result.clear_at) != (None, None)
        state, wake_at = result.state, result.wake_at
        outputs.extend(result.outputs)

    for event in arrivals:
        if buffer.add(event) == LATE:
            take(step(state, event, lifecycle))
        max_seen = event.event_time if max_seen is None else max(max_seen, event.event_time)
        watermark = max_seen - lateness - 1
        for ready in buffer.release(watermark):
            take(step(state, ready, lifecycle))
        if state is not None and wake_at is not None and wake_at <= watermark:
            take(expire(state, watermark, lifecycle))
    for ready in buffer.release(FAR):
        take(step(state, ready, lifecycle))
    if state is not None and state.closed_at is None:
        take(expire(state, FAR, lifecycle))
    return outputs


def check_chain(outputs):
    """One chain from nothing to COMPLETED or EXPIRED; every QUEUED entry is left again."""
    phase, queue = None, None
    moves = [o for o in outputs if isinstance(o, PhaseTransition)]
    for move in moves:
        assert move.from_phase == phase, moves
        if phase == Phase.QUEUED:
            assert move.queue_id == queue and move.reason is not None, moves
        phase, queue = move.to_phase, move.queue_id
    assert phase in (Phase.COMPLETED, Phase.EXPIRED), moves


def final_summary(outputs) -> CompletedContact:
    found = [o for o in outputs if isinstance(o, CompletedContact)]
    assert found and [s.version for s in found] == list(range(1, len(found) + 1))
    assert len({s.completed_at for s in found}) == 1
    return dataclasses.replace(found[-1], version=0)


@EXAMPLES
@given(st.data(), st.booleans())
def test_any_arrival_within_the_lateness_gives_the_in_order_outputs(data, tight):
    lifecycle = TIGHT if tight else DEFAULT_SETTINGS
    events = data.draw(contact_events(long_waits=tight))
    lateness = data.draw(st.sampled_from([0, 1_000, 30_000, 5 * MINUTE]))
    expected = in_order(events, lifecycle)
    check_chain(expected)
    final_summary(expected)
    arrivals = data.draw(deliveries(events, lateness))
    assert through_buffer(arrivals, lateness, lifecycle) == expected


@EXAMPLES
@given(st.data())
def test_any_order_straight_into_the_core_ends_with_the_in_order_summary(data):
    events = data.draw(contact_events(long_waits=False))
    expected = in_order(events, DEFAULT_SETTINGS)
    shuffled = data.draw(st.permutations(events + data.draw(
        st.lists(st.sampled_from(events), max_size=len(events)))))
    state, outputs = None, []
    for event in shuffled:
        result = step(state, event)
        state = result.state
        outputs.extend(result.outputs)
    if state.closed_at is None:
        outputs.extend(expire(state, FAR).outputs)
    check_chain(outputs)
    assert final_summary(outputs) == final_summary(expected)
