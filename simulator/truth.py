"""Ground truth: what really happened in the simulation, and the metric values it implies.

Lines are plain dicts with a `kind`; docs/simulator-truth.md describes every kind and field and
the bucketing conventions. The values come from the simulation's own state, never from the job.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import IO, Protocol

import orjson

INTERVAL_MS = 60_000
GAUGE_PERIOD_MS = 5_000
SERVICE_LEVELS_S = (20, 60)
TRUTH_VERSION = 1

#: The additive interval metrics, in the order they are written.
INTERVAL_METRICS = (
    "contacts_queued",
    "contacts_handled",
    "contacts_abandoned",
    "sum_contacts_answered_in_20",
    "sum_contacts_answered_in_60",
    "contacts_removed_in_20",
    "contacts_removed_in_60",
    "contacts_removed",
    "sum_queue_answer_time_ms",
    "contacts_completed",
    "sum_handle_time_ms",
    "sum_hold_time_ms",
    "sum_acw_time_ms",
    "contacts_transferred_out",
    "callbacks",
)
_INDEX = {name: n for n, name in enumerate(INTERVAL_METRICS)}


class TruthSink(Protocol):
    def write(self, line: dict) -> None: ...


class TruthList(list):
    """Truth kept in memory (tests)."""

    def write(self, line: dict) -> None:
        self.append(line)

    def of(self, kind: str) -> list[dict]:
        return [line for line in self if line["kind"] == kind]


class TruthFile:
    """Truth as JSON lines; gzip when the name ends in `.gz`."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._out: IO[bytes] = open_output(self.path)
        self.lines = 0

    def write(self, line: dict) -> None:
        self._out.write(orjson.dumps(line) + b"\n")
        self.lines += 1

    def close(self) -> None:
        self._out.close()


def open_output(path: Path) -> IO[bytes]:
    """A binary file for writing; gzip (with no time stamp, so output is reproducible) for .gz."""
    raw = open(path, "wb")
    if path.suffix == ".gz":
        return _GzipOutput(filename="", mode="wb", fileobj=raw, mtime=0)
    return raw


class _GzipOutput(gzip.GzipFile):
    """A GzipFile that also closes the file under it."""

    def close(self) -> None:
        raw = self.fileobj
        try:
            super().close()
        finally:
            if raw is not None:
                raw.close()


def read_truth(path: str | Path) -> list[dict]:
    """Every line of a truth file (plain or .gz)."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as lines:
        return [orjson.loads(line) for line in lines if line.strip()]


def minute(at: int) -> int:
    return at - at % INTERVAL_MS


class IntervalBook:
    """Additive metrics per (instance, queue, channel, 1-minute interval), written as
    `interval` lines once the simulated clock has passed the interval's end."""

    def __init__(self, sink: TruthSink):
        self._sink = sink
        self._open: dict[tuple[str, str, str, int], list[int]] = {}

    def add(self, instance_id: str, queue_id: str, channel: str, at: int, metric: str,
            value: int = 1) -> None:
        key = (instance_id, queue_id, channel, minute(at))
        row = self._open.get(key)
        if row is None:
            row = self._open[key] = [0] * len(INTERVAL_METRICS)
        row[_INDEX[metric]] += value

    def close_before(self, now: int) -> None:
        """Write every interval that ends at or before `now` (nothing can change them)."""
        done = [key for key in self._open if key[3] + INTERVAL_MS <= now]
        for key in sorted(done, key=lambda k: (k[3], k[0], k[1], k[2])):
            self._write(key, self._open.pop(key))

    def close_all(self) -> None:
        for key in sorted(self._open, key=lambda k: (k[3], k[0], k[1], k[2])):
            self._write(key, self._open[key])
        self._open.clear()

    def _write(self, key, row: list[int]) -> None:
        instance_id, queue_id, channel, start = key
        line = {
            "kind": "interval",
            "instance_id": instance_id,
            "queue_id": queue_id,
            "channel": channel,
            "interval_start": start,
            "interval_end": start + INTERVAL_MS,
        }
        line.update(zip(INTERVAL_METRICS, row))
        self._sink.write(line)
