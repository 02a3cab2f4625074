"""Puts simulated records into the two Kinesis streams, paced to the simulated clock."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

from simulator.centre import Emitted

MAX_RECORDS_PER_CALL = 500
MAX_BYTES_PER_CALL = 5_000_000  # PutRecords takes at most 5 MB (data and partition keys)
LOG = logging.getLogger(__name__)


class KinesisPublisher:
    """Buffers records per stream and sends them with `put_records`, retrying failed entries."""

    def __init__(self, client, streams: dict[str, str], max_attempts: int = 10,
                 sleep: Callable[[float], None] = time.sleep):
        self._client = client
        self._streams = streams
        self._buffers: dict[str, list[dict]] = {feed: [] for feed in streams}
        self._sizes: dict[str, int] = {feed: 0 for feed in streams}
        self._max_attempts = max_attempts
        self._sleep = sleep
        self.sent = 0

    def add(self, event: Emitted) -> None:
        data = event.payload
        size = len(data) + len(event.partition_key.encode())
        if self._buffers[event.feed] and self._sizes[event.feed] + size > MAX_BYTES_PER_CALL:
            self._send(event.feed)
        buffer = self._buffers[event.feed]
        buffer.append({"Data": data, "PartitionKey": event.partition_key})
        self._sizes[event.feed] += size
        if len(buffer) >= MAX_RECORDS_PER_CALL:
            self._send(event.feed)

    def flush(self) -> None:
        for feed in self._buffers:
            if self._buffers[feed]:
                self._send(feed)

    def _send(self, feed: str) -> None:
        entries, self._buffers[feed] = self._buffers[feed], []
        self._sizes[feed] = 0
        stream = self._streams[feed]
        for attempt in range(1, self._max_attempts + 1):
            response = self._client.put_records(StreamName=stream, Records=entries)
            failed = [
                entry for entry, result in zip(entries, response["Records"])
                if result.get("ErrorCode")
            ]
            self.sent += len(entries) - len(failed)
            if not failed:
                return
            LOG.warning("%d of %d records to %s failed (attempt %d), retrying",
                        len(failed), len(entries), stream, attempt)
            entries = failed
            self._sleep(min(5.0, 0.1 * 2 ** attempt))
        raise RuntimeError(f"{len(entries)} records to {stream} still failing after retries")


def publish_paced(events: Iterable[Emitted], publisher: KinesisPublisher, origin_ms: int,
                  speed: float = 1.0, clock: Callable[[], float] = time.time,
                  sleep: Callable[[float], None] = time.sleep) -> None:
    """Send each event when the wall clock reaches its simulated time, scaled by `speed` from
    `origin_ms` (simulated) = now (wall clock); events before the origin go out at once."""
    wall_origin = clock()
    for event in events:
        due = wall_origin + (event.at - origin_ms) / 1000 / speed
        wait = due - clock()
        if wait > 0:
            publisher.flush()
            sleep(wait)
        publisher.add(event)
    publisher.flush()
