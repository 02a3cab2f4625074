"""Recorded events as a bounded source: JSON-lines files (plain or `.gz`), one raw record per
line, as a Firehose archive or `connect-metrics simulate --out PATH` writes them.

Each line becomes the same raw row the Kinesis source emits (in the JVM:
`io.connectmetrics.replay.ReplayLines` in the connector jar), so the rest of the job cannot tell
a replay from a live run. Both feeds may be mixed in one file: the parser recognises each record.
"""

from __future__ import annotations

from pathlib import Path

from pyflink.common import WatermarkStrategy
from pyflink.datastream import DataStream, StreamExecutionEnvironment
from pyflink.datastream.connectors.file_system import FileSource, StreamFormat
from pyflink.java_gateway import get_gateway

from connectors.kinesis_source import RAW_RECORD_TYPE


def require_files(paths: list[Path]) -> None:
    missing = [str(p) for p in paths if not Path(p).is_file()]
    if missing:
        raise ValueError(f"replay: no such file: {', '.join(missing)}")


def file_sources(env: StreamExecutionEnvironment, paths: list[Path]) -> list[DataStream]:
    """One bounded stream of raw rows over all `paths` (`.gz` files are decompressed). The
    connector jar must be on `pipeline.jars`."""
    require_files(paths)
    source = FileSource.for_record_stream_format(
        StreamFormat.text_line_format(), *(Path(p).resolve().as_uri() for p in paths)
    ).build()
    lines = env.from_source(
        source, WatermarkStrategy.no_watermarks(), "replay files"
    ).uid("replay-files-source")
    replay_lines = get_gateway().jvm.io.connectmetrics.replay.ReplayLines
    raw = replay_lines.rawRecords(lines._j_data_stream, RAW_RECORD_TYPE.get_java_type_info())
    return [DataStream(raw).name("raw records")]
