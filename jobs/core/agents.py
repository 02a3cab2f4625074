"""Agent activity: one agent's event stream in, typed facts out. Pure Python, no Flink import.

The Flink operator keys the agent events by agent ARN and, for each key, only loads the state,
calls `apply` (an event) or `expire` (a timer), stores `Step.state`, registers timers at
`Step.wake_at` and `Step.clear_at` and drops the state when `Step.state` is None.

What an agent is doing comes from the contacts in each snapshot, never from the status name alone:
the status stays `Available` while the agent talks to a customer.

Activity of a snapshot
----------------------
Every contact the agent holds maps to an activity by its `State`:

    ERROR                                   -> ERROR
    MISSED                                  -> MISSED   (rejected voice contacts show as MISSED)
    REJECTED                                -> REJECTED (non-voice contacts the agent declined)
    CONNECTED, CONNECTED_ONHOLD, PAUSED     -> ON_CONTACT (a paused task keeps its slot and agent)
    CONNECTING, agent-initiated contact     -> ON_CONTACT (ringing outbound: `OUTBOUND_METHODS`)
    ENDED                                   -> ACW      (conversation over, After Contact Work)
    CONNECTING (other methods), INCOMING,
    PENDING                                 -> INCOMING (offered: ringing inbound, callbacks)
    anything else (unknown, missing)        -> no activity (the contact still counts as a slot)

and the status by its type: CUSTOM -> NON_PRODUCTIVE, ROUTABLE -> AVAILABLE (an unknown type
that is not OFFLINE counts as CUSTOM). The agent's activity is the first of those found in
Connect's precedence, `PRECEDENCE`:
ERROR > MISSED > REJECTED > ON_CONTACT > ACW > INCOMING > NON_PRODUCTIVE > AVAILABLE.
It is OFFLINE instead, whatever the contacts, after LOGOUT, when the status type is OFFLINE (or
unknown), and while the agent is stale.

Work facts (`AgentWork`), each at most once per contact
-------------------------------------------------------
- MISSED / REJECTED: when a contact is first seen in that state; `at` is its StateStartTimestamp,
  `duration_ms` how long it was offered (from the first CONNECTING/INCOMING/PENDING seen), or None.
- HANDLED: a contact the agent was connected to (ConnectedToAgentTimestamp, or a
  CONNECTED/CONNECTED_ONHOLD/PAUSED state seen) whose conversation ended: at the StateStartTimestamp
  of ENDED, or, when the contact leaves the snapshot straight from a talking state (no ACW), at
  that event's time. `duration_ms` = conversation end - connected, talk plus hold, without ACW.
- ACW: Connect's recipe. Starts at the StateStartTimestamp of the contact whose State is ENDED,
  ends at the EventTimestamp of the event whose current snapshot no longer holds the contact while
  the previous snapshot (or this state) held it as ENDED. `at` is the end.
  Connect's contact handle time (AHT) = HANDLED + ACW of the contact:
  AHT over any range = (sum HANDLED.duration_ms + sum ACW.duration_ms) / count HANDLED.
- ACTIVITY_TIME: when an activity ends, the time spent in it (`activity` names it). Activities
  start at the EventTimestamp of the event that changed them, so the durations tile the agent's
  timeline and any occupancy ratio can be summed over any range, e.g. (ON_CONTACT + ACW) /
  (ON_CONTACT + ACW + INCOMING + AVAILABLE).
A LOGOUT ends the agent's part of every contact it still holds at the LOGOUT's time.

Order, duplicates, staleness, logout
------------------------------------
- An event older than the newest one applied is ignored (replays, resharding), so is one whose
  EventId was already applied. Only ids sharing the newest applied timestamp can still be repeats
  that the time rule lets through, so the state keeps those, at most
  `AgentSettings.remembered_event_ids` of them. An event without an id is keyed by type and time.
- An agent without any event for `stale_after_ms` (three heartbeat periods) is stale: `expire`
  emits AgentFacts(stale=True, online=False) and a transition to OFFLINE at
  last event + stale_after_ms. Any later event brings the agent back.
- Heartbeats keep coming for up to an hour after LOGOUT and may still carry the last routable
  status. After a LOGOUT, a HEART_BEAT changes nothing (its id and time are recorded); only a LOGIN
  or a STATE_CHANGE whose status is not OFFLINE brings the agent back online. A STATE_CHANGE with
  an OFFLINE status (e.g. a new routing profile assigned to a logged-out agent) updates the
  configuration and the agent stays logged out.
- State is dropped (`Step.clear_at`) `forget_after_ms` (default 1 h 5 min) after the LOGOUT, so
  the late heartbeats are still recognised, or after the last event of a stale agent. A copy of
  an event that arrives after that cannot be recognised any more.
- A fresh state (job start, or after the state was dropped) trusts whatever event comes first,
  heartbeats included: agents logged in before the job started show up with their next heartbeat.

Configuration changes (routing profile, its queues, hierarchy groups) take effect at the event
that carries them: a new AgentFacts is emitted at that event's time.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import Enum
from typing import Union

from jobs.core.events import AgentContact, AgentEvent, AgentSnapshot, AgentStatus
from jobs.core.fast_pickle import pickled_by_fields


class Activity(str, Enum):
    ERROR = "ERROR"
    MISSED = "MISSED"
    REJECTED = "REJECTED"
    ON_CONTACT = "ON_CONTACT"
    ACW = "ACW"
    INCOMING = "INCOMING"
    NON_PRODUCTIVE = "NON_PRODUCTIVE"
    AVAILABLE = "AVAILABLE"
    OFFLINE = "OFFLINE"


class WorkKind(str, Enum):
    HANDLED = "HANDLED"
    ACW = "ACW"
    MISSED = "MISSED"
    REJECTED = "REJECTED"
    ACTIVITY_TIME = "ACTIVITY_TIME"


#: Connect's activity precedence when several contacts are open (first wins).
PRECEDENCE: tuple[Activity, ...] = (
    Activity.ERROR,
    Activity.MISSED,
    Activity.REJECTED,
    Activity.ON_CONTACT,
    Activity.ACW,
    Activity.INCOMING,
    Activity.NON_PRODUCTIVE,
    Activity.AVAILABLE,
)
_RANK = {activity: rank for rank, activity in enumerate(PRECEDENCE)}

#: Contact `State` -> activity; CONNECTING depends on who initiated the contact.
CONTACT_STATE_ACTIVITY: dict[str, Activity] = {
    "ERROR": Activity.ERROR,
    "MISSED": Activity.MISSED,
    "REJECTED": Activity.REJECTED,
    "CONNECTED": Activity.ON_CONTACT,
    "CONNECTED_ONHOLD": Activity.ON_CONTACT,
    "PAUSED": Activity.ON_CONTACT,
    "ENDED": Activity.ACW,
    "CONNECTING": Activity.INCOMING,
    "INCOMING": Activity.INCOMING,
    "PENDING": Activity.INCOMING,
}
#: Initiation methods of contacts the agent places: ringing them counts as on contact.
OUTBOUND_METHODS = frozenset({"OUTBOUND", "EXTERNAL_OUTBOUND", "AGENT_REPLY"})

_OFFERED = frozenset({"CONNECTING", "INCOMING", "PENDING"})
_TALKING = frozenset({"CONNECTED", "CONNECTED_ONHOLD", "PAUSED"})
_ON_CONTACT = _TALKING | {"ENDED"}
_BLOCKING = frozenset({"MISSED", "REJECTED", "ERROR"})
_REPORTED_MISSED = 1
_REPORTED_REJECTED = 2
_REPORTED_HANDLED = 4


@dataclass(frozen=True)
class AgentSettings:
    stale_after_ms: int = 360_000
    forget_after_ms: int = 3_900_000
    remembered_event_ids: int = 16

    def __post_init__(self):
        for name in ("stale_after_ms", "forget_after_ms", "remembered_event_ids"):
            if getattr(self, name) <= 0:
                raise ValueError(
                    f"AgentSettings.{name} must be positive, got {getattr(self, name)}"
                )


DEFAULT_SETTINGS = AgentSettings()


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class TrackedContact:
    """What the agent's snapshots told us about one contact it holds."""

    contact_id: str
    channel: str | None
    initiation_method: str | None
    queue_id: str | None
    state: str | None
    state_since: int
    offered_at: int | None
    connected_at: int | None
    acw_since: int | None
    reported: int  # bit set of the work facts already emitted for it


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class AgentState:
    """Everything kept for one agent between events; small and picklable."""

    agent_id: str
    instance_id: str
    username: str | None
    newest_event_time: int
    recent_event_ids: tuple[str, ...]  # keys of the applied events at newest_event_time
    logged_out_at: int | None
    stale: bool
    status_name: str | None
    status_type: str | None
    profile_id: str | None
    profile_name: str | None
    queue_ids: tuple[str, ...]
    channels: tuple[str, ...]
    concurrency: tuple[tuple[str, int, int], ...]  # (channel, max, available) as Connect reports
    hierarchy_group_ids: tuple[str, ...]
    contacts: tuple[TrackedContact, ...]
    activity_since: int
    # (queue id, name) of every named queue its snapshots showed (profile, outbound, contacts)
    queue_names: tuple[tuple[str, str], ...] = ()

    @property
    def activity(self) -> Activity:
        return _activity(self)

    @property
    def logged_out(self) -> bool:
        return self.logged_out_at is not None


@dataclass(frozen=True)
class ActivityTransition:
    agent_id: str
    instance_id: str
    from_activity: Activity | None  # None for the first event of a fresh state
    to_activity: Activity
    at: int
    time_in_previous_ms: int | None


@dataclass(frozen=True)
class AgentFacts:
    """What the agent gauges need; emitted whenever any of it (but `at`) changes.

    Connect's definitions: online = logged in, status not Offline, not stale; on_contact = holds a
    contact connected, on hold, paused, in ACW or ringing outbound; in_acw = a contact ENDED;
    in_error = a contact in ERROR; non_productive = a custom status (may be on contact too);
    staffed = online and not non_productive; available = status Available, no MISSED, REJECTED or
    ERROR contact, and the channels with free slots. slots_active = contacts held,
    slots_available = the free slots in `available`. Offline or stale agents count in nothing.
    Time in the current activity = at - activity_since.
    """

    agent_id: str
    instance_id: str
    agent_username: str | None
    routing_profile_id: str | None
    routing_profile_name: str | None
    queue_ids: tuple[str, ...]
    channels: tuple[str, ...]
    hierarchy_group_ids: tuple[str, ...]
    online: bool
    available: tuple[tuple[str, int], ...]  # (channel, free slots) for channels with free slots
    on_contact: bool
    in_acw: bool
    non_productive: bool
    in_error: bool
    staffed: bool
    activity: Activity
    activity_since: int
    status_name: str | None
    slots_active: int
    slots_available: int
    stale: bool
    at: int
    queue_names: tuple[tuple[str, str], ...] = ()  # (queue id, newest name) its snapshots named


@dataclass(frozen=True)
class AgentWork:
    agent_id: str
    instance_id: str
    kind: WorkKind
    contact_id: str | None
    channel: str | None
    queue_id: str | None
    at: int
    duration_ms: int | None
    activity: Activity | None = None  # ACTIVITY_TIME: the activity that ended
    initiation_method: str | None = None


Output = Union[ActivityTransition, AgentFacts, AgentWork]


@dataclass(frozen=True)
class Step:
    state: AgentState | None
    outputs: tuple[Output, ...]
    wake_at: int | None
    clear_at: int | None


# --- public functions ---------------------------------------------------------------------------


def apply(
    state: AgentState | None, event: AgentEvent, settings: AgentSettings = DEFAULT_SETTINGS
) -> Step:
    """One agent event: the new state and what it changed."""
    key = event.event_id or f"{event.event_type}@{event.event_time}"
    if state is not None and (
        event.event_time < state.newest_event_time or key in state.recent_event_ids
    ):
        return _step(state, (), settings)
    at = event.event_time
    before = state
    if state is None:
        state = _fresh_state(event)
    if at > state.newest_event_time:
        recent = (key,)
    else:
        recent = (state.recent_event_ids + (key,))[-settings.remembered_event_ids :]
    base = replace(state, newest_event_time=at, recent_event_ids=recent, stale=False)
    if event.event_type == "HEART_BEAT" and base.logged_out:
        return _step(base, (), settings)
    after, work = _apply_snapshot(base, event)
    after, outputs = _changes(before, after, at)
    return _step(after, tuple(work) + outputs, settings)


def expire(state: AgentState | None, now: int, settings: AgentSettings = DEFAULT_SETTINGS) -> Step:
    """A timer at `now`: the agent goes stale, or its state is dropped."""
    if state is None:
        return Step(None, (), None, None)
    wake_at, clear_at = deadlines(state, settings)
    if clear_at is not None and now >= clear_at:
        return Step(None, (), None, None)
    if wake_at is not None and now >= wake_at:
        stale, outputs = _changes(state, replace(state, stale=True), wake_at)
        return _step(stale, outputs, settings)
    return Step(state, (), wake_at, clear_at)


def deadlines(
    state: AgentState, settings: AgentSettings = DEFAULT_SETTINGS
) -> tuple[int | None, int | None]:
    """(wake_at, clear_at) of a state: when `expire` has work to do. The operator can delete the
    timers of the state it replaces with these."""
    if state.logged_out_at is not None:
        return None, state.logged_out_at + settings.forget_after_ms
    if state.stale:
        return None, state.newest_event_time + settings.forget_after_ms
    return state.newest_event_time + settings.stale_after_ms, None


def agent_facts(state: AgentState, at: int) -> AgentFacts:
    """The gauges' view of an agent (Connect's real-time agent metric definitions)."""
    online = _online(state)
    contacts = state.contacts if online else ()
    states = {c.state for c in contacts}
    non_productive = online and _status_activity(state.status_type) is Activity.NON_PRODUCTIVE
    available: tuple[tuple[str, int], ...] = ()
    if online and state.status_type == "ROUTABLE" and not states & _BLOCKING:
        available = tuple((channel, free) for channel, _, free in _slots(state) if free > 0)
    return AgentFacts(
        agent_id=state.agent_id,
        instance_id=state.instance_id,
        agent_username=state.username,
        routing_profile_id=state.profile_id,
        routing_profile_name=state.profile_name,
        queue_ids=state.queue_ids,
        channels=state.channels,
        hierarchy_group_ids=state.hierarchy_group_ids,
        online=online,
        available=available,
        on_contact=any(_is_on_contact(c.state, c.initiation_method) for c in contacts),
        in_acw="ENDED" in states,
        non_productive=non_productive,
        in_error="ERROR" in states,
        staffed=online and not non_productive,
        activity=_activity(state),
        activity_since=state.activity_since,
        status_name=state.status_name,
        slots_active=len(contacts),
        slots_available=sum(free for _, free in available),
        stale=state.stale,
        at=at,
        queue_names=state.queue_names,
    )


def contact_activity(state: str | None, initiation_method: str | None) -> Activity | None:
    """The activity one contact in a snapshot stands for (None: it stands for none)."""
    if state == "CONNECTING" and initiation_method in OUTBOUND_METHODS:
        return Activity.ON_CONTACT
    return CONTACT_STATE_ACTIVITY.get(state or "")


def snapshot_activity(snapshot: AgentSnapshot | None, logged_out: bool = False) -> Activity:
    """The activity of one snapshot with Connect's precedence (see the module documentation)."""
    if snapshot is None:
        return Activity.OFFLINE
    return _resolve(
        _status_type(snapshot.status),
        ((c.state, c.initiation_method) for c in snapshot.contacts),
        logged_out,
    )


def state_size_bytes(state: AgentState | None) -> int:
    return len(pickle.dumps(state, protocol=5))


# --- the state machine --------------------------------------------------------------------------


def _fresh_state(event: AgentEvent) -> AgentState:
    return AgentState(
        agent_id=event.agent_id,
        instance_id=event.instance_id,
        username=event.username,
        newest_event_time=event.event_time,
        recent_event_ids=(),
        logged_out_at=None,
        stale=False,
        status_name=None,
        status_type=None,
        profile_id=None,
        profile_name=None,
        queue_ids=(),
        channels=(),
        concurrency=(),
        hierarchy_group_ids=(),
        contacts=(),
        activity_since=event.event_time,
    )


def _apply_snapshot(state: AgentState, event: AgentEvent) -> tuple[AgentState, list[AgentWork]]:
    at = event.event_time
    current = event.current
    changes: dict = {}
    if event.username is not None:
        changes["username"] = event.username
    if current is not None:
        changes.update(_configuration(current))
        names = _named_queues(current)
        if names and not names.items() <= set(state.queue_names):
            changes["queue_names"] = tuple(sorted({**dict(state.queue_names), **names}.items()))
    status_type = changes.get("status_type", state.status_type)
    if event.event_type == "LOGOUT":
        changes["logged_out_at"] = at
    elif event.event_type == "LOGIN" or (
        event.event_type == "STATE_CHANGE" and current is not None and status_type != "OFFLINE"
    ):
        changes["logged_out_at"] = None
    work: list[AgentWork] = []
    if current is not None or event.event_type == "LOGOUT":
        tracked = {c.contact_id: c for c in state.contacts}
        if event.previous is not None:
            for contact in event.previous.contacts:
                known = tracked.get(contact.contact_id)
                if known is None or (contact.state_start_time or at) >= known.state_since:
                    tracked[contact.contact_id] = _observe(state, known, contact, at, work)
        held: dict[str, TrackedContact] = {}
        if event.event_type != "LOGOUT" and current is not None:
            for contact in current.contacts:
                known = held.get(contact.contact_id) or tracked.get(contact.contact_id)
                held[contact.contact_id] = _observe(state, known, contact, at, work)
        elif current is not None:  # a LOGOUT: what it still shows is settled, then released
            for contact in current.contacts:
                known = tracked.get(contact.contact_id)
                tracked[contact.contact_id] = _observe(state, known, contact, at, work)
        for contact_id, contact in tracked.items():
            if contact_id not in held:
                _release(state, contact, at, work)
        changes["contacts"] = tuple(held.values())
    return replace(state, **changes), work


def _configuration(snapshot: AgentSnapshot) -> dict:
    values: dict = {
        "hierarchy_group_ids": tuple(
            group.group_id for group in sorted(snapshot.hierarchy_groups, key=lambda g: g.level)
        ),
    }
    status_type = _status_type(snapshot.status)
    if status_type is not None:  # a snapshot without a usable status keeps the one we know
        values.update(status_name=snapshot.status.name, status_type=status_type)
    profile = snapshot.routing_profile
    if profile is not None:
        concurrency = tuple(
            (c.channel, c.max_slots, c.available_slots) for c in profile.concurrency
        )
        channels = {channel for channel, max_slots, _ in concurrency if max_slots > 0}
        if not concurrency:
            channels = {ch for queue in profile.inbound_queues for ch in queue.channels}
        values.update(
            profile_id=profile.profile_id,
            profile_name=profile.name,
            queue_ids=tuple(sorted({queue.queue_id for queue in profile.inbound_queues})),
            channels=tuple(sorted(channels)),
            concurrency=concurrency,
        )
    return values


def _named_queues(snapshot: AgentSnapshot) -> dict[str, str]:
    """Queue id -> name of the named queues in a snapshot: the routing profile's inbound and
    default outbound queues and the queues of its contacts (agent queues have no name)."""
    profile = snapshot.routing_profile
    queues = [profile.default_outbound_queue] if profile is not None else []
    queues.extend(contact.queue for contact in snapshot.contacts)
    if profile is not None:  # the profile's own list last: its names win within a snapshot
        queues.extend(profile.inbound_queues)
    return {queue.queue_id: queue.name for queue in queues if queue is not None and queue.name}


def _observe(
    state: AgentState,
    known: TrackedContact | None,
    contact: AgentContact,
    at: int,
    work: list[AgentWork],
) -> TrackedContact:
    """Fold one snapshot's view of a contact into what we know; emit what it settles."""
    contact_state = contact.state.upper() if contact.state else None
    if contact.state_start_time is not None:
        since = contact.state_start_time
    elif known is not None and known.state == contact_state:
        since = known.state_since
    else:
        since = at
    offered_at = known.offered_at if known else None
    if offered_at is None and contact_state in _OFFERED:
        offered_at = since
    connected_at = contact.connected_to_agent_time or (known.connected_at if known else None)
    if connected_at is None and contact_state in _TALKING:
        connected_at = since
    acw_since = known.acw_since if known else None
    reported = known.reported if known else 0
    tracked = TrackedContact(
        contact_id=contact.contact_id,
        channel=contact.channel or (known.channel if known else None),
        initiation_method=contact.initiation_method or (known.initiation_method if known else None),
        queue_id=contact.queue.queue_id if contact.queue else (known.queue_id if known else None),
        state=contact_state,
        state_since=since,
        offered_at=offered_at,
        connected_at=connected_at,
        acw_since=acw_since,
        reported=reported,
    )
    if contact_state == "MISSED" and not reported & _REPORTED_MISSED:
        offered = since - offered_at if offered_at is not None else None
        work.append(_work(state, WorkKind.MISSED, tracked, since, offered))
        reported |= _REPORTED_MISSED
    elif contact_state == "REJECTED" and not reported & _REPORTED_REJECTED:
        offered = since - offered_at if offered_at is not None else None
        work.append(_work(state, WorkKind.REJECTED, tracked, since, offered))
        reported |= _REPORTED_REJECTED
    elif contact_state == "ENDED":
        if acw_since is None:
            acw_since = since
        if connected_at is not None and not reported & _REPORTED_HANDLED:
            talk = max(0, acw_since - connected_at)
            work.append(_work(state, WorkKind.HANDLED, tracked, acw_since, talk))
            reported |= _REPORTED_HANDLED
    return replace(tracked, acw_since=acw_since, reported=reported)


def _release(state: AgentState, contact: TrackedContact, at: int, work: list[AgentWork]) -> None:
    """The agent's part of a contact is over at `at` (it left the snapshot, or a LOGOUT)."""
    if contact.state == "ENDED" and contact.acw_since is not None:
        work.append(_work(state, WorkKind.ACW, contact, at, max(0, at - contact.acw_since)))
    elif (
        contact.state in _TALKING
        and contact.connected_at is not None
        and not contact.reported & _REPORTED_HANDLED
    ):
        talk = max(0, at - contact.connected_at)
        work.append(_work(state, WorkKind.HANDLED, contact, at, talk))


def _work(
    state: AgentState, kind: WorkKind, contact: TrackedContact, at: int, duration: int | None
) -> AgentWork:
    return AgentWork(
        agent_id=state.agent_id,
        instance_id=state.instance_id,
        kind=kind,
        contact_id=contact.contact_id,
        channel=contact.channel,
        queue_id=contact.queue_id,
        at=at,
        duration_ms=duration,
        initiation_method=contact.initiation_method,
    )


def _changes(
    before: AgentState | None, after: AgentState, at: int
) -> tuple[AgentState, tuple[Output, ...]]:
    """The transition, activity time and facts that differ between two states, at `at`; the
    activity of `after` starts at `at` when it changed."""
    outputs: list[Output] = []
    new_activity = _activity(after)
    if before is None:
        outputs.append(
            ActivityTransition(after.agent_id, after.instance_id, None, new_activity, at, None)
        )
    else:
        old_activity = _activity(before)
        if old_activity is not new_activity:
            spent = max(0, at - before.activity_since)
            outputs.append(
                AgentWork(
                    agent_id=after.agent_id,
                    instance_id=after.instance_id,
                    kind=WorkKind.ACTIVITY_TIME,
                    contact_id=None,
                    channel=None,
                    queue_id=None,
                    at=at,
                    duration_ms=spent,
                    activity=old_activity,
                )
            )
            outputs.append(
                ActivityTransition(
                    after.agent_id, after.instance_id, old_activity, new_activity, at, spent
                )
            )
            after = replace(after, activity_since=at)
    facts = agent_facts(after, at)
    if before is None or agent_facts(before, at) != facts:
        outputs.append(facts)
    return after, tuple(outputs)


def _step(state: AgentState, outputs: tuple[Output, ...], settings: AgentSettings) -> Step:
    wake_at, clear_at = deadlines(state, settings)
    return Step(state, outputs, wake_at, clear_at)


# --- activity, slots ----------------------------------------------------------------------------


def _online(state: AgentState) -> bool:
    return (
        state.logged_out_at is None
        and not state.stale
        and state.status_type
        not in (
            None,
            "OFFLINE",
        )
    )


def _activity(state: AgentState) -> Activity:
    if not _online(state):
        return Activity.OFFLINE
    return _resolve(
        state.status_type, ((c.state, c.initiation_method) for c in state.contacts), False
    )


def _resolve(
    status_type: str | None, contacts: Iterable[tuple[str | None, str | None]], logged_out: bool
) -> Activity:
    status = _status_activity(status_type)
    if logged_out or status is Activity.OFFLINE:
        return Activity.OFFLINE
    best = status
    for contact_state, method in contacts:
        activity = contact_activity(contact_state, method)
        if activity is not None and _RANK[activity] < _RANK[best]:
            best = activity
    return best


def _status_activity(status_type: str | None) -> Activity:
    if status_type is None or status_type == "OFFLINE":
        return Activity.OFFLINE
    if status_type == "ROUTABLE":
        return Activity.AVAILABLE
    return Activity.NON_PRODUCTIVE


def _status_type(status: AgentStatus | None) -> str | None:
    if status is None:
        return None
    if status.type:
        return status.type.upper()
    if status.name is None:
        return None
    return {"available": "ROUTABLE", "offline": "OFFLINE"}.get(status.name.lower(), "CUSTOM")


def _is_on_contact(contact_state: str | None, method: str | None) -> bool:
    return contact_state in _ON_CONTACT or (
        contact_state == "CONNECTING" and method in OUTBOUND_METHODS
    )


def _slots(state: AgentState) -> tuple[tuple[str, int, int], ...]:
    """(channel, max, free) per channel: Connect's Concurrency when the snapshot has it.

    Without it: one slot per channel of the profile's queues, each contact the agent holds
    takes one, and voice excludes the other channels (Connect's default, no cross-channel
    concurrency): a voice contact leaves no slot elsewhere, any other contact none for voice.
    """
    if state.concurrency:
        return tuple(
            (channel, max_slots, min(max(available, 0), max_slots))
            for channel, max_slots, available in state.concurrency
        )
    channels = state.channels or tuple(sorted({c.channel for c in state.contacts if c.channel}))
    held: dict[str | None, int] = {}
    for contact in state.contacts:
        held[contact.channel] = held.get(contact.channel, 0) + 1
    on_voice = held.get("VOICE", 0) > 0
    on_other = any(count for channel, count in held.items() if channel != "VOICE")
    slots = []
    for channel in channels:
        blocked = on_other if channel == "VOICE" else on_voice
        slots.append((channel, 1, 0 if blocked else max(0, 1 - held.get(channel, 0))))
    return tuple(slots)
