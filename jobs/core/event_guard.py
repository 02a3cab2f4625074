"""Stray event times: which events may move a feed's event time, and which are dead-lettered.

Watermarks, feed clocks and windows follow event time, so one event with a wrong time can harm
everything after it: stamped far ahead, it moves the watermark there and makes every later event
late; stamped years back at the start of a file, it drags the run's event time back to it. The
parser asks an `EventTimeGuard` about every parsed event before anything else sees it:

- Future: an event more than `future_ms` ahead of the reference is refused (`event_in_future`).
  The reference is the wall clock when the event is parsed; in a replay, where the wall clock
  says nothing about the files' times, it is the end of the files' span (`replay_span`, found
  before the job starts).
- Past: an event more than `past_ms` older than its feed's newest accepted event time is refused
  (`event_too_old`). Replay starts every feed at the start of the files' span, so an old record
  at the start of a file is judged like one in the middle.

The span of a replay is the largest run of the files' event times (sorted) with no gap wider
than `past_ms` between neighbours: the records around it are the strays.

Refused events go to the dead letters and move no watermark, clock or state.
"""

from __future__ import annotations

from collections.abc import Iterable

from jobs.core.events import DeadLetterReason

FUTURE = DeadLetterReason.EVENT_IN_FUTURE
TOO_OLD = DeadLetterReason.EVENT_TOO_OLD


class EventTimeGuard:
    """Per-parser judge of event times. `span` None: live (the wall clock is the reference);
    (start, end) in epoch ms: replay (see `replay_span`)."""

    __slots__ = ("_future", "_past", "_start", "_reference", "_newest")

    def __init__(self, future_ms: int, past_ms: int, span: tuple[int, int] | None = None):
        self._future = future_ms
        self._past = past_ms
        self._start, self._reference = span if span is not None else (None, None)
        self._newest: dict[str, int] = {}

    def refuse(self, feed: str, event_time: int, wall_ms: int) -> DeadLetterReason | None:
        """Why the event must not be used (`FUTURE`, `TOO_OLD`), or None; an accepted event
        becomes its feed's newest time when it is newer."""
        reference = wall_ms if self._reference is None else self._reference
        if event_time > reference + self._future:
            return FUTURE
        newest = self._newest.get(feed, self._start)
        if newest is not None and event_time < newest - self._past:
            return TOO_OLD
        if newest is None or event_time > newest:
            self._newest[feed] = event_time
        return None

    def message(self, reason: DeadLetterReason, event_time: int) -> str:
        """The dead letter's message: the event's time, what it was judged against, the fix."""
        if reason == FUTURE:
            what = "the wall clock" if self._reference is None else "the end of the files' span"
            return (f"event time {event_time} ms is more than Job.event.future.bound.ms "
                    f"({self._future}) ahead of {what}; fix the source's clock")
        return (f"event time {event_time} ms is more than Job.event.past.bound.ms "
                f"({self._past}) older than its feed's newest; replay it in a run of its own")


def replay_span(times: Iterable[int], past_ms: int) -> tuple[int, int] | None:
    """(first, last) event time of the largest run of `times` whose sorted neighbours are at
    most `past_ms` apart, or None when there are no times."""
    ordered = sorted(times)
    if not ordered:
        return None
    best = (0, 0)
    first = 0
    for i in range(1, len(ordered) + 1):
        if i == len(ordered) or ordered[i] - ordered[i - 1] > past_ms:
            if i - first > best[1] - best[0] + 1:
                best = (first, i - 1)
            first = i
    return ordered[best[0]], ordered[best[1]]
