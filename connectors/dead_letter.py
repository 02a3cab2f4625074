"""Where records the job cannot use go, each a JSON object with a reason and a message.

Targets: `jsonl:PATH` (one object per line in a local file) or `kinesis:STREAM` (one Kinesis
record each). All dead letters are keyed to one writer so lines never interleave; each is written
(and a file flushed) before the next, so nothing sits only in memory.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import orjson
from pyflink.datastream import KeyedProcessFunction, RuntimeContext

from connectors.counts import CountsFile
from connectors.settings import KinesisSettings

MAX_KINESIS_RECORD_BYTES = 1_000_000
KEPT_RAW_CHARS = 256_000


def jsonl_path(target: str) -> Path:
    """The file of a `jsonl:PATH` target; any other form is a usage error naming the fix."""
    kind, _, location = target.partition(":")
    if kind != "jsonl" or not location:
        raise ValueError(f"target {target!r} is not supported here: use jsonl:PATH")
    return Path(location)


def check_target(target: str) -> None:
    kind, _, location = target.partition(":")
    if kind not in ("jsonl", "kinesis") or not location:
        raise ValueError(
            f"dead-letter target {target!r} is not supported: use jsonl:PATH (one JSON object "
            "per line) or kinesis:STREAM"
        )


class JsonLinesDeadLetters:
    """Appends to the file, which is made at the first letter: a run without dead letters
    leaves none (or leaves the one an earlier run wrote as it was)."""

    def __init__(self, path: Path):
        self._path = path
        self._file = None

    def write(self, letter: str) -> None:
        if self._file is None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self._path.open("a", encoding="utf-8")
        self._file.write(letter + "\n")
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


class KinesisDeadLetters:
    """One Kinesis record per dead letter; a letter over Kinesis' 1 MB keeps a prefix of the raw
    bytes and says so (`raw_truncated`)."""

    def __init__(self, client, stream: str, max_attempts: int = 10,
                 sleep: Callable[[float], None] = time.sleep):
        self._client = client
        self._stream = stream
        self._max_attempts = max_attempts
        self._sleep = sleep

    def write(self, letter: str) -> None:
        data = letter.encode("utf-8")
        if len(data) > MAX_KINESIS_RECORD_BYTES:
            document = orjson.loads(data)
            document["raw_base64"] = document.get("raw_base64", "")[:KEPT_RAW_CHARS]
            document["raw_truncated"] = True
            data = orjson.dumps(document)
        key = orjson.loads(data).get("reason", "dead-letter")
        for attempt in range(1, self._max_attempts + 1):
            try:
                self._client.put_record(StreamName=self._stream, Data=data, PartitionKey=key)
                return
            except Exception as err:  # noqa: BLE001 - retried, then raised with context
                if attempt == self._max_attempts:
                    raise RuntimeError(
                        f"dead letters cannot be written to Kinesis stream {self._stream!r}: {err}"
                    ) from err
                self._sleep(min(10.0, 0.2 * 2 ** attempt))

    def close(self) -> None:
        pass


def dead_letter_writer(target: str, kinesis: KinesisSettings):
    check_target(target)
    kind, _, location = target.partition(":")
    if kind == "jsonl":
        return JsonLinesDeadLetters(Path(location))
    import boto3

    client = boto3.client(
        "kinesis", region_name=kinesis.region, endpoint_url=kinesis.endpoint or None
    )
    return KinesisDeadLetters(client, location)


class DeadLetterFunction(KeyedProcessFunction):
    """Writes each dead letter (already JSON) to the configured target; with `counts` (a
    replay's counts file, `connectors.counts`), then counts it there."""

    def __init__(self, target: str, kinesis: KinesisSettings, counts: str | None = None):
        check_target(target)
        self._target = target
        self._kinesis = kinesis
        self._counts_path = counts

    def open(self, runtime_context: RuntimeContext):
        self._writer = dead_letter_writer(self._target, self._kinesis)
        self._counts = CountsFile(self._counts_path) if self._counts_path else None
        self._written = runtime_context.get_metrics_group().counter("deadLettersWritten")

    def process_element(self, value, ctx):
        self._writer.write(value)
        self._written.inc()
        if self._counts is not None:
            self._counts.dead_lettered(orjson.loads(value))

    def close(self):
        self._writer.close()
        if self._counts is not None:
            self._counts.close()
