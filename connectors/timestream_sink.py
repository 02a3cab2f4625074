"""The Flink side of the metric sink: single records wait in keyed, checkpointed state; batches
made in the JVM are written as they come.

The same operator writes to Timestream for LiveAnalytics, to InfluxDB (Timestream for InfluxDB
or any server) or to a JSON-lines file; only the writer it calls differs. Single records wait in
`ListState` (key: table) until a batch is full or the flush interval passes, so a record that
was not yet written when a checkpoint completes is inside that checkpoint and is written again
after a restore; batches of rows made in the JVM are written as they come (`MetricSinkFunction`).
At-least-once, and with monotonic versions (or InfluxDB's last write per point), exact in the
table.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import boto3
import orjson
from botocore.config import Config as BotoConfig
from pyflink.common.typeinfo import Types
from pyflink.datastream import KeyedProcessFunction, OutputTag, RuntimeContext
from pyflink.datastream.state import ListStateDescriptor

from connectors.counts import CountsFile
from connectors.dead_letter import jsonl_path
from connectors.settings import ACCEPTED_FORMS, InfluxDBSettings, TimestreamSettings
from connectors.timestream import JsonLinesRecordWriter, RecordLimits, TimestreamWriter

SINK_DEAD_LETTERS = OutputTag("sink-dead-letters", Types.STRING())
END_OF_INPUT = 2**63 - 1  # the final watermark


def record_writer(settings: TimestreamSettings, influxdb: InfluxDBSettings):
    """The writer for `Timestream.target`: `timestream` (AWS or any endpoint), `influxdb` (the
    InfluxDB property group) or `jsonl:PATH`."""
    limits = RecordLimits(
        memory_retention_hours=settings.memory_retention_hours,
        magnetic_writes=settings.magnetic_writes,
    )
    if settings.target == "timestream":
        client = boto3.client(
            "timestream-write",
            region_name=settings.region,
            endpoint_url=settings.endpoint or None,
            # Retries are ours (bounded by time, with jitter); botocore's would hide them.
            # `check_record` checks each record against the service's rules; botocore checking
            # every field again took about 60 % of a 100-record call's CPU, in the job's
            # interpreter.
            config=BotoConfig(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30,
                              parameter_validation=False),
        )
        return TimestreamWriter(client, settings.database, limits, settings.max_retry_seconds)
    if settings.target == "influxdb":
        from connectors.influxdb import InfluxDBWriter, WriteEndpoint, read_token

        endpoint = WriteEndpoint.of(influxdb, read_token(influxdb, dict(os.environ)))
        return InfluxDBWriter(endpoint, influxdb.batch_lines, settings.max_retry_seconds)
    if settings.target.startswith("jsonl:"):
        return JsonLinesRecordWriter(jsonl_path(settings.target), settings.database, limits)
    raise ValueError(f"Timestream.target {settings.target!r} is not one of: {ACCEPTED_FORMS}")


class MetricSinkFunction(KeyedProcessFunction):
    """Input: (table, record JSON) keyed by table, or with `batch_records` batches of rows it
    makes (table, records) of. Side output: records refused for good. With `counts` (a
    replay's counts file, `connectors.counts`), each write appends what it wrote.

    A batch is written when it arrives and kept nowhere: the JVM sends a batch before any
    checkpoint barrier behind its rows (`io.connectmetrics.metrics.MetricRows`), so a checkpoint
    completes only after its batches were written, and after a restore the rows of a batch
    not written are computed again."""

    def __init__(self, settings: TimestreamSettings, influxdb: InfluxDBSettings,
                 counts: str | None = None,
                 batch_records: Callable[[list], tuple[str, list[dict]]] | None = None):
        self._settings = settings
        self._batch_records = batch_records
        self._influxdb = influxdb
        self._counts_path = counts
        influx = settings.target == "influxdb"
        self._target = "influxdb" if influx else "timestream"
        self._refusal = f"{self._target}_refused"
        self._database = influxdb.database if influx else settings.database

    def open(self, runtime_context: RuntimeContext):
        # Declared with `batch_records` too: a snapshot taken before a table's rows came in
        # batches may hold its pending records, which the restored timer writes.
        self._pending = runtime_context.get_list_state(
            ListStateDescriptor("pending-records", Types.STRING())
        )
        # Per table, kept in memory: only the records must be in a checkpoint. After a restore
        # the restored timer writes what is pending, and the count starts again (a batch over
        # the size is split by the writer), so each record costs one call into state.
        self._counts_pending: dict[str, int] = {}
        self._timers: dict[str, int] = {}
        self._writer = record_writer(self._settings, self._influxdb)
        self._counts = CountsFile(self._counts_path) if self._counts_path else None
        group = runtime_context.get_metrics_group().add_group(self._target)
        self._written = group.counter("recordsWritten")
        self._batches = group.counter("batches")
        self._retries = group.counter("retries")
        self._rejected = group.counter("recordsRejected")
        self._refused = group.counter("recordsDeadLettered")
        self._superseded = group.counter("recordsSuperseded")
        # A counter, not a gauge: Flink reads a Python gauge from its metric threads, which in
        # thread mode call into the interpreter outside the task (the JVM crashed in take_gil).
        self._write_ms = group.counter("writeMillis")

    def process_element(self, value, ctx: KeyedProcessFunction.Context):
        if self._batch_records is not None:
            yield from self._write(*self._batch_records(value))
            return
        table, text = value
        self._pending.add(text)
        count = self._counts_pending.get(table, 0) + 1
        self._counts_pending[table] = count
        if count >= self._settings.batch_size:
            yield from self._flush(table, ctx)
        elif table not in self._timers:
            due = ctx.timer_service().current_processing_time() + self._settings.flush_interval_ms
            ctx.timer_service().register_processing_time_timer(due)
            self._timers[table] = due
            # A bounded input ends with the final watermark, which fires this timer (processing
            # timers do not fire then): whatever is pending is written before the job finishes.
            ctx.timer_service().register_event_time_timer(END_OF_INPUT)

    def on_timer(self, timestamp: int, ctx: KeyedProcessFunction.OnTimerContext):
        yield from self._flush(ctx.get_current_key(), ctx)

    def _flush(self, table: str, ctx):
        yield from self._write(table, [orjson.loads(r) for r in self._pending.get() or []])
        self._pending.clear()
        self._counts_pending.pop(table, None)
        due = self._timers.pop(table, None)
        if due is not None:
            ctx.timer_service().delete_processing_time_timer(due)

    def _write(self, table: str, records: list[dict]):
        if records:
            started = time.monotonic()
            outcome = self._writer.write(table, records, now_ms=int(time.time() * 1000))
            # Each increment is a call into the JVM; most of these counts are 0.
            for counter, n in ((self._write_ms, int((time.monotonic() - started) * 1000)),
                               (self._written, outcome.written), (self._batches, outcome.calls),
                               (self._retries, outcome.retries),
                               (self._rejected, outcome.rejected),
                               (self._superseded, outcome.superseded),
                               (self._refused, len(outcome.refused))):
                if n:
                    counter.inc(n)
            if self._counts is not None:
                self._counts.written(table, outcome.written)
            for record, reason in outcome.refused:
                yield SINK_DEAD_LETTERS, orjson.dumps({
                    "reason": self._refusal, "message": reason,
                    "database": self._database, "table": table, "record": record,
                }).decode()

    def close(self):
        if self._counts is not None:
            self._counts.close()
