"""The job's keyed operators (`jobs.operators`) driven in memory, without Flink, so their state
can be weighed key by key over a simulated day in a minute.

`KeyedRunner` does for one operator what one Flink subtask does: value state per key,
event-time timers that fire in time order once the watermark passes them (a timer registered
at or before the current watermark fires at the next advance), and processing-time timers that
fire when the runner's clock passes them (`tick`). State values are stored as the job stores
them, pickled (`Types.PICKLED_BYTE_ARRAY`), a list's elements and a map's entries one by one,
so their size is what Flink keeps and their cost what the job pays for it.
"""

from __future__ import annotations

import functools
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


def _crossing(method):
    """A method whose call a Flink task makes in the JVM: counted in the runner's `calls`."""

    @functools.wraps(method)
    def counted(self, *args):
        self._runner.calls += 1
        return method(self, *args)

    return counted


class _ValueState:
    def __init__(self, runner: KeyedRunner, name: str):
        self._runner = runner
        self._name = name

    @_crossing
    def value(self):
        stored = self._runner.stored.get((self._runner.current_key, self._name))
        return None if stored is None else pickle.loads(stored)

    @_crossing
    def update(self, value) -> None:
        self._runner.stored[(self._runner.current_key, self._name)] = pickle.dumps(value)

    @_crossing
    def clear(self) -> None:
        self._runner.stored.pop((self._runner.current_key, self._name), None)


class _ListState(_ValueState):
    """A list whose elements are pickled one by one, as Flink keeps a list state."""

    def _elements(self) -> list:
        return self._runner.stored.setdefault((self._runner.current_key, self._name), [])

    @_crossing
    def get(self) -> list:
        stored = self._runner.stored.get((self._runner.current_key, self._name), ())
        return [pickle.loads(element) for element in stored]

    @_crossing
    def add(self, value) -> None:
        self._elements().append(pickle.dumps(value))

    @_crossing
    def update(self, values) -> None:
        if values:
            self._runner.stored[(self._runner.current_key, self._name)] = [
                pickle.dumps(value) for value in values]
        else:
            self._runner.stored.pop((self._runner.current_key, self._name), None)


class _MapState(_ValueState):
    """A mapping whose entries are pickled one by one, as Flink keeps a map state."""

    def _entries(self) -> dict:
        return self._runner.stored.get((self._runner.current_key, self._name), {})

    @_crossing
    def __getitem__(self, key):
        return pickle.loads(self._entries()[key])

    @_crossing
    def __setitem__(self, key, value) -> None:
        entries = self._runner.stored.setdefault((self._runner.current_key, self._name), {})
        entries[key] = pickle.dumps(value)

    @_crossing
    def __delitem__(self, key) -> None:
        entries = self._entries()
        del entries[key]
        if not entries:
            self._runner.stored.pop((self._runner.current_key, self._name), None)

    @_crossing
    def __contains__(self, key) -> bool:
        return key in self._entries()

    @_crossing
    def __iter__(self):
        return iter(list(self._entries()))

    @_crossing
    def values(self):
        return [pickle.loads(data) for data in self._entries().values()]

    @_crossing
    def keys(self):
        return list(self._entries())

    @_crossing
    def items(self):
        return [(key, pickle.loads(data)) for key, data in self._entries().items()]


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

    @_crossing
    def current_watermark(self) -> int:
        return self._runner.watermark

    @_crossing
    def register_event_time_timer(self, timestamp: int) -> None:
        timer = (timestamp, self._runner.current_key)
        if timer not in self._runner.timers:
            self._runner.timers.add(timer)
            heapq.heappush(self._runner.queue, timer)

    @_crossing
    def delete_event_time_timer(self, timestamp: int) -> None:
        self._runner.timers.discard((timestamp, self._runner.current_key))

    @_crossing
    def current_processing_time(self) -> int:
        return self._runner.clock

    @_crossing
    def register_processing_time_timer(self, timestamp: int) -> None:
        heapq.heappush(self._runner.processing_timers, (timestamp, self._runner.current_key))

    @_crossing
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

    @_crossing
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
        # Pickled values; a list state's are a list of them, a map state's a dict.
        self.stored: dict[tuple[Hashable, str], bytes | list[bytes] | dict] = {}
        self.timers: set[tuple[int, Hashable]] = set()
        self.queue: list[tuple[int, Hashable]] = []
        self.watermark = -(2**63)
        self.clock = 0  # processing time
        self.processing_timers: list[tuple[int, Hashable]] = []
        self.current_key: Hashable = None
        self.counters: dict[str, _Counter] = {}  # by name, groups left out; a count and calls
        self.calls = 0  # into the operator and out of it, as `jvm_calls` says
        function.open(_RuntimeContext(self))

    def restore(self, function) -> None:
        """Go on with a new instance of the operator over the same state and timers, as a task
        restored from a checkpoint does."""
        self.function = function
        function.open(_RuntimeContext(self))

    def process(self, key: Hashable, value, timestamp: int) -> list:
        self.current_key = key
        return self._called(self.function.process_element(value, _Context(self, timestamp)))

    def _called(self, outputs) -> list:
        """The outputs of one call into the operator, counted with it in `calls`."""
        outputs = list(outputs or ())
        self.calls += 1 + len(outputs)
        return outputs

    @property
    def jvm_calls(self) -> int:
        """The calls between the operator and the JVM a Flink task would make in Python thread
        mode, at the least: each call into the operator, each of its outputs, each state, timer,
        key or counter call. A state call that reads several entries counts once."""
        return self.calls + sum(counter.calls for counter in self.counters.values())

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
            outputs.extend(self._called(self.function.on_timer(timer[0],
                                                               _Context(self, timer[0]))))
        return outputs

    def tick(self, clock: int) -> list:
        """Move processing time forward and fire every processing-time timer at or before it."""
        self.clock = max(self.clock, clock)
        outputs = []
        while self.processing_timers and self.processing_timers[0][0] <= self.clock:
            at, self.current_key = heapq.heappop(self.processing_timers)
            outputs.extend(self._called(self.function.on_timer(
                at, _Context(self, at, TimeDomain.PROCESSING_TIME))))
        return outputs

    def keys(self) -> set[Hashable]:
        return {key for key, _ in self.stored}

    def state_bytes(self, key: Hashable) -> int:
        """Bytes of every state value the operator keeps for `key` (its pickled values)."""
        return sum(_size(data) for (owner, _), data in self.stored.items() if owner == key)

    def bytes_by_key(self) -> dict[Hashable, int]:
        sizes: dict[Hashable, int] = {}
        for (key, _), data in self.stored.items():
            sizes[key] = sizes.get(key, 0) + _size(data)
        return sizes

    def value(self, key: Hashable, name: str):
        """A state of `key` as the operator reads it: a value, a list or a dict."""
        stored = self.stored.get((key, name))
        if isinstance(stored, dict):
            return {entry: pickle.loads(data) for entry, data in stored.items()}
        if isinstance(stored, list):
            return [pickle.loads(element) for element in stored]
        return None if stored is None else pickle.loads(stored)

    def keys_without_timers(self) -> set[Hashable]:
        """Keys holding state with no timer left to clear it: state that would never go."""
        timed = {key for _, key in self.timers}
        return self.keys() - timed


def _size(data: bytes | list[bytes] | dict) -> int:
    """Bytes of one state: a value, a list's elements, or a map's keys (as text) and values."""
    if isinstance(data, bytes):
        return len(data)
    if isinstance(data, dict):
        return sum(len(str(key).encode()) + len(value) for key, value in data.items())
    return sum(len(element) for element in data)
