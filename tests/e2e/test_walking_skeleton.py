"""One path, end to end: Kinesis emulator -> the job with the real connector -> Timestream
emulator or the local InfluxDB."""

from __future__ import annotations

import json
import os
import time
from dataclasses import replace

import boto3
import orjson
import pytest

from cli.influxdb_landed import influxdb_records
from cli.landed import landed_records
from tests.e2e.scenario import (
    agent_records, contact_records, expected_rows, put, rows, start_job, stop_group,
)

pytestmark = pytest.mark.e2e


def stored(config):
    """Every write the emulator holds, or every point InfluxDB holds."""
    if config.timestream.target == "influxdb":
        return influxdb_records(config.influxdb.url, config.influxdb.database)
    return landed_records(config.timestream.endpoint, config.timestream.database)


@pytest.mark.parametrize("sink", [None, "influxdb"])
def test_events_travel_from_kinesis_through_sql_to_the_database(local_stack, job_config,
                                                               tmp_path, sink):
    config, properties = job_config
    extra = ()
    if sink == "influxdb":
        influx = config.influxdb
        extra = ("--sink", f"influxdb:{influx.url}/{influx.database}")
        config = replace(config, timestream=replace(config.timestream, target="influxdb"))
    kinesis = boto3.client("kinesis", region_name="us-east-1", endpoint_url=config.kinesis.endpoint,
                           aws_access_key_id="test", aws_secret_access_key="test")
    put(kinesis, config.kinesis.contact_stream, [orjson.dumps(r) for r in contact_records()])
    put(kinesis, config.kinesis.agent_stream,
        [orjson.dumps(r) for r in agent_records()] + [b'{"EventType": "LOGIN", broken'])

    started = time.monotonic()
    job = start_job(properties, tmp_path / "job.log", *extra)
    expected = expected_rows(sink=config.timestream.target)
    try:
        landed = []
        first_row_after = None
        while time.monotonic() - started < 240 and len(landed) < len(expected):
            assert job.poll() is None, (tmp_path / "job.log").read_text()[-3000:]
            landed = stored(config)
            if landed and first_row_after is None:
                first_row_after = time.monotonic() - started
            time.sleep(0.5)
        time.sleep(3)  # anything extra would land by now
        landed = stored(config)
        print(f"first metric row {first_row_after:.1f} s after `connect-metrics run`")
        assert rows(landed) == expected, "\n".join(r.describe() for r in landed)
        assert len(landed) == len(expected)
        assert all(r.record["MeasureValueType"] == "MULTI" for r in landed)
        dead = [json.loads(line) for line in (tmp_path / "dead-letters.jsonl").read_text().splitlines()]
        assert [d["reason"] for d in dead] == ["invalid_json"]
        assert dead[0]["stream"] == config.kinesis.agent_stream
    finally:
        stop_group(job)
    with pytest.raises(ProcessLookupError):
        os.killpg(job.pid, 0)
