"""The contact lifecycle, path by path: what each story emits, in order and out of order."""

from __future__ import annotations

import pickle

import pytest

from jobs.core.contacts import (
    DEFAULT_SETTINGS,
    HOUR,
    MINUTE,
    CompletedContact,
    ContactState,
    ExpiredReason,
    LeaveReason,
    LifecycleSettings,
    Outcome,
    Phase,
    PhaseTransition,
    QueueStay,
    Step,
    expire,
    link_event,
    state_size_bytes,
    step,
    waiting_now,
)
from jobs.core.events import ContactEvent

T0 = 1_795_428_000_000
INSTANCE = "inst-1"
GRACE = DEFAULT_SETTINGS.completed_grace_ms


class Story:
    """One contact's events as Connect sends them: each carries the contact's data so far, and
    its event time is what the parser takes (the event's own timestamp, else the envelope time,
    which has whole seconds). Times are milliseconds after T0."""

    def __init__(self, contact_id="c-1", channel="VOICE", method="INBOUND", previous=None):
        self.contact_id = contact_id
        self.count = 0
        self.data: dict = {
            "instance_id": INSTANCE, "channel": channel, "initiation_method": method,
            "queue_id": None, "initial_contact_id": contact_id, "previous_contact_id": previous,
        }

    def event(self, kind: str, event_time: int) -> ContactEvent:
        self.count += 1
        return ContactEvent(event_id=f"{self.contact_id}/{self.count}", event_type=kind,
                            event_time=event_time, contact_id=self.contact_id, **self.data)

    def initiated(self, at=0):
        self.data["initiation_time"] = T0 + at
        return self.event("INITIATED", T0 + at)

    def system(self, at):
        self.data["connected_to_system_time"] = T0 + at
        return self.event("CONNECTED_TO_SYSTEM", T0 + at)

    def queued(self, at, queue="q-1", queue_type="STANDARD"):
        self.data.update(queue_id=queue, queue_arn=f"arn:queue/{queue}", queue_type=queue_type,
                         enqueue_time=T0 + at)
        return self.event("QUEUED", T0 + at)

    def connected(self, at, agent="a-1"):
        self.data.update(agent_id=agent, agent_arn=f"arn:agent/{agent}",
                         connected_to_agent_time=T0 + at)
        return self.event("CONNECTED_TO_AGENT", T0 + at)

    def paused(self, at):
        return self.event("PAUSED", envelope(at))

    def resumed(self, at):
        return self.event("RESUMED", envelope(at))

    def data_updated(self, at):
        return self.event("CONTACT_DATA_UPDATED", envelope(at))

    def disconnected(self, at, hold_s=None, reason=None):
        self.data.update(disconnect_time=T0 + at, hold_duration_s=hold_s, disconnect_reason=reason)
        return self.event("DISCONNECTED", T0 + at)

    def completed(self, at, acw_ms=None):
        """COMPLETED at `at` (no ACW: envelope time), or after `acw_ms` of ACW from disconnect."""
        if acw_ms is None:
            return self.event("COMPLETED", envelope(at))
        start = self.data["disconnect_time"]
        self.data.update(acw_start_time=start, acw_end_time=start + acw_ms,
                         acw_duration_s=acw_ms // 1000)
        return self.event("COMPLETED", start + acw_ms)

    def successor(self, contact_id, method, at, channel=None) -> Story:
        """A new contact created from this one (transfer, callback), already INITIATED."""
        other = Story(contact_id, channel or self.data["channel"], method, previous=self.contact_id)
        other.data["initial_contact_id"] = self.data["initial_contact_id"]
        other.first = other.initiated(at)
        return other


def envelope(at: int) -> int:
    return (T0 + at) // 1000 * 1000


def run(events, state=None, settings=DEFAULT_SETTINGS):
    outputs: list = []
    result = Step(state)
    for event in events:
        result = step(result.state, event, settings)
        outputs.extend(result.outputs)
    return result, outputs


def transitions(outputs):
    return [o for o in outputs if isinstance(o, PhaseTransition)]


def chain(outputs):
    """(from, to, queue, reason, at - T0) of each transition."""
    return [(t.from_phase, t.to_phase, t.queue_id, t.reason, t.at - T0)
            for t in transitions(outputs)]


def summaries(outputs):
    return [o for o in outputs if isinstance(o, CompletedContact)]


def only_summary(outputs) -> CompletedContact:
    found = summaries(outputs)
    assert len(found) == 1, found
    return found[0]


def answered_story(acw_ms=30_000, channel="VOICE"):
    """Initiated, in the flow, queued 18.5 s, talked 100 s (10 s hold), ACW (or none)."""
    s = Story(channel=channel)
    return s, [s.initiated(0), s.system(300), s.queued(1_500), s.connected(20_000),
               s.disconnected(120_000, hold_s=10), s.completed(120_300, acw_ms=acw_ms)]


# --- paths ---------------------------------------------------------------------------------


def test_inbound_answered():
    _, events = answered_story()
    result, outputs = run(events)
    assert chain(outputs) == [
        (None, Phase.INITIATED, None, None, 0),
        (Phase.INITIATED, Phase.CONNECTED_TO_SYSTEM, None, None, 300),
        (Phase.CONNECTED_TO_SYSTEM, Phase.QUEUED, "q-1", None, 1_500),
        (Phase.QUEUED, Phase.CONNECTED_TO_AGENT, "q-1", LeaveReason.ANSWERED, 20_000),
        (Phase.CONNECTED_TO_AGENT, Phase.DISCONNECTED, "q-1", None, 120_000),
        (Phase.DISCONNECTED, Phase.COMPLETED, "q-1", None, 150_000),
    ]
    answer = transitions(outputs)[3]
    assert (answer.since, answer.agent_id, answer.channel) == (T0 + 1_500, "a-1", "VOICE")
    summary = only_summary(outputs)
    assert outputs[-1] is summary
    assert summary == CompletedContact(
        contact_id="c-1", instance_id=INSTANCE, channel="VOICE", initiation_method="INBOUND",
        queue_id="q-1", agent_id="a-1", outcome=Outcome.HANDLED,
        enqueue_time=T0 + 1_500, dequeue_time=T0 + 20_000, queue_wait_ms=18_500,
        answer_time=T0 + 20_000, talk_ms=90_000, hold_ms=10_000, acw_ms=30_000,
        handle_ms=130_000, abandon_time_ms=None, paused_ms=0, initiation_time=T0,
        disconnect_time=T0 + 120_000, disconnect_reason=None, acw_start_time=T0 + 120_000,
        acw_end_time=T0 + 150_000, expired_reason=None, requeues=0, transferred_out=False,
        next_contact_id=None, initial_contact_id="c-1", previous_contact_id=None,
        related_contact_id=None,
        queue_stays=(QueueStay("q-1", T0 + 1_500, T0 + 20_000, LeaveReason.ANSWERED),),
        completed_at=T0 + 150_000, version=1,
    )
    assert (result.wake_at, result.clear_at) == (None, T0 + 150_000 + GRACE)


def test_each_step_says_when_to_wake():
    s = Story()
    assert step(None, s.initiated(0)).wake_at == T0 + 4 * HOUR
    state = run([s.initiated(0), s.queued(1_500)])[0].state
    assert expire(state, T0).wake_at == T0 + 1_500 + 4 * HOUR
    state = step(state, s.connected(20_000)).state
    assert expire(state, T0).wake_at == T0 + 20_000 + 8 * HOUR
    result = step(state, s.disconnected(60_000))
    assert (result.wake_at, result.clear_at) == (T0 + 60_000 + 2 * HOUR, None)


def test_abandoned_in_queue():
    s = Story()
    _, outputs = run([s.initiated(0), s.system(300), s.queued(1_500), s.disconnected(30_000),
                      s.completed(30_200)])
    assert chain(outputs)[-2:] == [
        (Phase.QUEUED, Phase.DISCONNECTED, "q-1", LeaveReason.ABANDONED, 30_000),
        (Phase.DISCONNECTED, Phase.COMPLETED, "q-1", None, 30_000),
    ]
    summary = only_summary(outputs)
    assert summary.outcome == Outcome.ABANDONED
    assert (summary.queue_wait_ms, summary.abandon_time_ms) == (28_500, 28_500)
    assert (summary.agent_id, summary.answer_time, summary.handle_ms, summary.acw_ms) == (
        None, None, None, None)
    # COMPLETED without ACW is timed by its envelope, in whole seconds: 30.2 s -> 30 s
    assert summary.completed_at == T0 + 30_000


def test_completed_envelope_time_before_the_disconnect_does_not_cut_the_story():
    s = Story()
    events = [s.initiated(0), s.queued(1_500), s.disconnected(30_700)]
    completed = s.completed(30_800)
    assert completed.event_time == T0 + 30_000 < T0 + 30_700
    _, outputs = run(sorted(events + [completed], key=lambda e: e.event_time))
    summary = only_summary(outputs)
    assert (summary.outcome, summary.disconnect_time, summary.completed_at) == (
        Outcome.ABANDONED, T0 + 30_700, T0 + 30_700)


def test_queue_transfer_within_the_contact():
    s = Story()
    _, outputs = run([s.initiated(0), s.queued(1_500, "q-1"), s.queued(30_000, "q-2"),
                      s.connected(40_000), s.disconnected(100_000), s.completed(100_500)])
    assert chain(outputs)[1:5] == [
        (Phase.INITIATED, Phase.QUEUED, "q-1", None, 1_500),
        (Phase.QUEUED, Phase.CONNECTED_TO_SYSTEM, "q-1", LeaveReason.TRANSFERRED, 30_000),
        (Phase.CONNECTED_TO_SYSTEM, Phase.QUEUED, "q-2", None, 30_000),
        (Phase.QUEUED, Phase.CONNECTED_TO_AGENT, "q-2", LeaveReason.ANSWERED, 40_000),
    ]
    summary = only_summary(outputs)
    assert (summary.outcome, summary.queue_id, summary.enqueue_time, summary.queue_wait_ms) == (
        Outcome.HANDLED, "q-2", T0 + 30_000, 10_000)
    assert summary.queue_stays == (
        QueueStay("q-1", T0 + 1_500, T0 + 30_000, LeaveReason.TRANSFERRED),
        QueueStay("q-2", T0 + 30_000, T0 + 40_000, LeaveReason.ANSWERED),
    )


def test_queue_transfer_to_a_new_contact():
    first = Story("c-1")
    events = [first.initiated(0), first.queued(1_500, "q-1")]
    second = first.successor("c-2", "QUEUE_TRANSFER", 30_000)
    events += [link_event(second.first), first.disconnected(30_200), first.completed(30_300)]
    _, outputs = run(events)
    assert (Phase.QUEUED, Phase.CONNECTED_TO_SYSTEM, "q-1", LeaveReason.TRANSFERRED, 30_000) in (
        chain(outputs))
    summary = only_summary(outputs)
    assert (summary.outcome, summary.queue_id, summary.queue_wait_ms) == (
        Outcome.TRANSFERRED_OUT, "q-1", 28_500)
    assert (summary.transferred_out, summary.next_contact_id) == (True, "c-2")

    _, outputs = run([second.first, second.queued(30_500, "q-2"), second.connected(45_000),
                      second.disconnected(90_000), second.completed(90_100)])
    summary = only_summary(outputs)
    assert (summary.outcome, summary.queue_id, summary.initiation_method) == (
        Outcome.HANDLED, "q-2", "QUEUE_TRANSFER")
    assert (summary.previous_contact_id, summary.initial_contact_id) == ("c-1", "c-1")


def test_transfer_to_another_agent():
    first = Story("c-1")
    events = [first.initiated(0), first.queued(1_500), first.connected(10_000, "a-1")]
    second = first.successor("c-2", "TRANSFER", 60_000)
    events += [link_event(second.first), first.disconnected(65_000), first.completed(0, 5_000)]
    _, outputs = run(events)
    assert [t.to_phase for t in transitions(outputs)] == [
        Phase.INITIATED, Phase.QUEUED, Phase.CONNECTED_TO_AGENT, Phase.DISCONNECTED,
        Phase.COMPLETED]
    summary = only_summary(outputs)
    assert (summary.outcome, summary.agent_id, summary.transferred_out,
            summary.next_contact_id) == (Outcome.HANDLED, "a-1", True, "c-2")
    assert (summary.talk_ms, summary.acw_ms, summary.handle_ms) == (55_000, 5_000, 60_000)

    _, outputs = run([second.first, second.queued(60_100, "agent-q-2", "AGENT"),
                      second.connected(62_000, "a-2"), second.disconnected(200_000),
                      second.completed(200_100)])
    summary = only_summary(outputs)
    assert (summary.outcome, summary.agent_id, summary.queue_id, summary.queue_wait_ms) == (
        Outcome.HANDLED, "a-2", "agent-q-2", 1_900)


def test_callback():
    first = Story("c-1")
    events = [first.initiated(0), first.queued(1_500)]
    callback = first.successor("c-2", "CALLBACK", 40_000)
    ending = [first.disconnected(40_500), first.completed(40_600)]
    _, outputs = run(events + [link_event(callback.first)] + ending)
    assert (Phase.QUEUED, Phase.CONNECTED_TO_SYSTEM, "q-1", LeaveReason.CALLBACK, 40_000) in (
        chain(outputs))
    summary = only_summary(outputs)
    assert (summary.outcome, summary.queue_wait_ms, summary.abandon_time_ms) == (
        Outcome.CALLBACK, 38_500, None)
    assert (summary.next_contact_id, summary.transferred_out) == ("c-2", False)
    # without the callback contact's link, the same story is an abandon
    assert only_summary(run(events + ending)[1]).outcome == Outcome.ABANDONED

    _, outputs = run([callback.first, callback.queued(40_100), callback.connected(300_000),
                      callback.disconnected(400_000), callback.completed(400_100)])
    summary = only_summary(outputs)
    assert (summary.outcome, summary.initiation_method, summary.previous_contact_id) == (
        Outcome.HANDLED, "CALLBACK", "c-1")


def test_outbound_never_queues():
    s = Story(method="OUTBOUND")
    _, outputs = run([s.initiated(0), s.connected(500), s.system(8_000),
                      s.disconnected(68_000), s.completed(0, acw_ms=12_000)])
    assert chain(outputs) == [
        (None, Phase.INITIATED, None, None, 0),
        (Phase.INITIATED, Phase.CONNECTED_TO_AGENT, None, None, 500),
        (Phase.CONNECTED_TO_AGENT, Phase.DISCONNECTED, None, None, 68_000),
        (Phase.DISCONNECTED, Phase.COMPLETED, None, None, 80_000),
    ]
    summary = only_summary(outputs)
    assert (summary.outcome, summary.queue_id, summary.queue_wait_ms) == (
        Outcome.OUTBOUND, None, None)
    assert (summary.talk_ms, summary.acw_ms, summary.handle_ms) == (67_500, 12_000, 79_500)


def test_chat():
    _, events = answered_story(channel="CHAT")
    _, outputs = run(events)
    assert {t.channel for t in transitions(outputs)} == {"CHAT"}
    summary = only_summary(outputs)
    assert (summary.channel, summary.outcome, summary.queue_wait_ms) == (
        "CHAT", Outcome.HANDLED, 18_500)


def test_task_paused_and_resumed():
    s = Story(channel="TASK", method="API")
    _, outputs = run([s.initiated(0), s.queued(1_000), s.connected(5_000), s.paused(60_000),
                      s.resumed(180_000), s.paused(200_000), s.resumed(230_000),
                      s.disconnected(300_000), s.completed(300_500)])
    assert [t.to_phase for t in transitions(outputs)][3:8] == [
        Phase.PAUSED, Phase.CONNECTED_TO_AGENT, Phase.PAUSED, Phase.CONNECTED_TO_AGENT,
        Phase.DISCONNECTED]
    summary = only_summary(outputs)
    assert (summary.outcome, summary.paused_ms, summary.talk_ms) == (
        Outcome.HANDLED, 150_000, 295_000)


def test_missed_by_one_agent_then_answered_by_another():
    s = Story()
    _, outputs = run([s.initiated(0), s.queued(1_500), s.connected(10_000, "a-1"),
                      s.queued(25_000), s.connected(40_000, "a-2"),
                      s.disconnected(100_000), s.completed(100_100)])
    assert chain(outputs)[1:5] == [
        (Phase.INITIATED, Phase.QUEUED, "q-1", None, 1_500),
        (Phase.QUEUED, Phase.CONNECTED_TO_AGENT, "q-1", LeaveReason.ANSWERED, 10_000),
        (Phase.CONNECTED_TO_AGENT, Phase.QUEUED, "q-1", None, 25_000),
        (Phase.QUEUED, Phase.CONNECTED_TO_AGENT, "q-1", LeaveReason.ANSWERED, 40_000),
    ]
    summary = only_summary(outputs)
    # the customer waited from the first enqueue: the failed offer is not an answer
    assert (summary.agent_id, summary.requeues, summary.enqueue_time, summary.queue_wait_ms) == (
        "a-2", 1, T0 + 1_500, 38_500)
    assert (summary.answer_time, summary.talk_ms) == (T0 + 40_000, 60_000)
    assert len(summary.queue_stays) == 2


def test_offered_again_without_an_agent_connection_is_one_stay():
    s = Story()
    _, outputs = run([s.initiated(0), s.queued(1_500), s.queued(25_000), s.connected(40_000),
                      s.disconnected(100_000), s.completed(100_100)])
    assert [t.to_phase for t in transitions(outputs)].count(Phase.QUEUED) == 1
    summary = only_summary(outputs)
    assert (summary.requeues, summary.queue_wait_ms, len(summary.queue_stays)) == (0, 38_500, 1)


def test_completed_without_acw():
    _, events = answered_story(acw_ms=None)
    summary = only_summary(run(events)[1])
    assert (summary.acw_ms, summary.handle_ms, summary.acw_start_time) == (0, 100_000, None)
    # COMPLETED without ACW is timed by its envelope, in whole seconds: 120.3 s -> 120 s
    assert summary.completed_at == T0 + 120_000


def test_completed_never_arrives():
    s = Story()
    result, outputs = run([s.initiated(0), s.queued(1_500), s.connected(20_000),
                           s.disconnected(120_000, hold_s=5)])
    assert summaries(outputs) == []
    deadline = T0 + 120_000 + 2 * HOUR
    assert result.wake_at == deadline
    assert expire(result.state, deadline - 1) == Step(result.state, (), deadline, None)
    result = expire(result.state, deadline + 5 * MINUTE)  # timers may fire late
    assert chain(result.outputs) == [
        (Phase.DISCONNECTED, Phase.EXPIRED, "q-1", None, 120_000 + 2 * HOUR)]
    summary = only_summary(result.outputs)
    # answered and disconnected: that is known; only the ACW is not
    assert (summary.outcome, summary.expired_reason) == (
        Outcome.HANDLED, ExpiredReason.NO_COMPLETED)
    assert (summary.talk_ms, summary.hold_ms, summary.acw_ms, summary.handle_ms) == (
        95_000, 5_000, None, None)
    assert summary.completed_at == deadline
    assert (result.wake_at, result.clear_at) == (None, deadline + GRACE)
    assert expire(result.state, deadline + GRACE - 1).state is result.state
    assert expire(result.state, deadline + GRACE) == Step(None)


def test_abandoned_contact_without_completed_closes_a_minute_after_disconnect():
    s = Story()
    result, _ = run([s.initiated(0), s.queued(1_500), s.disconnected(9_000)])
    assert result.wake_at == T0 + 9_000 + MINUTE
    summary = only_summary(expire(result.state, T0 + HOUR).outputs)
    assert (summary.outcome, summary.expired_reason, summary.completed_at) == (
        Outcome.ABANDONED, ExpiredReason.NO_COMPLETED, T0 + 9_000 + MINUTE)


def test_queued_longer_than_the_maximum_queue_time():
    s = Story()
    result, _ = run([s.initiated(0), s.queued(1_500)])
    result = expire(result.state, T0 + 1_500 + 4 * HOUR)
    assert chain(result.outputs) == [
        (Phase.QUEUED, Phase.EXPIRED, "q-1", LeaveReason.EXPIRED, 1_500 + 4 * HOUR)]
    summary = only_summary(result.outputs)
    assert (summary.outcome, summary.expired_reason, summary.queue_wait_ms) == (
        Outcome.EXPIRED, ExpiredReason.MAX_QUEUE_TIME, 4 * HOUR)


def test_connected_longer_than_the_maximum_handle_time():
    s = Story()
    result, _ = run([s.initiated(0), s.queued(1_500), s.connected(20_000)])
    summary = only_summary(expire(result.state, T0 + 20_000 + 8 * HOUR).outputs)
    assert (summary.outcome, summary.expired_reason, summary.talk_ms) == (
        Outcome.HANDLED, ExpiredReason.MAX_HANDLE_TIME, None)


def test_an_event_after_the_deadline_finds_the_contact_already_expired():
    s = Story()
    events = [s.initiated(0), s.queued(1_500), s.disconnected(5 * HOUR)]
    _, without_timer = run(events)
    timely, before = run(events[:2])
    timer = expire(timely.state, T0 + 4 * HOUR + 1_500)
    after = step(timer.state, events[2])
    assert without_timer == before + list(timer.outputs) + list(after.outputs)
    summary = only_summary(without_timer)
    assert (summary.outcome, summary.completed_at) == (Outcome.EXPIRED, T0 + 1_500 + 4 * HOUR)


# --- order, duplicates, late events --------------------------------------------------------


def test_disconnected_before_connected_to_agent():
    _, events = answered_story()
    in_order = run(events)[1]
    i, s, q, a, d, c = events
    _, outputs = run([i, s, q, d, a, c])
    assert outputs == in_order


def test_connected_to_agent_with_no_queued_seen():
    _, events = answered_story()
    i, s, _, a, d, c = events
    _, outputs = run([i, s, a, d, c])
    assert outputs == run(events)[1]
    assert (Phase.CONNECTED_TO_SYSTEM, Phase.QUEUED, "q-1", None, 1_500) in chain(outputs)


def test_completed_arriving_first():
    _, events = answered_story()
    first = step(None, events[-1])
    assert only_summary(first.outputs) == only_summary(run(events)[1])
    assert first.outputs[-2].to_phase == Phase.COMPLETED
    _, rest = run(events[:-1], first.state)
    assert rest == []


def test_duplicates_change_nothing():
    _, events = answered_story()
    twice = [e for event in events for e in (event, event)]
    assert run(twice)[1] == run(events)[1]
    redelivered = [ContactEvent(**{**vars_of(e), "event_id": e.event_id + "-again"})
                   for e in events]
    assert run(events + redelivered)[1] == run(events)[1]


def vars_of(event: ContactEvent) -> dict:
    return {name: getattr(event, name) for name in ContactEvent.__dataclass_fields__}


def test_a_late_event_corrects_the_summary_under_the_same_time():
    first = Story("c-1")
    events = [first.initiated(0), first.queued(1_500), first.disconnected(40_500),
              first.completed(40_600)]
    result, outputs = run(events)
    assert only_summary(outputs).outcome == Outcome.ABANDONED
    link = link_event(first.successor("c-2", "CALLBACK", 40_000).first)
    corrected = step(result.state, link)
    assert transitions(corrected.outputs) == []
    summary = only_summary(corrected.outputs)
    assert (summary.outcome, summary.version) == (Outcome.CALLBACK, 2)
    assert summary.completed_at == only_summary(outputs).completed_at
    assert step(corrected.state, link).outputs == ()


def test_a_link_before_any_event_of_its_contact_is_kept():
    first = Story("c-1")
    queued = first.queued(1_500)  # lost
    link = link_event(first.successor("c-2", "CALLBACK", 40_000).first)
    _, outputs = run([link, first.disconnected(40_500), first.completed(40_600)])
    assert queued.event_type == "QUEUED"
    assert (Phase.QUEUED, Phase.CONNECTED_TO_SYSTEM, "q-1", LeaveReason.CALLBACK, 40_000) in (
        chain(outputs))
    assert only_summary(outputs).outcome == Outcome.CALLBACK


def test_facts_after_the_close_are_ignored():
    s = Story()
    result, _ = run([s.initiated(0), s.queued(1_500), s.disconnected(9_000),
                     s.completed(9_100)])
    later = step(result.state, s.connected(20_000))
    assert later.outputs == ()


def test_links_and_unrelated_events():
    first = Story("c-1")
    transfer = first.successor("c-2", "TRANSFER", 5_000)
    link = link_event(transfer.first)
    assert (link.contact_id, link.related_contact_id, link.event_time) == ("c-1", "c-2", T0 + 5_000)
    assert link_event(transfer.queued(6_000)) == link  # any event of c-2 gives the same link
    assert link_event(first.initiated(0)) is None
    assert link_event(first.successor("c-3", "MONITOR", 1).first) is None
    alone = step(None, link)  # kept silently, for the contact's own events to come
    assert (alone.outputs, alone.wake_at, alone.clear_at) == ((), None, T0 + 5_000 + GRACE)
    assert expire(alone.state, T0 + 5_000 + GRACE - 1).state is alone.state
    assert expire(alone.state, T0 + 5_000 + GRACE) == Step(None)  # no phantom contact
    state = step(None, first.initiated(0)).state
    assert step(state, transfer.queued(6_000)).state == state  # another contact's own event


def test_contact_data_updated_alone_opens_and_expires_the_contact():
    s = Story()
    result = step(None, s.data_updated(2_500))
    assert [t.to_phase for t in result.outputs] == [Phase.INITIATED]
    summary = only_summary(expire(result.state, T0 + 5 * HOUR).outputs)
    assert (summary.outcome, summary.expired_reason) == (
        Outcome.EXPIRED, ExpiredReason.MAX_QUEUE_TIME)


def test_settings_are_checked():
    with pytest.raises(ValueError):
        LifecycleSettings(max_queue_time_ms=0)


def test_state_survives_pickling_mid_story():
    _, events = answered_story()
    middle = run(events[:4])[0].state
    restored = pickle.loads(pickle.dumps(middle, protocol=5))
    assert restored == middle
    assert run(events[4:], restored)[1] == run(events[4:], middle)[1]


def test_state_of_an_open_contact_is_small():
    _, events = answered_story()
    state = run(events[:4])[0].state  # initiated, in the flow, queued, connected to an agent
    assert isinstance(state, ContactState)
    size = state_size_bytes(state)
    assert size == len(pickle.dumps(state, protocol=5))
    assert size < 600, size


# --- where a contact waits by every event read so far (provisional gauges) -----------------


def test_waiting_now_is_the_queue_of_the_events_read_so_far_in_any_order():
    s = Story()
    initiated, queued, connected = s.initiated(0), s.queued(1_500), s.connected(20_000)
    assert waiting_now(None, [initiated, queued]) == ("q-1", "VOICE", T0 + 1_500)
    assert waiting_now(None, [queued, initiated]) == ("q-1", "VOICE", T0 + 1_500)
    assert waiting_now(None, [connected, queued, initiated]) is None
    assert waiting_now(None, [initiated]) is None
    assert waiting_now(None, []) is None


def test_waiting_now_adds_the_waiting_events_to_the_state_applied():
    s = Story()
    applied = run([s.initiated(0), s.queued(1_500)])[0].state
    assert waiting_now(applied, []) == ("q-1", "VOICE", T0 + 1_500)
    assert waiting_now(applied, [s.disconnected(9_000)]) is None
    moved = Story()
    state = run([moved.initiated(0), moved.queued(1_000)])[0].state
    assert waiting_now(state, [moved.queued(4_000, queue="q-2")]) == ("q-2", "VOICE", T0 + 4_000)


def test_an_outbound_contact_waits_nowhere():
    s = Story(method="OUTBOUND")
    assert waiting_now(None, [s.initiated(0), s.queued(500)]) is None
