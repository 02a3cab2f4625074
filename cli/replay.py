"""`connect-metrics replay`: the job over recorded files, with progress, exiting when done.

Progress comes from the local cluster's REST API (records the file source has emitted, against
the lines counted up front), so it reports what Flink really read.
"""

from __future__ import annotations

import gzip
import json
import logging
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from pyflink.datastream import DataStream, StreamExecutionEnvironment

from connectors.file_source import file_sources, require_files
from jobs.config import Config
from jobs.core.event_guard import replay_span
from jobs.core.events import AgentEvent, ContactEvent, parse_record
from jobs.main import local_environment
from jobs.pipeline import build_job
from cli.replay_summary import ReplaySummary, summarise

LOG = logging.getLogger(__name__)
SOURCE_NAME = "replay files"


def read_files(paths: list[Path], past_bound_ms: int) -> tuple[int, tuple[int, int] | None]:
    """Records in the files (gzip read through), so progress can say how far the replay is,
    and their event-time span (`jobs.core.event_guard.replay_span`), which decides the strays."""
    total = 0
    times: list[int] = []
    for path in paths:
        opener = gzip.open if str(path).endswith(".gz") else open
        with opener(path, "rb") as lines:
            for line in lines:
                if line.strip():
                    total += 1
                    event = parse_record(line.strip(), "replay", 0)
                    if isinstance(event, (AgentEvent, ContactEvent)):
                        times.append(event.event_time)
    return total, replay_span(times, past_bound_ms)


# (environment, configuration, sources, event-time span, counts file)
Build = Callable[[StreamExecutionEnvironment, Config, list[DataStream], tuple[int, int] | None,
                  str], None]


def replay(config: Config, paths: list[Path], rest_port: int, every_s: float = 2.0,
           build: Build = build_job) -> ReplaySummary:
    """Run `build` (the job) over the files, then print what it wrote and dead-lettered (see
    `cli.replay_summary`, counted by the job in a counts file of its own); returns that
    summary, with the seconds from submitting the job to its end."""
    require_files(paths)  # before counting, and before Flink starts
    total, span = read_files(paths, config.job.event_past_bound_ms)
    warn_before_memory_store(config, span)
    with tempfile.TemporaryDirectory(prefix="connect-metrics-replay-") as folder:
        counts = Path(folder) / "counts.jsonl"
        env = local_environment(config, rest_port=rest_port)
        build(env, config, file_sources(env, paths), span, str(counts))
        elapsed = run_to_end(env, rest_port, total, len(paths), every_s)
        summary = summarise(counts)
    summary.elapsed_s = elapsed
    print(f"replay: done, {total:,} records in {elapsed:.0f} s", file=sys.stderr, flush=True)
    for line in summary.lines():
        print(f"replay: {line}", file=sys.stderr, flush=True)
    return summary


def run_to_end(env: StreamExecutionEnvironment, rest_port: int, total: int, files: int,
               every_s: float) -> float:
    """Run the job, printing progress; the seconds from submitting it to its end."""
    client = env.execute_async("connect-metrics replay")
    job_id = str(client.get_job_id())
    print(f"replay: {total:,} records in {files} file(s)", file=sys.stderr, flush=True)
    started = time.monotonic()
    outcome = client.get_job_execution_result()
    while not outcome.done():
        time.sleep(every_s)
        read = records_read(rest_port, job_id)
        if read is not None and not outcome.done():
            share = f" ({100 * read / total:.0f}%)" if total else ""
            print(f"replay: {read:,} of {total:,} records read{share}, "
                  f"{time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    outcome.result()  # raises with Flink's error when the job failed
    return time.monotonic() - started


def warn_before_memory_store(config: Config, span: tuple[int, int] | None) -> None:
    """Say before the run, not only after it, when the files are older than the memory store
    and magnetic store writes are off: their metric records will be refused."""
    settings = config.timestream
    oldest = time.time() * 1000 - settings.memory_retention_hours * 3_600_000
    if span is not None and span[0] < oldest and not settings.magnetic_writes:
        print(f"replay: warning: the files start before the memory store "
              f"({settings.memory_retention_hours} h); with Timestream.magnetic.writes=false "
              "their older records will be refused", file=sys.stderr, flush=True)


def records_read(rest_port: int, job_id: str) -> int | None:
    """Records the file source has emitted so far, or None while the REST API cannot say."""
    base = f"http://127.0.0.1:{rest_port}/jobs/{job_id}"
    try:
        with urllib.request.urlopen(base, timeout=5) as response:
            vertices = json.load(response).get("vertices", [])
        source = next((v for v in vertices if SOURCE_NAME in v.get("name", "")), None)
        if source is None:
            return None
        metric = f"Source__{SOURCE_NAME.replace(' ', '_')}.numRecordsOut"
        url = f"{base}/vertices/{source['id']}/subtasks/metrics?get={metric}&agg=sum"
        with urllib.request.urlopen(url, timeout=5) as response:
            values = json.load(response)
    except OSError:
        return None
    return int(float(values[0]["sum"])) if values else None
