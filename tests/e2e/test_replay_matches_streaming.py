"""Replay over a recorded file and the live run over Kinesis write the same records."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest

from jobs.config import PROJECT_ROOT
from tests.conftest import CLI_ENV
from tests.e2e.conftest import write_properties
from tests.e2e.scenario import start_job, stop_group

pytestmark = pytest.mark.e2e

DURATION_MS = 10 * 60_000


def simulate(properties: Path, start: str, *out: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "cli", "simulate", "--config", str(properties),
         "--agents", "10", "--queues", "2", "--rate", "6", "--duration", "10m", "--seed", "5",
         "--start", start, "--speed", "100000", *out],
        cwd=PROJECT_ROOT, env=CLI_ENV, check=True, capture_output=True,
    )


def written(path: Path) -> dict:
    """Sink lines keyed by what Timestream keys a row by; the version (computation time) aside."""
    rows = {}
    if not path.exists():
        return rows
    for line in path.read_text().splitlines():
        entry = json.loads(line)
        record = entry["record"]
        key = (entry["table"], record["Time"],
               tuple(sorted((d["Name"], d["Value"]) for d in record["Dimensions"])))
        rows[key] = sorted((m["Name"], m["Value"]) for m in record["MeasureValues"])
    return rows


def test_replay_and_the_streaming_run_write_the_same_records(local_stack, job_config, tmp_path):
    config, properties = job_config
    start_ms = (int(time.time()) // 60 - 15) * 60_000
    start = datetime.fromtimestamp(start_ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    recording = tmp_path / "recorded.jsonl"
    simulate(properties, start, "--out", str(recording))

    replayed = tmp_path / "replayed.jsonl"
    subprocess.run(
        [sys.executable, "-m", "cli", "replay", str(recording), "--config", str(properties),
         "--sink", f"jsonl:{replayed}"],
        cwd=PROJECT_ROOT, env=CLI_ENV, check=True, capture_output=True, timeout=300,
    )
    from_replay = written(replayed)
    assert from_replay, "the replay wrote nothing"

    streamed = tmp_path / "streamed.jsonl"
    # Provisional gauge rows are live-only extras (the samples rewrite them); without them a
    # live run writes exactly the replay's records.
    live = replace(config, timestream=replace(config.timestream, target=f"jsonl:{streamed}"),
                   job=replace(config.job, gauge_provisional_ms=0))
    live_properties = write_properties(live, tmp_path / "live.json")
    simulate(properties, start, "--out", "kinesis")
    job = start_job(live_properties, tmp_path / "job.log")
    # A live run closes a window once later events arrive; the last minutes stay open, while
    # the replay closes everything at the end of its input.
    closed = {k for k in from_replay if int(k[1]) <= start_ms + DURATION_MS - 3 * 60_000}
    try:
        deadline = time.monotonic() + 180
        while not closed <= set(written(streamed)):
            assert job.poll() is None, (tmp_path / "job.log").read_text()[-3000:]
            assert time.monotonic() < deadline, sorted(closed - set(written(streamed)))[:5]
            time.sleep(1)
        time.sleep(3)
    finally:
        stop_group(job)
    from_stream = written(streamed)
    assert len(closed) > 10
    assert {k: from_stream[k] for k in closed} == {k: from_replay[k] for k in closed}
    assert all(from_replay.get(k) == v for k, v in from_stream.items()), "live wrote other values"
