"""What a replay wrote and what it dead-lettered, per table and per reason, and its exit code.

A replay that wrote nothing must not look like success: records the sink refused for a reason a
setting fixes make the replay exit with `REFUSED_EXIT` and name the fix (`REFUSAL_FIXES`): a backfill
older than the Timestream memory store with magnetic store writes off, a metric file whose
records break Timestream's limits, points older than an InfluxDB retention policy's duration,
points whose field types differ from what InfluxDB stored. Stray events (see
`jobs.core.event_guard`) and unreadable records are reported, not failed on: the data is at fault,
and the rest of it was written.

Counts come from the counts file the job's sink and dead-letter operators appended to
(`connectors.counts`), so they are the same for every sink and dead-letter target.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from connectors.counts import read_counts

REFUSED_EXIT = 3
EVENTS = "(events)"
MEMORY_STORE_FIX = (
    "records older than the Timestream memory store were refused: set "
    "Timestream.magnetic.writes=true (and enable magnetic store writes on the tables), or raise "
    "Timestream.memory.retention.hours to cover the replayed times, then replay again")
OTHER_REFUSAL_FIX = ("{sink} refused records for good: read their messages in the dead "
                     "letters, fix the metric file or setting they name, then replay again")
RETENTION_POLICY_FIX = (
    "points older than the InfluxDB retention policy's duration were refused: lengthen it "
    "(InfluxQL ALTER RETENTION POLICY ... DURATION ..., or the bucket's retention on InfluxDB 2), "
    "or point InfluxDB.database at one that covers the replayed times, then replay again")
SINKS = {"timestream_refused": "Timestream", "influxdb_refused": "InfluxDB"}  # reason -> sink
# (dead-letter reason, words of its message, the fix or None); the first match decides, a
# refusal none matches gets OTHER_REFUSAL_FIX. A Timestream record more than 15 minutes ahead
# of the wall clock is work the files left open, closed at their end by a timeout that falls
# after now (a contact still queued expires hours later): no setting changes that. An InfluxDB
# row with every measure null has nothing to write: nothing of it is lost.
REFUSAL_FIXES: tuple[tuple[str, str, str | None], ...] = (
    ("timestream_refused", "in the future", None),
    ("timestream_refused", "magnetic store writes are off", MEMORY_STORE_FIX),
    ("influxdb_refused", "points beyond retention policy", RETENTION_POLICY_FIX),
    ("influxdb_refused", "no field to write", None),
)


@dataclass
class ReplaySummary:
    written: Counter = field(default_factory=Counter)  # table -> records
    dead_letters: Counter = field(default_factory=Counter)  # (table or EVENTS, reason) -> n
    fixes: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0

    def add_dead_letter(self, letter: dict) -> None:
        reason = str(letter.get("reason", "unknown"))
        self.dead_letters[(letter.get("table") or EVENTS, reason)] += 1
        fix = refusal_fix(reason, letter.get("message", ""))
        if fix is not None and fix not in self.fixes:
            self.fixes.append(fix)

    @property
    def exit_code(self) -> int:
        return REFUSED_EXIT if self.fixes else 0

    def lines(self) -> list[str]:
        out = [f"written: {sum(self.written.values()):,} records"]
        out += [f"  {table}: {n:,}" for table, n in sorted(self.written.items())]
        out.append(f"dead-lettered: {sum(self.dead_letters.values()):,} records")
        out += [f"  {table}: {reason}: {n:,}"
                for (table, reason), n in sorted(self.dead_letters.items())]
        out += [f"fix: {fix}" for fix in self.fixes]
        return out


def refusal_fix(reason: str, message: str) -> str | None:
    """The fix for a record the sink refused (`REFUSAL_FIXES`, else a pointer to its message),
    or None when it is no refusal or no setting fixes it."""
    if reason not in SINKS:
        return None
    for refused, words, fix in REFUSAL_FIXES:
        if reason == refused and words in message:
            return fix
    return OTHER_REFUSAL_FIX.format(sink=SINKS[reason])


def summarise(counts: Path) -> ReplaySummary:
    """The summary from the counts file of a replay (`connectors.counts`)."""
    summary = ReplaySummary()
    for line in read_counts(counts):
        if "written" in line:
            summary.written[line["table"]] += line["written"]
        else:
            summary.add_dead_letter(line)
    return summary
