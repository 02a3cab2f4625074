"""Runs the whole job over recorded records in a local MiniCluster and returns what it wrote."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import orjson
import pytest

from connectors.file_source import file_sources
from connectors.settings import TimestreamSettings
from jobs.config import PROJECT_ROOT, Config, JobSettings
from jobs.main import local_environment
from jobs.pipeline import build_job


def run_bounded(tmp_path: Path, records: list, sink: Config, extra_sql: dict[str, str] | None = None,
                raw_tables: bool = False, **job_settings) -> None:
    """The job at parallelism 2 over `records` (dicts or raw bytes, one per line), with the
    project's metric files plus `extra_sql`, writing where `sink`'s Timestream and InfluxDB
    groups say. Without provisional gauge rows unless `gauge_provisional_ms` is given: a
    bounded run is a replay."""
    job_settings.setdefault("gauge_provisional_ms", 0)
    sql_dir = tmp_path / "sql"
    shutil.copytree(PROJECT_ROOT / "sql", sql_dir)
    for name, text in (extra_sql or {}).items():
        (sql_dir / name).write_text(text)
    config = Config(
        timestream=replace(sink.timestream, raw_tables=raw_tables),
        influxdb=sink.influxdb,
        job=JobSettings(parallelism=2, checkpoint_interval_ms=0, sql_dir=str(sql_dir),
                        checkpoint_dir=str(tmp_path / "checkpoints"),
                        dead_letter=f"jsonl:{tmp_path / 'dead.jsonl'}", **job_settings),
    )
    recording = tmp_path / "recorded.jsonl"
    recording.write_bytes(b"".join(
        (r if isinstance(r, bytes) else orjson.dumps(r)) + b"\n" for r in records
    ))
    env = local_environment(config)
    build_job(env, config, file_sources(env, [recording]))
    env.execute("bounded test run")


@pytest.fixture
def job_output(tmp_path):
    """`run(records, extra_sql={name: text}, raw_tables=False, **job_settings)`: the job over
    `records` (see `run_bounded`); returns the jsonl sink's lines."""

    def run(records: list, extra_sql: dict[str, str] | None = None,
            raw_tables: bool = False, **job_settings) -> list[dict]:
        output = tmp_path / "records.jsonl"
        sink = Config(timestream=TimestreamSettings(target=f"jsonl:{output}"))
        run_bounded(tmp_path, records, sink, extra_sql, raw_tables, **job_settings)
        return [json.loads(line) for line in output.read_text().splitlines()]

    return run
