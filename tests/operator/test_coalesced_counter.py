"""A counter that reaches Flink at most once an interval: nothing counted is lost, and a quiet
stream's count arrives at its next call or at the flush."""

from __future__ import annotations

from jobs.operators import CoalescedCounter


class Counter:
    def __init__(self):
        self.incs: list[int] = []

    def inc(self, n: int = 1) -> None:
        self.incs.append(n)


def test_counts_reach_the_counter_once_an_interval_and_at_the_flush():
    counter = Counter()
    coalesced = CoalescedCounter(counter, every_ms=1_000)
    coalesced.add(1, 5_000)  # the first call reports at once
    for now in range(5_001, 5_999, 100):
        coalesced.add(1, now)
    assert counter.incs == [1]
    coalesced.add(1, 6_000)
    coalesced.add(1, 6_100)
    coalesced.flush()
    coalesced.flush()

    assert counter.incs == [1, 11, 1], "the interval's ten and the one at its end; one at the flush"


def test_a_call_that_counts_nothing_still_reports_what_waits():
    counter = Counter()
    coalesced = CoalescedCounter(counter, every_ms=1_000)
    coalesced.add(1, 0)
    coalesced.add(2, 10)
    coalesced.add(0, 60_000)  # a clock row on a quiet night

    assert counter.incs == [1, 2]
