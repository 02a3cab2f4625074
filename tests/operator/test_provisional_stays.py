"""The contact lifecycle operator driven in memory (`benchmarks.keyed.KeyedRunner`) with
provisional stays: where a contact waits by every event read so far goes out as soon as an
event changes it, long before the watermark releases the events; a repeat or an event that
changes nothing sends nothing."""

from __future__ import annotations

from benchmarks.keyed import KeyedRunner
from jobs.core.gauges import ProvisionalStay
from jobs.operators import PROVISIONAL_STAYS, ContactLifecycleFunction
from tests.unit.test_contacts import INSTANCE, T0, Story


def stays(outputs) -> list[ProvisionalStay]:
    rows = [row for tag, row in (o for o in outputs if isinstance(o, tuple))
            if tag is PROVISIONAL_STAYS]
    return [stay for key, (instance, stay) in rows if key == instance == INSTANCE]


def lifecycle(provisional: bool = True) -> KeyedRunner:
    runner = KeyedRunner(ContactLifecycleFunction(provisional=provisional))
    runner.watermark = T0 - 60_000
    return runner


def test_a_stay_goes_out_when_an_event_changes_it():
    runner, s = lifecycle(), Story()
    events = [s.initiated(0), s.queued(1_500), s.connected(20_000)]
    sent = [stays(runner.process(s.contact_id, e, e.event_time)) for e in events]

    assert sent == [[], [ProvisionalStay(s.contact_id, ("q-1", "VOICE", T0 + 1_500), T0 + 1_500)],
                    [ProvisionalStay(s.contact_id, None, T0 + 20_000)]]
    assert runner.advance(T0 - 1) == [], "every event still waits for the watermark"


def test_a_repeat_or_an_event_that_changes_nothing_sends_nothing():
    runner, s = lifecycle(), Story()
    queued = s.queued(1_500)
    runner.process(s.contact_id, queued, queued.event_time)
    assert stays(runner.process(s.contact_id, queued, queued.event_time)) == []
    late_start = s.initiated(0)
    assert stays(runner.process(s.contact_id, late_start, late_start.event_time)) == []


def test_the_stays_time_is_that_of_the_newest_event_it_knows():
    runner, s = lifecycle(), Story()
    first, again = s.queued(1_500), s.queued(9_000)  # offered again: one stay from 1.5 s
    assert stays(runner.process(s.contact_id, again, again.event_time)) == [
        ProvisionalStay(s.contact_id, ("q-1", "VOICE", T0 + 9_000), T0 + 9_000)]
    assert stays(runner.process(s.contact_id, first, first.event_time)) == [
        ProvisionalStay(s.contact_id, ("q-1", "VOICE", T0 + 1_500), T0 + 9_000)]


def test_without_provisional_no_stay_goes_out():
    runner, s = lifecycle(provisional=False), Story()
    assert stays(runner.process(s.contact_id, s.queued(1_500), T0 + 1_500)) == []
