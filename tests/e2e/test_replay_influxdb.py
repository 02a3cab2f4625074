"""`connect-metrics replay` into the real local InfluxDB whose default retention policy keeps a
day: an hour of a contact centre (a few hours old) with 400 of its records copied two days back.
The server takes the hour and refuses the older points ("points beyond retention policy"); the
replay's summary counts per table what landed in InfluxDB and what was refused, names the fix
and exits non-zero."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from datetime import timedelta

import orjson
import pytest

from connectors.influxdb import influxql
from cli import commands
from connectors.settings import InfluxDBSettings
from cli.influxdb_landed import influxdb_records
from cli.replay_summary import REFUSED_EXIT, RETENTION_POLICY_FIX
from simulator.faults import FaultSettings
from tests.e2e.conftest import e2e_sql_dir, write_properties
from tests.e2e.test_replay_strays import replay_config, stray
from tests.truth import hour_across_midnight

pytestmark = pytest.mark.e2e


def summary_counts(err: str, heading: str) -> dict[str, int]:
    """The `  NAME: N` lines under the summary line starting with `heading`."""
    block = err.split(f"replay: {heading}", 1)[1].splitlines()[1:]
    counts = {}
    for line in block:
        found = re.fullmatch(r"replay:   (.+): ([\d,]+)", line)
        if found is None:
            break
        counts[found[1]] = int(found[2].replace(",", ""))
    return counts


def test_a_replay_into_influxdb_counts_what_landed_and_exits_naming_the_retention_fix(
        influxdb, tmp_path, capsys):
    url, database = influxdb.influxdb_endpoint, influxdb.influxdb_database
    influxql(url, f'CREATE RETENTION POLICY "day" ON "{database}" DURATION 1d REPLICATION 1 '
                  "DEFAULT", method="POST")
    events, _, zone = hour_across_midnight(5, FaultSettings(), agents=10)
    records = [event.payload for event in events]
    old = [stray([r], "", "EventId" if b"AgentARN" in r else "id", -timedelta(days=2))
           for r in records[:400]]
    recording = tmp_path / "recorded.jsonl"
    recording.write_bytes(b"".join(r + b"\n" for r in [*old, *records]))
    config = replay_config(tmp_path, zone)
    (tmp_path / "e2e").mkdir()
    config = replace(
        config, timestream=replace(config.timestream, target="influxdb"),
        influxdb=InfluxDBSettings(url=url, database=database),
        job=replace(config.job, sql_dir=str(e2e_sql_dir(tmp_path / "e2e"))))
    properties = write_properties(config, tmp_path / "properties.json")

    assert commands.main(["replay", str(recording), "--config", str(properties)]) == REFUSED_EXIT
    err = capsys.readouterr().err
    landed = Counter(record.table for record in influxdb_records(url, database))
    assert set(landed) == {"queue_interval", "agents_online"}
    assert summary_counts(err, "written:") == landed
    letters = [orjson.loads(line) for line in (tmp_path / "dead.jsonl").read_bytes().splitlines()]
    refused = Counter(f"{letter['table']}: {letter['reason']}" for letter in letters)
    assert set(refused) == {"queue_interval: influxdb_refused", "agents_online: influxdb_refused"}
    assert summary_counts(err, "dead-lettered:") == refused
    assert all("points beyond retention policy" in letter["message"] for letter in letters)
    assert f"replay: fix: {RETENTION_POLICY_FIX}" in err
