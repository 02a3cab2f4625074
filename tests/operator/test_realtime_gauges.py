"""The real-time gauge operator driven in memory (`benchmarks.keyed.KeyedRunner`): a change
that arrives after later samples were taken never rewrites them; the board it keeps in memory
is the one in state, and a restored operator reads it back; provisional rows come before the
watermark and the sample at their instant confirms or rewrites them."""

from __future__ import annotations

from benchmarks.keyed import KeyedRunner
from jobs.core.gauges import AgentView, ProvisionalStay, QueueChange
from jobs.operators import RealtimeGaugesFunction

INSTANCE = "i1"
PERIOD_MS = 5_000


def gauges() -> KeyedRunner:
    return KeyedRunner(RealtimeGaugesFunction(PERIOD_MS, 60_000, 3_600_000))


PROVISIONAL_MS, AHEAD_MS = 250, 2 * PERIOD_MS
T = 20_000  # the provisional tests' events: the clock's time then, after the task started at 0


def live_gauges() -> KeyedRunner:
    """Gauges with provisional rows whose task started at processing time 0, so samples up to
    `AHEAD_MS` wrote every gauge; the instance has had its queue since 5 s, with nobody in it
    (provisional rows are for queues a sample will have)."""
    runner = KeyedRunner(RealtimeGaugesFunction(PERIOD_MS, 60_000, 3_600_000, PROVISIONAL_MS,
                                                AHEAD_MS))
    runner.process(INSTANCE, change("c0", True, 5_000), 5_000)
    runner.process(INSTANCE, change("c0", False, 5_000), 5_000)
    runner.advance(AHEAD_MS)
    runner.tick(AHEAD_MS)
    return runner


def stay(contact: str, at: int, waiting: bool = True) -> tuple[str, ProvisionalStay]:
    return INSTANCE, ProvisionalStay(contact, ("q1", "VOICE", at) if waiting else None, at)


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


def test_samples_stop_refresh_for_after_the_last_change_kept_across_a_restore():
    def quiet_gauges():  # rows repeat every 10 s; samples stop 30 s after the last change
        return RealtimeGaugesFunction(PERIOD_MS, 10_000, 30_000)

    runner = KeyedRunner(quiet_gauges())
    runner.process(INSTANCE, change("c1", True, 1_000), 1_000)
    runner.process(INSTANCE, change("c2", True, 12_000), 12_000)
    assert in_queue(runner.advance(20_000)) == {5_000: 1, 15_000: 2}

    runner.restore(quiet_gauges())
    assert in_queue(runner.advance(200_000)) == {25_000: 2, 35_000: 2, 45_000: 2}, (
        "the last change (12 s) is the one before the restore")
    runner.process(INSTANCE, change("c1", False, 300_000), 300_000)
    assert in_queue(runner.advance(400_000)) == {300_000: 1, 310_000: 1, 320_000: 1,
                                                 330_000: 1}


def test_each_instance_keeps_its_own_board():
    runner = gauges()
    runner.process(INSTANCE, change("c1", True, 1_000), 1_000)
    runner.process("i2", ("i2", QueueChange("c9", "q1", "VOICE", True, 1_000)), 1_000)
    rows = runner.advance(5_000)
    assert sorted((row[0], row[3]) for row in rows if not isinstance(row, tuple)) == [
        ("i1", 1), ("i2", 1)]


def test_a_provisional_row_comes_before_the_watermark_at_the_next_sample_instant():
    runner = live_gauges()
    runner.clock = T + 1_000
    runner.process(INSTANCE, stay("c1", T + 1_000), T + 1_000)
    assert in_queue(runner.tick(T + 1_000 + PROVISIONAL_MS - 1)) == {}
    assert in_queue(runner.tick(T + 1_000 + PROVISIONAL_MS)) == {T + 5_000: 1}
    assert runner.watermark < T, "no watermark has passed the change"

    runner.process(INSTANCE, stay("c2", T + 2_000), T + 2_000)
    assert in_queue(runner.tick(T + 2_000 + PROVISIONAL_MS)) == {T + 5_000: 2}, "rewritten"


def test_the_sample_at_a_provisional_rows_instant_leaves_a_confirmed_one_alone():
    runner = live_gauges()
    runner.clock = T + 1_000
    runner.process(INSTANCE, stay("c1", T + 1_000), T + 1_000)
    runner.process(INSTANCE, change("c1", True, T + 1_000), T + 1_000)
    assert in_queue(runner.tick(T + 2_000)) == {T + 5_000: 1}

    assert in_queue(runner.advance(T + 5_000)) == {}, "the provisional row was right"
    assert in_queue(runner.advance(T + 10_000)) == {}, "and the sample after repeats it"


def test_the_sample_at_a_provisional_rows_instant_rewrites_what_it_does_not_confirm():
    runner = live_gauges()
    runner.process(INSTANCE, change("c1", True, T + 1_000), T + 1_000)
    assert in_queue(runner.advance(T + 5_000)) == {T + 5_000: 1}
    # The events read say c1 left at 6 s, but no change comes before the sample at 10 s.
    runner.clock = T + 6_000
    runner.process(INSTANCE, stay("c1", T + 6_000, waiting=False), T + 6_000)
    assert in_queue(runner.tick(T + 7_000)) == {T + 10_000: 0}

    assert in_queue(runner.advance(T + 10_000)) == {T + 10_000: 1}, "the sample holds c1"


def test_a_provisional_row_gets_its_sample_even_on_a_quiet_instance():
    runner = KeyedRunner(RealtimeGaugesFunction(PERIOD_MS, 60_000, PERIOD_MS, PROVISIONAL_MS,
                                                AHEAD_MS))
    runner.process(INSTANCE, change("c1", True, 1_000), 1_000)
    assert in_queue(runner.advance(60_000)) == {5_000: 1, 10_000: 1}, (
        "sampling stops after refresh-for; the task's start writes up to 10 s")
    runner.clock = 61_000
    runner.process(INSTANCE, stay("c2", 61_000), 61_000)
    assert in_queue(runner.tick(62_000)) == {65_000: 2}

    assert in_queue(runner.advance(70_000)) == {65_000: 1}, "rewritten by the exact sample"


def test_no_provisional_row_is_further_ahead_of_the_clock_than_allowed():
    runner = live_gauges()
    runner.clock = T
    runner.process(INSTANCE, stay("c1", T + AHEAD_MS + 1), T + AHEAD_MS + 1)
    assert in_queue(runner.tick(T + PROVISIONAL_MS)) == {}, "an event from the future"


def test_agent_counts_ride_along_but_make_no_provisional_row_alone():
    runner = live_gauges()
    runner.clock = T + 1_000
    agent = AgentView("a-1", "rp-1", "Basic", ("q1",), ("VOICE",), True, (("VOICE", 1),), False,
                      False, False, False, True, 0, T + 1_000)
    runner.process(INSTANCE, (INSTANCE, agent), T + 1_000)
    assert runner.processing_timers == [], "no provisional sample is computed for it"
    assert [row for row in runner.tick(T + 2_000) if not isinstance(row, tuple)] == []

    runner.process(INSTANCE, stay("c1", T + 2_000), T + 2_000)
    (row,) = [row for row in runner.tick(T + 3_000) if not isinstance(row, tuple)]
    assert (row[3], row[5], row[-1]) == (1, 1, T + 5_000), "in queue, agents online, instant"


def test_no_provisional_row_for_a_queue_the_sample_might_not_have():
    runner = live_gauges()
    runner.clock = T + 1_000
    for contact, queue in (("c1", "agent/a-1"), ("c2", "q-new")):
        runner.process(INSTANCE, (INSTANCE, ProvisionalStay(contact, (queue, "VOICE", T + 1_000),
                                                            T + 1_000)), T + 1_000)
    rows = runner.tick(T + 2_000)
    assert [row for row in rows if not isinstance(row, tuple)] == [], (
        "an agent's queue is sampled only while the sample has a contact in it, and an unknown "
        "queue only once a change has taught it")


def test_without_provisional_ms_nothing_comes_before_the_sample():
    runner = gauges()
    runner.process(INSTANCE, change("c1", True, 1_000), 1_000)
    assert runner.tick(10 * PROVISIONAL_MS) == []
    assert in_queue(runner.advance(5_000)) == {5_000: 1}


def test_a_task_writes_every_gauge_up_to_where_an_earlier_ones_provisional_rows_may_be():
    ahead = 15_000  # how far ahead of the clock a provisional row may be
    runner = KeyedRunner(RealtimeGaugesFunction(PERIOD_MS, 60_000, 3_600_000, PROVISIONAL_MS,
                                                ahead))
    runner.process(INSTANCE, change("c1", True, 1_000), 1_000)
    assert in_queue(runner.advance(20_000)) == {5_000: 1, 10_000: 1, 15_000: 1}, (
        "started at 0 s: repeats written up to 15 s, not at 20 s")

    runner.clock = 15_000
    runner.restore(RealtimeGaugesFunction(PERIOD_MS, 60_000, 3_600_000, PROVISIONAL_MS, ahead))
    runner.process(INSTANCE, change("c2", True, 21_000), 21_000)
    assert in_queue(runner.advance(40_000)) == {25_000: 2, 30_000: 2}, (
        "restored at 15 s: repeats written up to 30 s")
