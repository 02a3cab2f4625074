"""Events and states pickle by constructor call and still load from the older pickle form."""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field

import cloudpickle
import orjson
import pytest

from jobs.core import agents, contacts
from jobs.core.events import AgentEvent, ContactEvent, parse_record
from jobs.core.fast_pickle import pickled_by_fields
from simulator.centre import Centre
from simulator.settings import CentreSettings


@pytest.fixture(scope="module")
def parsed():
    centre = Centre(CentreSettings(agents=6, queues=2, arrivals_per_minute=6), seed=3,
                    start_ms=1_767_600_000_000)
    return [parse_record(orjson.dumps(e.record), "test", 0) for e in centre.events(1_800_000)]


def _states(parsed):
    contact_states, agent_states = {}, {}
    for event in parsed:
        if isinstance(event, ContactEvent):
            step = contacts.step(contact_states.get(event.contact_id), event)
            contact_states[event.contact_id] = step.state
        elif isinstance(event, AgentEvent):
            step = agents.apply(agent_states.get(event.agent_arn), event)
            agent_states[event.agent_arn] = step.state
    return [s for s in [*contact_states.values(), *agent_states.values()] if s is not None]


def test_events_and_states_survive_pickle_and_cloudpickle(parsed):
    objects = parsed + _states(parsed)
    assert any(isinstance(o, AgentEvent) and o.current.contacts for o in objects)
    for obj in objects:
        assert pickle.loads(pickle.dumps(obj)) == obj
        assert cloudpickle.loads(cloudpickle.dumps(obj)) == obj


def test_the_older_pickle_form_still_loads(parsed):
    """Checkpoints taken before hold dataclasses' own state form: __setstate__ must still work."""
    for obj in parsed[:50] + _states(parsed)[:50]:
        cls = type(obj)
        restored = cls.__new__(cls)
        restored.__setstate__(cls.__getstate__(obj))
        assert restored == obj


def test_a_field_outside_init_is_refused():
    with pytest.raises(TypeError):
        @pickled_by_fields
        @dataclass(frozen=True, slots=True)
        class Derived:
            a: int
            b: int = field(init=False, default=0)


def test_a_single_field_class_round_trips():
    @dataclass(frozen=True, slots=True)
    class One:
        a: int

    decorated = pickled_by_fields(One)
    assert decorated.__reduce__(One(5)) == (One, (5,))
