"""The contact lifecycle: the story of one Amazon Connect contact, told from its contact events.

Pure Python, no Flink. For one contact (the Flink operator keys by contact id):

    step(state, event, settings)  -> Step(state, outputs, wake_at, clear_at)
    expire(state, now, settings)  -> Step(...)            (event-time timers)

`state` is None for a contact not seen yet, and None again once it may be dropped.

The operator around it (one key = one contact id): for each parsed `ContactEvent` e, send e to
key e.contact_id and `link_event(e)`, when not None, to key e.previous_contact_id. Per key, keep
an `EventOrder` (jobs.core.event_order) and the `ContactState`: `add` each arriving event (a LATE one
goes to `step` at once); on an event-time timer at watermark W, `step` every event of
`release(W)`, then call `expire(state, W)`; keep timers at the earliest buffered event, at
`wake_at` and at `clear_at`; when a step returns state None, drop the state and the buffer.

Facts, not event order
----------------------
Connect's contact events arrive out of order, twice, or never (reference section 2), but each one
carries the contact's data as it stood when it was sent: `queueInfo.enqueueTimestamp`,
`agentInfo.connectedToAgentTimestamp`, `disconnectTimestamp`, the ACW times. `step` therefore
merges every event into a set of timestamped facts (earliest initiation, each enqueue time and
its queue, each agent connection, pauses, disconnect, completion, ...). Merging is commutative
and idempotent: duplicates change nothing, and a DISCONNECTED that arrives before
CONNECTED_TO_AGENT, or a CONNECTED_TO_AGENT whose QUEUED never came, still yields the queue stay
and the answer. The story is then *walked* from the facts in time order (see `_walk`), and
every output is derived from that walk.

Phases
------
INITIATED -> CONNECTED_TO_SYSTEM -> QUEUED -> CONNECTED_TO_AGENT (<-> PAUSED, tasks) ->
DISCONNECTED -> COMPLETED, or EXPIRED when a timeout closes the contact. A contact may skip
phases (an outbound call goes from INITIATED to CONNECTED_TO_AGENT), and comes back to QUEUED
after a queue change or when an agent leg fails and the contact is offered again.

CONNECTING_TO_AGENT is not modelled: contact events have no such event and no timestamp for it
(the offer to an agent is only visible in the agent event stream), so a contact stays QUEUED
until it is connected to an agent, which is also when Connect's queue metrics stop counting it.

Queue stays and why they end (`LeaveReason`): ANSWERED (connected to an agent), ABANDONED
(disconnected while in queue), TRANSFERRED (moved to another queue, in the same contact or into
a new contact), CALLBACK (a callback contact was created from it), EXPIRED (closed by the
maximum queue time). Consecutive enqueues to the same queue with no agent in between are one
stay (a re-offer keeps the customer waiting); an enqueue after an agent connection is a new stay
(the agent leg did not hold: a missed or failed offer), counted in `requeues`.

Linked contacts. Transfers and callbacks create a *new* contact whose `previousContactId` is
this one: an agent transfer, a queue-to-queue transfer from a flow (QUEUE_TRANSFER), a callback
(CALLBACK). The operator feeds `link_event(e)` - a SUCCESSOR_INITIATED event addressed to the
previous contact - to the previous contact's key, next to `e` itself. Received while the contact
is queued it ends the stay (TRANSFERRED or CALLBACK); received later (an agent transfer) it only
records `transferred_out` / `next_contact_id`. This is how a callback is told apart from an
abandon: contact events have no other signal for it.

Outputs
-------
`PhaseTransition`, one per phase change, at the event time of the change: the in-queue and
oldest-contact gauges are built from them (+1 when `to_phase` is QUEUED, -1 when `from_phase` is
QUEUED, both for `queue_id`). A move between queues is two transitions at one instant
(QUEUED -> CONNECTED_TO_SYSTEM in the old queue, CONNECTED_TO_SYSTEM -> QUEUED in the new one),
so each transition concerns exactly one queue. Transitions form one chain per contact (each
`from_phase` is the previous `to_phase`) that ends in COMPLETED or EXPIRED, so every QUEUED
entry is followed by a leave transition carrying its reason.

`CompletedContact`, one per contact, when it closes (COMPLETED, or a timeout). Its time,
`completed_at`, is the contact's own completion time (the COMPLETED event's time, i.e. the end of
ACW) or the expiry deadline - never a processing time - so it is stable.

Timeouts (`LifecycleSettings`)
------------------------------
With no COMPLETED a contact is closed by a timeout measured from the start of its current phase:
in a flow or queue longer than `max_queue_time_ms` (MAX_QUEUE_TIME), connected or paused longer
than `max_handle_time_ms` (MAX_HANDLE_TIME), DISCONNECTED with no COMPLETED within
`acw_timeout_ms` (`no_acw_timeout_ms` when no agent was connected: Connect then sends COMPLETED
right after DISCONNECTED) (NO_COMPLETED). The deadline is `wake_at`; `expire(state, now)` closes
the contact at the deadline once `now` reaches it, and `step` does the same before it applies an
event later than the deadline - so the result does not depend on when the operator's timer fires
(a later event may carry facts about the past when events in between were lost: they correct the
summary, they do not reopen the contact). The outcome says what is known:
EXPIRED only when the contact never left the flow or queue; a contact answered or disconnected
before its timeout keeps HANDLED / ABANDONED / ... and says `expired_reason` (its unseen end
leaves handle time or ACW None). A chat left open by an agent who went offline is still a
handled chat.

Late events
-----------
Inside the allowed lateness the operator's `EventOrder` buffer applies events in event-time
order, so outputs equal the in-order outputs exactly. An event later than that (or a correction
after the summary) is merged like any other:
- the summary is rebuilt from all facts; if it changed, it is emitted again with `version` + 1
  and the same `completed_at`, so the sink's upsert (dimensions + time, higher version wins)
  replaces the row. Facts later than the close itself are ignored (the story ended there).
- transitions are never retracted. New transitions after the last emitted one are emitted,
  chained to it; a late fact about an already emitted past corrects only the summary.
So after all events, the latest summary of a contact equals the in-order one, whatever the
arrival order, as long as the events carry Connect's cumulative data and no deadline passed on
partial facts.

A link can come before any event of its contact (when the contact's earlier events were lost).
It then makes a link-only state: no phase, no output, no deadline, cleared `completed_grace_ms`
after the link unless the contact's own events arrive - so a link to a contact already cleared
makes no phantom contact.

State is cleared `completed_grace_ms` after the close (`clear_at`). An event that arrives after
that starts a new story; a lone COMPLETED rebuilds the same summary row (same time), so the
operator should drop events older than the watermark minus the grace period for keys that have
no state.

State is a frozen slotted dataclass of strings, ints and small tuples (lists are capped at
`MAX_FACTS`): `state_size_bytes` gives its pickled size.
"""

from __future__ import annotations

import pickle
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from jobs.core.events import ContactEvent
from jobs.core.fast_pickle import pickled_by_fields

SECOND = 1_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
MAX_FACTS = 32  # per list of facts (enqueues, agent connections, pauses, linked contacts)

SUCCESSOR_INITIATED = "SUCCESSOR_INITIATED"
CALLBACK_METHODS = frozenset({"CALLBACK"})
TRANSFER_METHODS = frozenset({"TRANSFER", "QUEUE_TRANSFER", "EXTERNAL_OUTBOUND"})
OUTBOUND_METHODS = frozenset({"OUTBOUND", "AGENT_REPLY"})


class Phase:
    INITIATED = "INITIATED"
    CONNECTED_TO_SYSTEM = "CONNECTED_TO_SYSTEM"
    QUEUED = "QUEUED"
    CONNECTED_TO_AGENT = "CONNECTED_TO_AGENT"
    PAUSED = "PAUSED"
    DISCONNECTED = "DISCONNECTED"
    COMPLETED = "COMPLETED"
    EXPIRED = "EXPIRED"


class LeaveReason:
    """Why a queue stay ended."""

    ANSWERED = "ANSWERED"
    ABANDONED = "ABANDONED"
    TRANSFERRED = "TRANSFERRED"
    CALLBACK = "CALLBACK"
    EXPIRED = "EXPIRED"


class Outcome:
    HANDLED = "HANDLED"  # connected to an agent (from its last queue, or with no queue)
    ABANDONED = "ABANDONED"  # disconnected while in queue (callbacks excluded)
    TRANSFERRED_OUT = "TRANSFERRED_OUT"  # left its last queue unanswered, to another queue/contact
    CALLBACK = "CALLBACK"  # left its last queue because a callback was requested
    OUTBOUND = "OUTBOUND"  # started by an agent (outbound call, email reply): never queued
    NOT_QUEUED = "NOT_QUEUED"  # ended in a flow without reaching a queue or an agent
    EXPIRED = "EXPIRED"  # closed by a timeout while still in a flow or queue


class ExpiredReason:
    MAX_QUEUE_TIME = "MAX_QUEUE_TIME"
    MAX_HANDLE_TIME = "MAX_HANDLE_TIME"
    NO_COMPLETED = "NO_COMPLETED"


_TERMINAL = (Phase.COMPLETED, Phase.EXPIRED)
_ENDED = (Phase.DISCONNECTED, Phase.COMPLETED, Phase.EXPIRED)
_BEFORE_QUEUE = (None, Phase.INITIATED, Phase.CONNECTED_TO_SYSTEM)
_WITH_AGENT = (Phase.CONNECTED_TO_AGENT, Phase.PAUSED)


@dataclass(frozen=True, slots=True)
class LifecycleSettings:
    """The timeouts that close contacts whose end never arrives.

    Defaults, in event time:
    - max queue 4 h: far beyond any real voice wait; a contact in a flow or queue that long has
      lost its events. Raise it for chats and tasks, which can wait for days in Connect.
    - max handle 8 h: a working day; no call or chat lasts longer without a new event.
    - ACW timeout 2 h: ACW is minutes; COMPLETED can be missing (best effort, or chats left
      open by an agent who went offline), and the contact must still close the same day.
    - no-ACW timeout 1 min: with no agent Connect sends COMPLETED right after DISCONNECTED.
    - grace 10 min: state is kept that long after the close so that duplicates and late events
      (EventBridge and Kinesis retries, within minutes) are recognised rather than opening a
      new contact; longer costs state for every recent contact.
    """

    max_queue_time_ms: int = 4 * HOUR
    max_handle_time_ms: int = 8 * HOUR
    acw_timeout_ms: int = 2 * HOUR
    completed_grace_ms: int = 10 * MINUTE
    no_acw_timeout_ms: int = 1 * MINUTE

    def __post_init__(self) -> None:
        for name in ("max_queue_time_ms", "max_handle_time_ms", "acw_timeout_ms",
                     "completed_grace_ms", "no_acw_timeout_ms"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")


DEFAULT_SETTINGS = LifecycleSettings()


@dataclass(frozen=True, slots=True)
class PhaseTransition:
    """The contact changed phase at event time `at`.

    `queue_id` is the queue left when `from_phase` is QUEUED, else the queue entered when
    `to_phase` is QUEUED, else the contact's current queue (the one it was answered from).
    `reason` is the `LeaveReason` when leaving QUEUED; `since` is when `from_phase` began (so a
    leave row alone gives the stay's length); `agent_id` is the contact's current agent.
    """

    contact_id: str
    instance_id: str
    queue_id: str | None
    channel: str | None
    initiation_method: str | None
    from_phase: str | None
    to_phase: str
    at: int
    reason: str | None = None
    since: int | None = None
    agent_id: str | None = None


@dataclass(frozen=True, slots=True)
class QueueStay:
    queue_id: str
    enqueued_at: int
    left_at: int | None
    left_reason: str | None


@dataclass(frozen=True, slots=True)
class CompletedContact:
    """One contact's summary, emitted when it closes; re-emitted with a higher `version` if a
    late event corrects it (same `completed_at`).

    Queue (Amazon Connect real-time metric definitions, reference section 3):
    - `queue_id`, `enqueue_time`, `dequeue_time`: the contact's last queue episode (a stay,
      joined with the stays in the same queue before it that only ended in a failed agent leg).
    - `queue_wait_ms` = dequeue - enqueue. For HANDLED contacts it is the queue answer time
      (AVG_QUEUE_ANSWER_TIME); for ABANDONED ones `abandon_time_ms` equals it (AVG_ABANDON_TIME).
    Service level (within each of the queue's thresholds, `jobs.core.service_levels`) is
    `queue_wait_ms` against them, counted by the metric queries.
    Handling (agent connected; None otherwise or when the end was not seen):
    - `answer_time`: connection to the agent who handled it (the last agent leg).
    - `talk_ms` = disconnect - answer - hold; `hold_ms` = agentInitiatedHoldDuration;
      `acw_ms` from the ACW timestamps of COMPLETED (their duration in whole seconds when a
      timestamp is missing; 0 when COMPLETED has no ACW).
    - `handle_ms` = talk + hold + ACW ("contact handle time" includes hold and ACW: AHT).
    - `paused_ms`: tasks, time paused while with the agent (inside talk).
    """

    contact_id: str
    instance_id: str
    channel: str | None
    initiation_method: str | None
    queue_id: str | None
    agent_id: str | None
    outcome: str
    enqueue_time: int | None
    dequeue_time: int | None
    queue_wait_ms: int | None
    answer_time: int | None
    talk_ms: int | None
    hold_ms: int | None
    acw_ms: int | None
    handle_ms: int | None
    abandon_time_ms: int | None
    paused_ms: int | None
    initiation_time: int | None
    disconnect_time: int | None
    disconnect_reason: str | None
    acw_start_time: int | None
    acw_end_time: int | None
    expired_reason: str | None
    requeues: int
    transferred_out: bool
    next_contact_id: str | None
    initial_contact_id: str | None
    previous_contact_id: str | None
    related_contact_id: str | None
    queue_stays: tuple[QueueStay, ...]
    completed_at: int
    version: int = 1


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class ContactState:
    """What is known of one contact (facts) and what was already emitted (bookkeeping)."""

    contact_id: str
    instance_id: str
    channel: str | None = None
    initiation_method: str | None = None
    initial_contact_id: str | None = None
    previous_contact_id: str | None = None
    related_contact_id: str | None = None
    first_seen: int | None = None
    initiated_at: int | None = None
    system_at: int | None = None
    enqueues: tuple[tuple[int, str], ...] = ()  # (enqueue time, queue id)
    connects: tuple[tuple[int, str | None], ...] = ()  # (connected to agent, agent id)
    pauses: tuple[tuple[int, bool], ...] = ()  # (time, True = paused / False = resumed)
    successors: tuple[tuple[int, str, str], ...] = ()  # (initiated, contact id, method)
    disconnect_at: int | None = None
    disconnect_reason: str | None = None
    hold_s: int | None = None
    acw_start: int | None = None
    acw_end: int | None = None
    acw_s: int | None = None
    completed_at: int | None = None
    emitted: int = 0  # points of the walk already emitted as transitions
    cursor: tuple | None = None  # (phase, queue, agent, since) of the last emitted point
    closed_at: int | None = None  # the summary's time, fixed at the first close
    version: int = 0
    summary_crc: int = 0


@dataclass(frozen=True, slots=True)
class Step:
    """The result of `step` / `expire`: the new state (None: drop it), outputs in order, the
    event time to call `expire` next (None: no timeout pending) and the event time from which the
    state may be cleared (None: not closed yet)."""

    state: ContactState | None
    outputs: tuple[PhaseTransition | CompletedContact, ...] = field(default=())
    wake_at: int | None = None
    clear_at: int | None = None


def state_size_bytes(state: ContactState | None) -> int:
    return len(pickle.dumps(state, protocol=5))


def link_event(event: ContactEvent) -> ContactEvent | None:
    """For an event of a contact created from another one (transfer, callback): the
    SUCCESSOR_INITIATED event to send to that previous contact's key, else None.

    Every event of the new contact that knows its initiation time maps to the same link event
    (same id), so duplicates collapse in `EventOrder`.
    """
    previous = event.previous_contact_id
    if not previous or previous == event.contact_id:
        return None
    method = event.initiation_method
    if method not in CALLBACK_METHODS and method not in TRANSFER_METHODS:
        return None
    at = event.initiation_time
    if at is None and event.event_type == "INITIATED":
        at = event.event_time
    if at is None:
        return None
    return ContactEvent(
        event_id=f"{event.contact_id}:{SUCCESSOR_INITIATED}",
        event_type=SUCCESSOR_INITIATED,
        event_time=at,
        contact_id=previous,
        instance_id=event.instance_id,
        channel=event.channel,
        initiation_method=method,
        queue_id=None,
        related_contact_id=event.contact_id,
        initiation_time=at,
    )


def step(
    state: ContactState | None, event: ContactEvent, settings: LifecycleSettings = DEFAULT_SETTINGS
) -> Step:
    """Apply one event of this contact (or a SUCCESSOR_INITIATED link addressed to it)."""
    if state is None:
        state = ContactState(contact_id=event.contact_id, instance_id=event.instance_id)
    merged = _merge(state, event)
    if merged == state:
        return _idle(state, settings)
    closing: tuple = ()
    if state.closed_at is None:
        # What a timer at the deadline would have done before this event came: close first.
        deadline = _deadline(_walk(state), settings)
        if deadline is not None and event.event_time > deadline:
            closed = _advance(replace(state, closed_at=deadline), settings)
            closing = closed.outputs
            merged = _merge(closed.state, event)
    result = _advance(merged, settings)
    return replace(result, outputs=closing + result.outputs)


def expire(
    state: ContactState | None, now: int, settings: LifecycleSettings = DEFAULT_SETTINGS
) -> Step:
    """Timer at event time `now`: close the contact if its current phase timed out, or return
    state None once `clear_at` has passed. Apply the events buffered up to `now` first."""
    if state is None:
        return Step(None)
    clear_at = _clear_at(state, settings)
    if clear_at is not None:
        return Step(None) if now >= clear_at else _idle(state, settings)
    deadline = _deadline(_walk(state), settings)
    if deadline is None or now < deadline:
        return _idle(state, settings)
    return _advance(replace(state, closed_at=deadline), settings)


def waiting_now(state: ContactState | None,
                events: Iterable[ContactEvent]) -> tuple[str, str | None, int] | None:
    """Where the contact waits as every fact known of it tells, `events` still waiting for the
    watermark included: (queue id, channel, enqueued at), or None when it waits in no queue.
    Facts merge in any order, so this is what the in-order story will say once the watermark
    has passed them, unless an event still to come changes it: the gauges' provisional rows
    are built from it. Deadlines are left to the story."""
    for event in events:
        if state is None:
            state = ContactState(contact_id=event.contact_id, instance_id=event.instance_id)
        state = _merge(state, event)
    if state is None:
        return None
    walk = _walk(state)
    if walk.phase != Phase.QUEUED:
        return None
    queue_id, enqueued_at = walk.stays[-1][:2]
    return queue_id, state.channel, enqueued_at


# --- facts ---------------------------------------------------------------------------------


def _merge(s: ContactState, e: ContactEvent) -> ContactState:
    if e.event_type == SUCCESSOR_INITIATED:
        if e.contact_id != s.contact_id or not e.related_contact_id:
            return s
        link = (e.event_time, e.related_contact_id, e.initiation_method or "")
        if any(other[1] == link[1] for other in s.successors):
            return s
        return replace(s, successors=_add(s.successors, link))
    if e.contact_id != s.contact_id:
        return s
    kind = e.event_type
    enqueues, connects, pauses = s.enqueues, s.connects, s.pauses
    enqueue_at = e.enqueue_time if e.enqueue_time is not None else (
        e.event_time if kind == "QUEUED" else None)
    if enqueue_at is not None and e.queue_id:
        enqueues = _add(enqueues, (enqueue_at, e.queue_id))
    connect_at = e.connected_to_agent_time if e.connected_to_agent_time is not None else (
        e.event_time if kind == "CONNECTED_TO_AGENT" else None)
    if connect_at is not None:
        connects = _add_connect(connects, connect_at, e.agent_id)
    if kind in ("PAUSED", "RESUMED"):
        pauses = _add(pauses, (e.event_time, kind == "PAUSED"))
    return replace(
        s,
        instance_id=s.instance_id or e.instance_id,
        channel=s.channel or e.channel,
        initiation_method=s.initiation_method or e.initiation_method,
        initial_contact_id=s.initial_contact_id or e.initial_contact_id,
        previous_contact_id=s.previous_contact_id or e.previous_contact_id,
        related_contact_id=s.related_contact_id or e.related_contact_id,
        first_seen=_min(s.first_seen, e.event_time),
        initiated_at=_min(s.initiated_at, e.initiation_time,
                          e.event_time if kind == "INITIATED" else None),
        system_at=_min(s.system_at, e.connected_to_system_time,
                       e.event_time if kind == "CONNECTED_TO_SYSTEM" else None),
        enqueues=enqueues,
        connects=connects,
        pauses=pauses,
        disconnect_at=_min(s.disconnect_at, e.disconnect_time,
                           e.event_time if kind == "DISCONNECTED" else None),
        disconnect_reason=s.disconnect_reason or e.disconnect_reason,
        hold_s=_max(s.hold_s, e.hold_duration_s),
        acw_start=_min(s.acw_start, e.acw_start_time),
        acw_end=_max(s.acw_end, e.acw_end_time),
        acw_s=_max(s.acw_s, e.acw_duration_s),
        completed_at=_min(s.completed_at, e.event_time if kind == "COMPLETED" else None),
    )


def _add(items: tuple, item: tuple) -> tuple:
    if item in items or len(items) >= MAX_FACTS:
        return items
    return tuple(sorted(items + (item,), key=lambda x: (x[0], str(x[1]))))


def _add_connect(connects: tuple, at: int, agent: str | None) -> tuple:
    """One entry per connection time; an agent id, once known, is kept."""
    known = dict(connects)
    if at in known and (agent is None or known[at] is not None):
        return connects
    if at not in known and len(connects) >= MAX_FACTS:
        return connects
    known[at] = agent
    return tuple(sorted(known.items()))


def _min(*values: int | None) -> int | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def _max(*values: int | None) -> int | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


# --- the walk: the story in time order, derived from the facts alone --------------------------

# Marks in time order; for equal times in lifecycle order. _CLOSE (the fixed close) comes last.
_SEEN, _INIT, _SYSTEM, _QUEUE, _AGENT, _PAUSE, _RESUME, _LINK, _DISCONNECT, _COMPLETE, _CLOSE = (
    range(-1, 10))


@dataclass(slots=True)
class _Point:
    phase: str
    queue: str | None
    agent: str | None
    since: int
    reason: str | None  # why the queue stay before it ended, when it follows QUEUED


@dataclass(slots=True)
class _Walk:
    points: list = field(default_factory=list)
    stays: list = field(default_factory=list)  # [queue, enqueued, left_at, reason]
    queue: str | None = None
    agent: str | None = None
    legs: list = field(default_factory=list)  # agent connection times applied
    disconnect_at: int | None = None
    completed: bool = False
    expired_reason: str | None = None
    paused_ms: int = 0
    requeues: int = 0
    transferred_out: bool = False
    next_contact_id: str | None = None

    @property
    def phase(self) -> str | None:
        return self.points[-1].phase if self.points else None

    def enter(self, phase: str, at: int, reason: str | None = None) -> None:
        last = self.points[-1] if self.points else None
        if last is not None and last.phase == Phase.PAUSED:
            self.paused_ms += at - last.since
        if last is not None and last.phase == Phase.QUEUED and self.stays:
            self.stays[-1][2:] = [at, reason]
        self.points.append(_Point(phase, self.queue, self.agent, at, reason))


def _marks(s: ContactState) -> list[tuple]:
    marks: list[tuple] = []
    if s.first_seen is not None:
        marks.append((s.first_seen, _SEEN, None))
    if s.initiated_at is not None:
        marks.append((s.initiated_at, _INIT, None))
    if s.system_at is not None:
        marks.append((s.system_at, _SYSTEM, None))
    if s.initiation_method not in OUTBOUND_METHODS:
        marks.extend((at, _QUEUE, queue) for at, queue in s.enqueues)
    marks.extend((at, _AGENT, agent) for at, agent in s.connects)
    marks.extend((at, _PAUSE if paused else _RESUME, None) for at, paused in s.pauses)
    marks.extend((at, _LINK, (contact, method)) for at, contact, method in s.successors)
    if s.disconnect_at is not None:
        marks.append((s.disconnect_at, _DISCONNECT, None))
    if s.completed_at is not None:
        # COMPLETED without ACW is timed by its envelope (whole seconds), which can fall before
        # the disconnect it reports: it cannot end the contact before its own disconnect / ACW.
        marks.append((_max(s.completed_at, s.disconnect_at, s.acw_end), _COMPLETE, None))
    if s.closed_at is not None:
        marks.append((s.closed_at, _CLOSE, None))
    marks.sort(key=lambda m: (m[0], m[1], str(m[2])))
    return marks


def _walk(s: ContactState) -> _Walk:
    """Replay the facts in time order through the phase rules, up to the close.

    A rule never looks ahead, so the walk of a prefix of the facts (in time) is a prefix of the
    walk of all of them: that is what lets in-order processing emit transitions incrementally.
    """
    w = _Walk()
    for at, kind, value in _marks(s):
        _apply(w, at, kind, value)
        if w.phase in _TERMINAL:
            break
    return w


def _apply(w: _Walk, at: int, kind: int, value) -> None:
    phase = w.phase
    if kind in (_SEEN, _INIT):
        if phase is None:
            w.enter(Phase.INITIATED, at)
    elif kind == _SYSTEM:
        if phase in (None, Phase.INITIATED):
            w.enter(Phase.CONNECTED_TO_SYSTEM, at)
    elif kind == _QUEUE:
        if phase in _ENDED or (phase == Phase.QUEUED and value == w.queue):
            return
        if phase == Phase.QUEUED:  # moved to another queue within the contact
            w.enter(Phase.CONNECTED_TO_SYSTEM, at, LeaveReason.TRANSFERRED)
        elif phase in _WITH_AGENT:  # the agent leg did not hold: offered again
            w.requeues += 1
        w.queue = value
        w.stays.append([value, at, None, None])
        w.enter(Phase.QUEUED, at)
    elif kind == _AGENT:
        if phase in _BEFORE_QUEUE or phase == Phase.QUEUED:
            w.agent = value
            w.legs.append(at)
            w.enter(Phase.CONNECTED_TO_AGENT, at,
                    LeaveReason.ANSWERED if phase == Phase.QUEUED else None)
    elif kind == _PAUSE:
        if phase == Phase.CONNECTED_TO_AGENT:
            w.enter(Phase.PAUSED, at)
    elif kind == _RESUME:
        if phase == Phase.PAUSED:
            w.enter(Phase.CONNECTED_TO_AGENT, at)
    elif kind == _LINK:
        contact, method = value
        w.next_contact_id = contact
        callback = method in CALLBACK_METHODS
        if phase == Phase.QUEUED:
            w.enter(Phase.CONNECTED_TO_SYSTEM, at,
                    LeaveReason.CALLBACK if callback else LeaveReason.TRANSFERRED)
        if not callback:
            w.transferred_out = True
    elif kind == _DISCONNECT:
        if phase not in _ENDED:
            w.disconnect_at = at
            w.enter(Phase.DISCONNECTED, at,
                    LeaveReason.ABANDONED if phase == Phase.QUEUED else None)
    elif kind == _COMPLETE:
        w.completed = True
        w.enter(Phase.COMPLETED, at, LeaveReason.ABANDONED if phase == Phase.QUEUED else None)
    elif kind == _CLOSE:
        if phase is not None:
            _close_by_timeout(w, at)


def _close_by_timeout(w: _Walk, at: int) -> None:
    phase = w.phase
    if phase in _WITH_AGENT:
        w.expired_reason = ExpiredReason.MAX_HANDLE_TIME
    elif phase == Phase.DISCONNECTED:
        w.expired_reason = ExpiredReason.NO_COMPLETED
    else:
        w.expired_reason = ExpiredReason.MAX_QUEUE_TIME
    w.enter(Phase.EXPIRED, at, LeaveReason.EXPIRED if phase == Phase.QUEUED else None)


def _deadline(w: _Walk, settings: LifecycleSettings) -> int | None:
    """When the current phase times out; None before the first phase and after the last."""
    if not w.points or w.phase in _TERMINAL:
        return None
    since = w.points[-1].since
    if w.phase in _WITH_AGENT:
        return since + settings.max_handle_time_ms
    if w.phase == Phase.DISCONNECTED:
        return since + (settings.acw_timeout_ms if w.legs else settings.no_acw_timeout_ms)
    return since + settings.max_queue_time_ms


# --- outputs -------------------------------------------------------------------------------


def _advance(s: ContactState, settings: LifecycleSettings) -> Step:
    w = _walk(s)
    if s.closed_at is None and w.phase in _TERMINAL:
        s = replace(s, closed_at=w.points[-1].since)
    s, outputs = _emit_transitions(s, w)
    if s.closed_at is not None:
        summary = _summary(s, w, settings)
        crc = zlib.crc32(repr(summary).encode())
        if crc != s.summary_crc:
            s = replace(s, version=s.version + 1, summary_crc=crc)
            outputs.append(replace(summary, version=s.version))
    return _result(s, w, outputs, settings)


def _idle(s: ContactState, settings: LifecycleSettings) -> Step:
    return _result(s, None, [], settings)


def _result(s: ContactState, w: _Walk | None, outputs: list, settings) -> Step:
    clear_at = _clear_at(s, settings)
    if clear_at is not None:
        return Step(s, tuple(outputs), None, clear_at)
    w = w if w is not None else _walk(s)
    return Step(s, tuple(outputs), _deadline(w, settings), None)


def _clear_at(s: ContactState, settings: LifecycleSettings) -> int | None:
    """Closed: the grace period after the close. Only links known (no event of the contact
    itself): the grace period after the last link, unless the contact's own events come."""
    if s.closed_at is not None:
        return s.closed_at + settings.completed_grace_ms
    if s.first_seen is None:
        return max(at for at, _, _ in s.successors) + settings.completed_grace_ms
    return None


def _emit_transitions(s: ContactState, w: _Walk) -> tuple[ContactState, list]:
    points = w.points
    last = s.cursor
    if last is not None and last[0] in _TERMINAL:
        return s, []
    if last is None:
        new = points
    elif s.emitted <= len(points) and _sig(points[s.emitted - 1]) == last:
        new = points[s.emitted:]
    else:  # a late fact rewrote the emitted past: carry on after the last emitted point
        new = [p for p in points if p.since > last[3]]
    outputs: list = []
    for point in new:
        outputs.extend(_transitions(s, last, point))
        last = _sig(point)
    return replace(s, emitted=len(points), cursor=last), outputs


def _sig(p: _Point) -> tuple:
    return (p.phase, p.queue, p.agent, p.since)


_DEFAULT_LEAVE = {
    Phase.CONNECTED_TO_AGENT: LeaveReason.ANSWERED,
    Phase.PAUSED: LeaveReason.ANSWERED,
    Phase.DISCONNECTED: LeaveReason.ABANDONED,
    Phase.COMPLETED: LeaveReason.ABANDONED,
    Phase.EXPIRED: LeaveReason.EXPIRED,
}


def _transitions(s: ContactState, last: tuple | None, p: _Point) -> list[PhaseTransition]:
    from_phase, from_queue, _, since = last if last is not None else (None, None, None, None)

    def make(queue, frm, to, reason=None, began=since):
        return PhaseTransition(s.contact_id, s.instance_id, queue, s.channel,
                               s.initiation_method, frm, to, p.since, reason, began, p.agent)

    if from_phase == Phase.QUEUED and p.phase == Phase.QUEUED:
        if from_queue == p.queue:
            return []
        return [make(from_queue, Phase.QUEUED, Phase.CONNECTED_TO_SYSTEM, LeaveReason.TRANSFERRED),
                make(p.queue, Phase.CONNECTED_TO_SYSTEM, Phase.QUEUED, began=p.since)]
    if from_phase == p.phase:
        return []
    if from_phase == Phase.QUEUED:
        reason = p.reason or _DEFAULT_LEAVE.get(p.phase, LeaveReason.TRANSFERRED)
        return [make(from_queue, from_phase, p.phase, reason)]
    return [make(p.queue, from_phase, p.phase)]


def _summary(s: ContactState, w: _Walk, settings: LifecycleSettings) -> CompletedContact:
    stays = tuple(QueueStay(q, at, left, why) for q, at, left, why in w.stays)
    last = stays[-1] if stays else None
    episode = len(stays) - 1
    while episode > 0 and stays[episode - 1].queue_id == stays[episode].queue_id and (
            stays[episode - 1].left_reason == LeaveReason.ANSWERED):
        episode -= 1

    if s.initiation_method in OUTBOUND_METHODS:
        outcome = Outcome.OUTBOUND
    elif last is not None:
        outcome = {
            LeaveReason.ANSWERED: Outcome.HANDLED,
            LeaveReason.ABANDONED: Outcome.ABANDONED,
            LeaveReason.CALLBACK: Outcome.CALLBACK,
            LeaveReason.TRANSFERRED: Outcome.TRANSFERRED_OUT,
        }.get(last.left_reason, Outcome.EXPIRED)
    elif w.legs:
        outcome = Outcome.HANDLED
    elif w.disconnect_at is None and w.expired_reason is not None:
        outcome = Outcome.EXPIRED
    else:
        outcome = Outcome.NOT_QUEUED

    enqueue = stays[episode].enqueued_at if last else None
    dequeue = last.left_at if last else None
    wait = dequeue - enqueue if last and dequeue is not None else None

    answer = w.legs[-1] if w.legs else None
    talk = hold = acw = handle = paused = None
    if answer is not None:
        hold = (s.hold_s or 0) * SECOND
        paused = w.paused_ms
        if w.disconnect_at is not None:
            connected = w.disconnect_at - answer
            talk = max(connected - hold, 0)
            if w.completed:
                acw = _acw_ms(s)
                handle = talk + hold + acw
    return CompletedContact(
        contact_id=s.contact_id,
        instance_id=s.instance_id,
        channel=s.channel,
        initiation_method=s.initiation_method,
        queue_id=last.queue_id if last else None,
        agent_id=w.agent if answer is not None else None,
        outcome=outcome,
        enqueue_time=enqueue,
        dequeue_time=dequeue,
        queue_wait_ms=wait,
        answer_time=answer,
        talk_ms=talk,
        hold_ms=hold,
        acw_ms=acw,
        handle_ms=handle,
        abandon_time_ms=wait if outcome == Outcome.ABANDONED else None,
        paused_ms=paused,
        initiation_time=s.initiated_at,
        disconnect_time=w.disconnect_at,
        disconnect_reason=s.disconnect_reason,
        acw_start_time=s.acw_start if w.completed else None,
        acw_end_time=s.acw_end if w.completed else None,
        expired_reason=w.expired_reason,
        requeues=w.requeues,
        transferred_out=w.transferred_out or outcome == Outcome.TRANSFERRED_OUT,
        next_contact_id=w.next_contact_id,
        initial_contact_id=s.initial_contact_id,
        previous_contact_id=s.previous_contact_id,
        related_contact_id=s.related_contact_id,
        queue_stays=stays,
        completed_at=s.closed_at,
        version=0,
    )


def _acw_ms(s: ContactState) -> int:
    if s.acw_start is not None and s.acw_end is not None:
        return max(s.acw_end - s.acw_start, 0)
    return (s.acw_s or 0) * SECOND
