"""The one Flink job: raw records in, parsed events as SQL views, every metric file to the sink.

Sources are injected, so the same graph runs on Kinesis or on files.
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

import orjson
from py4j.protocol import Py4JJavaError
from pyflink.common import Duration, Row, WatermarkStrategy
from pyflink.common.typeinfo import Types
from pyflink.common.watermark_strategy import TimestampAssigner
from pyflink.datastream import (
    DataStream,
    MapFunction,
    OutputTag,
    ProcessFunction,
    RuntimeContext,
    StreamExecutionEnvironment,
)
from pyflink.table import DataTypes, Schema, StreamTableEnvironment
from pyflink.table.expressions import col

from connectors.dead_letter import JsonLinesDeadLetterFunction, jsonl_path
from connectors.timestream import to_record
from connectors.timestream_sink import SINK_DEAD_LETTERS, TimestreamSinkFunction
from jobs.config import Config
from jobs.events import AgentEvent, ContactEvent, parse_record
from jobs.metrics import MetricFileError, MetricTable, load_catalogue

LOG = logging.getLogger(__name__)

CONTACT_EVENT_TYPE = Types.ROW_NAMED(
    ["event_id", "event_type", "event_time_ms", "contact_id", "instance_id", "channel",
     "initiation_method", "queue_id"],
    [Types.STRING(), Types.STRING(), Types.LONG(), Types.STRING(), Types.STRING(),
     Types.STRING(), Types.STRING(), Types.STRING()],
)
AGENT_EVENT_TYPE = Types.ROW_NAMED(
    ["event_id", "event_type", "event_time_ms", "agent_id", "instance_id", "status_name",
     "status_type", "online"],
    [Types.STRING(), Types.STRING(), Types.LONG(), Types.STRING(), Types.STRING(),
     Types.STRING(), Types.STRING(), Types.BOOLEAN()],
)
AGENT_EVENTS = OutputTag("agent-events", AGENT_EVENT_TYPE)
DEAD_LETTERS = OutputTag("dead-letters", Types.STRING())
SINK_RECORD_TYPE = Types.TUPLE([Types.STRING(), Types.STRING()])


class ParseRecords(ProcessFunction):
    """Raw Kinesis rows to contact events (main output), agent events and dead letters."""

    def open(self, runtime_context: RuntimeContext):
        group = runtime_context.get_metrics_group()
        self._records_in = group.counter("connectRecordsIn")
        self._dead_letters = group.counter("deadLetters")

    def process_element(self, value, ctx):
        self._records_in.inc()
        event = parse_record(bytes(value.data), value.stream, value.arrival_time)
        if isinstance(event, ContactEvent):
            yield _contact_row(event)
        elif isinstance(event, AgentEvent):
            yield AGENT_EVENTS, _agent_row(event)
        else:
            self._dead_letters.inc()
            yield DEAD_LETTERS, orjson.dumps(event.to_json()).decode()


def _contact_row(event: ContactEvent) -> Row:
    return Row(event.event_id, event.event_type, event.event_time, event.contact_id,
               event.instance_id, event.channel, event.initiation_method, event.queue_id)


def _agent_row(event: AgentEvent) -> Row:
    return Row(event.event_id, event.event_type, event.event_time, event.agent_id,
               event.instance_id, event.status_name, event.status_type, event.online)


class EventTime(TimestampAssigner):
    def extract_timestamp(self, value, record_timestamp: int) -> int:
        return value.event_time_ms


class ToTimestreamRecord(MapFunction):
    """A metric row as (table, record JSON); the version is the time it was computed."""

    def __init__(self, metric: MetricTable, columns: list[str]):
        self._metric = metric
        self._columns = columns

    def map(self, value):
        row = dict(zip(self._columns, value))
        record = to_record(self._metric, row, version=time.time_ns() // 1000)
        return self._metric.table, orjson.dumps(record).decode()


def build_job(env: StreamExecutionEnvironment, config: Config, raw: list[DataStream]) -> None:
    """Add the whole job to `env`, reading the given raw-record streams."""
    catalogue = load_catalogue(Path(config.job.sql_dir))
    t_env = StreamTableEnvironment.create(env)
    t_env.get_config().set("table.local-time-zone", "UTC")

    combined = raw[0].union(*raw[1:]) if len(raw) > 1 else raw[0]
    parsed = combined.process(ParseRecords(), output_type=CONTACT_EVENT_TYPE).name("parse")
    lateness = Duration.of_seconds(5)
    idleness = Duration.of_millis(config.job.idle_timeout_ms)
    for name, stream in (
        ("contact_events", parsed),
        ("agent_events", parsed.get_side_output(AGENT_EVENTS)),
    ):
        timed = stream.assign_timestamps_and_watermarks(
            # with_idleness builds a new strategy without the Python assigner: it goes last.
            WatermarkStrategy.for_bounded_out_of_orderness(lateness)
            .with_idleness(idleness)
            .with_timestamp_assigner(EventTime())
        )
        table = t_env.from_data_stream(
            timed,
            Schema.new_builder()
            .column_by_metadata("event_time", DataTypes.TIMESTAMP_LTZ(3), "rowtime")
            .watermark("event_time", "SOURCE_WATERMARK()")
            .build(),
        ).drop_columns(col("event_time_ms"))
        t_env.create_temporary_view(name, table)

    records = [_metric_records(t_env, metric) for metric in catalogue]
    union = records[0].union(*records[1:]) if len(records) > 1 else records[0]
    written = (
        union.key_by(lambda r: r[0], key_type=Types.STRING())
        .process(TimestreamSinkFunction(config.timestream), output_type=Types.STRING())
        .name("timestream")
    )
    dead_letters = parsed.get_side_output(DEAD_LETTERS).union(
        written.get_side_output(SINK_DEAD_LETTERS)
    )
    dead_letters.key_by(lambda _: 0, key_type=Types.INT()).process(
        JsonLinesDeadLetterFunction(jsonl_path(config.job.dead_letter))
    ).name("dead-letters")
    LOG.info("metric tables: %s", ", ".join(m.table for m in catalogue))


def _metric_records(t_env: StreamTableEnvironment, metric: MetricTable) -> DataStream:
    try:
        table = t_env.sql_query(metric.query)
    except Py4JJavaError as err:
        raise MetricFileError(_sql_error(metric, err)) from None
    columns = [str(name) for name in table.get_resolved_schema().get_column_names()]
    metric.check_columns(columns)
    return (
        t_env.to_data_stream(table)
        .map(ToTimestreamRecord(metric, columns), output_type=SINK_RECORD_TYPE)
        .name(f"metric {metric.table}")
    )


def _sql_error(metric: MetricTable, err: Py4JJavaError) -> str:
    """Flink's message for a bad query, pointed at the line of the file it came from."""
    message = str(err.java_exception.getMessage() or err).strip().splitlines()[0]
    match = re.search(r"line (\d+), column (\d+)", message)
    line = metric.query_line + int(match.group(1)) - 1 if match else None
    return f"{metric.where(line)}: {message}"
