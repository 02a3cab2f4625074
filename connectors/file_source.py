"""Recorded events as a bounded source: JSON-lines files (plain or `.gz`), one raw record per
line, as a Firehose archive or `connect-metrics simulate --out PATH` writes them.

Each line becomes the same raw row the Kinesis source emits, so the rest of the job cannot tell
a replay from a live run. Both feeds may be mixed in one file: the parser recognises each record.
"""

from __future__ import annotations

from pathlib import Path

from pyflink.common import Row, WatermarkStrategy
from pyflink.datastream import DataStream, MapFunction, StreamExecutionEnvironment
from pyflink.datastream.connectors.file_system import FileSource, StreamFormat

from connectors.kinesis_source import RAW_RECORD_FIELDS, RAW_RECORD_TYPE


class LineToRawRecord(MapFunction):
    def map(self, line: str) -> Row:
        row = Row("replay", "", "", 0, line.encode("utf-8"))
        row.set_field_names(RAW_RECORD_FIELDS)
        return row


def require_files(paths: list[Path]) -> None:
    missing = [str(p) for p in paths if not Path(p).is_file()]
    if missing:
        raise ValueError(f"replay: no such file: {', '.join(missing)}")


def file_sources(env: StreamExecutionEnvironment, paths: list[Path]) -> list[DataStream]:
    """One bounded stream of raw rows over all `paths` (`.gz` files are decompressed)."""
    require_files(paths)
    source = FileSource.for_record_stream_format(
        StreamFormat.text_line_format(), *(Path(p).resolve().as_uri() for p in paths)
    ).build()
    lines = env.from_source(
        source, WatermarkStrategy.no_watermarks(), "replay files"
    ).uid("replay-files-source")
    return [lines.map(LineToRawRecord(), output_type=RAW_RECORD_TYPE).name("raw records")]
