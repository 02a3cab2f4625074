"""Where records the job cannot use go: one JSON object per line in a local file.

All dead letters are keyed to one writer so lines never interleave; each line is flushed when
written, so nothing sits only in memory.
"""

from __future__ import annotations

from pathlib import Path

from pyflink.datastream import KeyedProcessFunction, RuntimeContext


def jsonl_path(target: str) -> Path:
    """The file of a `jsonl:PATH` target; any other form is a usage error naming the fix."""
    kind, _, location = target.partition(":")
    if kind != "jsonl" or not location:
        raise ValueError(
            f"dead-letter target {target!r} is not supported: use jsonl:PATH "
            "(one JSON object per line)"
        )
    return Path(location)


class JsonLinesDeadLetterFunction(KeyedProcessFunction):
    """Appends each dead letter (already JSON) as one line."""

    def __init__(self, path: Path):
        self._path = path

    def open(self, runtime_context: RuntimeContext):
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self._path.open("a", encoding="utf-8")

    def process_element(self, value, ctx):
        self._file.write(value + "\n")
        self._file.flush()

    def close(self):
        self._file.close()
