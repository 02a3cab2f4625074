"""The sink loses nothing, whether it writes to Timestream or to InfluxDB: not when the job
crashes, not when the database is away, not when it
refuses a point."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from dataclasses import replace
from pathlib import Path

import boto3
import orjson
import pytest

from connectors.influxdb import InfluxDBWriter, WriteEndpoint
from cli import local_influxdb
from jobs.config import Config
from cli.prerequisites import free_ports
from tests.e2e.conftest import write_properties
from tests.e2e.scenario import (
    INSTANCE, MINUTE, agent_records, completed_checkpoints, contact_records, expected_rows,
    kill_group, landed, put, rows, start_job, stop_group, wait_for, with_source_clock,
)

pytestmark = pytest.mark.e2e


def publish(config: Config, minute: int) -> None:
    kinesis = boto3.client("kinesis", region_name="us-east-1", endpoint_url=config.kinesis.endpoint,
                           aws_access_key_id="test", aws_secret_access_key="test")
    put(kinesis, config.kinesis.contact_stream, [orjson.dumps(r) for r in contact_records(minute)])
    put(kinesis, config.kinesis.agent_stream, [orjson.dumps(r) for r in agent_records(minute)])


def table(config: Config) -> list:
    return landed(config)


def with_target(config: Config, sink: str) -> Config:
    return replace(config, timestream=replace(config.timestream, target=sink))


def crash_config(config: Config, sink: str, batch_size: int, flush_interval_ms: int,
                 checkpoint_interval_ms: int, tmp_path: Path) -> tuple[Config, Path]:
    """The configuration of a crash test, and its properties file."""
    config = replace(
        config,
        timestream=replace(config.timestream, target=sink, batch_size=batch_size,
                           flush_interval_ms=flush_interval_ms),
        job=replace(config.job, checkpoint_interval_ms=checkpoint_interval_ms),
    )
    return config, write_properties(config, tmp_path / "crash.json")


def restore_and_expect_every_row_once(config: Config, properties: Path, checkpoint: Path,
                                      tmp_path: Path) -> None:
    second = start_job(properties, tmp_path / "second.log", "--restore", str(checkpoint))
    try:
        wait_for(lambda: len(table(config)) >= 3, second, tmp_path / "second.log")
        time.sleep(3)
    finally:
        stop_group(second)
    assert rows(table(config)) == expected_rows(sink=config.timestream.target)
    assert len(table(config)) == 3


def test_pending_records_survive_a_crash_and_land_once_after_restore(local_stack, job_config,
                                                                     tmp_path):
    """On InfluxDB the queue rows go through queue naming (their name tag), so they reach the
    sink one record at a time and wait in its checkpointed state for a full batch or the flush
    timer: at the crash the two queue rows exist only in that state. The agents row comes in a
    batch made in the JVM, written before the checkpoint."""
    config, properties = crash_config(job_config[0], "influxdb", 3, 25_000, 1_000, tmp_path)
    publish(config, MINUTE)

    first = start_job(properties, tmp_path / "first.log")
    try:
        wait_for(lambda: len(table(config)) >= 1, first, tmp_path / "first.log")
        landed_at = time.time()
        wait_for(
            lambda: any(p.stat().st_mtime > landed_at + 1
                        for p in completed_checkpoints(Path(config.job.checkpoint_dir))),
            first, tmp_path / "first.log",
        )
    finally:
        kill_group(first)
    assert [r.table for r in table(config)] == ["agents_online"], (
        "the queue rows must still be pending when the job dies")
    checkpoint = completed_checkpoints(Path(config.job.checkpoint_dir))[-1]

    restore_and_expect_every_row_once(config, properties, checkpoint, tmp_path)


def test_rows_batched_in_the_jvm_at_a_crash_are_computed_again_after_restore(
        local_stack, job_config, tmp_path):
    """On Timestream the queue rows reach the sink in batches made in the JVM, which keeps none:
    a batch not yet written when the job dies dies with it, and the restored job reads the
    records again from the source positions of its checkpoint, taken before they came."""
    # A batch also goes out before each checkpoint: none may come between the records and the
    # crash.
    config, properties = crash_config(job_config[0], "timestream", 2, 60_000, 30_000, tmp_path)
    checkpoints = Path(config.job.checkpoint_dir)

    first = start_job(properties, tmp_path / "first.log")
    try:
        wait_for(lambda: completed_checkpoints(checkpoints), first, tmp_path / "first.log")
        publish(config, MINUTE)
        wait_for(lambda: len(table(config)) >= 2, first, tmp_path / "first.log")
    finally:
        kill_group(first)
    assert len(table(config)) == 2, "the third row must still be in its batch when the job dies"
    (checkpoint,) = completed_checkpoints(checkpoints)

    restore_and_expect_every_row_once(config, properties, checkpoint, tmp_path)


class SwitchableProxy:
    """A loopback TCP proxy that can be switched off: the database unreachable, then back."""

    def __init__(self, target_port: int):
        self.port = free_ports(1)[0]
        self._target = target_port
        self._listener: socket.socket | None = None
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()

    def up(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        with self._lock:
            sockets = self._connections + ([self._listener] if self._listener else [])
            for sock in sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)  # wakes the threads blocked on it
                except OSError:
                    pass
                sock.close()
            self._listener = None
            self._connections.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self._target))
            with self._lock:
                self._connections += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class StoppedServer:
    """The local InfluxDB itself stopped and started again, its data kept on disk."""

    def __init__(self, settings):
        self._settings = settings

    def up(self) -> None:
        local_influxdb.start(self._settings)

    def down(self) -> None:
        local_influxdb.stop(self._settings)


@pytest.mark.parametrize("sink", ["timestream", "influxdb"])
def test_an_outage_of_30_s_loses_nothing(local_stack, job_config, tmp_path, sink):
    """InfluxDB is stopped for 30 s mid-run; moto keeps its tables in memory only, so
    Timestream is cut off behind a proxy instead."""
    config = with_target(job_config[0], sink)
    if sink == "influxdb":
        outage, job_view = StoppedServer(local_stack), config
    else:
        outage = SwitchableProxy(local_stack.timestream_port)
        outage.up()
        job_view = replace(config, timestream=replace(
            config.timestream, endpoint=f"http://127.0.0.1:{outage.port}"))
    properties = write_properties(job_view, tmp_path / "outage.json")
    later = MINUTE + 3 * 60_000
    publish(config, MINUTE)

    job = start_job(properties, tmp_path / "job.log")
    try:
        wait_for(lambda: len(table(config)) >= 3, job, tmp_path / "job.log")
        outage.down()
        publish(config, later)
        time.sleep(30)
        assert job.poll() is None, "the job must wait for the database, not fail"
        if sink == "timestream":
            assert len(table(config)) == 3, "nothing can land while the proxy is down"
        outage.up()
        wait_for(lambda: len(table(config)) >= 6, job, tmp_path / "job.log", timeout_s=120)
        time.sleep(3)
    finally:
        if sink == "timestream":
            outage.down()
        stop_group(job)
    # The first batch's closing heartbeat (agent 1, minute + 150 s) is a window of its own,
    # closed by the second batch.
    heartbeat_window = ("agents_online", MINUTE + 120_000,
                        (("instance_id", INSTANCE),), (("agents_online", "1"),))
    target = config.timestream.target
    assert rows(table(config)) == (expected_rows(MINUTE, target) | expected_rows(later, target)
                                   | {heartbeat_window})


def test_a_point_influxdb_refuses_is_dead_lettered_with_its_reason(local_stack, job_config,
                                                                     tmp_path):
    config = with_target(job_config[0], "influxdb")
    properties = write_properties(config, tmp_path / "refused.json")
    # agents_online already holds a string field of that name: the job's integer is a conflict.
    seeded = InfluxDBWriter(WriteEndpoint.of(config.influxdb, "")).write("agents_online", [{
        "Dimensions": [{"Name": "instance_id", "Value": "seed"}], "Time": str(MINUTE),
        "MeasureValues": [{"Name": "agents_online", "Value": "many", "Type": "VARCHAR"}],
    }], MINUTE)
    assert seeded.written == 1
    dead_letters = Path(config.job.dead_letter.removeprefix("jsonl:"))
    publish(config, MINUTE)

    job = start_job(properties, tmp_path / "job.log")
    try:
        wait_for(lambda: dead_letters.exists() and dead_letters.read_text().strip(), job,
                 tmp_path / "job.log")
        wait_for(lambda: len(table(config)) >= 3, job, tmp_path / "job.log")
        time.sleep(3)
    finally:
        stop_group(job)
    letters = [orjson.loads(line) for line in dead_letters.read_text().splitlines()]
    assert [(d["reason"], d["table"], d["database"]) for d in letters] == [
        ("influxdb_refused", "agents_online", config.influxdb.database)]
    assert letters[0]["message"].startswith("refused by InfluxDB (400): partial write: field "
                                            "type conflict")
    assert letters[0]["record"]["Time"] == str(MINUTE)
    queue_rows = {row for row in expected_rows(sink="influxdb") if row[0] == "queue_interval"}
    assert {row for row in rows(table(config)) if row[0] == "queue_interval"} == queue_rows


def test_a_database_that_does_not_exist_stops_the_job_with_the_fix(local_stack, job_config,
                                                                   tmp_path):
    """No retrying for `max.retry.seconds` as if the server were away: each write fails at once,
    and the local run stops after its few restarts, naming the database. With the source
    clock on, a restart from a checkpoint taken after the records were read writes again: the
    restored feed clocks close the minute."""
    config = with_source_clock(job_config[0])
    properties = write_properties(config, tmp_path / "clock.json")
    publish(config, MINUTE)
    started = time.monotonic()
    job = start_job(properties, tmp_path / "job.log", "--sink",
                    f"influxdb:{config.influxdb.url}/no_such_database")
    try:
        code = job.wait(240)
    except subprocess.TimeoutExpired:
        code = None
    finally:
        stop_group(job)
    took = time.monotonic() - started
    log = (tmp_path / "job.log").read_text()
    assert code is not None, f"still running after {took:.0f} s; job log:\n{log[-6000:]}"
    assert code != 0, log[-3000:]
    assert "the database 'no_such_database' must exist before the job writes" in log, log[-3000:]
    assert "`connect-metrics dev up` creates it" in log
    assert took < config.timestream.max_retry_seconds, f"the job took {took:.0f} s to stop"
    print(f"\nthe job stopped {took:.0f} s after `connect-metrics run`")
