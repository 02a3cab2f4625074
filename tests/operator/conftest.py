"""Runs the whole job over recorded records in a local MiniCluster and returns what it wrote."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import orjson
import pytest

from connectors.file_source import file_sources
from jobs.config import PROJECT_ROOT, Config, JobSettings, TimestreamSettings
from jobs.main import local_environment
from jobs.pipeline import build_job


@pytest.fixture
def job_output(tmp_path):
    """`run(records, extra_sql={name: text}, raw_tables=False, **job_settings)`: the job at
    parallelism 2 over `records` (dicts or raw bytes, one per line), with the project's metric
    files plus `extra_sql`; returns the jsonl sink's lines."""

    def run(records: list, extra_sql: dict[str, str] | None = None,
            raw_tables: bool = False, **job_settings) -> list[dict]:
        sql_dir = tmp_path / "sql"
        shutil.copytree(PROJECT_ROOT / "sql", sql_dir)
        for name, text in (extra_sql or {}).items():
            (sql_dir / name).write_text(text)
        config = Config(
            timestream=TimestreamSettings(target=f"jsonl:{tmp_path / 'records.jsonl'}",
                                          raw_tables=raw_tables),
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
        output = Path(tmp_path / "records.jsonl")
        return [json.loads(line) for line in output.read_text().splitlines()]

    return run
