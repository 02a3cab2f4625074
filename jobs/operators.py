"""Thin Flink operators around the pure cores of `jobs.core`: load state, call the core, store
state, set timers, emit typed rows. The domain logic lives in the cores.
"""

from __future__ import annotations

import functools
from collections.abc import MutableMapping

import orjson
from pyflink.common import Row
from pyflink.common.typeinfo import Types
from pyflink.datastream import KeyedProcessFunction, OutputTag, RuntimeContext, TimeDomain
from pyflink.datastream.state import ListStateDescriptor, MapStateDescriptor, ValueStateDescriptor

from jobs.core import agents, contacts, gauges, queue_naming
from jobs.core.event_order import DUPLICATE, LATE, EventOrder
from jobs.core.service_levels import ServiceLevels

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
SINK_RECORD_TYPE = Types.TUPLE([Types.STRING(), Types.STRING()])
"""(table, record JSON): what the metric sink writes, and queue naming reads and writes."""
KEYED_RECORD_TYPE = Types.ROW([Types.STRING(), SINK_RECORD_TYPE])
KEYED_CHANGE_TYPE = Types.ROW([Types.STRING(), Types.PICKLED_BYTE_ARRAY()])
"""An instance id and the gauges' input for it, (instance id, `gauges.Change`)."""
AGENT_FACTS = OutputTag("agent-facts", AGENT_FACTS_TYPE)
AGENT_WORK = OutputTag("agent-work", AGENT_WORK_TYPE)
AGENT_VIEWS = OutputTag("agent-views", KEYED_CHANGE_TYPE)
"""A `gauges.AgentView` whenever an agent's facts change (`keyed_change`)."""


def keyed_row(key: str, value) -> Row:
    """A record for a keyed operator whose key the JVM reads (`jobs.pipeline.keyed`): the key,
    then the value the operator gets."""
    return Row(key, value)


def keyed_change(instance_id: str, change) -> Row:
    """A change for the realtime gauges, keyed by its instance."""
    return keyed_row(instance_id, (instance_id, change))


def sink_row(table: str, text: str) -> Row:
    """A record for the metric sink, keyed by its table."""
    return keyed_row(table, (table, text))


MAIN = "main"
"""An operator's main output, among the tag ids of `reads`."""


def reads_only(method):
    """A keyed operator's `process_element` or `on_timer`, less the outputs the job does not
    read: those not in the operator's `reads` (tag ids and `MAIN`; None reads all). Each output
    costs a call into the JVM, and a side output the job does not read is not in its graph, so
    emitting to it fails."""

    @functools.wraps(method)
    def emitting(self, value, ctx):
        outputs = method(self, value, ctx)
        if outputs is None or self._reads is None:
            return outputs
        return (output for output in outputs if output_id(output) in self._reads)

    return emitting


def output_id(output) -> str:
    if isinstance(output, tuple) and len(output) == 2 and isinstance(output[0], OutputTag):
        return output[0].tag_id
    return MAIN


class CoalescedCounter:
    """A Flink counter that takes what was counted at most once every `every_ms` of processing
    time, and at `flush`: each increment is a call into the JVM, which cost a quarter of the
    parse step's own time when it counted every record read. Reads lag by up to `every_ms`,
    or until `add` is next called (a live source's clock rows call it on quiet nights)."""

    def __init__(self, counter, every_ms: int = 1_000):
        self._counter = counter
        self._every = every_ms
        self._counted = 0
        self._due = 0

    def add(self, n: int, now_ms: int) -> None:
        self._counted += n
        if now_ms >= self._due:
            self.flush()
            self._due = now_ms + self._every

    def flush(self) -> None:
        if self._counted:
            self._counter.inc(self._counted)
            self._counted = 0


def held_state(name: str) -> ValueStateDescriptor:
    """A pickled value state, as every keyed state machine of the job keeps. It has no
    time-to-live: the state machines clear their own state (after logout, completion or expiry,
    plus a grace period), and every state they keep comes with a timer that gets there. PyFlink's
    thread mode cannot set a time-to-live on a TaskManager: it converts it through the Python
    client's gateway, which only the process that submitted the job has."""
    return ValueStateDescriptor(name, Types.PICKLED_BYTE_ARRAY())


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
    """Key: agent ARN. Input: parsed `AgentEvent`s (pickled). Each event applies as it arrives:
    the agent event stream keeps each agent's order (its partition key is the agent ARN), so
    there is nothing to wait for, and an agent's rows are out as soon as its event is read.
    A duplicate, or an event older than one applied, changes nothing (`agents.apply`).
    Event-time timers only say when a silent agent goes stale or is forgotten. Main output:
    activity transitions; side outputs: agent facts, work facts, gauge views.

    The agent's state and its timers are one value: every state value written is a call to the
    JVM when the bundle ends. The value also holds events waiting for the watermark, which an
    earlier version of the job kept there; a restored one applies them first. A timer may fire
    before anything is due (`_hold_timers`); `renew_timers` is for process mode."""

    def __init__(self, settings: agents.AgentSettings = agents.DEFAULT_SETTINGS,
                 reads: frozenset[str] | None = None, renew_timers: bool = False):
        self._settings = settings
        self._reads = reads
        self._renew_timers = renew_timers

    def open(self, runtime_context: RuntimeContext):
        self._held = runtime_context.get_state(held_state("agent"))
        group = runtime_context.get_metrics_group().add_group("agents")
        self._stale = group.counter("agentsGoneStale")

    @reads_only
    def process_element(self, value, ctx: KeyedProcessFunction.Context):
        state, waiting, timers = self._held.value() or (None, (), ())
        yield from self._apply((*waiting, value), None, state, timers, ctx)

    @reads_only
    def on_timer(self, timestamp: int, ctx: KeyedProcessFunction.OnTimerContext):
        now = max(timestamp, ctx.timer_service().current_watermark())
        state, waiting, timers = self._held.value() or (None, (), ())
        yield from self._apply(waiting, now, state, timers, ctx, fired=timestamp)

    def _apply(self, events, now, state, timers, ctx, fired=None):
        """Apply `events` in time order, each after what a timer between the previous event
        and it would have done; then, at a timer (`now`), expire what is due."""
        outputs = []
        for event in sorted(events, key=lambda e: e.event_time):
            state = self._expire(state, event.event_time - 1, outputs).state
            step = agents.apply(state, event, self._settings)
            state = step.state
            outputs.extend(step.outputs)
        if now is not None:
            state = self._expire(state, now, outputs).state
        wanted = agents.deadlines(state, self._settings) if state is not None else ()
        timers = _hold_timers(timers, wanted, ctx.timer_service(), fired, self._renew_timers)
        if state is None:
            self._held.clear()  # no timer is wanted without state
        else:
            self._held.update((state, (), timers))
        for output in outputs:
            tag, row = agent_rows(output)
            yield row if tag is None else (tag, row)
            if tag is AGENT_FACTS:
                yield AGENT_VIEWS, keyed_change(output.instance_id, agent_view(output))

    def _expire(self, state, now: int, outputs: list):
        step = agents.expire(state, now, self._settings)
        stale = sum(1 for o in step.outputs if getattr(o, "stale", False))
        if stale:  # each increment is a call into the JVM
            self._stale.inc(stale)
        outputs.extend(step.outputs)
        return step


def _wake_for(event_time: int, timers: tuple, timer_service, renew: bool) -> tuple:
    """Timers after an event was buffered: a timer at its time unless one is held at or before
    it. A firing timer releases every event the watermark has passed, and sets the next timer
    at the earliest event still waiting, so one timer per watermark step does, not one per
    event. With `renew` the held timer is registered again (see `_hold_timers`)."""
    earliest = min((t for t in timers if t <= event_time), default=None)
    if earliest is not None:
        if renew:
            timer_service.register_event_time_timer(earliest)
        return timers
    timer_service.register_event_time_timer(event_time)
    return (*timers, event_time)


def _hold_timers(held: tuple, wanted, timer_service, fired: int | None, renew: bool) -> tuple:
    """Hold a timer at or before the earliest of the `wanted` times (None: none), and return
    the times held. The timer that just `fired` is held no more.

    A timer only wakes its key: the key's `expire` does what is due by the watermark and the
    next timer is set from what is wanted then. So a held timer earlier than needed stays, and
    fires once for nothing, rather than being moved at every event: an agent's staleness
    deadline moves with each of its events, and each move cost a delete and a register, calls
    into the JVM. Timers are deleted when nothing is wanted, so that a cleared key is not woken.

    With `renew` the earliest held timer is registered again at every step (Flink keeps one per
    key and time, so this costs no timer): in process mode PyFlink registers a Python
    function's timers from the thread that receives them, and a checkpoint can hold the state
    of a bundle without the timers that bundle registered. After a restore from it the key's
    state says a timer is set that Flink does not have; the key's next event or timer sets it
    again."""
    live = tuple(t for t in held if t != fired)
    earliest = min((t for t in wanted if t is not None), default=None)
    if earliest is None:
        for due in live:
            timer_service.delete_event_time_timer(due)
        return ()
    if live and min(live) <= earliest:
        if renew:
            timer_service.register_event_time_timer(min(live))
        return live
    timer_service.register_event_time_timer(earliest)
    return (*live, earliest)


THRESHOLDS_TYPE = Types.BASIC_ARRAY(Types.INT())
CONTACT_TRANSITION_TYPE = Types.ROW_NAMED(
    ["contact_id", "instance_id", "queue_id", "channel", "initiation_method", "from_phase",
     "to_phase", "reason", "since_ms", "agent_id", "service_level_thresholds_s", "at_ms"],
    [Types.STRING()] * 8 + [Types.LONG(), Types.STRING(), THRESHOLDS_TYPE, Types.LONG()],
)
CONTACT_COMPLETED_TYPE = Types.ROW_NAMED(
    ["contact_id", "instance_id", "channel", "initiation_method", "queue_id", "agent_id",
     "outcome", "enqueue_time_ms", "dequeue_time_ms", "queue_wait_ms",
     "service_level_thresholds_s", "talk_ms", "hold_ms", "acw_ms", "handle_ms",
     "abandon_time_ms", "requeues", "transferred_out", "expired_reason", "version", "at_ms"],
    [Types.STRING()] * 7 + [Types.LONG()] * 3 + [THRESHOLDS_TYPE] + [Types.LONG()] * 5
    + [Types.INT(), Types.BOOLEAN(), Types.STRING(), Types.INT(), Types.LONG()],
)


def contact_rows(output, levels: ServiceLevels):
    """(side output tag or None for the main output, row) of one contact core output; each
    row carries its queue's service-level thresholds (`levels`)."""
    thresholds = list(levels.candidates(output.queue_id))
    if isinstance(output, contacts.PhaseTransition):
        return None, Row(output.contact_id, output.instance_id, output.queue_id, output.channel,
                         output.initiation_method, output.from_phase, output.to_phase,
                         output.reason, output.since, output.agent_id, thresholds, output.at)
    return CONTACTS_COMPLETED, Row(
        output.contact_id, output.instance_id, output.channel, output.initiation_method,
        output.queue_id, output.agent_id, output.outcome, output.enqueue_time,
        output.dequeue_time, output.queue_wait_ms, thresholds, output.talk_ms, output.hold_ms,
        output.acw_ms, output.handle_ms, output.abandon_time_ms, output.requeues,
        output.transferred_out, output.expired_reason, output.version, output.completed_at,
    )


CONTACTS_COMPLETED = OutputTag("contacts-completed", CONTACT_COMPLETED_TYPE)
QUEUE_CHANGES = OutputTag("queue-changes", KEYED_CHANGE_TYPE)
"""A `gauges.QueueChange` whenever a contact enters or leaves a queue (`keyed_change`)."""
PROVISIONAL_STAYS = OutputTag("provisional-stays", KEYED_CHANGE_TYPE)
"""A `gauges.ProvisionalStay`, a contact's queue by all its events read so far
(`keyed_change`)."""


class ContactLifecycleFunction(KeyedProcessFunction):
    """Key: contact id. Input: `ContactEvent`s (pickled), links included. Events wait in an
    `EventOrder` until the watermark passes them, then apply in event-time order; a late one
    applies at once. Main output: phase transitions; side outputs: completed contacts (both
    with the service-level thresholds of their queue), and for the gauges each transition
    into or out of a queue (`QUEUE_CHANGES`). With `provisional`, where the contact
    waits by every event read so far goes to `PROVISIONAL_STAYS` as soon as an event changes
    it, for the gauges' provisional rows (`gauges.LiveView`).

    The contact's state, its `EventOrder` and its timers are one value, for the reason
    `AgentActivityFunction` gives; timers and `renew_timers` are as there."""

    def __init__(self, settings: contacts.LifecycleSettings = contacts.DEFAULT_SETTINGS,
                 levels: ServiceLevels = ServiceLevels(), provisional: bool = False,
                 reads: frozenset[str] | None = None, renew_timers: bool = False):
        self._settings = settings
        self._levels = levels
        self._provisional = provisional
        self._reads = reads
        self._renew_timers = renew_timers

    def open(self, runtime_context: RuntimeContext):
        self._held = runtime_context.get_state(held_state("contact"))
        group = runtime_context.get_metrics_group().add_group("contacts")
        self._late = group.counter("lateEvents")
        self._duplicates = group.counter("duplicateEvents")
        self._expired = group.counter("contactsExpired")

    @reads_only
    def process_element(self, value, ctx: KeyedProcessFunction.Context):
        state, order, timers = self._held.value() or (None, EventOrder(), ())
        verdict = order.add(value)
        if verdict == LATE:
            self._late.inc()
            yield from self._apply([value], None, state, order, timers, ctx)
            return
        if verdict == DUPLICATE:
            self._duplicates.inc()
            return
        timers = _wake_for(value.event_time, timers, ctx.timer_service(), self._renew_timers)
        self._held.update((state, order, timers))
        if self._provisional:
            stay = contacts.waiting_now(state, order.pending)
            if stay != contacts.waiting_now(state, order.pending[:-1]):
                yield PROVISIONAL_STAYS, keyed_change(value.instance_id, gauges.ProvisionalStay(
                    value.contact_id, stay, max(e.event_time for e in order.pending)))

    @reads_only
    def on_timer(self, timestamp: int, ctx: KeyedProcessFunction.OnTimerContext):
        # `contacts.step` first closes a contact whose deadline came before the event.
        now = max(timestamp, ctx.timer_service().current_watermark())
        state, order, timers = self._held.value() or (None, EventOrder(), ())
        released = order.release(now)
        yield from self._apply(released, now, state, order, timers, ctx, fired=timestamp)

    def _apply(self, events, now, state, order, timers, ctx, fired=None):
        result, outputs = contacts.Step(state), []
        for event in events:
            result = contacts.step(result.state, event, self._settings)
            outputs.extend(result.outputs)
        if now is not None:
            result = contacts.expire(result.state, now, self._settings)
            outputs.extend(result.outputs)
        pending = order.earliest()
        timers = _hold_timers(timers, (result.wake_at, result.clear_at, pending),
                              ctx.timer_service(), fired, self._renew_timers)
        if result.state is None and pending is None:
            self._held.clear()  # no timer is wanted without state or waiting events
        else:
            self._held.update((result.state, order, timers))
        for output in outputs:
            if isinstance(output, contacts.CompletedContact) and output.expired_reason:
                self._expired.inc()
            tag, row = contact_rows(output, self._levels)
            yield row if tag is None else (tag, row)
            if tag is None and contacts.Phase.QUEUED in (output.from_phase, output.to_phase):
                yield QUEUE_CHANGES, queue_change(output)


def queue_change(transition: contacts.PhaseTransition) -> Row:
    """The gauges' change of a transition that enters or leaves a queue (`keyed_change`)."""
    entered = transition.from_phase != contacts.Phase.QUEUED
    return keyed_change(transition.instance_id, gauges.QueueChange(
        transition.contact_id, transition.queue_id, transition.channel, entered, transition.at))


_AGENT_COUNT_FIELDS = ["agents_online", "agents_available", "agents_on_contact",
                       "agents_after_contact_work", "agents_non_productive", "agents_error",
                       "agents_staffed", "slots_active", "slots_available"]
QUEUE_GAUGE_TYPE = Types.ROW_NAMED(
    ["instance_id", "queue_id", "channel", "contacts_in_queue", "oldest_contact_age_ms",
     *_AGENT_COUNT_FIELDS, "at_ms"],
    [Types.STRING()] * 3 + [Types.INT(), Types.LONG()] + [Types.INT()] * 9 + [Types.LONG()],
)
ROUTING_PROFILE_GAUGE_TYPE = Types.ROW_NAMED(
    ["instance_id", "routing_profile_id", "routing_profile_name", *_AGENT_COUNT_FIELDS, "at_ms"],
    [Types.STRING()] * 3 + [Types.INT()] * 9 + [Types.LONG()],
)
ROUTING_PROFILE_GAUGES = OutputTag("routing-profile-gauges", ROUTING_PROFILE_GAUGE_TYPE)
NAME_TYPE = Types.ROW_NAMED(
    ["instance_id", "kind", "id", "name", "at_ms"],
    [Types.STRING()] * 4 + [Types.LONG()],
)
NAMES = OutputTag("names", NAME_TYPE)
END_OF_INPUT = 2**63 - 1  # the final watermark of a bounded run


def agent_view(facts: agents.AgentFacts) -> gauges.AgentView:
    return gauges.AgentView(
        facts.agent_id, facts.routing_profile_id, facts.routing_profile_name, facts.queue_ids,
        facts.channels, facts.online, facts.available, facts.on_contact, facts.in_acw,
        facts.non_productive, facts.in_error, facts.staffed, facts.slots_active, facts.at,
        facts.queue_names,
    )


class WriteThrough(MutableMapping):
    """A keyed map state for one key, read once into a dict that then answers every read; each
    write goes to both. Build it, and write through it, only while its key is the current key.
    The state stays what checkpoints hold; a restored task reads it afresh."""

    def __init__(self, state):
        self._state = state
        self._dict = dict(state.items())

    def __getitem__(self, key):
        return self._dict[key]

    def __setitem__(self, key, value):
        self._dict[key] = value
        self._state[key] = value

    def __delitem__(self, key):
        del self._dict[key]
        del self._state[key]

    def __contains__(self, key):
        return key in self._dict

    def __iter__(self):
        return iter(self._dict)

    def __len__(self):
        return len(self._dict)

    def values(self):
        return self._dict.values()

    def items(self):
        return self._dict.items()


class CachedValue:
    """A keyed value state whose value for a key, once read, answers every later read from a
    dict; each write goes to both. Use it only while `key` is the current key. A restored task
    reads the state afresh. For states of few keys, read at every step."""

    def __init__(self, state):
        self._state = state
        self._values: dict = {}

    def value(self, key):
        if key not in self._values:
            self._values[key] = self._state.value()
        return self._values[key]

    def update(self, key, value) -> None:
        self._values[key] = value
        self._state.update(value)

    def clear(self, key) -> None:
        self._values[key] = None
        self._state.clear()


class CachedList:
    """A keyed list state kept like `CachedValue`."""

    def __init__(self, state):
        self._state = state
        self._lists: dict = {}

    def get(self, key) -> list:
        if key not in self._lists:
            self._lists[key] = list(self._state.get() or ())
        return self._lists[key]

    def add(self, key, value) -> None:
        self.get(key).append(value)
        self._state.add(value)

    def update(self, key, values: list) -> None:
        self._lists[key] = list(values)
        self._state.update(values)


class RealtimeGaugesFunction(KeyedProcessFunction):
    """Key: instance id. Input: `gauges.Change`s (pickled) with their instance id. Gauges are
    sampled on a grid of `period_ms` of event time while the instance's last change is less
    than `refresh_for_ms` old, and after that only at changes (one timer, always the next
    sample, `gauges.next_sample_at`). At a sample
    the changes up to its instant are applied (a late change, older than the last sample taken,
    at the next one: `gauges.first_sample_at`); a gauge is emitted when it changed or its last
    emitted one is `refresh_ms` old (`gauges.Tracker`): queue gauges on the main output,
    routing profile gauges on a side output, and each queue or routing profile name seen for
    the first time or renamed on another (`NAMES`, at the time of the change). Work so grows
    with changes, not with the event-time span: a quiet gap of years costs the samples of
    `refresh_for_ms`. A bounded run samples up to its last change.

    With `provisional_ms` (0: none), `provisional_ms` of processing time after a
    `gauges.ProvisionalStay` arrives, the queue rows the next sample is expected to have whose
    contacts changed are emitted at its instant (`gauges.LiveView`); that sample rewrites those
    it does not confirm. A provisional row is never more than `provisional_ahead_ms` ahead of processing
    time. The view is not in state: a task that starts cannot know which provisional rows an
    earlier one wrote after its last checkpoint, or before a stop. It writes every gauge at each
    sample up to `provisional_ahead_ms` past the processing time it started at, which rewrites
    them all."""

    def __init__(self, period_ms: int, refresh_ms: int, refresh_for_ms: int,
                 provisional_ms: int = 0, provisional_ahead_ms: int = 0,
                 reads: frozenset[str] | None = None):
        self._period = period_ms
        self._refresh = refresh_ms
        self._refresh_for = refresh_for_ms
        self._provisional = provisional_ms
        self._ahead = provisional_ahead_ms
        self._reads = reads

    def open(self, runtime_context: RuntimeContext):
        pickled, text = Types.PICKLED_BYTE_ARRAY(), Types.STRING()
        self._maps = {
            "waiting": runtime_context.get_map_state(MapStateDescriptor("waiting", text, pickled)),
            "agents": runtime_context.get_map_state(MapStateDescriptor("agents", text, pickled)),
            "queues": runtime_context.get_map_state(
                MapStateDescriptor("queues", text, Types.BOOLEAN())),
            "profiles": runtime_context.get_map_state(MapStateDescriptor("profiles", text, text)),
            "queue_names": runtime_context.get_map_state(
                MapStateDescriptor("queue_names", text, text)),
        }
        self._passed = runtime_context.get_map_state(MapStateDescriptor("passed", text, pickled))
        self._boards: dict[str, tuple[gauges.Board, gauges.Tracker]] = {}
        self._live: dict[str, gauges.LiveView] = {}
        self._live_due: set[str] = set()  # instances with a provisional timer set
        self._unsure_until: int | None = None  # samples up to it write every gauge
        # Read at every change and sample of an instance: kept in memory (`CachedValue`).
        self._pending = CachedList(
            runtime_context.get_list_state(ListStateDescriptor("pending", pickled)))
        self._next, self._taken, self._last = (
            CachedValue(runtime_context.get_state(ValueStateDescriptor(name, Types.LONG())))
            for name in ("next_sample", "last_sample", "last_change"))

    @reads_only
    def process_element(self, value, ctx: KeyedProcessFunction.Context):
        instance_id, change = value
        if self._provisional:
            self._rewrite_until(ctx)
            self._live.setdefault(instance_id, gauges.LiveView()).saw(change)
            if isinstance(change, gauges.ProvisionalStay):
                # Only a contact entering or leaving makes a provisional row (`gauges.LiveView`).
                if instance_id not in self._live_due:
                    timers = ctx.timer_service()
                    timers.register_processing_time_timer(
                        timers.current_processing_time() + self._provisional)
                    self._live_due.add(instance_id)
                return
        self._pending.add(instance_id, change)
        last = self._last.value(instance_id)
        if last is None or change.at > last:
            self._last.update(instance_id, change.at)
        due = gauges.first_sample_at(change.at, self._period, self._taken.value(instance_id))
        self._sample_at(ctx, instance_id, due)

    def _sample_at(self, ctx, instance_id: str, due: int | None) -> None:
        """Make `due` the next sample when it comes before the one set (None: keep it). The
        timer of the one set stays and is ignored when it fires (`on_timer`)."""
        planned = self._next.value(instance_id)
        if due is None or (planned is not None and planned <= due):
            return
        ctx.timer_service().register_event_time_timer(due)
        self._next.update(instance_id, due)

    def _board(self, instance_id: str) -> tuple[gauges.Board, gauges.Tracker]:
        """The instance's board and tracker, read from state once per key and task: a sample
        reads every online agent, which from state would cost a call into the JVM each."""
        if instance_id not in self._boards:
            board = gauges.Board(**{name: WriteThrough(state) for name, state in self._maps.items()})
            self._boards[instance_id] = board, gauges.Tracker(WriteThrough(self._passed),
                                                              self._refresh)
        return self._boards[instance_id]

    @reads_only
    def on_timer(self, timestamp: int, ctx: KeyedProcessFunction.OnTimerContext):
        if ctx.time_domain() == TimeDomain.PROCESSING_TIME:
            yield from self._provisional_rows(ctx)
            return
        instance_id = ctx.get_current_key()
        if timestamp != self._next.value(instance_id):
            return  # a sample planned before an earlier one replaced it
        self._taken.update(instance_id, timestamp)
        due, later = gauges.split_due(self._pending.get(instance_id), timestamp)
        board, tracker = self._board(instance_id)
        for change in due:
            for named in gauges.apply(board, change):
                yield NAMES, Row(instance_id, named.kind, named.id, named.name, named.at)
        if due:
            self._pending.update(instance_id, later)
        live = self._live.get(instance_id)
        provisional = live.settle(timestamp) if live is not None else {}
        unsure = self._provisional and timestamp <= self._rewrite_until(ctx)
        queues, profiles = gauges.sample(instance_id, board, timestamp)
        for gauge in (*queues, *profiles):
            if tracker.worth_passing(gauge, provisional) or unsure:
                yield _gauge_row(gauge)
        self._next.clear(instance_id)
        last = self._last.value(instance_id) or timestamp
        if ctx.timer_service().current_watermark() >= END_OF_INPUT:  # to the last change
            due = timestamp + self._period if later or timestamp < last else None
        else:
            due = gauges.next_sample_at(timestamp, min((c.at for c in later), default=None),
                                        last, self._period, self._refresh_for)
        written = live.earliest_written() if live is not None else None
        self._sample_at(ctx, instance_id,
                        due if written is None else min(written, due or written))

    def _rewrite_until(self, ctx) -> int:
        """The last sample instant that writes every gauge (see the class)."""
        if self._unsure_until is None:
            self._unsure_until = ctx.timer_service().current_processing_time() + self._ahead
        return self._unsure_until

    def _provisional_rows(self, ctx):
        """The provisional rows of the instance's next sample that changed since the last
        written; that sample is set, so that it confirms or rewrites them."""
        instance_id = ctx.get_current_key()
        self._live_due.discard(instance_id)
        if instance_id not in self._live or (
                ctx.timer_service().current_watermark() >= END_OF_INPUT):
            return  # a timer a restored task inherited, or no sample is to come
        board, tracker = self._board(instance_id)
        at, changed = self._live[instance_id].sample(
            instance_id, board, self._pending.get(instance_id), tracker,
            self._taken.value(instance_id),
            self._period, ctx.timer_service().current_processing_time() + self._ahead)
        for gauge in changed:
            yield _gauge_row(gauge)
        if changed:
            self._sample_at(ctx, instance_id, at)


def _gauge_row(gauge: gauges.QueueGauge | gauges.RoutingProfileGauge):
    """A queue gauge's row, or (the side output, row) of a routing profile gauge."""
    if isinstance(gauge, gauges.QueueGauge):
        return Row(gauge.instance_id, gauge.queue_id, gauge.channel, gauge.contacts_in_queue,
                   gauge.oldest_contact_age_ms, *_counts(gauge.agents), gauge.at)
    return ROUTING_PROFILE_GAUGES, Row(gauge.instance_id, gauge.routing_profile_id,
                                       gauge.routing_profile_name, *_counts(gauge.agents),
                                       gauge.at)


def _counts(counts: gauges.AgentCounts) -> tuple:
    return (counts.online, counts.available, counts.on_contact, counts.after_contact_work,
            counts.non_productive, counts.error, counts.staffed, counts.slots_active,
            counts.slots_available)


NAME_WAIT_MS = 60_000  # the longest a service-level record waits for its queue's name


class QueueNamingFunction(KeyedProcessFunction):
    """Key: instance and queue (`queue_naming.queue_key`). Input: the sink's (table, record
    JSON) of the tables `QueueNaming.needs`, `queue_names` among them; output: the same, for
    the sink (`sink_row`). It keeps each queue's newest name
    this keeps (`queue_naming.QueueNaming` says what a name changes). A
    service-level record that needs a name not known yet is held until the name comes, at most
    `NAME_WAIT_MS` of processing time or to the end of a bounded run; then the default
    thresholds apply."""

    def __init__(self, naming: queue_naming.QueueNaming):
        self._naming = naming

    def open(self, runtime_context: RuntimeContext):
        self._name = runtime_context.get_state(ValueStateDescriptor("name", Types.STRING()))
        self._held = runtime_context.get_list_state(
            ListStateDescriptor("held", Types.PICKLED_BYTE_ARRAY()))
        self._due = runtime_context.get_state(ValueStateDescriptor("release_at", Types.LONG()))

    def process_element(self, value, ctx: KeyedProcessFunction.Context):
        table, text = value
        record = orjson.loads(text)
        if table == queue_naming.NAMES_TABLE:
            self._name.update(queue_naming.record_name(record))
            yield sink_row(table, text)
            yield from self._release()
            return
        name = self._name.value()
        if self._naming.waits(record, name):
            self._held.add((table, text))
            if self._due.value() is None:
                due = ctx.timer_service().current_processing_time() + NAME_WAIT_MS
                ctx.timer_service().register_processing_time_timer(due)
                ctx.timer_service().register_event_time_timer(END_OF_INPUT)
                self._due.update(due)
            return
        yield from self._settled(table, record, text, name)

    def on_timer(self, timestamp: int, ctx: KeyedProcessFunction.OnTimerContext):
        due = self._due.value()
        if timestamp == END_OF_INPUT or (due is not None and timestamp >= due):
            yield from self._release()  # else a timer of records the name released before

    def _release(self):
        held = list(self._held.get() or ())
        self._held.clear()
        self._due.clear()
        name = self._name.value()
        for table, text in held:
            yield from self._settled(table, orjson.loads(text), text, name)

    def _settled(self, table: str, record: dict, text: str, name: str | None):
        settled = self._naming.settle(table, record, name)
        if settled is record:
            yield sink_row(table, text)
        elif settled is not None:
            yield sink_row(table, orjson.dumps(settled).decode())
