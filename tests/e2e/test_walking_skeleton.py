"""One path, end to end: Kinesis emulator -> the job with the real connector -> Timestream emulator."""

from __future__ import annotations

import json
import os
import time

import boto3
import orjson
import pytest

from jobs.landed import landed_records
from tests.e2e.scenario import (
    agent_records, contact_records, expected_rows, put, rows, start_job, stop_group,
)

pytestmark = pytest.mark.e2e


def test_events_travel_from_kinesis_through_sql_to_timestream(local_stack, job_config, tmp_path):
    config, properties = job_config
    kinesis = boto3.client("kinesis", region_name="us-east-1", endpoint_url=config.kinesis.endpoint,
                           aws_access_key_id="test", aws_secret_access_key="test")
    put(kinesis, config.kinesis.contact_stream, [orjson.dumps(r) for r in contact_records()])
    put(kinesis, config.kinesis.agent_stream,
        [orjson.dumps(r) for r in agent_records()] + [b'{"EventType": "LOGIN", broken'])

    started = time.monotonic()
    job = start_job(properties, tmp_path / "job.log")
    expected = expected_rows()
    try:
        landed = []
        first_row_after = None
        while time.monotonic() - started < 240 and len(landed) < len(expected):
            assert job.poll() is None, (tmp_path / "job.log").read_text()[-3000:]
            landed = landed_records(config.timestream.endpoint, config.timestream.database)
            if landed and first_row_after is None:
                first_row_after = time.monotonic() - started
            time.sleep(0.5)
        time.sleep(3)  # anything extra would land by now
        landed = landed_records(config.timestream.endpoint, config.timestream.database)
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
