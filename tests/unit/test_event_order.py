"""The event-time buffer: order, duplicates, late events, small picklable state."""

from __future__ import annotations

import pickle
from dataclasses import dataclass

from jobs.core.event_order import BUFFERED, DUPLICATE, LATE, TYPE_RANK, EventOrder, order_key


@dataclass(frozen=True)
class Ev:
    event_id: str
    event_type: str
    event_time: int
    contact_id: str = "c-1"


def ids(events) -> list[str]:
    return [e.event_id for e in events]


def test_releases_in_event_time_order_up_to_the_watermark():
    buffer = EventOrder()
    for event in (Ev("d", "DISCONNECTED", 40), Ev("q", "QUEUED", 10), Ev("i", "INITIATED", 0),
                  Ev("a", "CONNECTED_TO_AGENT", 25)):
        assert buffer.add(event) == BUFFERED
    assert buffer.earliest() == 0
    assert ids(buffer.release(25)) == ["i", "q", "a"]
    assert (len(buffer), buffer.earliest()) == (1, 40)
    assert buffer.release(39) == []
    assert ids(buffer.release(40)) == ["d"]
    assert (len(buffer), buffer.earliest()) == (0, None)


def test_equal_times_follow_the_lifecycle_then_the_event_id():
    lifecycle = ["INITIATED", "CONNECTED_TO_SYSTEM", "QUEUED", "CONNECTED_TO_AGENT", "PAUSED",
                 "RESUMED", "DISCONNECTED", "COMPLETED"]
    buffer = EventOrder()
    for index, kind in reversed(list(enumerate(lifecycle))):
        buffer.add(Ev(f"e{index}", kind, 7))
    buffer.add(Ev("z-update", "CONTACT_DATA_UPDATED", 7))
    buffer.add(Ev("y-future", "SOMETHING_NEW", 7))
    buffer.add(Ev("b-queued", "QUEUED", 7, "c-2"))
    released = buffer.release(7)
    assert [e.event_type for e in released if e.contact_id == "c-1" and e.event_id[0] == "e"] == (
        lifecycle)
    assert ids(released[2:6]) == ["y-future", "z-update", "b-queued", "e2"]
    assert order_key(released[0]) == (7, TYPE_RANK["INITIATED"], "e0")


def test_duplicates_by_id_or_by_type_and_time_are_dropped_before_and_after_release():
    buffer = EventOrder()
    assert buffer.add(Ev("e1", "QUEUED", 10)) == BUFFERED
    assert buffer.add(Ev("e1", "QUEUED", 10)) == DUPLICATE
    assert buffer.add(Ev("e2", "QUEUED", 10)) == DUPLICATE  # same type and time, new envelope
    assert buffer.add(Ev("e1", "DISCONNECTED", 50)) == DUPLICATE  # same envelope id
    assert buffer.add(Ev("e3", "QUEUED", 10, "c-2")) == BUFFERED  # another contact's event
    assert ids(buffer.release(20)) == ["e1", "e3"]
    assert buffer.add(Ev("e1", "QUEUED", 10)) == DUPLICATE
    assert buffer.add(Ev("e4", "QUEUED", 10)) == DUPLICATE
    assert len(buffer) == 0


def test_events_not_after_the_released_watermark_are_late_and_not_kept():
    buffer = EventOrder()
    buffer.add(Ev("e1", "QUEUED", 10))
    buffer.release(30)
    assert buffer.add(Ev("e2", "CONNECTED_TO_AGENT", 30)) == LATE
    assert buffer.add(Ev("e3", "INITIATED", 0)) == LATE
    assert len(buffer) == 0
    assert buffer.add(Ev("e3", "INITIATED", 0)) == DUPLICATE  # seen, even though late
    assert buffer.add(Ev("e4", "DISCONNECTED", 31)) == BUFFERED


def test_nothing_is_late_before_the_first_release_and_the_watermark_never_goes_back():
    buffer = EventOrder()
    assert buffer.add(Ev("e1", "QUEUED", -5)) == BUFFERED
    buffer.release(100)
    assert buffer.release(50) == []
    assert buffer.add(Ev("e2", "QUEUED", 80)) == LATE
    assert buffer.watermark == 100


def test_custom_ranks():
    buffer = EventOrder(ranks={"LOGOUT": 0, "LOGIN": 1})
    buffer.add(Ev("a", "LOGIN", 5))
    buffer.add(Ev("b", "LOGOUT", 5))
    assert ids(buffer.release(5)) == ["b", "a"]


def test_state_pickles_small_and_whole():
    buffer = EventOrder()
    buffer.add(Ev("e1", "QUEUED", 10))
    buffer.add(Ev("e2", "DISCONNECTED", 40))
    buffer.release(20)
    restored = pickle.loads(pickle.dumps(buffer, protocol=5))
    assert (restored.pending, restored.seen, restored.watermark) == (
        buffer.pending, buffer.seen, 20)
    assert restored.add(Ev("e1", "QUEUED", 10)) == DUPLICATE
    assert ids(restored.release(40)) == ["e2"]
    assert len(pickle.dumps(EventOrder(), protocol=5)) < 100
