"""The real-time gauge operator driven in memory (`benchmarks.keyed.KeyedRunner`): a change
that arrives after later samples were taken never rewrites them; the board it keeps in memory
is the one in state, and a restored operator reads it back."""

from __future__ import annotations

from benchmarks.keyed import KeyedRunner
from jobs.core.gauges import QueueChange
from jobs.operators import RealtimeGaugesFunction

INSTANCE = "i1"
PERIOD_MS = 5_000


def gauges() -> KeyedRunner:
    return KeyedRunner(RealtimeGaugesFunction(PERIOD_MS, 60_000, 3_600_000))


def change(contact: str, entered: bool, at: int) -> tuple[str, QueueChange]:
    return INSTANCE, QueueChange(contact, "q1", "VOICE", entered, at)


def in_queue(rows) -> dict[int, int]:
    """Sample instant -> contacts in queue, of the queue gauge rows."""
    return {row[-1]: row[3] for row in rows if not isinstance(row, tuple)}


def test_a_late_change_joins_the_next_sample_and_leaves_the_samples_taken_alone():
    runner = gauges()
    runner.process(INSTANCE, change("c1", True, 1_000), 1_000)
    runner.process(INSTANCE, change("c2", True, 12_000), 12_000)
    taken = in_queue(runner.advance(20_000))
    assert taken == {5_000: 1, 15_000: 2}  # 10 s and 20 s repeat what was passed on

    # c3 entered at 2 s but reaches the operator after the sample at 20 s was taken.
    runner.process(INSTANCE, change("c3", True, 2_000), 2_000)
    late = in_queue(runner.advance(25_000))

    assert late == {25_000: 3}, "no sample before 25 s is taken again"


def test_changes_in_time_keep_their_own_samples():
    runner = gauges()
    runner.process(INSTANCE, change("c1", True, 1_000), 1_000)
    assert in_queue(runner.advance(4_000)) == {}
    runner.process(INSTANCE, change("c1", False, 4_500), 4_500)
    runner.process(INSTANCE, change("c2", True, 7_000), 7_000)
    assert in_queue(runner.advance(10_000)) == {5_000: 0, 10_000: 1}


def test_a_restored_operator_goes_on_from_the_board_in_state():
    runner = gauges()
    runner.process(INSTANCE, change("c1", True, 1_000), 1_000)
    runner.process(INSTANCE, change("c2", True, 2_000), 2_000)
    assert in_queue(runner.advance(5_000)) == {5_000: 2}
    assert set(runner.value(INSTANCE, "waiting")) == {"c1", "c2"}, "written through to state"

    runner.restore(RealtimeGaugesFunction(PERIOD_MS, 60_000, 3_600_000))
    runner.process(INSTANCE, change("c1", False, 6_000), 6_000)
    assert in_queue(runner.advance(10_000)) == {10_000: 1}
    assert set(runner.value(INSTANCE, "waiting")) == {"c2"}


def test_each_instance_keeps_its_own_board():
    runner = gauges()
    runner.process(INSTANCE, change("c1", True, 1_000), 1_000)
    runner.process("i2", ("i2", QueueChange("c9", "q1", "VOICE", True, 1_000)), 1_000)
    rows = runner.advance(5_000)
    assert sorted((row[0], row[3]) for row in rows if not isinstance(row, tuple)) == [
        ("i1", 1), ("i2", 1)]
