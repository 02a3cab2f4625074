"""The one Flink job: raw records in, parsed events as SQL views, every metric file to the sink.

Sources are injected, so the same graph runs on Kinesis or on files.
"""

from __future__ import annotations

import functools
import logging
import re
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
from py4j.protocol import Py4JJavaError
from pyflink.common import Configuration, Row, RowKind
from pyflink.common.typeinfo import LocalTimeTypeInfo, Types
from pyflink.datastream import (
    DataStream,
    KeyedStream,
    FlatMapFunction,
    OutputTag,
    ProcessFunction,
    RuntimeContext,
    StreamExecutionEnvironment,
)
from pyflink.java_gateway import get_gateway
from pyflink.table import Schema, StreamTableEnvironment

from connectors.dead_letter import DeadLetterFunction
from connectors.kinesis_source import is_clock
from jobs.raw_events import event_records
from connectors.timestream import to_record, version_now
from connectors.timestream_sink import SINK_DEAD_LETTERS, MetricSinkFunction
from jobs.core.queue_naming import QueueNaming, queue_key
from jobs.config import Config
from jobs.core.event_guard import EventTimeGuard
from jobs.core.events import AgentEvent, ContactEvent, DeadLetter, ParseOptions, parse_record
from jobs.metrics import MetricFileError, MetricTable, load_catalogue
from jobs.core.contacts import link_event
from jobs.operators import (
    AGENT_FACTS, AGENT_TRANSITION_TYPE, AGENT_VIEWS, AGENT_WORK, CONTACT_TRANSITION_TYPE,
    CONTACTS_COMPLETED, KEYED_RECORD_TYPE, NAMES, PROVISIONAL_STAYS,
    MAIN, QUEUE_CHANGES, QUEUE_GAUGE_TYPE, ROUTING_PROFILE_GAUGES, SINK_RECORD_TYPE,
    AgentActivityFunction, CoalescedCounter, ContactLifecycleFunction, QueueNamingFunction,
    RealtimeGaugesFunction, keyed_row, sink_row,
)

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
PARSED_TYPE = Types.TUPLE([Types.LONG(), Types.INT(), Types.STRING(), Types.PICKLED_BYTE_ARRAY()])
"""What the parse step emits: (event time, kind, key, the event), or a bare tick; see
`event_streams`."""
TICK, EVENT, LINK = 0, 1, 2
"""The kinds, as `io.connectmetrics.events.EventTime` has them: a clock tick, an event of the
key's own, an event for another contact's key (`jobs.core.contacts.link_event`)."""
BARE_TICK = (0, TICK, "", b"")
"""A clock row's tick: its feed's clock gives it the event time."""
AGENT_EVENTS = OutputTag("agent-events", PARSED_TYPE)
AGENT, CONTACT = "agent", "contact"
DEAD_LETTERS = OutputTag("dead-letters", Types.STRING())
LIVE_BUFFER_TIMEOUT_MS = 10
"""How long a live run's operators may hold output for a fuller network buffer (Flink's
default: 100 ms, at each of the four exchanges between an event and its row)."""
PROVISIONAL_AHEAD_PERIODS = 2
"""How many gauge periods a provisional row may be ahead of the clock: the next sample instant,
with a period to spare for event times a little ahead of this machine's clock."""
SINK_NAME = "metric sink"
AGENT_ACTIVITY_VIEWS = {"agent_transitions": None, "agent_facts": AGENT_FACTS,
                        "agent_work": AGENT_WORK}
CONTACT_VIEWS = {"contact_transitions": None, "contacts_completed": CONTACTS_COMPLETED}
GAUGE_VIEWS = {"queue_gauges": None, "routing_profile_gauges": ROUTING_PROFILE_GAUGES,
               "names": NAMES}
"""The SQL views of each keyed operator's outputs: view name, and its output tag (None for the
main output)."""


class ParseRecords(ProcessFunction):
    """Raw Kinesis rows to `ContactEvent`s (main output), `AgentEvent`s and dead letters; a
    source clock row to a bare tick on both feeds, which the JVM times
    (`io.connectmetrics.events.FeedClock`). Events and ticks go out as `PARSED_TYPE`, so that
    the JVM reads their event time and key (`event_streams`): contact events by contact id,
    with the link a transfer or callback adds for the contact it came from; agent events by
    agent ARN."""

    def __init__(self, options: ParseOptions, guard: EventTimeGuard):
        self._options = options
        self._guard = guard

    def open(self, runtime_context: RuntimeContext):
        group = runtime_context.get_metrics_group()
        self._records_in = CoalescedCounter(group.counter("connectRecordsIn"))
        self._dead_letters = group.counter("deadLetters")

    def close(self):
        self._records_in.flush()

    def process_element(self, value, ctx):
        now = int(time.time() * 1000)
        if is_clock(value):
            self._records_in.add(0, now)
            yield BARE_TICK
            yield AGENT_EVENTS, BARE_TICK
            return
        self._records_in.add(1, now)
        event = parse_record(
            bytes(value.data), value.stream, value.arrival_time, options=self._options
        )
        if isinstance(event, (ContactEvent, AgentEvent)):
            feed = CONTACT if isinstance(event, ContactEvent) else AGENT
            refused = self._guard.refuse(feed, event.event_time, now)
            if refused is not None:
                event = DeadLetter(refused, self._guard.message(refused, event.event_time),
                                   bytes(value.data), value.stream, value.arrival_time)
        if isinstance(event, ContactEvent):
            yield event.event_time, EVENT, event.contact_id, event
            link = link_event(event)
            if link is not None:
                yield link.event_time, LINK, link.contact_id, link
        elif isinstance(event, AgentEvent):
            yield AGENT_EVENTS, (event.event_time, EVENT, event.agent_arn or event.agent_id, event)
        else:
            self._dead_letters.inc()
            yield DEAD_LETTERS, orjson.dumps(event.to_json()).decode()


def _contact_row(event: ContactEvent) -> Row:
    return Row(event.event_id, event.event_type, event.event_time, event.contact_id,
               event.instance_id, event.channel, event.initiation_method, event.queue_id)


def _agent_row(event: AgentEvent) -> Row:
    return Row(event.event_id, event.event_type, event.event_time, event.agent_id,
               event.instance_id, event.status_name, event.status_type, event.online)


_TIMES = (Types.INSTANT(), LocalTimeTypeInfo(LocalTimeTypeInfo.TimeType.LOCAL_DATE_TIME))
"""The SQL time types, TIMESTAMP_LTZ and TIMESTAMP, as a metric's rows have them: a batch of
rows has their values as epoch milliseconds (`_batch_type`)."""


class MetricRecord:
    """A metric row as the record its table is written with (`connectors.timestream.to_record`);
    the version is the time it was computed. `column_types` are the rows' types, whose time
    columns are written as times whether they come as times or as epoch milliseconds."""

    def __init__(self, metric: MetricTable, columns: list[str], column_types: list, zone: str):
        self.table = metric.table
        self._shape = metric.record_shape
        self._columns = columns
        self._times = frozenset(c for c, t in zip(columns, column_types) if t in _TIMES)
        self._zone = ZoneInfo(zone)

    def record(self, value: Row) -> dict:
        row = {name: python_value(v) for name, v in zip(self._columns, value)}
        return to_record(self._shape, row, version=version_now(), zone=self._zone,
                         times=self._times)

    def __call__(self, columns: Row) -> tuple[str, list[dict]]:
        """A batch of the table's rows, one list per column (`_batch_type`), as (table,
        records), as the metric sink writes them."""
        return self.table, [self.record(row) for row in zip(*columns)]


class ToQueueRecords(FlatMapFunction):
    """A metric row as (table, record JSON) for queue naming, keyed by its queue
    (`queue_naming.queue_key`). Rows a change retracts are not written: their replacement
    follows."""

    def __init__(self, records: MetricRecord):
        self._records = records

    def flat_map(self, value):
        if value.get_row_kind() in (RowKind.UPDATE_BEFORE, RowKind.DELETE):
            return
        record = self._records.record(value)
        yield keyed_row(queue_key(record), (self._records.table, orjson.dumps(record).decode()))


_PLAIN = frozenset((str, int, float, bool, type(None)))  # most values: no lookup needed


def python_value(value):
    """A SQL value as Python has it. In PyFlink's thread mode times arrive as the JVM's own
    objects: a `java.time.Instant` (TIMESTAMP_LTZ) becomes an aware datetime, a
    `LocalDateTime` (TIMESTAMP) a naive one, a `LocalDate` a date; the rest is kept. Read
    from the object's ISO text: one call into the JVM per value, not one to learn its class
    and another to read it."""
    if type(value) in _PLAIN:
        return value
    try:
        text = value.toString()
    except AttributeError:
        return value  # a Python value already (process mode)
    if len(text) >= 10 and text[4] == "-" and text[7] == "-":
        if len(text) == 10:
            return date.fromisoformat(text)
        if text[10] == "T":
            return datetime.fromisoformat(text)  # aware when it ends in Z (an Instant)
    return value


def use_python_mode(env: StreamExecutionEnvironment, config: Config) -> None:
    """`Job.python.execution.mode` for the Python functions added to `env` after this: one of
    the Python keys MSF lets application code set (see `jobs.msf`)."""
    python = Configuration()
    python.set_string("python.execution-mode", config.job.python_execution_mode)
    env.configure(python)


def build_job(env: StreamExecutionEnvironment, config: Config, raw: list[DataStream],
              span: tuple[int, int] | None = None,
              counts: str | None = None) -> StreamTableEnvironment:
    """Add the whole job to `env`, reading the given raw-record streams; `span` is a replay's
    event-time span (`jobs.core.event_guard.replay_span`), None for a live run; `counts` a replay's
    counts file (`connectors.counts`), None for none. Returns the table environment of its SQL
    part (whose settings MSF checks like the environment's).

    Sources run at the job's parallelism, so every step up to the keyed state machines is a
    forward connection and each shard's order (which is each agent's order) is kept.
    """
    catalogue = load_catalogue(Path(config.job.sql_dir), config.job.sql_parameters())
    use_python_mode(env, config)
    t_env = StreamTableEnvironment.create(env)
    # Day windows (queue_today) start at midnight of the reporting time zone; times reach the
    # sink as instants, so the zone changes nothing else.
    t_env.get_config().set("table.local-time-zone", config.job.reporting_time_zone)
    # State of queries that are not windowed (a day's running totals) is kept two days.
    t_env.get_config().set("table.exec.state.ttl", "48 h")

    parsed = parse(raw, config, span)
    contacts, agents = event_streams(parsed, config)
    # Provisional gauge rows are for people watching a live run; a replay writes history.
    provisional_ms = config.job.gauge_provisional_ms if span is None else 0
    # The parsed-event views cost a Python step per event: built only for a file that reads them.
    for view, events, to_row, row_type in (
            ("contact_events", contacts.events, _contact_row, CONTACT_EVENT_TYPE),
            ("agent_events", agents.events, _agent_row, AGENT_EVENT_TYPE)):
        if any(metric.reads(view) for metric in catalogue):
            _register_view(t_env, view, events.map(to_row, output_type=row_type).name(view),
                           "event_time_ms")

    reads = functools.partial(_reads, catalogue)
    renew_timers = config.job.python_execution_mode == "process"
    activity = (
        agents.keyed.process(
            AgentActivityFunction(config.job.agent_settings(),
                                  reads(AGENT_ACTIVITY_VIEWS, AGENT_VIEWS), renew_timers),
            output_type=AGENT_TRANSITION_TYPE,
        )
        .name("agent activity").uid("agent-activity")
    )
    lifecycle = (
        contacts.keyed.process(ContactLifecycleFunction(
            config.job.lifecycle_settings(), config.job.service_levels(),
            provisional=provisional_ms > 0,
            reads=reads(CONTACT_VIEWS, QUEUE_CHANGES, PROVISIONAL_STAYS),
            renew_timers=renew_timers),
            output_type=CONTACT_TRANSITION_TYPE)
        .name("contact lifecycle").uid("contact-lifecycle")
    )
    changes = [side_output(lifecycle, QUEUE_CHANGES), side_output(activity, AGENT_VIEWS)]
    if provisional_ms:
        changes.append(side_output(lifecycle, PROVISIONAL_STAYS))
    gauges = (
        keyed(changes[0].union(*changes[1:]), Types.PICKLED_BYTE_ARRAY())
        .process(RealtimeGaugesFunction(config.job.gauge_period_ms,
                                        config.job.gauge_refresh_ms,
                                        config.job.gauge_refresh_for_ms, provisional_ms,
                                        PROVISIONAL_AHEAD_PERIODS * config.job.gauge_period_ms,
                                        reads(GAUGE_VIEWS)),
                 output_type=QUEUE_GAUGE_TYPE)
        .name("realtime gauges").uid("realtime-gauges")
    )
    for stream, views in ((activity, AGENT_ACTIVITY_VIEWS), (lifecycle, CONTACT_VIEWS),
                          (gauges, GAUGE_VIEWS)):
        for view, tag in views.items():
            _register_view(t_env, view, stream if tag is None else side_output(stream, tag),
                           "at_ms")

    zone = config.job.reporting_time_zone
    naming = QueueNaming(config.job.service_levels(),
                         name_tag=config.timestream.target == "influxdb")
    # A sink of its own for each table's records, and one for the records that go through
    # queue naming or the raw-event tables: a burst of one table (a minute's interval rows at the
    # minute's watermark) does not hold up another's rows behind it. The shared sink keeps the id
    # the single sink had, so a snapshot's pending records are written after an update.
    # The rows of a table that is not named reach its sink in batches made in the JVM, which the
    # sink formats and writes at once: one step in Python per batch.
    sinks, by_queue, shared = [], [], []
    metric_rows = get_gateway().jvm.io.connectmetrics.metrics.MetricRows
    for metric in catalogue:
        rows, columns = _metric_rows(t_env, metric)
        column_types = _column_types(rows)
        records = MetricRecord(metric, columns, column_types, zone)
        if naming.needs(metric.table, metric.dimensions):
            by_queue.append(rows.flat_map(ToQueueRecords(records), output_type=KEYED_RECORD_TYPE)
                            .name(f"metric {metric.table}").uid(f"metric-{metric.table}"))
        else:
            batches = DataStream(metric_rows.batches(
                rows._j_data_stream, metric.table, config.timestream.batch_size,
                config.timestream.flush_interval_ms,
                _batch_type(column_types).get_java_type_info(), zone))
            sinks.append(_sink(batches.name(f"metric {metric.table}").uid(f"metric-{metric.table}"),
                               config, counts, f"{SINK_NAME} {metric.table}",
                               f"metric-sink-{metric.table}", records))
    if by_queue:
        shared.append(
            keyed(by_queue[0].union(*by_queue[1:]) if len(by_queue) > 1 else by_queue[0],
                  SINK_RECORD_TYPE)
            .process(QueueNamingFunction(naming), output_type=KEYED_RECORD_TYPE)
            .name("queue names").uid("queue-naming")
        )
    if config.timestream.raw_tables:
        shared.append(
            contacts.events.union(agents.events)
            .flat_map(_raw_event_records, output_type=KEYED_RECORD_TYPE)
            .name("raw event tables").uid("raw-event-tables")
        )
    if shared:
        sinks.append(_sink(shared[0].union(*shared[1:]) if len(shared) > 1 else shared[0],
                           config, counts, SINK_NAME, "metric-sink"))
    dead_letters = side_output(parsed, DEAD_LETTERS).union(
        *(side_output(sink, SINK_DEAD_LETTERS) for sink in sinks)
    )
    dead_letters.key_by(lambda _: 0, key_type=Types.INT()).process(
        DeadLetterFunction(config.job.dead_letter, config.kinesis, counts)
    ).name("dead-letters").uid("dead-letters")
    if span is None:
        hand_on_within(env, LIVE_BUFFER_TIMEOUT_MS)
    LOG.info("metric tables: %s", ", ".join(m.table for m in catalogue))
    return t_env


def _reads(catalogue: list[MetricTable], views: dict[str, OutputTag | None],
           *always: OutputTag) -> frozenset[str] | None:
    """The tag ids (`MAIN` for the main output) of a keyed operator's outputs that the job reads:
    those whose view (`views`) a metric file reads, and `always` (read by another operator).
    None when it reads them all: the operator then emits without filtering."""
    read = {MAIN if tag is None else tag.tag_id for view, tag in views.items()
            if any(metric.reads(view) for metric in catalogue)}
    if len(read) == len(views):
        return None
    return frozenset(read | {tag.tag_id for tag in always})


def _column_types(rows: DataStream) -> list:
    """The types of the columns of a metric's rows."""
    return rows.get_type()._type_info.get_field_types()  # the row an `ExternalTypeInfo` wraps


def _batch_type(column_types: list):
    """(table, one array per column): a batch of metric rows as the JVM hands it to Python
    (`io.connectmetrics.metrics.MetricRows`), times as epoch milliseconds."""
    columns = [Types.OBJECT_ARRAY(Types.LONG() if column in _TIMES else column)
               for column in column_types]
    return Types.ROW([Types.STRING(), Types.ROW(columns)])


def _sink(records: DataStream, config: Config, counts: str | None, name: str, uid: str,
          batch_records: MetricRecord | None = None) -> DataStream:
    """A metric sink for `records`, keyed rows (`keyed`) of (table, record JSON), or of batches
    of one metric's rows (`io.connectmetrics.metrics.MetricRows`) that `batch_records`
    formats."""
    return (keyed(records, records.get_type().get_field_types()[1])
            .process(MetricSinkFunction(config.timestream, config.influxdb, counts,
                                        batch_records),
                     output_type=Types.STRING())
            .name(name).uid(uid))


def hand_on_within(env: StreamExecutionEnvironment, timeout_ms: int) -> None:
    """Every operator added to `env` so far, SQL ones included, flushes its output to the next
    task within `timeout_ms`. Set operator by operator: the environment's own setting is
    `execution.buffer-timeout.interval`, a key MSF refuses from application code."""
    seen = set()
    pending = list(env._j_stream_execution_environment.getTransformations())
    while pending:
        transformation = pending.pop()
        if transformation.getId() in seen:
            continue
        seen.add(transformation.getId())
        transformation.setBufferTimeout(timeout_ms)
        pending.extend(transformation.getInputs())


def _raw_event_records(event):
    """The event in the raw-event table layout (`jobs.raw_events`)."""
    for table, record in event_records(event, version_now()):
        yield sink_row(table, orjson.dumps(record).decode())


def keyed(stream: DataStream, value_type) -> KeyedStream:
    """`stream`'s (key, value) rows (`jobs.operators.keyed_row`), keyed by their string key in
    the JVM; the keyed operator gets the value. This is what PyFlink's `key_by` makes, less the
    Python step it adds to compute each key: a round trip of every record between the JVM and
    Python."""
    j_keyed = stream._j_data_stream.keyBy(get_gateway().jvm.KeyByKeySelector(),
                                          Types.ROW([Types.STRING()]).get_java_type_info())
    return KeyedStream(j_keyed, value_type, stream)


def side_output(stream: DataStream, tag: OutputTag) -> DataStream:
    """The records `stream`'s operator emits to `tag`, as they are. PyFlink's `get_side_output`
    adds an identity map in Python: a round trip of every record between the JVM and Python,
    and the records already have the tag's type. Without that map, a side output nothing reads
    is not in the job's graph, and emitting to it fails: the keyed operators drop what the job
    does not read (`jobs.operators.reads_only`)."""
    return DataStream(stream._j_data_stream.getSideOutput(tag.get_java_output_tag()))


def parse(raw: list[DataStream], config: Config, span: tuple[int, int] | None) -> DataStream:
    """The parse step over the union of the raw streams: contact events out, agent events and
    dead letters on side outputs (`ParseRecords`)."""
    combined = raw[0].union(*raw[1:]) if len(raw) > 1 else raw[0]
    return combined.process(parse_records(config, span), output_type=PARSED_TYPE
                            ).name("parse").uid("parse")


def parse_records(config: Config, span: tuple[int, int] | None) -> ParseRecords:
    """The parse step's function, with the job's options and event-time guard."""
    return ParseRecords(config.job.parse_options(),
                        EventTimeGuard(config.job.event_future_bound_ms,
                                       config.job.event_past_bound_ms, span))


@dataclass(frozen=True)
class Feed:
    """One feed's parsed events with event time: as they are (`events`), and with the links
    keyed for its state machine (`keyed`)."""

    events: DataStream
    keyed: KeyedStream


def event_streams(parsed: DataStream, config: Config) -> tuple[Feed, Feed]:
    """The contact feed and the agent feed of the parse step. Event time comes from each
    event's own timestamp, allowing `Job.allowed.lateness.ms` of disorder; ticks move it on and
    go no further. Timestamps, ticks and keys are handled in the JVM
    (`io.connectmetrics.events.EventTime` in the connector jar): a Python timestamp assigner,
    filter and key selector would each be one more round trip per event. The keyed stream is
    what PyFlink's `key_by` makes: (key, event) rows keyed by their first field."""
    event_time = get_gateway().jvm.io.connectmetrics.events.EventTime
    pickled = Types.PICKLED_BYTE_ARRAY()
    feeds = []
    for feed, stream in ((CONTACT, parsed), (AGENT, side_output(parsed, AGENT_EVENTS))):
        timed = event_time.withEventTime(stream._j_data_stream, config.job.allowed_lateness_ms,
                                         config.job.idle_timeout_ms, f"{feed}-feed-clock")
        events = DataStream(event_time.events(timed, pickled.get_java_type_info()))
        rows = event_time.keyed(timed, Types.ROW([Types.STRING(), pickled]).get_java_type_info())
        feeds.append(Feed(events, keyed(DataStream(rows), pickled)))
    return feeds[0], feeds[1]


def _register_view(t_env: StreamTableEnvironment, name: str, stream: DataStream,
                   millis_column: str) -> None:
    """A SQL view whose `event_time` (rowtime) comes from an epoch-millis column."""
    table = t_env.from_data_stream(
        stream,
        Schema.new_builder()
        .column_by_expression("event_time", f"TO_TIMESTAMP_LTZ({millis_column}, 3)")
        .watermark("event_time", "SOURCE_WATERMARK()")
        .build(),
    )
    t_env.create_temporary_view(name, table)


def _metric_rows(t_env: StreamTableEnvironment,
                 metric: MetricTable) -> tuple[DataStream, list[str]]:
    """The metric's rows, as a changelog stream, and its columns; the rows also become a view
    named after the table (with `event_time` when the query returns `window_time`), computed
    once for both.

    A query whose rows update (a GROUP BY without a window) writes every new value; the newer
    version replaces the record in Timestream.
    """
    try:
        table = t_env.sql_query(metric.query)
    except Py4JJavaError as err:
        raise MetricFileError(_sql_error(metric, err)) from None
    columns = [str(name) for name in table.get_resolved_schema().get_column_names()]
    metric.check_columns(columns)
    rows = t_env.to_changelog_stream(table)
    schema = Schema.new_builder()
    if "window_time" in columns:
        schema = (schema.column_by_metadata("event_time", "TIMESTAMP_LTZ(3)", "rowtime")
                  .watermark("event_time", "SOURCE_WATERMARK()"))
    t_env.create_temporary_view(metric.table, t_env.from_changelog_stream(rows, schema.build()))
    return rows, columns


def _sql_error(metric: MetricTable, err: Py4JJavaError) -> str:
    """Flink's message for a bad query, pointed at the line of the file it came from."""
    message = str(err.java_exception.getMessage() or err).strip().splitlines()[0]
    match = re.search(r"line (\d+), column (\d+)", message)
    line = metric.query_line + int(match.group(1)) - 1 if match else None
    return f"{metric.where(line)}: {message}"
