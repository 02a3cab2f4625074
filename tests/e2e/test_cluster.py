"""The application zip on a standalone Flink cluster, run the way MSF runs it: a JobManager and two
TaskManagers as processes, RocksDB state, checkpoints to a folder, restarts on. A TaskManager
killed mid-stream, and savepoints restored at another parallelism, leave every table equal to the
simulator's truth: nothing lost, nothing counted twice (read with Timestream's upsert semantics).
"""

from __future__ import annotations

import json
import os
import platform
import signal
import sys
import time
from dataclasses import replace

import pytest

from deploy.package import build_package
from cli import flink_cluster
from connectors.settings import KinesisSettings, TimestreamSettings
from jobs.config import PROJECT_ROOT, Config, JobSettings
from cli.flink_cluster import ClusterSettings
from cli.landed import landed_records
from cli.local_stack import StackSettings, Stream, create_streams, create_timestream_tables
from cli.local_stack import down as stack_down
from cli.local_stack import up as stack_up
from jobs.main import CONNECTOR_JAR
from jobs.metrics import load_catalogue
from jobs.pipeline import SINK_NAME
from cli.prerequisites import free_ports, require_connector_jar
from simulator.centre import Emitted
from simulator.faults import FaultSettings
from tests.e2e.scenario import closing_events, publish
from tests.truth import assert_tables_equal_truth, hour_across_midnight

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.cluster,
    pytest.mark.skipif(sys.platform != "linux", reason="the zip's wheels are manylinux wheels"),
]

FAULTS = FaultSettings(duplicates=0.02, reorder=0.05, reorder_ms=3_000, casing=0.02)
SHARDS = 2
SETTLE_S = 600.0
QUIET_S = 30.0
SPEED = 10.0  # a shard's 100 ms poll then spans 1 s of events, well within the allowed lateness


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """kinesis-mock, moto and a cluster of a JobManager and two TaskManagers (a slot each)."""
    require_connector_jar(CONNECTOR_JAR)
    state = tmp_path_factory.mktemp("cluster")
    kinesis, tls, timestream, influxdb, rest, rpc = free_ports(6)
    stack = replace(
        StackSettings.from_config(Config(
            kinesis=KinesisSettings(endpoint=f"http://127.0.0.1:{kinesis}"),
            timestream=TimestreamSettings(endpoint=f"http://127.0.0.1:{timestream}")),
            [], state_dir=state / "stack"),
        kinesis_tls_port=tls, influxdb_port=influxdb, streams=())
    settings = ClusterSettings(state_dir=state, rest_port=rest, rpc_port=rpc,
                               overrides={"execution.checkpointing.interval": "2s"})
    application = build_package(
        state / "connect-metrics.zip", CONNECTOR_JAR,
        python_version=f"{sys.version_info.major}.{sys.version_info.minor}",
        platform=f"manylinux2014_{platform.machine()}")
    try:
        stack_up(stack)
        flink_cluster.up(settings)
        yield stack, settings, application
    finally:
        flink_cluster.down(settings)
        stack_down(stack)


def application_properties(stack: StackSettings, folder, name: str, zone: str,
                           **job_settings):
    """Streams and a database of the test's own; the source clock off, so event time moves with
    the events alone and a pause between puts changes nothing."""
    config = Config(
        kinesis=KinesisSettings(endpoint=stack.kinesis_endpoint, agent_stream=f"{name}-agents",
                                contact_stream=f"{name}-contacts", poll_interval_ms=100,
                                idle_clock_ms=0),
        timestream=TimestreamSettings(endpoint=stack.timestream_endpoint, database=name),
        job=JobSettings(dead_letter=f"jsonl:{folder / 'dead-letters.jsonl'}",
                        reporting_time_zone=zone, **job_settings),
    )
    create_streams(config.kinesis.endpoint, config.kinesis.region,
                   [Stream(config.kinesis.agent_stream, SHARDS),
                    Stream(config.kinesis.contact_stream, SHARDS)], "see kinesis-mock's log")
    create_timestream_tables(config.timestream.endpoint, config.timestream.region, name,
                             [m.table for m in load_catalogue(PROJECT_ROOT / "sql")])
    groups = config.to_property_groups()
    for group in groups:  # the job's default: the metric files in the zip
        group["PropertyMap"].pop("sql.dir", None)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(groups), encoding="utf-8")
    return config, path


def sink_lines(config: Config) -> list[dict]:
    return [{"table": r.table, "record": r.record}
            for r in landed_records(config.timestream.endpoint, config.timestream.database)]


def settled_lines(config: Config, settings: ClusterSettings, job_id: str,
                  closing: list[Emitted] | None = None) -> list[dict]:
    """What landed once the sink's input watermark has reached the `closing` events (every
    window they close has closed, however slow this shared machine is) and nothing new has
    landed for `QUIET_S` (the input is all read and written)."""
    deadline = time.monotonic() + SETTLE_S
    if closing:
        through = max(e.at for e in closing) - JobSettings().allowed_lateness_ms - 1
        while flink_cluster.input_watermark(settings, job_id, SINK_NAME) < through:
            assert time.monotonic() < deadline, f"event time not at {through} after {SETTLE_S} s"
            assert flink_cluster.job(settings, job_id)["state"] == "RUNNING"
            time.sleep(2)
    lines, quiet_since = sink_lines(config), time.monotonic()
    while time.monotonic() - quiet_since < QUIET_S:
        assert time.monotonic() < deadline, f"records still landing after {SETTLE_S} s"
        assert flink_cluster.job(settings, job_id)["state"] == "RUNNING"
        time.sleep(2)
        now = sink_lines(config)
        if len(now) != len(lines):
            lines, quiet_since = now, time.monotonic()
    return lines


def wait_for_rows(config: Config, after_version: int = 0, timeout_s: float = SETTLE_S) -> float:
    """Wait until a record computed after `after_version` (microseconds) has landed."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if any(int(line["record"]["Version"]) > after_version for line in sink_lines(config)):
            return time.monotonic()
        time.sleep(0.2)
    raise AssertionError(f"no record computed after {after_version} landed in {timeout_s} s")


@pytest.fixture
def submitted(cluster):
    """`submit(properties, parallelism, savepoint=None)`: a job on the cluster, cancelled after
    the test unless it ended."""
    _, settings, application = cluster
    jobs = []

    def submit(properties, parallelism: int, savepoint: str | None = None) -> str:
        job_id = flink_cluster.submit(settings, application, properties, parallelism,
                                      savepoint=savepoint)
        jobs.append(job_id)
        flink_cluster.wait_for_state(settings, job_id, "RUNNING")
        return job_id

    yield submit
    for job_id in jobs:
        if flink_cluster.job(settings, job_id)["state"] not in ("FINISHED", "CANCELED"):
            flink_cluster.cancel(settings, job_id)


def test_a_task_manager_killed_mid_stream_loses_and_doubles_nothing(cluster, submitted,
                                                                     tmp_path):
    stack, settings, _ = cluster
    events, truth, zone = hour_across_midnight(5, FAULTS, agents=10, arrivals_per_minute=3.0)
    config, properties = application_properties(stack, tmp_path, "killed", zone)
    job_id = submitted(properties, 2)

    half = len(events) // 2
    publish(config, events[:half])
    wait_for_rows(config)
    checkpoints = flink_cluster.completed_checkpoints(settings, job_id)
    deadline = time.monotonic() + 60
    while flink_cluster.completed_checkpoints(settings, job_id) <= checkpoints:
        assert time.monotonic() < deadline, "no checkpoint completed after the first rows"
        time.sleep(0.5)

    killed_at = time.monotonic()
    # The TaskManager and its Python workers, as when its host goes.
    os.killpg(flink_cluster.task_manager_pid(settings, 1), signal.SIGKILL)
    closing = closing_events(events, SHARDS)
    publish(config, events[half:] + closing)
    deadline = time.monotonic() + 120
    while not flink_cluster.failures(settings, job_id):
        assert time.monotonic() < deadline, "the job did not see its TaskManager go"
        time.sleep(0.2)
    # Taken before the restore can start: a restored job can read the whole backlog and write
    # its last row before a poll sees it RUNNING, and a later mark would then wait for nothing.
    failed_us = time.time_ns() // 1000
    flink_cluster.up(settings)  # a TaskManager in place of the lost one, as MSF starts one
    flink_cluster.wait_for_state(settings, job_id, "RUNNING")
    flowing_at = wait_for_rows(config, after_version=failed_us)
    print(f"\nrows flowing again {flowing_at - killed_at:.1f} s after the TaskManager was killed")

    compared = assert_tables_equal_truth(settled_lines(config, settings, job_id, closing), truth,
                                         zone)
    assert compared.days == 2 and compared.agent_instants > 300
    assert not (tmp_path / "dead-letters.jsonl").exists()


def test_savepoints_restore_at_another_parallelism(cluster, submitted, tmp_path):
    """Each third of the hour is put as it happens (`SPEED`) and read to its end before the
    savepoint. A subtask that reads several shards' backlog at once holds one watermark for
    all of them and drops what falls behind it as late (README, known limits). Every subtask
    reads a shard of each stream here, so none need be taken for idle: a subtask slowed down
    for the idle timeout on this shared machine would otherwise let the watermark pass it."""
    stack, settings, _ = cluster
    events, truth, zone = hour_across_midnight(8, FAULTS, agents=10, arrivals_per_minute=3.0)
    config, properties = application_properties(stack, tmp_path, "rescaled", zone,
                                                idle_timeout_ms=600_000)
    third = len(events) // 3
    closing = closing_events(events, SHARDS)
    parts = [events[:third], events[third:2 * third], events[2 * third:] + closing]

    savepoint = None
    for number, (parallelism, part) in enumerate(zip((2, 1, 2), parts)):
        job_id = submitted(properties, parallelism, savepoint)
        publish(config, part, speed=SPEED)
        lines = settled_lines(config, settings, job_id,
                              closing if number == len(parts) - 1 else None)
        if number < len(parts) - 1:
            savepoint = flink_cluster.stop_with_savepoint(settings, job_id)

    compared = assert_tables_equal_truth(lines, truth, zone)
    assert compared.days == 2 and compared.agent_instants > 300
