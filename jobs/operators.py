"""Thin Flink operators around the pure state machines: load state, call the core, store state,
set event-time timers, emit typed rows. All domain logic lives in `jobs.agents` and
`jobs.contacts`.
"""

from __future__ import annotations

from pyflink.common import Row
from pyflink.common.typeinfo import Types
from pyflink.datastream import KeyedProcessFunction, OutputTag, RuntimeContext
from pyflink.common.time import Time
from pyflink.datastream.state import StateTtlConfig, ValueStateDescriptor

from jobs import agents, contacts
from jobs.event_order import DUPLICATE, LATE, EventOrder

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
        _keep(step, self._state, self._timers, ctx.timer_service())
        for output in step.outputs:
            tag, row = agent_rows(output)
            yield row if tag is None else (tag, row)


def _keep(step, state, timers, timer_service, also_wake_at: int | None = None) -> None:
    """Store the step's state (or drop it) and hold exactly the event-time timers it needs."""
    wanted = {t for t in (step.wake_at, step.clear_at, also_wake_at) if t is not None}
    registered = set(timers.value() or ())
    for due in registered - wanted:
        timer_service.delete_event_time_timer(due)
    for due in wanted - registered:
        timer_service.register_event_time_timer(due)
    if step.state is None:
        state.clear()
    else:
        state.update(step.state)
    if wanted:
        timers.update(tuple(wanted))
    else:
        timers.clear()


def contact_types(settings: contacts.LifecycleSettings):
    """Row types of the contact views; one answered/removed column per service-level threshold."""
    transition = Types.ROW_NAMED(
        ["contact_id", "instance_id", "queue_id", "channel", "initiation_method", "from_phase",
         "to_phase", "reason", "since_ms", "agent_id", "at_ms"],
        [Types.STRING()] * 8 + [Types.LONG(), Types.STRING(), Types.LONG()],
    )
    thresholds = settings.service_level_thresholds_s
    completed = Types.ROW_NAMED(
        ["contact_id", "instance_id", "channel", "initiation_method", "queue_id", "agent_id",
         "outcome", "enqueue_time_ms", "dequeue_time_ms", "queue_wait_ms",
         *(f"answered_in_{x}" for x in thresholds), *(f"removed_in_{x}" for x in thresholds),
         "talk_ms", "hold_ms", "acw_ms", "handle_ms", "abandon_time_ms", "requeues",
         "transferred_out", "expired_reason", "version", "at_ms"],
        [Types.STRING()] * 7 + [Types.LONG()] * 3 + [Types.BOOLEAN()] * (2 * len(thresholds))
        + [Types.LONG()] * 5 + [Types.INT(), Types.BOOLEAN(), Types.STRING(), Types.INT(),
                                 Types.LONG()],
    )
    return transition, completed


def contact_rows(output):
    """(side output tag or None for the main output, row) of one contact core output."""
    if isinstance(output, contacts.PhaseTransition):
        return None, Row(output.contact_id, output.instance_id, output.queue_id, output.channel,
                         output.initiation_method, output.from_phase, output.to_phase,
                         output.reason, output.since, output.agent_id, output.at)
    return CONTACTS_COMPLETED, Row(
        output.contact_id, output.instance_id, output.channel, output.initiation_method,
        output.queue_id, output.agent_id, output.outcome, output.enqueue_time,
        output.dequeue_time, output.queue_wait_ms, *(ok for _, ok in output.answered_within),
        *(ok for _, ok in output.removed_within), output.talk_ms, output.hold_ms,
        output.acw_ms, output.handle_ms, output.abandon_time_ms, output.requeues,
        output.transferred_out, output.expired_reason, output.version, output.completed_at,
    )


CONTACT_TRANSITION_TYPE, CONTACT_COMPLETED_TYPE = contact_types(contacts.DEFAULT_SETTINGS)
CONTACTS_COMPLETED = OutputTag("contacts-completed", CONTACT_COMPLETED_TYPE)


class ContactLifecycleFunction(KeyedProcessFunction):
    """Key: contact id. Input: `ContactEvent`s (pickled), links included. Events wait in an
    `EventOrder` until the watermark passes them, then apply in event-time order; a late one
    applies at once. Main output: phase transitions; side output: completed contacts."""

    def __init__(self, settings: contacts.LifecycleSettings = contacts.DEFAULT_SETTINGS):
        self._settings = settings

    def open(self, runtime_context: RuntimeContext):
        self._state = runtime_context.get_state(_state("contact"))
        self._order = runtime_context.get_state(_state("order"))
        self._timers = runtime_context.get_state(_state("timers"))
        group = runtime_context.get_metrics_group().add_group("contacts")
        self._late = group.counter("lateEvents")
        self._duplicates = group.counter("duplicateEvents")
        self._expired = group.counter("contactsExpired")

    def process_element(self, value, ctx: KeyedProcessFunction.Context):
        order = self._order.value() or EventOrder()
        verdict = order.add(value)
        self._order.update(order)
        if verdict == LATE:
            self._late.inc()
            yield from self._apply([value], None, order, ctx)
        elif verdict == DUPLICATE:
            self._duplicates.inc()
        else:
            timers = set(self._timers.value() or ())
            if value.event_time not in timers:
                ctx.timer_service().register_event_time_timer(value.event_time)
                self._timers.update(tuple(timers | {value.event_time}))

    def on_timer(self, timestamp: int, ctx: KeyedProcessFunction.OnTimerContext):
        order = self._order.value() or EventOrder()
        released = order.release(timestamp)
        yield from self._apply(released, timestamp, order, ctx)

    def _apply(self, events, now, order, ctx):
        state = self._state.value()
        outputs = []
        for event in events:
            result = contacts.step(state, event, self._settings)
            state = result.state
            outputs.extend(result.outputs)
        if now is not None:
            result = contacts.expire(state, now, self._settings)
            outputs.extend(result.outputs)
        pending = order.earliest()
        if result.state is None and pending is None:
            self._order.clear()
        else:
            self._order.update(order)
        _keep(result, self._state, self._timers, ctx.timer_service(), also_wake_at=pending)
        for output in outputs:
            if isinstance(output, contacts.CompletedContact) and output.expired_reason:
                self._expired.inc()
            tag, row = contact_rows(output)
            yield row if tag is None else (tag, row)
