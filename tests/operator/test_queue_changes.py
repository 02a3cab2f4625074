"""The contact lifecycle operator driven in memory (`benchmarks.keyed.KeyedRunner`): each
transition into or out of a queue goes to the gauges as a `QueueChange`, keyed by its instance,
whether or not the job reads the transitions themselves."""

from __future__ import annotations

from benchmarks.keyed import KeyedRunner
from jobs.core.gauges import QueueChange
from jobs.operators import MAIN, QUEUE_CHANGES, ContactLifecycleFunction
from tests.unit.test_contacts import INSTANCE, T0, Story


def changes(outputs) -> list[QueueChange]:
    rows = [row for tag, row in (o for o in outputs if isinstance(o, tuple))
            if tag is QUEUE_CHANGES]
    return [change for key, (instance, change) in rows if key == instance == INSTANCE]


def run(reads=None) -> tuple[Story, list]:
    runner, s = KeyedRunner(ContactLifecycleFunction(reads=reads)), Story()
    runner.watermark = T0 - 60_000
    for e in (s.initiated(0), s.queued(1_500), s.connected(20_000)):
        runner.process(s.contact_id, e, e.event_time)
    return s, runner.advance(T0 + 21_000)


def test_entering_and_leaving_a_queue_go_to_the_gauges():
    s, outputs = run()

    assert changes(outputs) == [QueueChange(s.contact_id, "q-1", "VOICE", True, T0 + 1_500),
                                QueueChange(s.contact_id, "q-1", "VOICE", False, T0 + 20_000)]
    assert sum(1 for o in outputs if not isinstance(o, tuple)) == 3, "and the transitions"


def test_queue_changes_go_out_when_the_job_reads_no_transition():
    s, outputs = run(reads=frozenset({QUEUE_CHANGES.tag_id}))
    assert len(changes(outputs)) == 2
    assert all(isinstance(o, tuple) and o[0] is QUEUE_CHANGES for o in outputs)

    _, with_transitions = run(reads=frozenset({QUEUE_CHANGES.tag_id, MAIN}))
    assert sum(1 for o in with_transitions if not isinstance(o, tuple)) == 3
