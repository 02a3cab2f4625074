"""Stray event times: the future and past rules, live and in a replay, and the replay span."""

from hypothesis import given, strategies as st

from jobs.core.event_guard import FUTURE, TOO_OLD, EventTimeGuard, replay_span

MINUTE = 60_000
DAY = 24 * 60 * MINUTE
NOW = 1_780_000_000_000


def live_guard() -> EventTimeGuard:
    return EventTimeGuard(future_ms=15 * MINUTE, past_ms=7 * DAY)


def test_live_event_ahead_of_the_wall_clock_by_more_than_the_bound_is_refused():
    guard = live_guard()
    assert guard.refuse("contact", NOW + 15 * MINUTE, NOW) is None
    assert guard.refuse("contact", NOW + 15 * MINUTE + 1, NOW) is FUTURE


def test_a_refused_future_event_does_not_become_the_feeds_newest_time():
    guard = live_guard()
    assert guard.refuse("agent", NOW + 400 * DAY, NOW) is FUTURE
    # had it counted, this event would be far older than the feed's newest
    assert guard.refuse("agent", NOW - DAY, NOW) is None


def test_live_event_far_older_than_its_feeds_newest_is_refused_per_feed():
    guard = live_guard()
    assert guard.refuse("agent", NOW, NOW) is None
    assert guard.refuse("agent", NOW - 7 * DAY, NOW) is None
    assert guard.refuse("agent", NOW - 7 * DAY - 1, NOW) is TOO_OLD
    assert guard.refuse("contact", NOW - 3 * 365 * DAY, NOW) is None  # its own feed: first


def test_replay_judges_by_the_files_span_not_the_wall_clock():
    start, end = NOW - 400 * DAY, NOW - 400 * DAY + 60 * MINUTE
    guard = EventTimeGuard(15 * MINUTE, 7 * DAY, (start, end))
    assert guard.refuse("agent", start - 3 * 365 * DAY, NOW) is TOO_OLD  # first in its file
    assert guard.refuse("agent", start, NOW) is None
    assert guard.refuse("contact", end + 16 * MINUTE, NOW) is FUTURE  # behind the wall clock
    assert guard.refuse("contact", end + 15 * MINUTE, NOW) is None


def test_messages_name_the_setting_to_change():
    guard = live_guard()
    assert "Job.event.future.bound.ms" in guard.message(FUTURE, NOW)
    assert "Job.event.past.bound.ms" in guard.message(TOO_OLD, NOW)


def test_replay_span_is_the_largest_run_without_a_gap_wider_than_the_bound():
    hour = [NOW + i * MINUTE for i in range(60)]
    times = [NOW - 3 * 365 * DAY, *hour[:30], NOW + 400 * DAY, *hour[30:]]
    assert replay_span(times, 7 * DAY) == (hour[0], hour[-1])
    assert replay_span([], 7 * DAY) is None
    assert replay_span([NOW], 7 * DAY) == (NOW, NOW)


@given(
    body=st.lists(st.integers(0, 2 * DAY), min_size=3, max_size=60),
    strays=st.lists(st.one_of(st.integers(-20 * 365 * DAY, -8 * DAY - 1),
                              st.integers(2 * DAY + 8 * DAY + 1, 20 * 365 * DAY)),
                    max_size=2),
    positions=st.lists(st.integers(0, 60), max_size=2),
)
def test_any_interleaving_of_strays_leaves_the_rest_accepted_and_the_strays_refused(
        body, strays, positions):
    mixed = list(body)
    for stray, at in zip(strays, positions + [0] * len(strays)):
        mixed.insert(min(at, len(mixed)), stray)
    span = replay_span(mixed, 7 * DAY)
    guard = EventTimeGuard(15 * MINUTE, 7 * DAY, span)
    accepted = [t for t in mixed if guard.refuse("agent", t, NOW) is None]
    assert accepted == body
