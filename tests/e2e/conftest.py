"""Shared set-up for the end-to-end tests: ports nobody uses and a running local stack."""

from __future__ import annotations

import json
import shutil
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from connectors.settings import InfluxDBSettings, KinesisSettings, TimestreamSettings
from jobs.config import PROJECT_ROOT, Config, JobSettings
from cli import local_influxdb
from cli.local_stack import StackSettings, down, up
from jobs.metrics import load_catalogue
from cli.prerequisites import free_ports, require_connector_jar
from jobs.main import CONNECTOR_JAR


def write_properties(config: Config, path: Path) -> Path:
    path.write_text(json.dumps(config.to_property_groups(), indent=2))
    return path


E2E_TABLES = ("queue_interval", "agents_online")


def e2e_sql_dir(tmp_path: Path) -> Path:
    """queue_interval from the project and a small agents table kept with these tests: the rows
    a short scenario gives are few and known (the operator tests cover the whole catalogue)."""
    sql_dir = tmp_path / "sql"
    sql_dir.mkdir()
    shutil.copy(PROJECT_ROOT / "sql" / "queue_interval.sql", sql_dir)
    shutil.copy(Path(__file__).parent / "agents_online.sql", sql_dir)
    return sql_dir


@pytest.fixture
def job_config(tmp_path):
    """A configuration on free ports with the e2e tables, and the application_properties.json
    that says it."""
    kinesis, timestream, influxdb = free_ports(3)
    config = Config(
        # The scenarios put past events in bursts with pauses between; a source clock would move
        # event time on with the wall clock during a pause (test_quiet_night turns it on).
        kinesis=KinesisSettings(endpoint=f"http://127.0.0.1:{kinesis}", poll_interval_ms=100,
                                idle_clock_ms=0),
        timestream=TimestreamSettings(endpoint=f"http://127.0.0.1:{timestream}"),
        influxdb=InfluxDBSettings(url=f"http://127.0.0.1:{influxdb}"),
        job=JobSettings(sql_dir=str(e2e_sql_dir(tmp_path)),
                        dead_letter=f"jsonl:{tmp_path / 'dead-letters.jsonl'}",
                        checkpoint_interval_ms=2_000,
                        checkpoint_dir=str(tmp_path / "checkpoints")),
    )
    path = write_properties(config, tmp_path / "application_properties.json")
    assert Config.load(path) == config
    return config, path


@pytest.fixture
def local_stack(job_config, tmp_path):
    """kinesis-mock, moto and InfluxDB on the job configuration's ports, stopped afterwards."""
    require_connector_jar(CONNECTOR_JAR)
    config, _ = job_config
    tables = [m.table for m in load_catalogue(config.job.sql_dir)]
    (tls_port,) = free_ports(1)
    settings = replace(
        StackSettings.from_config(config, tables, state_dir=tmp_path / "stack"),
        kinesis_tls_port=tls_port,
    )
    try:
        up(settings)
        yield settings
    finally:
        down(settings)


@contextmanager
def influxdb_server(state_dir: Path, database: str = "connect_metrics"):
    """The local InfluxDB server alone, on a free port, with `database`; its stack settings."""
    (port,) = free_ports(1)
    settings = StackSettings(influxdb_port=port, influxdb_database=database, state_dir=state_dir)
    local_influxdb.start(settings)
    try:
        yield settings
    finally:
        local_influxdb.stop(settings)


@pytest.fixture
def influxdb(tmp_path):
    with influxdb_server(tmp_path / "stack") as settings:
        yield settings


@pytest.fixture(scope="module")
def influxdb_module(tmp_path_factory):
    """(URL, database) of a server shared by a module's tests."""
    with influxdb_server(tmp_path_factory.mktemp("influxdb")) as settings:
        yield settings.influxdb_endpoint, settings.influxdb_database
