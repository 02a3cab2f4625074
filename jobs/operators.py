"""Thin Flink operators around the pure state machines: load state, call the core, store state,
set event-time timers, emit typed rows. All domain logic lives in `jobs.agents` (and its peers).
"""

from __future__ import annotations

from pyflink.common import Row
from pyflink.common.typeinfo import Types
from pyflink.datastream import KeyedProcessFunction, OutputTag, RuntimeContext
from pyflink.common.time import Time
from pyflink.datastream.state import StateTtlConfig, ValueStateDescriptor

from jobs import agents

AGENT_TRANSITION_TYPE = Types.ROW_NAMED(
    ["agent_id", "instance_id", "from_activity", "to_activity", "time_in_previous_ms", "at_ms"],
    [Types.STRING(), Types.STRING(), Types.STRING(), Types.STRING(), Types.LONG(), Types.LONG()],
)
AGENT_FACTS_TYPE = Types.ROW_NAMED(
    ["agent_id", "instance_id", "agent_username", "routing_profile_id", "routing_profile_name",
     "queue_ids", "channels", "online", "available", "on_contact", "in_acw", "non_productive",
     "in_error", "staffed", "stale", "activity", "status_name", "slots_active",
     "slots_available", "at_ms"],
    [Types.STRING(), Types.STRING(), Types.STRING(), Types.STRING(), Types.STRING(),
     Types.BASIC_ARRAY(Types.STRING()), Types.BASIC_ARRAY(Types.STRING()), Types.BOOLEAN(),
     Types.BOOLEAN(), Types.BOOLEAN(), Types.BOOLEAN(), Types.BOOLEAN(), Types.BOOLEAN(),
     Types.BOOLEAN(), Types.BOOLEAN(), Types.STRING(), Types.STRING(), Types.INT(), Types.INT(),
     Types.LONG()],
)
AGENT_WORK_TYPE = Types.ROW_NAMED(
    ["agent_id", "instance_id", "kind", "contact_id", "channel", "queue_id", "initiation_method",
     "activity", "duration_ms", "at_ms"],
    [Types.STRING(), Types.STRING(), Types.STRING(), Types.STRING(), Types.STRING(),
     Types.STRING(), Types.STRING(), Types.STRING(), Types.LONG(), Types.LONG()],
)
AGENT_FACTS = OutputTag("agent-facts", AGENT_FACTS_TYPE)
AGENT_WORK = OutputTag("agent-work", AGENT_WORK_TYPE)


# The state machines clear their own state (after logout, completion or expiry, plus a grace
# period); this TTL only catches a key whose clearing timer was somehow never reached.
STATE_TTL = StateTtlConfig.new_builder(Time.days(2)).cleanup_full_snapshot().build()


def _state(name: str) -> ValueStateDescriptor:
    descriptor = ValueStateDescriptor(name, Types.PICKLED_BYTE_ARRAY())
    descriptor.enable_time_to_live(STATE_TTL)
    return descriptor


def _name(value) -> str | None:
    return None if value is None else value.value


def agent_rows(output):
    """(side output tag or None for the main output, row) of one agent core output."""
    if isinstance(output, agents.ActivityTransition):
        return None, Row(output.agent_id, output.instance_id, _name(output.from_activity),
                         _name(output.to_activity), output.time_in_previous_ms, output.at)
    if isinstance(output, agents.AgentFacts):
        return AGENT_FACTS, Row(
            output.agent_id, output.instance_id, output.agent_username,
            output.routing_profile_id, output.routing_profile_name, list(output.queue_ids),
            list(output.channels), output.online, bool(output.available), output.on_contact,
            output.in_acw, output.non_productive, output.in_error, output.staffed, output.stale,
            _name(output.activity), output.status_name, output.slots_active,
            output.slots_available, output.at,
        )
    return AGENT_WORK, Row(
        output.agent_id, output.instance_id, _name(output.kind), output.contact_id,
        output.channel, output.queue_id, output.initiation_method, _name(output.activity),
        output.duration_ms, output.at,
    )


class AgentActivityFunction(KeyedProcessFunction):
    """Key: agent ARN. Input: parsed `AgentEvent`s (pickled). Main output: activity transitions;
    side outputs: agent facts and work facts."""

    def __init__(self, settings: agents.AgentSettings = agents.DEFAULT_SETTINGS):
        self._settings = settings

    def open(self, runtime_context: RuntimeContext):
        self._state = runtime_context.get_state(_state("agent"))
        self._timers = runtime_context.get_state(_state("timers"))
        group = runtime_context.get_metrics_group().add_group("agents")
        self._stale = group.counter("agentsGoneStale")

    def process_element(self, value, ctx: KeyedProcessFunction.Context):
        yield from self._step(agents.apply(self._state.value(), value, self._settings), ctx)

    def on_timer(self, timestamp: int, ctx: KeyedProcessFunction.OnTimerContext):
        step = agents.expire(self._state.value(), timestamp, self._settings)
        self._stale.inc(sum(1 for o in step.outputs if getattr(o, "stale", False)))
        yield from self._step(step, ctx)

    def _step(self, step, ctx):
        timer_service = ctx.timer_service()
        wanted = tuple(t for t in (step.wake_at, step.clear_at) if t is not None)
        registered = self._timers.value() or ()
        for due in set(registered) - set(wanted):
            timer_service.delete_event_time_timer(due)
        for due in set(wanted) - set(registered):
            timer_service.register_event_time_timer(due)
        if step.state is None:
            self._state.clear()
            self._timers.clear()
        else:
            self._state.update(step.state)
            self._timers.update(wanted)
        for output in step.outputs:
            tag, row = agent_rows(output)
            yield row if tag is None else (tag, row)
