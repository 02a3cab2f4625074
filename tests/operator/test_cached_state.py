"""Keyed states kept in memory for the few keys that read them at every step: one read per key
and task, every write to the state too, so that a restored task reads what was written."""

from __future__ import annotations

from pyflink.common.typeinfo import Types
from pyflink.datastream.state import ListStateDescriptor, ValueStateDescriptor

from benchmarks.keyed import KeyedRunner
from jobs.operators import CachedList, CachedValue


class Reads:
    """A keyed runner's state that counts its reads."""

    def __init__(self, state):
        self.state = state
        self.reads = 0

    def value(self):
        self.reads += 1
        return self.state.value()

    def get(self):
        self.reads += 1
        return self.state.get()

    def update(self, value):
        self.state.update(value)

    def add(self, value):
        self.state.add(value)

    def clear(self):
        self.state.clear()


class Holder:
    """An operator that only opens the states."""

    def open(self, runtime_context):
        self.value = Reads(runtime_context.get_state(ValueStateDescriptor("v", Types.LONG())))
        self.list = Reads(runtime_context.get_list_state(
            ListStateDescriptor("l", Types.PICKLED_BYTE_ARRAY())))


def test_a_value_is_read_once_per_key_and_written_through():
    runner = KeyedRunner(Holder())
    cached = CachedValue(runner.function.value)
    for key, n in (("a", 1), ("b", 2)):
        runner.current_key = key
        assert cached.value(key) is None
        cached.update(key, n)
        assert cached.value(key) == n
    runner.current_key = "a"
    cached.clear("a")

    assert cached.value("a") is None and cached.value("b") == 2
    assert runner.function.value.reads == 2, "one read per key"
    assert runner.value("b", "v") == 2 and runner.value("a", "v") is None, "the state has it all"


def test_a_list_is_read_once_per_key_and_written_through():
    runner = KeyedRunner(Holder())
    runner.current_key = "a"
    runner.function.list.add("restored")
    cached = CachedList(runner.function.list)
    cached.add("a", "x")
    assert cached.get("a") == ["restored", "x"]
    cached.update("a", ["y"])

    assert cached.get("a") == ["y"] and list(runner.function.list.state.get()) == ["y"]
    assert runner.function.list.reads == 1
