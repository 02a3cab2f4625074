"""Event-time order for the events of one key: drop duplicates, release them in event-time order.

Amazon Connect delivers contact events best effort: out of order, sometimes twice. The Flink
operator keeps one `EventOrder` per key next to the key's state, `add`s each arriving event and,
when the watermark moves, applies `release(watermark)` in order. The class is pure (no Flink) and
generic: an event is anything with `event_id`, `event_type` and `event_time` (epoch ms), and an
optional `contact_id`.

- Order: (event time, type rank, event id). The rank settles equal times in lifecycle order
  (INITIATED < CONNECTED_TO_SYSTEM < QUEUED < CONNECTED_TO_AGENT < PAUSED < RESUMED <
  DISCONNECTED < COMPLETED); unknown types sit just before QUEUED.
- Duplicates: an event is dropped when its envelope id, or its (contact, type, event time), was
  seen before, buffered or already released. Seen keys are kept for as long as the buffer lives:
  the operator drops the buffer together with the key's state, which bounds them.
- Late: with Flink's watermark meaning ("no more events at or before this time"), an event whose
  time is not after the last released watermark can no longer be put in order. `add` says so
  (`LATE`) and does not keep it; the operator applies it at once.

State is a list, a set and an int: small and picklable.
"""

from __future__ import annotations

from collections.abc import Mapping

# Lifecycle order of Amazon Connect contact event types that share one timestamp.
# SUCCESSOR_INITIATED is the link a later contact (transfer, callback) sends to the one it came
# from (see `jobs.core.contacts.link_event`): it ends a queue stay, so it sorts before DISCONNECTED.
TYPE_RANK: Mapping[str, int] = {
    "INITIATED": 0,
    "CONNECTED_TO_SYSTEM": 1,
    "CONTACT_DATA_UPDATED": 2,
    "QUEUED": 3,
    "CONNECTED_TO_AGENT": 4,
    "PAUSED": 5,
    "RESUMED": 6,
    "SUCCESSOR_INITIATED": 7,
    "DISCONNECTED": 8,
    "COMPLETED": 9,
}
UNKNOWN_RANK = 2

BUFFERED = "buffered"
DUPLICATE = "duplicate"
LATE = "late"


def order_key(event, ranks: Mapping[str, int] = TYPE_RANK) -> tuple[int, int, str]:
    """The sort key of an event: (event time, type rank, event id)."""
    return (event.event_time, ranks.get(event.event_type, UNKNOWN_RANK), event.event_id)


class EventOrder:
    """A duplicate-free event-time buffer for one key. Mutable; pickles to a few plain values."""

    __slots__ = ("pending", "seen", "watermark", "ranks")

    def __init__(self, ranks: Mapping[str, int] | None = None):
        self.pending: list = []
        self.seen: set = set()
        self.watermark: int | None = None
        self.ranks: Mapping[str, int] | None = ranks  # None: TYPE_RANK (not stored per key)

    def add(self, event) -> str:
        """Take one arriving event: `BUFFERED` (kept), `DUPLICATE` (dropped) or `LATE`.

        A `LATE` event is not kept: the caller applies it at once, out of order.
        """
        keys = (event.event_id, (getattr(event, "contact_id", None), event.event_type,
                                 event.event_time))
        if keys[0] in self.seen or keys[1] in self.seen:
            return DUPLICATE
        self.seen.update(keys)
        if self.watermark is not None and event.event_time <= self.watermark:
            return LATE
        self.pending.append(event)
        return BUFFERED

    def release(self, watermark: int) -> list:
        """Remove and return, in order, every buffered event at or before the watermark.

        A watermark never goes back: one lower than the last released one releases nothing new.
        """
        if self.watermark is None or watermark > self.watermark:
            self.watermark = watermark
        ready = [e for e in self.pending if e.event_time <= self.watermark]
        if not ready:
            return []
        self.pending = [e for e in self.pending if e.event_time > self.watermark]
        ranks = TYPE_RANK if self.ranks is None else self.ranks
        ready.sort(key=lambda e: order_key(e, ranks))
        return ready

    def earliest(self) -> int | None:
        """The time of the earliest buffered event (where to set the next release timer)."""
        return min((e.event_time for e in self.pending), default=None)

    def __len__(self) -> int:
        return len(self.pending)

    def __getstate__(self):
        return (self.pending, self.seen, self.watermark, self.ranks)

    def __setstate__(self, state) -> None:
        self.pending, self.seen, self.watermark, self.ranks = state
