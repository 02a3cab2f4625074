"""The emulator stack behind `connect-metrics dev`: real kinesis-mock, moto and InfluxDB
processes."""

from __future__ import annotations

import json
import socket
import os
import time
from pathlib import Path

import boto3
import pytest

from connectors.influxdb import InfluxDBWriter, WriteEndpoint
from connectors.settings import InfluxDBSettings, KinesisSettings, TimestreamSettings
from jobs.config import Config
from cli.influxdb_landed import influxdb_records
from cli.landed import landed_records
from cli.local_stack import StackSettings, down, status, up
from cli.prerequisites import SetupError, port_in_use
from cli.prerequisites import free_ports

pytestmark = pytest.mark.e2e

TABLES = ("queue_interval", "agent_interval")
CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}


def pids(settings: StackSettings) -> dict[str, int]:
    return {
        path.stem: json.loads(path.read_text())["pid"]
        for path in sorted(settings.state_dir.glob("*.pid"))
    }


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


def all_ports(settings: StackSettings) -> list[int]:
    return [settings.kinesis_port, settings.kinesis_tls_port, settings.timestream_port,
            settings.influxdb_port]


@pytest.fixture
def settings(tmp_path):
    kinesis, tls, timestream, influxdb = free_ports(4)
    settings = StackSettings(
        tables=TABLES,
        kinesis_port=kinesis,
        kinesis_tls_port=tls,
        timestream_port=timestream,
        influxdb_port=influxdb,
        state_dir=tmp_path / "stack",
    )
    try:
        yield settings
    finally:
        down(settings)


@pytest.fixture
def kinesis(settings):
    client = boto3.client(
        "kinesis",
        endpoint_url=settings.kinesis_endpoint,
        region_name=settings.region,
        **CREDENTIALS,
    )
    yield client
    client.close()


@pytest.fixture
def timestream(settings):
    client = boto3.client(
        "timestream-write",
        endpoint_url=settings.timestream_endpoint,
        region_name=settings.region,
        **CREDENTIALS,
    )
    yield client
    client.close()


def test_up_creates_streams_database_and_tables(settings, kinesis, timestream):
    started = time.monotonic()
    result = up(settings)
    assert time.monotonic() - started < 30
    assert result.running

    for stream in ("agent-events", "contact-events"):
        summary = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
        assert summary["StreamStatus"] == "ACTIVE"
        assert summary["OpenShardCount"] == 1
    timestream.describe_database(DatabaseName="connect_metrics")
    tables = timestream.list_tables(DatabaseName="connect_metrics")["Tables"]
    assert sorted(t["TableName"] for t in tables) == sorted(TABLES)


def test_up_twice_reuses_the_running_stack_and_keeps_its_data(settings, kinesis, timestream):
    up(settings)
    first = pids(settings)
    assert set(first) == {"kinesis-mock", "moto", "influxdb"}
    influxdb = InfluxDBWriter(WriteEndpoint.of(
        InfluxDBSettings(url=settings.influxdb_endpoint, database=settings.influxdb_database), ""))
    assert influxdb.write("queue_interval", [{
        "Dimensions": [{"Name": "queue_id", "Value": "q-1"}], "Time": "1",
        "MeasureValues": [{"Name": "contacts_queued", "Value": "1", "Type": "BIGINT"}]}],
        0).written == 1
    kinesis.put_record(StreamName="agent-events", Data=b"{}", PartitionKey="a")
    timestream.write_records(
        DatabaseName="connect_metrics",
        TableName="queue_interval",
        Records=[
            {
                "Dimensions": [{"Name": "queue_id", "Value": "q-1"}],
                "MeasureName": "queue_interval",
                "MeasureValue": "1",
                "MeasureValueType": "BIGINT",
                "Time": str(int(time.time() * 1000)),
            }
        ],
    )

    up(settings)

    assert pids(settings) == first
    shard = kinesis.list_shards(StreamName="agent-events")["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(
        StreamName="agent-events", ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=iterator)["Records"]] == [b"{}"]
    landed = landed_records(settings.timestream_endpoint, "connect_metrics")
    assert [r.table for r in landed] == ["queue_interval"]
    points = influxdb_records(settings.influxdb_endpoint, settings.influxdb_database)
    assert [(r.table, r.measures) for r in points] == [("queue_interval", {"contacts_queued": "1"})]


def test_status_names_both_emulators(settings):
    up(settings)
    report = status(settings)
    for name, pid in pids(settings).items():
        assert f"{name}" in report
        assert f"running (pid {pid})" in report
    assert settings.kinesis_endpoint in report
    assert settings.timestream_endpoint in report
    assert settings.influxdb_endpoint in report
    assert str(settings.state_dir / "moto.log") in report


def test_down_stops_everything_and_frees_the_ports(settings):
    up(settings)
    started = pids(settings)

    down(settings)

    assert not any(process_exists(pid) for pid in started.values())
    assert not any(port_in_use(settings.host, port) for port in all_ports(settings))
    assert pids(settings) == {}
    assert "running (pid" not in status(settings)
    down(settings)


def test_down_with_nothing_running_is_harmless(settings):
    down(settings)
    assert status(settings).count("not running") == 3


@pytest.mark.parametrize(
    ("port_of", "emulator", "setting"),
    [
        (lambda s: s.kinesis_port, "kinesis-mock", "endpoint"),
        (lambda s: s.kinesis_tls_port, "kinesis-mock", "endpoint"),
        (lambda s: s.timestream_port, "moto", "endpoint"),
        (lambda s: s.influxdb_port, "influxdb", "`url` property of the InfluxDB property group"),
    ],
)
def test_a_taken_port_is_named_before_anything_starts(settings, port_of, emulator, setting):
    port = port_of(settings)
    with socket.socket() as holder:
        holder.bind((settings.host, port))
        holder.listen()
        with pytest.raises(SetupError) as err:
            up(settings)
    message = str(err.value)
    assert f"port {port} on {settings.host} is already in use" in message
    assert f"{emulator} cannot listen there" in message
    assert setting in message
    assert pids(settings) == {}


def test_down_leaves_a_reused_pid_alone(settings):
    settings.state_dir.mkdir(parents=True)
    stale = {"pid": os.getpid(), "identity": "1 node main.js", "ports": [1, 2]}
    (settings.state_dir / "kinesis-mock.pid").write_text(json.dumps(stale))

    down(settings)

    assert process_exists(os.getpid())
    assert pids(settings) == {}


def test_an_emulator_that_dies_is_reported_and_the_rest_stopped(settings, tmp_path):
    broken = tmp_path / "broken-kinesis-mock"
    broken.mkdir()
    (broken / "main.js").write_text("console.error('cannot start: boom'); process.exit(3);\n")
    settings = StackSettings(
        tables=TABLES,
        kinesis_port=settings.kinesis_port,
        kinesis_tls_port=settings.kinesis_tls_port,
        timestream_port=settings.timestream_port,
        state_dir=settings.state_dir,
        kinesis_mock_dir=broken,
    )

    with pytest.raises(SetupError) as err:
        up(settings)

    message = str(err.value)
    assert "kinesis-mock exited during start-up with exit code 3" in message
    assert str(settings.state_dir / "kinesis-mock.log") in message
    assert "cannot start: boom" in message
    assert pids(settings) == {}
    assert not port_in_use(settings.host, settings.timestream_port)


def test_missing_kinesis_mock_says_npm_ci(settings, tmp_path):
    settings = StackSettings(state_dir=settings.state_dir, kinesis_mock_dir=tmp_path / "absent")
    with pytest.raises(SetupError, match=r"run `npm ci` in "):
        up(settings)


def test_settings_follow_the_job_config(tmp_path):
    config = Config(
        kinesis=KinesisSettings(
            endpoint="http://localhost:5568",
            agent_stream="a",
            contact_stream="c",
            region="eu-west-1",
        ),
        timestream=TimestreamSettings(
            endpoint="http://127.0.0.1:5570", database="db", region="eu-west-1"
        ),
    )
    settings = StackSettings.from_config(config, ["t1", "t2"], state_dir=tmp_path)
    assert (settings.kinesis_port, settings.kinesis_tls_port, settings.timestream_port) == (
        5568,
        5567,
        5570,
    )
    assert [s.name for s in settings.streams] == ["a", "c"]
    assert all(s.shards == 1 for s in settings.streams)
    assert (settings.database, settings.tables, settings.region) == (
        "db",
        ("t1", "t2"),
        "eu-west-1",
    )
    assert StackSettings.from_config(Config(), []).kinesis_endpoint == Config().kinesis.endpoint


@pytest.mark.parametrize(
    "endpoint",
    ["https://kinesis.us-east-1.amazonaws.com", "http://10.0.0.5:4568", "http://127.0.0.1"],
)
def test_settings_refuse_an_endpoint_the_stack_cannot_serve(endpoint):
    config = Config(kinesis=KinesisSettings(endpoint=endpoint))
    with pytest.raises(SetupError, match=r"Kinesis property group.*cannot serve"):
        StackSettings.from_config(config, [])


def test_settings_refuse_colliding_ports():
    config = Config(
        kinesis=KinesisSettings(endpoint="http://127.0.0.1:4571"),
        timestream=TimestreamSettings(endpoint="http://127.0.0.1:4570"),
    )
    with pytest.raises(SetupError, match=r"must all differ"):
        StackSettings.from_config(config, [])
