"""One consistent view of the contact centre, built from the newest rows of the tables.

Pure: `build` takes the rows a store returned and the clock, so the renderer and its tests see
exactly what the store holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from jobs.config import JobSettings
from cli.top.store import Latest, Row, Store

GAUGE_LOOKBACK_S = 300
STALE_SAMPLE_MS = JobSettings().gauge_refresh_ms + 15_000
"""Gauge rows are written when they change and at least every `Job.gauge.refresh.ms`: a queue
whose newest row is more than that (and a margin) older than the newest row of any queue is not
sampled any more; its gauges are not shown."""
AGENT_QUEUE_PREFIX = "agent/"

QUEUE_NOW = Latest(
    "queue_realtime", ("instance_id", "queue_id", "channel"),
    ("contacts_in_queue", "oldest_contact_age", "agents_available", "agents_staffed"),
    GAUGE_LOOKBACK_S,
)
DAY_LOOKBACK_S = 2 * 86_400  # a day's latest record can be up to a day old (25 h across DST)
QUEUE_TODAY = Latest(
    "queue_today", ("instance_id", "queue_id", "channel", "local_date"),
    ("contacts_queued", "contacts_handled", "contacts_abandoned",
     "avg_queue_answer_time", "avg_handle_time",
     # the additive parts, for the all-queues line
     "sum_queue_answer_time", "contacts_completed", "sum_handle_time"),
    DAY_LOOKBACK_S,
)
SERVICE_LEVEL_TODAY = Latest(
    "queue_service_level_today",
    ("instance_id", "queue_id", "channel", "threshold_s", "local_date"),
    ("service_level", "contacts_removed", "contacts_removed_within"),
    DAY_LOOKBACK_S,
)
PROFILES = Latest(
    "routing_profile_realtime", ("instance_id", "routing_profile_id"),
    ("agents_online", "agents_available", "agents_on_contact", "agents_after_contact_work",
     "agents_non_productive", "agents_error", "agents_staffed"),
    GAUGE_LOOKBACK_S,
)
NAMES_LOOKBACK_S = 3_660 * 86_400
"""A name is written when first seen and when it changes: its newest record, however old."""
QUEUE_NAMES = Latest("queue_names", ("instance_id", "queue_id"), ("queue_name",),
                     NAMES_LOOKBACK_S)
PROFILE_NAMES = Latest("routing_profile_names", ("instance_id", "routing_profile_id"),
                       ("routing_profile_name",), NAMES_LOOKBACK_S)
AGENTS = Latest(
    "agent_realtime", ("instance_id", "agent_id", "agent_username"),
    ("activity", "status_name", "routing_profile_name", "online"),
    86_400,  # an agent's latest record is its state however long ago it changed
)
READS = (QUEUE_NOW, QUEUE_TODAY, SERVICE_LEVEL_TODAY, PROFILES, AGENTS, QUEUE_NAMES,
         PROFILE_NAMES)

ACTIVITIES = ("ON_CONTACT", "ACW", "INCOMING", "AVAILABLE", "NON_PRODUCTIVE", "ERROR", "MISSED",
              "REJECTED", "OFFLINE")
"""Agent activities in the order the dashboard lists them: working, ready, away, trouble, out."""


@dataclass(frozen=True)
class QueueLine:
    instance_id: str
    queue_id: str
    channel: str
    name: str
    in_queue: int | None = None
    oldest: float | None = None
    agents_available: int | None = None
    sampled_ms: int | None = None
    today: Mapping[str, object] | None = None
    """queue_today's measures for the current local date; None when it has no contact yet."""
    service_levels: Mapping[int, Mapping[str, object]] | None = None
    """queue_service_level_today's measures for the current local date by threshold (seconds):
    the queue's own targets; None when no contact has left the queue yet today."""


@dataclass(frozen=True)
class ProfileLine:
    name: str
    counts: Mapping[str, int]
    sampled_ms: int


@dataclass(frozen=True)
class AgentLine:
    username: str
    activity: str
    status_name: str | None
    routing_profile_name: str | None
    since_ms: int


@dataclass(frozen=True)
class Snapshot:
    source: str
    now_ms: int
    local_date: str | None = None
    sampled_ms: int | None = None
    queues: tuple[QueueLine, ...] = ()
    profiles: tuple[ProfileLine, ...] = ()
    agents: tuple[AgentLine, ...] = ()
    error: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.queues or self.profiles or self.agents)


def load(store: Store, now_ms: int, queue_names: Mapping[str, str] | None = None) -> Snapshot:
    """Read the tables from `store` and build the view (StoreError when it cannot);
    `queue_names` (queue id -> name) overrides the names the job learned."""
    return build(store.description, store.latest(READS, now_ms), now_ms, queue_names or {})


def build(source: str, rows: Mapping[str, list[Row]], now_ms: int,
          queue_names: Mapping[str, str]) -> Snapshot:
    now_rows = [r for r in rows.get(QUEUE_NOW.table, []) if _standard(_queue_key(r)[1])]
    sampled_ms = max((r.time_ms for r in now_rows), default=None)
    today_rows = rows.get(QUEUE_TODAY.table, [])
    local_date = max((r.dimensions.get("local_date", "") for r in today_rows), default=None)
    fields: dict[tuple[str, str, str], dict] = {}
    for row in now_rows:
        if row.time_ms >= sampled_ms - STALE_SAMPLE_MS:
            fields.setdefault(_queue_key(row), {}).update(
                in_queue=row.measures.get("contacts_in_queue"),
                oldest=_oldest_at(row, sampled_ms),
                agents_available=row.measures.get("agents_available"),
                sampled_ms=row.time_ms,
            )
    for row in today_rows:
        key = _queue_key(row)
        if row.dimensions.get("local_date") == local_date and _standard(key[1]):
            fields.setdefault(key, {})["today"] = dict(row.measures)
    for row in rows.get(SERVICE_LEVEL_TODAY.table, []):
        key = _queue_key(row)
        if row.dimensions.get("local_date") == local_date and _standard(key[1]):
            by_threshold = fields.setdefault(key, {}).setdefault("service_levels", {})
            by_threshold[int(row.dimensions["threshold_s"])] = dict(row.measures)
    learned = _names(rows.get(QUEUE_NAMES.table, []), "queue_id", "queue_name")
    queues = [
        QueueLine(instance_id, queue_id, channel,
                  queue_name(queue_id, {**learned.get(instance_id, {}), **queue_names}),
                  **values)
        for (instance_id, queue_id, channel), values in fields.items()
    ]
    profile_names = _names(rows.get(PROFILE_NAMES.table, []), "routing_profile_id",
                           "routing_profile_name")
    profiles = [
        ProfileLine(
            name=profile_names.get(r.dimensions.get("instance_id", ""), {}).get(
                r.dimensions["routing_profile_id"], r.dimensions["routing_profile_id"]),
            counts=dict(r.measures), sampled_ms=r.time_ms,
        )
        for r in rows.get(PROFILES.table, [])
    ]
    agents = [
        AgentLine(
            username=r.dimensions.get("agent_username") or r.dimensions["agent_id"],
            activity=str(r.measures.get("activity", "OFFLINE")),
            status_name=r.measures.get("status_name"),
            routing_profile_name=r.measures.get("routing_profile_name"),
            since_ms=r.time_ms,
        )
        for r in rows.get(AGENTS.table, [])
    ]
    return Snapshot(
        source=source,
        now_ms=now_ms,
        local_date=local_date,
        sampled_ms=sampled_ms,
        queues=tuple(sorted(queues, key=lambda q: (q.name, q.channel, q.queue_id))),
        profiles=tuple(sorted(profiles, key=lambda p: p.name)),
        agents=tuple(sorted(agents, key=_agent_order)),
    )


def _names(rows: list[Row], id_key: str, name_measure: str) -> dict[str, dict[str, str]]:
    """instance id -> id -> newest name, from a names table's rows."""
    names: dict[str, dict[str, str]] = {}
    for row in rows:
        if row.measures.get(name_measure):
            names.setdefault(row.dimensions.get("instance_id", ""), {})[
                row.dimensions[id_key]] = str(row.measures[name_measure])
    return names


def _oldest_at(row: Row, at_ms: int) -> float | None:
    """The oldest contact's age at `at_ms`: a row is written only when its values change other
    than by the age growing, so the age grows on from the row's own."""
    age, waiting = row.measures.get("oldest_contact_age"), row.measures.get("contacts_in_queue")
    if age is None or waiting is None or float(waiting) == 0:
        return None if age is None else float(age)
    return float(age) + (at_ms - row.time_ms) / 1000


def _queue_key(row: Row) -> tuple[str, str, str]:
    d = row.dimensions
    return d.get("instance_id", ""), d.get("queue_id", ""), d.get("channel", "")


def _standard(queue_id: str) -> bool:
    """Agents' own queues come and go with the contacts transferred to them; only standard
    queues are listed."""
    return not queue_id.startswith(AGENT_QUEUE_PREFIX)


def queue_name(queue_id: str, names: Mapping[str, str]) -> str:
    """The queue's name, else its id shortened to its first 8 characters (ids are UUIDs)."""
    if queue_id in names:
        return names[queue_id]
    return queue_id if len(queue_id) <= 9 else queue_id[:8] + "…"


def _agent_order(agent: AgentLine) -> tuple[int, str]:
    rank = ACTIVITIES.index(agent.activity) if agent.activity in ACTIVITIES else len(ACTIVITIES)
    return rank, agent.username
