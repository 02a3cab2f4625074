"""The parse step: events go out with their event time, kind and key; a source clock row goes
out as a bare tick on both feeds, for the JVM's feed clocks to time."""

from __future__ import annotations

import time

import orjson
from pyflink.common import Row

from jobs.core.event_guard import EventTimeGuard
from jobs.core.events import ParseOptions
from jobs.pipeline import AGENT_EVENTS, BARE_TICK, EVENT, TICK, ParseRecords
from simulator.records import AgentState, agent_event
from tests.e2e.scenario import AVAILABLE, agent


class Group:
    def counter(self, name):
        return self

    def inc(self, n: int = 1) -> None:
        pass


class Context:
    def get_metrics_group(self):
        return Group()


def parser() -> ParseRecords:
    parse = ParseRecords(ParseOptions(), EventTimeGuard(15 * 60_000, 7 * 86_400_000))
    parse.open(Context())
    return parse


def raw(data: bytes, sequence_number: str | None) -> Row:
    return Row(stream="agent-events", shard_id="shardId-000000000000",
               sequence_number=sequence_number, arrival_time=int(time.time() * 1000), data=data)


def test_a_clock_row_is_a_bare_tick_on_both_feeds():
    out = list(parser().process_element(raw(b"", None), None))
    assert out == [BARE_TICK, (AGENT_EVENTS, BARE_TICK)]
    assert BARE_TICK[1] == TICK


def test_an_agent_event_goes_out_with_its_event_time_and_agent():
    at = int(time.time() * 1000) - 1_000
    record = agent_event("e-1", "LOGIN", at, agent(1), AgentState(AVAILABLE), None)
    ((tag, (event_time, kind, key, event)),) = parser().process_element(
        raw(orjson.dumps(record), "1"), None)
    assert (tag, event_time, kind, event.event_id) == (AGENT_EVENTS, at, EVENT, "e-1")
    assert key == event.agent_arn
