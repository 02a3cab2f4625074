"""A snapshot as one text frame: pure, so a test can compare the numbers on screen with the
store's, and the same frame is what the terminal shows and what a log captures.

Every number is printed as stored (counts as integers, seconds and percentages to one decimal);
only the totals (the "all queues" line, the agents line) and the counts by activity are computed
here, from the rows shown.
"""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timezone

from cli.top.snapshot import ACTIVITIES, AgentLine, ProfileLine, QueueLine, Snapshot

TITLE = "connect-metrics top"
ALL_QUEUES = "all queues"
NO_VALUE = "-"
QUEUE_COLUMNS = ("QUEUE", "CHANNEL", "IN QUEUE", "OLDEST", "AVAIL", "|", "QUEUED", "HANDLED",
                 "ABANDONED", "SERVICE LEVEL", "ANSWER", "AHT")
PROFILE_MEASURES = (
    ("ONLINE", "agents_online"), ("AVAILABLE", "agents_available"),
    ("ON CONTACT", "agents_on_contact"), ("ACW", "agents_after_contact_work"),
    ("NON-PRODUCTIVE", "agents_non_productive"), ("ERROR", "agents_error"),
    ("STAFFED", "agents_staffed"),
)
"""Routing profile columns: header and routing_profile_realtime measure."""
SUMMARY_GAP = " · "
AGENT_GAP = "   "


def render(snapshot: Snapshot, width: int = 100) -> str:
    lines = [
        f"{TITLE} · {snapshot.source}",
        " · ".join(filter(None, (
            _clock(snapshot.now_ms, "%Y-%m-%d %H:%M:%S UTC"),
            snapshot.sampled_ms and "gauges sampled " + _clock(snapshot.sampled_ms, "%H:%M:%S"),
            snapshot.local_date and f"today = {snapshot.local_date}",
            "Ctrl-C quits",
        ))),
        "",
    ]
    if snapshot.error:
        lines += textwrap.wrap(f"! {snapshot.error}", width, subsequent_indent="  ",
                               break_on_hyphens=False) + [""]
    elif snapshot.empty:
        lines += ["waiting for the first metric rows (a starting job needs 20 to 60 s)", ""]
    if snapshot.queues:
        lines += _queue_table(snapshot.queues) + [""]
    if snapshot.profiles:
        lines += _profile_table(snapshot.profiles) + [""]
    if snapshot.agents:
        lines += _agent_grid(snapshot.agents, snapshot.now_ms, width)
    return "\n".join(line[:width].rstrip() for line in lines).rstrip("\n") + "\n"


def _queue_table(queues: Sequence[QueueLine]) -> list[str]:
    rows = [_queue_cells(q.name, q.channel, q.in_queue, q.oldest, q.agents_available, q.today,
                         q.service_levels) for q in queues]
    rows.append(_queue_cells(ALL_QUEUES, "", *_all_queues(queues)))
    cells = _table(QUEUE_COLUMNS, rows, left=2)
    gauges, bar = cells[0].index("IN QUEUE"), cells[0].index("|")
    return [
        " " * gauges + "NOW".ljust(bar - gauges) + "| TODAY",
        *cells[:-1],
        "-" * len(cells[0]),
        cells[-1],
    ]


def _queue_cells(name: str, channel: str, in_queue, oldest, available, today,
                 service_levels) -> list[str]:
    today = today or {}  # no record for the day yet: no contact yet
    return [
        name, channel, _count(in_queue), _seconds(oldest), _count(available), "|",
        _count(today.get("contacts_queued", 0)), _count(today.get("contacts_handled", 0)),
        _count(today.get("contacts_abandoned", 0)), _service_levels(service_levels),
        _seconds(today.get("avg_queue_answer_time")), _seconds(today.get("avg_handle_time")),
    ]


def _service_levels(by_threshold) -> str:
    """Each of the queue's thresholds: `94.4%/20s 98.0%/60s`."""
    if not by_threshold:
        return NO_VALUE
    return " ".join(f"{_percent(by_threshold[seconds].get('service_level'))}/{seconds}s"
                    for seconds in sorted(by_threshold))


def _all_queues(queues: Sequence[QueueLine]) -> tuple:
    """The centre's totals: sums, the oldest of the oldest, and the day's rates and averages
    recomputed from the additive parts (an average of per-queue averages would be wrong)."""
    def total(name: str) -> float:
        return sum((q.today or {}).get(name, 0) for q in queues)

    sampled = [q for q in queues if q.in_queue is not None]
    today = {
        name: total(name)
        for name in ("contacts_queued", "contacts_handled", "contacts_abandoned")
    }
    today["avg_queue_answer_time"] = _ratio(total("sum_queue_answer_time"),
                                            total("contacts_handled"))
    today["avg_handle_time"] = _ratio(total("sum_handle_time"), total("contacts_completed"))
    sums: dict[int, Counter] = {}  # each threshold over the queues that have it
    for q in queues:
        for seconds, measures in (q.service_levels or {}).items():
            sums.setdefault(seconds, Counter()).update(
                {name: measures.get(name, 0)
                 for name in ("contacts_removed", "contacts_removed_within")})
    service_levels = {
        seconds: {"service_level": _ratio(100 * c["contacts_removed_within"],
                                          c["contacts_removed"])}
        for seconds, c in sums.items()
    }
    return (
        sum(q.in_queue for q in sampled) if sampled else None,
        max((q.oldest for q in sampled if q.oldest is not None), default=None),
        None,
        today,
        service_levels,
    )


def _profile_table(profiles: Sequence[ProfileLine]) -> list[str]:
    totals = Counter()
    for profile in profiles:
        totals.update({m: profile.counts.get(m, 0) for _, m in PROFILE_MEASURES})
    summary = SUMMARY_GAP.join(
        f"{header if header == 'ACW' else header.lower()} {totals[m]}"
        for header, m in PROFILE_MEASURES
    )
    rows = [[p.name, *(_count(p.counts.get(m)) for _, m in PROFILE_MEASURES)]
            for p in profiles]
    cells = _table(("ROUTING PROFILE", *(h for h, _ in PROFILE_MEASURES)), rows, left=1)
    return [f"AGENTS  {summary}", *cells]


def _agent_grid(agents: Sequence[AgentLine], now_ms: int, width: int) -> list[str]:
    counts = Counter(a.activity for a in agents)
    order = [a for a in ACTIVITIES if counts[a]] + sorted(set(counts) - set(ACTIVITIES))
    lines = ["BY ACTIVITY  " + SUMMARY_GAP.join(f"{a} {counts[a]}" for a in order)]
    name_width = min(max(len(a.username) for a in agents), 24)
    activity_width = max(len(a.activity) for a in agents)
    cells = [
        f"{a.username[:name_width]:<{name_width}} {a.activity:<{activity_width}} "
        f"{_age(now_ms - a.since_ms):>6}"
        for a in agents
    ]
    per_line = max(1, (width + len(AGENT_GAP)) // (len(cells[0]) + len(AGENT_GAP)))
    rows = -(-len(cells) // per_line)
    for row in range(rows):  # column-major, so the activity order reads top to bottom
        lines.append(AGENT_GAP.join(cells[row::rows]).rstrip())
    return lines


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], left: int) -> list[str]:
    """Columns as wide as their widest cell; the first `left` columns left-aligned."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            str(c).ljust(w) if i < left else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths))
        )

    return [line(headers), *(line(r) for r in rows)]


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def _count(value) -> str:
    return NO_VALUE if value is None else str(int(value))


def _seconds(value) -> str:
    return NO_VALUE if value is None else f"{value:.1f}s"


def _percent(value) -> str:
    return NO_VALUE if value is None else f"{value:.1f}%"


def _age(ms: int) -> str:
    """How long ago: 42s, 4m05s, 2h03m."""
    seconds = max(0, ms // 1000)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def _clock(ms: int, pattern: str) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime(pattern)
