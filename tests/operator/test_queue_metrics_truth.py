"""queue_interval against the simulator's ground truth, with duplicates, reordering within the
allowed lateness and key-casing variants injected: every count exact, durations within 1 ms."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime, timezone

import pytest

from jobs.config import PROJECT_ROOT
from tests.conftest import CLI_ENV
from tests.operator.conftest import dimensions, measures

COUNTS = (
    "contacts_queued", "contacts_handled", "contacts_abandoned", "sum_contacts_answered_in_20",
    "sum_contacts_answered_in_60", "contacts_removed", "contacts_removed_in_20",
    "contacts_removed_in_60",
)


def simulate(tmp_path, seed: int) -> tuple[list[bytes], dict]:
    start_ms = (int(time.time()) // 60 - 90) * 60_000
    start = datetime.fromtimestamp(start_ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    records, truth = tmp_path / "recorded.jsonl", tmp_path / "truth.jsonl"
    subprocess.run(
        [sys.executable, "-m", "jobs.cli", "simulate", "--agents", "20", "--queues", "3",
         "--rate", "8", "--duration", "1h", "--seed", str(seed), "--start", start,
         "--faults", "duplicates=0.02,reorder=0.05,reorder-ms=3000,casing=0.02",
         "--out", str(records), "--truth", str(truth)],
        cwd=PROJECT_ROOT, env=CLI_ENV, check=True, capture_output=True,
    )
    intervals = {}
    for line in truth.read_text().splitlines():
        entry = json.loads(line)
        if entry["kind"] == "interval":
            intervals[(entry["queue_id"], entry["channel"], entry["interval_start"])] = entry
    return records.read_bytes().splitlines(), intervals


@pytest.mark.parametrize("seed", [12])
def test_queue_interval_equals_the_ground_truth(job_output, tmp_path, seed):
    records, truth = simulate(tmp_path, seed)
    ours = {
        (dimensions(line)["queue_id"], dimensions(line)["channel"], int(line["record"]["Time"])):
            {name: float(value) for name, value in measures(line).items()}
        for line in job_output(records) if line["table"] == "queue_interval"
    }
    assert sum(t["contacts_queued"] for t in truth.values()) > 300
    for key in truth.keys() | ours.keys():
        expected, got = truth.get(key, {}), ours.get(key, {})
        for name in COUNTS:
            assert got.get(name, 0) == expected.get(name, 0), (key, name)
        answer_ms = got.get("sum_queue_answer_time", 0) * 1000
        assert abs(answer_ms - expected.get("sum_queue_answer_time_ms", 0)) <= 1, key
