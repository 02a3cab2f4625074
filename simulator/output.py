"""JSON-lines output: one raw record per line, the very bytes that would go to Kinesis."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

from simulator.centre import AGENT_FEED, CONTACT_FEED, Emitted
from simulator.truth import open_output

FEED_PLACEHOLDER = "{feed}"


class JsonLinesOutput:
    """Writes records to `path`, both feeds in one file in delivery order; with `{feed}` in the
    path, one file per feed (`agent`, `contact`). A `.gz` name is gzip-compressed.

    Has the publisher's `add` / `flush` / `sent`, so `publish_paced` can pace it too."""

    def __init__(self, path: str | Path):
        text = str(path)
        self.paths: dict[str, Path] = {}
        self._files: dict[str, IO[bytes]] = {}
        if FEED_PLACEHOLDER in text:
            for feed in (AGENT_FEED, CONTACT_FEED):
                self.paths[feed] = Path(text.replace(FEED_PLACEHOLDER, feed))
        else:
            self.paths[""] = Path(text)
        for key, file_path in self.paths.items():
            file_path.parent.mkdir(parents=True, exist_ok=True)
            self._files[key] = open_output(file_path)
        self.sent = 0

    def add(self, event: Emitted) -> None:
        out = self._files.get(event.feed) or self._files[""]
        out.write(event.payload + b"\n")
        self.sent += 1

    def flush(self) -> None:
        for out in self._files.values():
            out.flush()

    def close(self) -> None:
        for out in self._files.values():
            out.close()

    def __enter__(self) -> JsonLinesOutput:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Progress:
    """A line to stderr every `every_s` wall-clock seconds: simulated time reached, records."""

    def __init__(self, start_ms: int, end_ms: int | None, every_s: float = 5.0,
                 stream: IO[str] | None = None, clock: Callable[[], float] = time.monotonic):
        self._start = start_ms
        self._end = end_ms
        self._every = every_s
        self._stream = stream or sys.stderr
        self._clock = clock
        self._last = clock()
        self.reached_ms = start_ms

    def update(self, simulated_ms: int, records: int, force: bool = False) -> None:
        self.reached_ms = max(self.reached_ms, simulated_ms)
        now = self._clock()
        if not force and now - self._last < self._every:
            return
        self._last = now
        self._stream.write(self.line(simulated_ms, records) + "\n")
        self._stream.flush()

    def line(self, simulated_ms: int, records: int) -> str:
        from simulator.records import iso_seconds

        done = _clock_text(simulated_ms - self._start)
        total = f" of {_clock_text(self._end - self._start)}" if self._end is not None else ""
        return (f"simulate: {done}{total} simulated (at {iso_seconds(simulated_ms)}), "
                f"{records} records written")


def _clock_text(millis: int) -> str:
    seconds = max(0, millis) // 1000
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
