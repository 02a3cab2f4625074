"""`connect-metrics replay` over a file with stray times: an hour of a contact centre, one agent
event three years older placed first and one contact event 400 days ahead in its middle. The
strays are dead-lettered, every table equals the truth of the hour, and the run ends about when
the hour alone does (both durations printed with -s; speed belongs to `make bench`)."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest

from cli import commands
from connectors.settings import TimestreamSettings
from jobs.config import PROJECT_ROOT, Config, JobSettings
from cli.prerequisites import free_ports
from cli.replay import replay
from cli.replay_summary import EVENTS, MEMORY_STORE_FIX, REFUSED_EXIT
from simulator.faults import FaultSettings
from tests.e2e.conftest import e2e_sql_dir, write_properties
from tests.operator.test_metrics_truth import FAULTS
from tests.truth import assert_tables_equal_truth, hour_across_midnight

pytestmark = pytest.mark.e2e

DAY_MS = 24 * 3_600_000


def shifted(value, delta: timedelta):
    """`value` with every ISO-8601 UTC time in it moved by `delta`."""
    if isinstance(value, dict):
        return {k: shifted(v, delta) for k, v in value.items()}
    if isinstance(value, list):
        return [shifted(v, delta) for v in value]
    if isinstance(value, str) and value.endswith("Z") and value[:4].isdigit():
        try:
            at = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        text = (at + delta).astimezone(timezone.utc).isoformat(timespec="milliseconds")
        return text.replace("+00:00", "Z")
    return value


def stray(records: list[bytes], feed_key: str, id_key: str, delta: timedelta) -> bytes:
    """The first record holding `feed_key`, moved by `delta`, with an id of its own."""
    record = next(orjson.loads(r) for r in records if feed_key.encode() in r)
    moved = shifted(record, delta)
    moved[id_key] = f"stray-{moved[id_key]}"
    return orjson.dumps(moved)


def replay_config(tmp_path: Path, zone: str) -> Config:
    sql_dir = tmp_path / "sql"
    shutil.copytree(PROJECT_ROOT / "sql", sql_dir)
    return Config(
        timestream=TimestreamSettings(target=f"jsonl:{tmp_path / 'records.jsonl'}"),
        job=JobSettings(parallelism=2, checkpoint_interval_ms=0, sql_dir=str(sql_dir),
                        checkpoint_dir=str(tmp_path / "checkpoints"), reporting_time_zone=zone,
                        dead_letter=f"jsonl:{tmp_path / 'dead.jsonl'}"),
    )


def run_replay(tmp_path: Path, records: list[bytes], zone: str):
    tmp_path.mkdir()
    recording = tmp_path / "recorded.jsonl"
    recording.write_bytes(b"".join(r + b"\n" for r in records))
    config = replay_config(tmp_path, zone)
    summary = replay(config, [recording], rest_port=free_ports(1)[0])
    lines = [orjson.loads(line) for line in (tmp_path / "records.jsonl").read_bytes().splitlines()]
    dead = [orjson.loads(line) for line in (tmp_path / "dead.jsonl").read_bytes().splitlines()]
    return summary, lines, dead


def test_stray_times_are_dead_lettered_and_the_hour_equals_its_truth(tmp_path):
    events, truth, zone = hour_across_midnight(3, FAULTS)
    records = [event.payload for event in events]
    old_agent = stray(records, "AgentARN", "EventId", -timedelta(days=3 * 365))
    future_contact = stray(records, "detail-type", "id", timedelta(days=400))
    mixed = [old_agent, *records[:len(records) // 2], future_contact, *records[len(records) // 2:]]

    summary, lines, dead = run_replay(tmp_path / "strays", mixed, zone)
    assert_tables_equal_truth(lines, truth, zone)
    events = sorted(letter["reason"] for letter in dead if "table" not in letter)
    assert events == ["event_in_future", "event_too_old"]
    assert {(EVENTS, "event_too_old"), (EVENTS, "event_in_future")} <= summary.dead_letters.keys()
    # Contacts the hour leaves open expire hours after its end, ahead of the wall clock: the sink
    # refuses those rows, and no setting would change that.
    assert all("in the future" in letter["message"] for letter in dead if "table" in letter)
    assert summary.exit_code == 0
    assert summary.written["queue_interval"] == sum(1 for line in lines
                                                    if line["table"] == "queue_interval")

    hour_alone, _, _ = run_replay(tmp_path / "hour", records, zone)
    print(f"\nreplay with strays: {summary.elapsed_s:.1f} s; the hour alone: "
          f"{hour_alone.elapsed_s:.1f} s")


def test_a_backfill_older_than_the_memory_store_exits_non_zero_naming_the_fix(tmp_path, capsys):
    events, _, zone = hour_across_midnight(5, FaultSettings())  # ids in their usual keys
    records = [event.payload for event in events]
    old = [stray([r], "", "EventId" if b"AgentARN" in r else "id", -timedelta(days=2))
           for r in records[:400]]
    recording = tmp_path / "yesterday.jsonl"
    recording.write_bytes(b"".join(r + b"\n" for r in old))
    config = replay_config(tmp_path, zone)
    (tmp_path / "e2e").mkdir()
    config = replace(config, job=replace(config.job, sql_dir=str(e2e_sql_dir(tmp_path / "e2e"))))
    properties = write_properties(config, tmp_path / "properties.json")

    assert commands.main(["replay", str(recording), "--config", str(properties)]) == REFUSED_EXIT
    err = capsys.readouterr().err
    assert "warning: the files start before the memory store" in err
    assert "queue_interval: timestream_refused" in err
    assert f"fix: {MEMORY_STORE_FIX}" in err
