"""The job's keyed operators (`jobs.operators`) driven in memory, without Flink, so their state
can be weighed key by key over a simulated day in a minute.

`KeyedRunner` does for one operator what one Flink subtask does: value state per key,
event-time timers that fire in time order once the watermark passes them (a timer registered
at or before the current watermark fires at the next advance), and processing-time timers that
fire when the runner's clock passes them (`tick`). State values are stored as the job stores
them, pickled (`Types.PICKLED_BYTE_ARRAY`), so their size is what Flink keeps.
"""

from __future__ import annotations

import heapq
import pickle
from collections.abc import Hashable

from pyflink.datastream import TimeDomain


class _Counter:
    def __init__(self):
        self.count = 0
        self.calls = 0

    def inc(self, n: int = 1) -> None:
        self.count += n
        self.calls += 1


class _Metrics:
    def __init__(self, counters: dict[str, _Counter]):
        self._counters = counters

    def add_group(self, name: str) -> _Metrics:
        return self

    def counter(self, name: str) -> _Counter:
        return self._counters.setdefault(name, _Counter())

    def gauge(self, name: str, value) -> None:
        pass


class _ValueState:
    def __init__(self, runner: KeyedRunner, name: str):
        self._runner = runner
        self._name = name

    def value(self):
        stored = self._runner.stored.get((self._runner.current_key, self._name))
        return None if stored is None else pickle.loads(stored)

    def update(self, value) -> None:
        self._runner.stored[(self._runner.current_key, self._name)] = pickle.dumps(value)

    def clear(self) -> None:
        self._runner.stored.pop((self._runner.current_key, self._name), None)


class _ListState(_ValueState):
    def get(self) -> list:
        return self.value() or []

    def add(self, value) -> None:
        self.update([*self.get(), value])


class _MapState(_ValueState):
    """A mapping stored as one pickled dict (Flink stores an entry per key: sizes differ)."""

    def _entries(self) -> dict:
        return self.value() or {}

    def __getitem__(self, key):
        return self._entries()[key]

    def __setitem__(self, key, value) -> None:
        self.update({**self._entries(), key: value})

    def __delitem__(self, key) -> None:
        entries = self._entries()
        del entries[key]
        self.update(entries)

    def __contains__(self, key) -> bool:
        return key in self._entries()

    def __iter__(self):
        return iter(self.keys())

    def values(self):
        return list(self._entries().values())

    def keys(self):
        return list(self._entries())

    def items(self):
        return list(self._entries().items())


class _RuntimeContext:
    def __init__(self, runner: KeyedRunner):
        self._runner = runner

    def get_state(self, descriptor) -> _ValueState:
        return _ValueState(self._runner, descriptor.get_name())

    def get_list_state(self, descriptor) -> _ListState:
        return _ListState(self._runner, descriptor.get_name())

    def get_map_state(self, descriptor) -> _MapState:
        return _MapState(self._runner, descriptor.get_name())

    def get_metrics_group(self) -> _Metrics:
        return _Metrics(self._runner.counters)


class _TimerService:
    def __init__(self, runner: KeyedRunner):
        self._runner = runner

    def current_watermark(self) -> int:
        return self._runner.watermark

    def register_event_time_timer(self, timestamp: int) -> None:
        timer = (timestamp, self._runner.current_key)
        if timer not in self._runner.timers:
            self._runner.timers.add(timer)
            heapq.heappush(self._runner.queue, timer)

    def delete_event_time_timer(self, timestamp: int) -> None:
        self._runner.timers.discard((timestamp, self._runner.current_key))

    def current_processing_time(self) -> int:
        return self._runner.clock

    def register_processing_time_timer(self, timestamp: int) -> None:
        heapq.heappush(self._runner.processing_timers, (timestamp, self._runner.current_key))

    def delete_processing_time_timer(self, timestamp: int) -> None:
        timers = self._runner.processing_timers
        if (timestamp, self._runner.current_key) in timers:
            timers.remove((timestamp, self._runner.current_key))
            heapq.heapify(timers)


class _Context:
    def __init__(self, runner: KeyedRunner, timestamp: int | None = None,
                 domain: TimeDomain = TimeDomain.EVENT_TIME):
        self._runner = runner
        self._timestamp = timestamp
        self._domain = domain

    def time_domain(self) -> TimeDomain:
        return self._domain

    def get_current_key(self):
        return self._runner.current_key

    def timer_service(self) -> _TimerService:
        return _TimerService(self._runner)

    def timestamp(self) -> int | None:
        return self._timestamp


class KeyedRunner:
    """One keyed operator instance in memory; `process` and `advance` return its outputs."""

    def __init__(self, function):
        self.function = function
        self.stored: dict[tuple[Hashable, str], bytes] = {}
        self.timers: set[tuple[int, Hashable]] = set()
        self.queue: list[tuple[int, Hashable]] = []
        self.watermark = -(2**63)
        self.clock = 0  # processing time
        self.processing_timers: list[tuple[int, Hashable]] = []
        self.current_key: Hashable = None
        self.counters: dict[str, _Counter] = {}  # by name, groups left out; a count and calls
        function.open(_RuntimeContext(self))

    def restore(self, function) -> None:
        """Go on with a new instance of the operator over the same state and timers, as a task
        restored from a checkpoint does."""
        self.function = function
        function.open(_RuntimeContext(self))

    def process(self, key: Hashable, value, timestamp: int) -> list:
        self.current_key = key
        return list(self.function.process_element(value, _Context(self, timestamp)) or ())

    def advance(self, watermark: int) -> list:
        """Move the watermark forward and fire every timer at or before it, in time order."""
        self.watermark = max(self.watermark, watermark)
        outputs = []
        while self.queue and self.queue[0][0] <= self.watermark:
            timer = heapq.heappop(self.queue)
            if timer not in self.timers:
                continue  # deleted
            self.timers.discard(timer)
            self.current_key = timer[1]
            outputs.extend(self.function.on_timer(timer[0], _Context(self, timer[0])))
        return outputs

    def tick(self, clock: int) -> list:
        """Move processing time forward and fire every processing-time timer at or before it."""
        self.clock = max(self.clock, clock)
        outputs = []
        while self.processing_timers and self.processing_timers[0][0] <= self.clock:
            at, self.current_key = heapq.heappop(self.processing_timers)
            outputs.extend(self.function.on_timer(
                at, _Context(self, at, TimeDomain.PROCESSING_TIME)) or ())
        return outputs

    def keys(self) -> set[Hashable]:
        return {key for key, _ in self.stored}

    def state_bytes(self, key: Hashable) -> int:
        """Bytes of every state value the operator keeps for `key` (its pickled values)."""
        return sum(len(data) for (owner, _), data in self.stored.items() if owner == key)

    def bytes_by_key(self) -> dict[Hashable, int]:
        sizes: dict[Hashable, int] = {}
        for (key, _), data in self.stored.items():
            sizes[key] = sizes.get(key, 0) + len(data)
        return sizes

    def value(self, key: Hashable, name: str):
        stored = self.stored.get((key, name))
        return None if stored is None else pickle.loads(stored)

    def keys_without_timers(self) -> set[Hashable]:
        """Keys holding state with no timer left to clear it: state that would never go."""
        timed = {key for _, key in self.timers}
        return self.keys() - timed
