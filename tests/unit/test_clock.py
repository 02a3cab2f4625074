"""Ticks keep a quiet feed's event time moving with the wall clock."""

from jobs.core.clock import FeedClocks, Tick


def test_no_tick_before_a_feed_has_an_event():
    assert FeedClocks().ticks(1_000) == {}


def test_a_tick_moves_the_newest_event_time_on_by_the_wall_time_since_it_was_read():
    clocks = FeedClocks()
    clocks.saw("contact", 10_000, wall_ms=12_000)  # read 2 s after it happened
    clocks.saw("contact", 9_000, wall_ms=13_000)   # an older event changes nothing
    clocks.saw("agent", 50_000, wall_ms=12_500)
    assert clocks.ticks(20_000) == {"contact": Tick(18_000), "agent": Tick(57_500)}


def test_a_backlog_read_faster_than_the_wall_clock_is_not_overtaken():
    clocks = FeedClocks()
    clocks.saw("agent", 1_000_000, wall_ms=5_000)
    clocks.saw("agent", 1_600_000, wall_ms=5_100)  # ten minutes of events in 100 ms
    assert clocks.ticks(5_200) == {"agent": Tick(1_600_100)}
    assert clocks.ticks(4_000) == {"agent": Tick(1_600_000)}  # never back
