"""The application zip is self-contained: unpacked into an empty folder, its `main.py` runs the job
in a local MiniCluster against the emulators, configured by an application_properties.json."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import json

import boto3
import orjson
import pytest

from deploy.package import build_package
from jobs.config import PROJECT_ROOT
from cli.flink_cluster import python_without_the_checkout
from cli.landed import landed_records
from cli.local_stack import create_timestream_tables
from jobs.main import CONNECTOR_JAR
from jobs.metrics import load_catalogue
from tests.conftest import CLI_ENV
from tests.e2e.scenario import (
    agent_records, contact_records, expected_rows, put, rows, stop_group,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(sys.platform != "linux", reason="the zip's wheels are manylinux wheels"),
]


def packaged_properties(config, path: Path) -> Path:
    """`config` as application_properties.json, without `sql.dir`: the job's default, the
    metric files next to its code, is what runs on MSF."""
    groups = config.to_property_groups()
    for group in groups:
        group["PropertyMap"].pop("sql.dir", None)
    path.write_text(json.dumps(groups, indent=2), encoding="utf-8")
    return path


def test_the_unpacked_zip_runs_the_job_without_the_checkout(local_stack, job_config, tmp_path):
    config, _ = job_config
    properties = packaged_properties(config, tmp_path / "packaged_properties.json")
    # The zip runs the whole catalogue: every table it writes must exist.
    create_timestream_tables(config.timestream.endpoint, config.timestream.region,
                             config.timestream.database,
                             [metric.table for metric in load_catalogue(PROJECT_ROOT / "sql")])
    # Wheels for this interpreter (pip downloads them once into .local/package/).
    zip_path = build_package(
        tmp_path / "connect-metrics.zip", CONNECTOR_JAR,
        python_version=f"{sys.version_info.major}.{sys.version_info.minor}",
        platform=f"manylinux2014_{platform.machine()}",
    )
    unpacked = tmp_path / "unpacked"
    unpacked.mkdir()
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(unpacked)

    python = python_without_the_checkout(tmp_path / "python")
    env = {key: value for key, value in CLI_ENV.items() if key != "PYTHONPATH"}
    env["CONNECT_METRICS_PROPERTIES"] = str(properties)
    probe = subprocess.run([str(python), "-c", "import pyflink, boto3, jobs"], cwd=tmp_path,
                           env=env, capture_output=True, text=True)
    assert "No module named 'jobs'" in probe.stderr, probe.stderr

    kinesis = boto3.client("kinesis", region_name="us-east-1", endpoint_url=config.kinesis.endpoint,
                           aws_access_key_id="test", aws_secret_access_key="test")
    put(kinesis, config.kinesis.contact_stream, [orjson.dumps(r) for r in contact_records()])
    put(kinesis, config.kinesis.agent_stream, [orjson.dumps(r) for r in agent_records()])

    log = tmp_path / "job.log"
    started = time.monotonic()
    job = subprocess.Popen([str(python), "main.py"], cwd=unpacked, env=env,
                           stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    # The zip holds the whole catalogue; the scenario's known rows are its queue_interval ones.
    expected = {row for row in expected_rows() if row[0] == "queue_interval"}
    try:
        landed = []
        while time.monotonic() - started < 240 and len(landed) < len(expected):
            assert job.poll() is None, log.read_text()[-3000:]
            landed = [r for r in landed_records(config.timestream.endpoint,
                                                config.timestream.database)
                      if r.table == "queue_interval"]
            time.sleep(0.5)
        print(f"{len(landed)} rows {time.monotonic() - started:.1f} s after `python main.py`")
        assert rows(landed) == expected, "\n".join(r.describe() for r in landed)
    finally:
        stop_group(job)
    with pytest.raises(ProcessLookupError):
        os.killpg(job.pid, 0)
    text = log.read_text()
    app = unpacked / "app"
    assert f"job code from {app / 'jobs'}, metrics from {app / 'sql'}" in text, text[-3000:]
