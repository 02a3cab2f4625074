"""Real-time gauges: what each queue and routing profile looks like at one instant.

Connect's real-time metrics are counts at an instant (reference section 3): contacts in queue,
the oldest one's age, agents online / available / on contact / in ACW / non-productive / in
error / staffed, active and available slots. The job samples them on epoch-aligned instants of
event time, every `period_ms`, whether anything changed or not. A sample at `t` reflects every
change at or before `t` and none after, so it is what Connect would have shown at `t`, and the
same input always gives the same samples.

A sample is passed on only when it differs from the last one passed on for its queue or profile
(the oldest contact's age growing is no difference: its enqueue time is the same) or when that
one is `refresh_ms` old (`Tracker`). Every write costs money in Timestream, and most samples of
a quiet queue repeat the one before; the refresh still shows a dashboard at night that the
series is alive. A reader knows each gauge at any instant from the latest row before it.

Changes come from the contact lifecycle (a contact enters or leaves a queue) and the agent
activity state machine (an agent's facts changed). Until the sample instant passes they wait in a
pending list; the board (who waits where since when, what each online agent is doing) lives in
mappings the caller provides, so the operator can keep them in keyed map state.

The board also keeps the newest name of every queue and routing profile the agents' snapshots
named: applying a change returns the names it taught (`NameChange`: first seen or renamed), so
the job writes a name once and again only when it changes.

Samples wait for the watermark; `LiveView` writes provisional rows before it, which the sample
at their instant confirms or rewrites.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass

AGENT_QUEUE_PREFIX = "agent/"
PROFILE_KEY_PREFIX = "profile/"  # queue keys are "queue_id|channel"


@dataclass(frozen=True, slots=True)
class QueueChange:
    """Contact `contact_id` entered (`entered`) or left the queue at `at`."""

    contact_id: str
    queue_id: str
    channel: str | None
    entered: bool
    at: int


@dataclass(frozen=True, slots=True)
class AgentView:
    """What the gauges need of one agent, as of `at` (see `jobs.core.agents.AgentFacts`)."""

    agent_id: str
    routing_profile_id: str | None
    routing_profile_name: str | None
    queue_ids: tuple[str, ...]
    channels: tuple[str, ...]
    online: bool
    available: tuple[tuple[str, int], ...]  # (channel, free slots) of channels with free slots
    on_contact: bool
    in_acw: bool
    non_productive: bool
    in_error: bool
    staffed: bool
    slots_active: int
    at: int
    queue_names: tuple[tuple[str, str], ...] = ()  # (queue id, name) the agent's snapshots named


@dataclass(frozen=True, slots=True)
class ProvisionalStay:
    """Where contact `contact_id` waits as every event of it read so far tells, the ones still
    waiting for the watermark included (`jobs.core.contacts.waiting_now`): (queue id, channel,
    enqueued at), or None for no queue; `at` is the time of the newest of those events."""

    contact_id: str
    stay: tuple[str, str | None, int] | None
    at: int


Change = QueueChange | AgentView

QUEUE, ROUTING_PROFILE = "QUEUE", "ROUTING_PROFILE"


@dataclass(frozen=True, slots=True)
class NameChange:
    """A queue's or routing profile's (`kind`) name seen for the first time, or renamed, at
    `at`."""

    kind: str
    id: str
    name: str
    at: int


@dataclass(frozen=True, slots=True)
class AgentCounts:
    online: int = 0
    available: int = 0
    on_contact: int = 0
    after_contact_work: int = 0
    non_productive: int = 0
    error: int = 0
    staffed: int = 0
    slots_active: int = 0
    slots_available: int = 0


@dataclass(frozen=True, slots=True)
class QueueGauge:
    instance_id: str
    queue_id: str
    channel: str | None
    at: int
    contacts_in_queue: int
    oldest_contact_age_ms: int
    agents: AgentCounts


@dataclass(frozen=True, slots=True)
class RoutingProfileGauge:
    instance_id: str
    routing_profile_id: str
    routing_profile_name: str | None
    at: int
    agents: AgentCounts


@dataclass
class Board:
    """One instance's live picture, in mappings used only through `in`, `[]`, `del` and
    `values()`/`items()`, so keyed map state can hold them. Keys are strings:
    `waiting` contact id -> (queue_id, channel, enqueued_at); `agents` agent id -> AgentView
    of online agents; `queues` "queue_id|channel" -> True for every standard queue and channel
    seen; `profiles` routing profile id -> name for every profile seen; `queue_names` queue id
    -> the newest name agents' snapshots gave it."""

    waiting: MutableMapping[str, tuple]
    agents: MutableMapping[str, AgentView]
    queues: MutableMapping[str, bool]
    profiles: MutableMapping[str, str | None]
    queue_names: MutableMapping[str, str]


class Tracker:
    """Which samples to pass on. `passed` maps a gauge's key to (what it showed, when), kept
    by the caller (keyed map state), used only through `in`, `[]` and assignment."""

    def __init__(self, passed: MutableMapping[str, tuple], refresh_ms: int):
        self._passed = passed
        self._refresh = refresh_ms

    def worth_passing(self, gauge: QueueGauge | RoutingProfileGauge,
                      provisional: Mapping[str, tuple] | None = None) -> bool:
        """`provisional`: what the provisional rows at the gauge's instant showed, by key
        (`LiveView.settle`). A provisional row that showed the gauge is its row; one that showed
        otherwise is rewritten."""
        key, shown = _shown(gauge)
        if provisional and key in provisional:
            self._passed[key] = (shown, gauge.at)
            return provisional[key] != shown
        if key in self._passed:
            last_shown, last_at = self._passed[key]
            if last_shown == shown and gauge.at - last_at < self._refresh:
                return False
        self._passed[key] = (shown, gauge.at)
        return True


    def shown(self, key: str) -> tuple | None:
        """What the last row passed on for `key` showed, None before the first."""
        return self._passed[key][0] if key in self._passed else None


class LiveView:
    """Provisional queue gauges, written before the watermark lets the sample be taken. The
    samples wait for the watermark so that they are exact; a supervisor would wait with them.
    When a queue's contacts change (one enters or leaves), this view writes the row the next
    sample instant is expected to have: the board as of the last sample, with every change that
    arrived since and where each contact waits by all its events read so far
    (`ProvisionalStay`). Agent counts ride along but do not make a row by themselves: they change
    with every agent event, and rewriting a row at each would multiply the writes. The sample at
    that instant then rewrites every provisional row it does not confirm (`settle`,
    `Tracker.worth_passing`), and a reader that takes the newest version of a row sees the
    exact value once it is there.

    It lives in memory only: a restored task starts with none, and rewrites what an earlier one
    may have left (`jobs.operators.RealtimeGaugesFunction`)."""

    def __init__(self):
        self._stays: dict[str, ProvisionalStay] = {}
        self._newest: int | None = None
        self._written: dict[str, dict[int, tuple]] = {}  # key -> {instant: shown}

    def saw(self, change: Change | ProvisionalStay) -> None:
        if isinstance(change, ProvisionalStay):
            self._stays[change.contact_id] = change
        if self._newest is None or change.at > self._newest:
            self._newest = change.at

    def sample(self, instance_id: str, board: Board, pending: Iterable[Change],
               tracker: Tracker, taken: int | None, period_ms: int,
               latest: int) -> tuple[int | None, list[QueueGauge | RoutingProfileGauge]]:
        """(the instant, the queue gauges there whose contacts differ from the last row of
        their key) of everything seen so far; (None, []) before anything was seen or when the
        instant is after `latest` (an event from the future does not move the live view
        there)."""
        if self._newest is None:
            return None, []
        at = first_sample_at(self._newest, period_ms, taken)
        if at > latest:
            return None, []
        live = Board(dict(board.waiting.items()), dict(board.agents.items()),
                     dict(board.queues.items()), dict(board.profiles.items()), {})
        for change in sorted(pending, key=lambda c: c.at):
            apply(live, change)
        for contact_id, provisional in self._stays.items():
            if provisional.stay is None:
                live.waiting.pop(contact_id, None)
            else:
                live.waiting[contact_id] = provisional.stay
        queues, _ = sample(instance_id, live, at)
        changed = []
        for gauge in queues:
            key, shown = _shown(gauge)
            if key not in live.queues:
                # An agent's queue, or a queue the sample may not know yet: a row the sample
                # at `at` might not have, so could not rewrite.
                continue
            written = self._written.get(key)
            last = written[max(written)] if written else tracker.shown(key)
            if last is None or shown[:2] != last[:2]:
                self._written.setdefault(key, {})[at] = shown
                changed.append(gauge)
        return at, changed

    def settle(self, at: int) -> dict[str, tuple]:
        """What the provisional rows at the sample instant `at` showed, by key; forgets them,
        those before, and every contact's stay the sample now holds."""
        shown = {}
        for key in list(self._written):
            instants = self._written[key]
            if at in instants:
                shown[key] = instants[at]
            for instant in [i for i in instants if i <= at]:
                del instants[instant]
            if not instants:
                del self._written[key]
        for contact_id in [c for c, p in self._stays.items() if p.at <= at]:
            del self._stays[contact_id]
        return shown

    def earliest_written(self) -> int | None:
        """The first instant a provisional row waits at for its sample."""
        return min((min(instants) for instants in self._written.values()), default=None)


def _shown(gauge: QueueGauge | RoutingProfileGauge) -> tuple[str, tuple]:
    """(key, what the gauge shows that does not change by time passing alone)."""
    if isinstance(gauge, QueueGauge):
        oldest_since = gauge.at - gauge.oldest_contact_age_ms if gauge.contacts_in_queue else None
        return (_queue_key(gauge.queue_id, gauge.channel),
                (gauge.contacts_in_queue, oldest_since, gauge.agents))
    return (PROFILE_KEY_PREFIX + gauge.routing_profile_id,
            (gauge.routing_profile_name, gauge.agents))


def first_sample_at(at: int, period_ms: int, taken: int | None = None) -> int:
    """The first sample instant that reflects a change at `at` (samples include their instant).
    A change that comes after the sample at `taken` has been taken (a late one) waits for the next
    sample: one already written is never taken again, as its rows would show a board that has
    moved on since (contacts that entered after it, waiting a negative time)."""
    due = -(-at // period_ms) * period_ms
    return due if taken is None or due > taken else taken + period_ms


def next_sample_at(at: int, earliest_pending: int | None, last_change: int, period_ms: int,
                   refresh_for_ms: int) -> int | None:
    """The sample after the one at `at`, or None: the next instant of the grid while the last
    change is less than `refresh_for_ms` old (rows change or are refreshed then), after that
    only the first that reflects the earliest pending change. A quiet stretch so costs at most
    `refresh_for_ms / period_ms` samples, however long it lasts."""
    if at - last_change < refresh_for_ms:
        return at + period_ms
    return None if earliest_pending is None else first_sample_at(earliest_pending, period_ms)


def split_due(pending: Iterable[Change], at: int) -> tuple[list[Change], list[Change]]:
    """(changes at or before `at` in time order, arrival order among equal times; the rest)."""
    due, later = [], []
    for change in pending:
        (due if change.at <= at else later).append(change)
    due.sort(key=lambda c: c.at)
    return due, later


def apply(board: Board, change: Change) -> list[NameChange]:
    """Apply one change; returns the names it taught the board (new or renamed)."""
    if isinstance(change, QueueChange):
        if change.entered:
            board.waiting[change.contact_id] = (change.queue_id, change.channel, change.at)
            if is_standard_queue(change.queue_id):
                board.queues[_queue_key(change.queue_id, change.channel)] = True
        else:
            if (change.contact_id in board.waiting
                    and board.waiting[change.contact_id][0] == change.queue_id):
                del board.waiting[change.contact_id]
        return []
    names = []
    profile = change.routing_profile_id
    if profile is not None and (profile not in board.profiles
                                or board.profiles[profile] != change.routing_profile_name):
        board.profiles[profile] = change.routing_profile_name
        if change.routing_profile_name:
            names.append(NameChange(ROUTING_PROFILE, profile, change.routing_profile_name,
                                    change.at))
    for queue_id, name in change.queue_names:
        if queue_id not in board.queue_names or board.queue_names[queue_id] != name:
            board.queue_names[queue_id] = name
            names.append(NameChange(QUEUE, queue_id, name, change.at))
    for queue_id in change.queue_ids:
        if is_standard_queue(queue_id):
            for channel in change.channels:
                key = _queue_key(queue_id, channel)
                if key not in board.queues:
                    board.queues[key] = True
    if change.online:
        board.agents[change.agent_id] = change
    elif change.agent_id in board.agents:
        del board.agents[change.agent_id]
    return names


def sample(instance_id: str, board: Board, at: int) -> tuple[list[QueueGauge],
                                                               list[RoutingProfileGauge]]:
    """The gauges at `at`: every standard queue and channel seen (zeros included), agent queues
    while a contact waits in them, and every routing profile seen."""
    waiting: dict[tuple[str, str | None], list[int]] = {}
    for queue_id, channel, enqueued_at in board.waiting.values():
        waiting.setdefault((queue_id, channel), []).append(enqueued_at)
    keys = set(waiting)
    keys.update(_split_queue_key(key) for key in board.queues)

    by_queue: dict[tuple[str, str | None], _Tally] = {}
    by_profile: dict[str, _Tally] = {}
    for agent in board.agents.values():
        if agent.routing_profile_id is not None:
            by_profile.setdefault(agent.routing_profile_id, _Tally()).add(agent, None)
        for queue_id in agent.queue_ids:
            for channel in agent.channels:
                if (queue_id, channel) in keys:
                    by_queue.setdefault((queue_id, channel), _Tally()).add(agent, channel)

    queues = []
    for queue_id, channel in sorted(keys, key=lambda k: (k[0], k[1] or "")):
        enqueued = waiting.get((queue_id, channel), ())
        queues.append(QueueGauge(
            instance_id, queue_id, channel, at, len(enqueued),
            at - min(enqueued) if enqueued else 0,
            by_queue.get((queue_id, channel), _EMPTY).counts(),
        ))
    profiles = [
        RoutingProfileGauge(instance_id, profile_id, name, at,
                            by_profile.get(profile_id, _EMPTY).counts())
        for profile_id, name in sorted(board.profiles.items())
    ]
    return queues, profiles


def is_standard_queue(queue_id: str) -> bool:
    return not queue_id.startswith(AGENT_QUEUE_PREFIX)


def _queue_key(queue_id: str, channel: str | None) -> str:
    return f"{queue_id}|{channel or ''}"


def _split_queue_key(key: str) -> tuple[str, str | None]:
    queue_id, _, channel = key.rpartition("|")
    return queue_id, channel or None


class _Tally:
    """Agent counts being added up; `channel` None counts an agent for all its channels."""

    __slots__ = ("values",)

    def __init__(self):
        self.values = [0] * 9

    def add(self, agent: AgentView, channel: str | None) -> None:
        free = sum(slots for ch, slots in agent.available if channel is None or ch == channel)
        v = self.values
        v[0] += 1
        v[1] += free > 0
        v[2] += agent.on_contact
        v[3] += agent.in_acw
        v[4] += agent.non_productive
        v[5] += agent.in_error
        v[6] += agent.staffed
        v[7] += agent.slots_active
        v[8] += free

    def counts(self) -> AgentCounts:
        return AgentCounts(*self.values)


_EMPTY = _Tally()
