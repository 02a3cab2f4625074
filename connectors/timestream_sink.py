"""The Flink side of the Timestream sink: pending records live in keyed, checkpointed state.

Records wait in `ListState` (key: table) until a batch is full or the flush interval passes, so
a record that was not yet written when a checkpoint completes is inside that checkpoint and is
written again after a restore: at-least-once, and with monotonic versions, exact in the table.
"""

from __future__ import annotations

import time

import boto3
import orjson
from pyflink.common.typeinfo import Types
from pyflink.datastream import KeyedProcessFunction, RuntimeContext
from pyflink.datastream.state import ListStateDescriptor, ValueStateDescriptor

from connectors.timestream import TimestreamWriter
from jobs.config import TimestreamSettings


class TimestreamSinkFunction(KeyedProcessFunction):
    """Input: (table, record JSON) keyed by table. Output: `table:count` after each write."""

    def __init__(self, settings: TimestreamSettings):
        self._settings = settings

    def open(self, runtime_context: RuntimeContext):
        self._pending = runtime_context.get_list_state(
            ListStateDescriptor("pending-records", Types.STRING())
        )
        self._count = runtime_context.get_state(ValueStateDescriptor("pending-count", Types.INT()))
        self._timer = runtime_context.get_state(ValueStateDescriptor("flush-timer", Types.LONG()))
        client = boto3.client(
            "timestream-write",
            region_name=self._settings.region,
            endpoint_url=self._settings.endpoint or None,
        )
        self._writer = TimestreamWriter(client, self._settings.database)
        group = runtime_context.get_metrics_group().add_group("timestream")
        self._written = group.counter("recordsWritten")
        self._batches = group.counter("batches")
        self._latency_ms = 0
        group.gauge("lastWriteLatencyMs", lambda: self._latency_ms)

    def process_element(self, value, ctx: KeyedProcessFunction.Context):
        self._pending.add(value[1])
        count = (self._count.value() or 0) + 1
        self._count.update(count)
        if count >= self._settings.batch_size:
            yield from self._flush(value[0], ctx)
        elif self._timer.value() is None:
            due = ctx.timer_service().current_processing_time() + self._settings.flush_interval_ms
            ctx.timer_service().register_processing_time_timer(due)
            self._timer.update(due)

    def on_timer(self, timestamp: int, ctx: KeyedProcessFunction.OnTimerContext):
        self._timer.clear()
        yield from self._flush(ctx.get_current_key(), ctx)

    def _flush(self, table: str, ctx):
        records = [orjson.loads(r) for r in self._pending.get() or []]
        if records:
            started = time.monotonic()
            self._batches.inc(self._writer.write(table, records))
            self._latency_ms = int((time.monotonic() - started) * 1000)
            self._written.inc(len(records))
            yield f"{table}:{len(records)}"
        self._pending.clear()
        self._count.clear()
        due = self._timer.value()
        if due is not None:
            ctx.timer_service().delete_processing_time_timer(due)
            self._timer.clear()
