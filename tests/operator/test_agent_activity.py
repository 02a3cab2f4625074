"""The agent activity operator driven in memory (`benchmarks.keyed.KeyedRunner`): an agent's
event applies as it arrives, whatever the watermark; a repeat or an older event changes
nothing; a silent agent goes stale by its timer; events a restored state still holds waiting
apply before the next one."""

from __future__ import annotations

import pickle

from benchmarks.keyed import KeyedRunner
from jobs.core.agents import AgentSettings
from jobs.operators import AGENT_FACTS, AGENT_VIEWS, AgentActivityFunction
from tests.unit.test_agents import AGENT, T0, event, snapshot

STALE_AFTER_MS = 300_000
BEFORE_EVERYTHING = T0 - 3_600_000


def activity() -> KeyedRunner:
    runner = KeyedRunner(AgentActivityFunction(AgentSettings(stale_after_ms=STALE_AFTER_MS)))
    runner.watermark = BEFORE_EVERYTHING
    return runner


def facts(outputs) -> list[tuple[str, bool, int]]:
    """(activity, stale, at) of each agent facts row (`AGENT_FACTS_TYPE`)."""
    return [(row[15], row[14], row[-1]) for tag, row in
            (o for o in outputs if isinstance(o, tuple)) if tag is AGENT_FACTS]


def test_an_event_applies_on_arrival_long_before_the_watermark_passes_it():
    runner = activity()
    login = runner.process(AGENT, event("LOGIN", T0, snapshot(), event_id="e1"), T0)
    busy = runner.process(AGENT, event("STATE_CHANGE", T0 + 1_000, snapshot("Lunch"),
                                       snapshot(), event_id="e2"), T0 + 1_000)

    assert facts(login) == [("AVAILABLE", False, T0)]
    assert [tag for tag, _ in (o for o in login if isinstance(o, tuple))].count(AGENT_VIEWS) == 1
    assert facts(busy) == [("NON_PRODUCTIVE", False, T0 + 1_000)]
    assert runner.watermark == BEFORE_EVERYTHING


def test_a_repeat_or_an_older_event_changes_nothing():
    runner = activity()
    runner.process(AGENT, event("LOGIN", T0, snapshot(), event_id="e1"), T0)
    runner.process(AGENT, event("STATE_CHANGE", T0 + 2_000, snapshot("Lunch"), snapshot(),
                                event_id="e3"), T0 + 2_000)

    repeat = runner.process(AGENT, event("STATE_CHANGE", T0 + 2_000, snapshot("Lunch"),
                                         snapshot(), event_id="e3"), T0 + 2_000)
    older = runner.process(AGENT, event("STATE_CHANGE", T0 + 1_000, snapshot(), snapshot("Lunch"),
                                        event_id="e2"), T0 + 1_000)

    assert repeat == [] and older == []


def test_a_silent_agent_goes_stale_by_its_timer():
    runner = activity()
    runner.process(AGENT, event("LOGIN", T0, snapshot(), event_id="e1"), T0)

    assert facts(runner.advance(T0 + STALE_AFTER_MS - 1)) == []
    assert facts(runner.advance(T0 + STALE_AFTER_MS)) == [("OFFLINE", True, T0 + STALE_AFTER_MS)]


def test_an_event_does_not_move_the_timer_and_the_agent_goes_stale_when_due():
    runner = activity()
    runner.process(AGENT, event("LOGIN", T0, snapshot(), event_id="e1"), T0)
    runner.process(AGENT, event("HEART_BEAT", T0 + 100_000, snapshot(), event_id="e2"),
                   T0 + 100_000)
    assert runner.timers == {(T0 + STALE_AFTER_MS, AGENT)}, "the first deadline's timer stays"

    assert facts(runner.advance(T0 + STALE_AFTER_MS)) == [], "it fires early, for nothing"
    assert runner.timers == {(T0 + 100_000 + STALE_AFTER_MS, AGENT)}
    assert facts(runner.advance(T0 + 100_000 + STALE_AFTER_MS)) == [
        ("OFFLINE", True, T0 + 100_000 + STALE_AFTER_MS)]


def test_a_forgotten_agent_keeps_no_timer():
    runner = activity()
    runner.process(AGENT, event("LOGIN", T0, snapshot(), event_id="e1"), T0)
    runner.process(AGENT, event("LOGOUT", T0 + 1_000, None, snapshot(), event_id="e2"),
                   T0 + 1_000)
    runner.advance(T0 + 1_000 + AgentSettings().forget_after_ms)

    assert runner.keys() == set() and runner.timers == set()


def test_events_a_restored_state_holds_waiting_apply_first_in_time_order():
    runner = activity()
    waiting = (event("STATE_CHANGE", T0 + 1_000, snapshot("Lunch"), snapshot(), event_id="e2"),
               event("LOGIN", T0, snapshot(), event_id="e1"))
    runner.stored[(AGENT, "agent")] = pickle.dumps((None, waiting, ()))

    outputs = runner.process(AGENT, event("STATE_CHANGE", T0 + 2_000, snapshot(),
                                          snapshot("Lunch"), event_id="e3"), T0 + 2_000)

    assert facts(outputs) == [("AVAILABLE", False, T0), ("NON_PRODUCTIVE", False, T0 + 1_000),
                              ("AVAILABLE", False, T0 + 2_000)]
    assert runner.value(AGENT, "agent")[1] == (), "nothing is left waiting"


def test_outputs_the_job_does_not_read_are_not_emitted():
    runner = KeyedRunner(AgentActivityFunction(AgentSettings(stale_after_ms=STALE_AFTER_MS),
                                               reads=frozenset({AGENT_FACTS.tag_id})))
    runner.watermark = BEFORE_EVERYTHING
    login = runner.process(AGENT, event("LOGIN", T0, snapshot(), event_id="e1"), T0)
    stale = runner.advance(T0 + STALE_AFTER_MS)

    assert facts(login) == [("AVAILABLE", False, T0)]
    assert facts(stale) == [("OFFLINE", True, T0 + STALE_AFTER_MS)]
    assert [tag for tag, _ in login + stale] == [AGENT_FACTS, AGENT_FACTS], \
        "no transition row, no gauge view: the job reads neither"
