"""What the sink wrote and what was dead-lettered, counted by the operators that do it.

No Flink import. `connect-metrics replay` gives the job a fresh local file; the metric sink
appends `{"table", "written"}` after each flush and the dead-letter operator
`{"table", "reason", "message"}` after each letter it wrote, whatever their targets (Timestream,
InfluxDB, a `jsonl:` file; a dead-letter file or Kinesis). The replay reads the file once the
job has ended (`cli.replay_summary`). Each line is one `write` to a file opened for appending,
so the lines of several subtasks and Python processes never interleave. Records written again
after a restart are counted again, as they were sent again.
"""

from __future__ import annotations

import os
from pathlib import Path

import orjson

MAX_MESSAGE_CHARS = 500  # enough for the rules that read it (`cli.replay_summary`)


class CountsFile:
    """Appends count lines to `path`, opened at the first line."""

    def __init__(self, path: str | Path):
        self._path = Path(path)
        self._fd: int | None = None

    def written(self, table: str, records: int) -> None:
        if records:
            self._append({"table": table, "written": records})

    def dead_lettered(self, letter: dict) -> None:
        self._append({"table": letter.get("table"), "reason": str(letter.get("reason")),
                      "message": str(letter.get("message", ""))[:MAX_MESSAGE_CHARS]})

    def _append(self, line: dict) -> None:
        if self._fd is None:
            self._fd = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.write(self._fd, orjson.dumps(line) + b"\n")

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def read_counts(path: Path) -> list[dict]:
    """The lines of a counts file; none when no operator wrote one."""
    if not path.is_file():
        return []
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
