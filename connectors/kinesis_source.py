"""The jobs' Kinesis source: a FLIP-27 polling source of this project's own (Java in
connectors/src, shaded into connectors/target/connect-metrics-connectors.jar), so the jobs need
no external Kinesis connector for Flink 2.x."""

from __future__ import annotations

from pathlib import Path

from py4j.protocol import Py4JJavaError
from pyflink.common.typeinfo import Types
from pyflink.datastream.connectors import Source
from pyflink.java_gateway import get_gateway

CONNECTOR_JAR = Path(__file__).resolve().parent / "target" / "connect-metrics-connectors.jar"
"""The shaded jar to put on `pipeline.jars` (built by `mvn -f connectors/pom.xml package`)."""

RAW_RECORD_FIELDS = ["stream", "shard_id", "sequence_number", "arrival_time", "data"]

RAW_RECORD_TYPE = Types.ROW_NAMED(
    RAW_RECORD_FIELDS,
    [
        Types.STRING(),
        Types.STRING(),
        Types.STRING(),
        Types.LONG(),
        Types.PRIMITIVE_ARRAY(Types.BYTE()),
    ],
)
"""Row type of the records the source emits; `data` holds the record's bytes unchanged."""


def is_clock(row) -> bool:
    """A clock row: the shard had nothing new as of `row.arrival_time` (wall clock)."""
    return row.sequence_number is None and not row.data


def connector_jar_url() -> str:
    """`file://` URL of the connector jar, for `pipeline.jars`."""
    return CONNECTOR_JAR.as_uri()


def kinesis_source(
    stream: str,
    region: str,
    endpoint: str,
    initial_position: str = "TRIM_HORIZON",
    poll_interval_ms: int = 250,
    shard_discovery_interval_ms: int = 10000,
    max_records_per_poll: int = 1000,
    idle_clock_ms: int = 0,
) -> Source:
    """An unbounded source of `RAW_RECORD_TYPE` rows read from one Kinesis stream.

    `endpoint` may be empty for the AWS endpoint of `region`; `initial_position` is
    TRIM_HORIZON, LATEST or AT_TIMESTAMP:<ISO-8601 instant>; `max_records_per_poll` is the
    GetRecords limit (1 to 10000). With `idle_clock_ms` > 0 a shard that is caught up and quiet
    emits a clock row that often: no sequence number, empty data, the wall-clock time as
    `arrival_time` (see `is_clock`). Use it as
    `env.from_source(kinesis_source(...), WatermarkStrategy..., name, RAW_RECORD_TYPE)`.
    The connector jar must be on `pipeline.jars` before this is called.
    """
    jvm = get_gateway().jvm
    try:
        builder_class = jvm.io.connectmetrics.kinesis.KinesisShardSource
        builder = builder_class.builder()
    except TypeError as err:
        # py4j answers with a JavaPackage, which is not callable, when the class is unknown.
        raise RuntimeError(
            f"the Kinesis source classes are not on the JVM's class path: add "
            f"{connector_jar_url()} to pipeline.jars (build it with "
            f"`mvn -f connectors/pom.xml package`)"
        ) from err
    builder = (
        builder.streamName(stream)
        .region(region)
        .endpoint(endpoint or "")
        .initialPosition(initial_position)
        .pollIntervalMillis(int(poll_interval_ms))
        .shardDiscoveryIntervalMillis(int(shard_discovery_interval_ms))
        .maxRecordsPerPoll(int(max_records_per_poll))
        .idleClockMillis(int(idle_clock_ms))
    )
    try:
        return Source(builder.build())
    except Py4JJavaError as err:
        java_error = err.java_exception
        if java_error.getClass().getName() == "java.lang.IllegalArgumentException":
            raise ValueError(java_error.getMessage()) from None
        raise
