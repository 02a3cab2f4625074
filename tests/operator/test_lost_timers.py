"""The keyed state machines driven in memory (`benchmarks.keyed.KeyedRunner`) after Flink lost a
timer their state says is set: PyFlink's process mode can checkpoint a bundle's state without
the timers it registered. With `renew_timers` (the job's setting in process mode) the key's next
event sets the timer again, and what waited is applied."""

from __future__ import annotations

from benchmarks.keyed import KeyedRunner
from jobs.operators import ContactLifecycleFunction
from tests.unit.test_contacts import T0, Story


def lose_timers(runner: KeyedRunner) -> None:
    """What a restore from such a checkpoint leaves: the state, no timers."""
    runner.timers.clear()
    runner.queue.clear()


def phases(rows) -> list[str]:
    """The phases entered, from the main output's transition rows (side outputs are tuples)."""
    return [row[6] for row in rows if not isinstance(row, tuple)]


def test_a_contact_whose_timer_was_lost_moves_on_at_its_next_event():
    story = Story()
    runner = KeyedRunner(ContactLifecycleFunction(renew_timers=True))
    runner.process("c-1", story.initiated(0), T0)
    runner.process("c-1", story.queued(2_000), T0 + 2_000)
    lose_timers(runner)
    assert runner.advance(T0 + 60_000) == [], "nothing fires without the timer"

    runner.process("c-1", story.connected(70_000), T0 + 70_000)
    rows = runner.advance(T0 + 80_000)

    assert phases(rows) == ["INITIATED", "QUEUED", "CONNECTED_TO_AGENT"]


def test_a_timer_set_again_is_still_one_timer():
    story = Story()
    runner = KeyedRunner(ContactLifecycleFunction(renew_timers=True))
    for event in (story.initiated(0), story.system(500), story.queued(2_000)):
        runner.process("c-1", event, event.event_time)
    assert runner.timers == {(T0, "c-1")}
    rows = runner.advance(T0 + 5_000)
    assert phases(rows) == ["INITIATED", "CONNECTED_TO_SYSTEM", "QUEUED"]


def test_without_renewing_a_lost_timer_stays_lost():
    """What `renew_timers` is for: thread mode loses no timer, and does without the calls."""
    story = Story()
    runner = KeyedRunner(ContactLifecycleFunction())
    runner.process("c-1", story.initiated(0), T0)
    runner.process("c-1", story.queued(2_000), T0 + 2_000)
    lose_timers(runner)

    runner.process("c-1", story.connected(70_000), T0 + 70_000)

    assert runner.advance(T0 + 80_000) == []
