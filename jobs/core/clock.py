"""Event time for feeds that have gone quiet.

Watermarks follow event time, and only events carry it: with no events (a contact centre at
night) windows would never close and gauges would stop. The Kinesis source hands over a clock row
when a caught-up shard has had nothing new for a while; the parser answers with a `Tick` per feed
whose event time is the feed's newest event time moved on by the wall-clock time since that event
was read. A quiet feed's event time so keeps pace with the wall clock, keeping the delay it had,
and a backlog being read (faster than the wall clock) is never overtaken by its ticks.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Tick:
    """No event of this feed before `event_time` is expected any more (minus allowed lateness)."""

    event_time: int


class FeedClocks:
    """The newest event time of each feed one parser has read, and the wall time it read it."""

    __slots__ = ("_newest",)

    def __init__(self):
        self._newest: dict[str, tuple[int, int]] = {}

    def saw(self, feed: str, event_time: int, wall_ms: int) -> None:
        newest = self._newest.get(feed)
        if newest is None or event_time >= newest[0]:
            self._newest[feed] = (event_time, wall_ms)

    def ticks(self, wall_ms: int) -> dict[str, Tick]:
        """A tick for every feed seen so far, as of the wall-clock time `wall_ms`."""
        return {feed: Tick(event_time + max(wall_ms - read_at, 0))
                for feed, (event_time, read_at) in self._newest.items()}
