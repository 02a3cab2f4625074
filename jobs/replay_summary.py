"""What a replay wrote and what it dead-lettered, per table and per reason, and its exit code.

A replay that wrote nothing must not look like success: records the sink refused for a reason a
setting fixes (a backfill older than the Timestream memory store, with magnetic store writes
off, or than an InfluxDB retention policy; a metric file whose records break the store's limits)
make the replay exit with `REFUSED_EXIT` and name the fix. Stray events (see
`jobs.event_guard`) and unreadable records are reported, not failed on: the data is at fault,
and the rest of it was written.

Counts come from the files the run appended to (the dead-letter file and a `jsonl:` sink),
read from where they ended before the run.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import orjson

REFUSED_EXIT = 3
EVENTS = "(events)"
SINKS = {"timestream_refused": "Timestream", "influxdb_refused": "InfluxDB"}  # reason -> sink
MEMORY_STORE_FIX = (
    "records older than the Timestream memory store were refused: set "
    "Timestream.magnetic.writes=true (and enable magnetic store writes on the tables), or raise "
    "Timestream.memory.retention.hours to cover the replayed times, then replay again")
RETENTION_POLICY_FIX = (
    "points older than the InfluxDB retention policy's duration were refused: lengthen it "
    "(ALTER RETENTION POLICY ... DURATION ...) or write to a policy that covers the replayed "
    "times (InfluxDB.api v2 with InfluxDB.database DATABASE/POLICY), then replay again")
OTHER_REFUSAL_FIX = ("{sink} refused records for good: read their messages in the dead "
                     "letters, fix the metric file or setting they name, then replay again")
# (refusal reason, words of the server's message, its fix): the first that matches. None: no
# setting fixes it. A Timestream record more than 15 minutes ahead of the wall clock is work
# the files left open, closed at their end by a timeout that falls after now (a contact still
# queued expires hours later).
REFUSAL_FIXES = (
    ("timestream_refused", "in the future", None),
    ("timestream_refused", "magnetic store writes are off", MEMORY_STORE_FIX),
    ("influxdb_refused", "beyond retention policy", RETENTION_POLICY_FIX),
)


@dataclass
class ReplaySummary:
    written: Counter = field(default_factory=Counter)  # table -> records
    dead_letters: Counter = field(default_factory=Counter)  # (table or EVENTS, reason) -> n
    fixes: list[str] = field(default_factory=list)
    written_counted: bool = True
    dead_letters_counted: bool = True
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
        if not self.written_counted:
            out = ["written: not counted here (the sink's tables hold them)"]
        else:
            out = [f"written: {sum(self.written.values()):,} records"]
            out += [f"  {table}: {n:,}" for table, n in sorted(self.written.items())]
        if not self.dead_letters_counted:
            return [*out, "dead-lettered: not counted here (the dead letters go to Kinesis)"]
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


def jsonl_file(target: str) -> Path | None:
    """The file of a `jsonl:PATH` target, None for any other."""
    kind, _, location = target.partition(":")
    return Path(location) if kind == "jsonl" and location else None


def file_end(path: Path | None) -> int:
    """Where the file ends now (0 when absent): the summary reads what comes after."""
    return path.stat().st_size if path is not None and path.is_file() else 0


def appended_lines(path: Path | None, start: int) -> list[dict]:
    if path is None or not path.is_file():
        return []
    with path.open("rb") as lines:
        lines.seek(start)
        return [orjson.loads(line) for line in lines if line.strip()]


def summarise(dead_letters: Path | None, dead_from: int, sink: Path | None,
              sink_from: int) -> ReplaySummary:
    """The summary from the dead-letter file (None: Kinesis) and a `jsonl:` sink file (None:
    Timestream)."""
    summary = ReplaySummary(written_counted=sink is not None,
                            dead_letters_counted=dead_letters is not None)
    for letter in appended_lines(dead_letters, dead_from):
        summary.add_dead_letter(letter)
    summary.written.update(line["table"] for line in appended_lines(sink, sink_from))
    return summary
