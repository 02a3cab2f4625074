"""The metric tables the job writes to InfluxDB, read back with InfluxQL, equal the simulator's
ground truth: the same hour and the same comparison as the operator truth test, with the real
sink path (line protocol over HTTP) and a real InfluxDB server in place of the jsonl file."""

from __future__ import annotations

import pytest

from jobs.config import Config, InfluxDBSettings, TimestreamSettings
from jobs.influxdb_landed import influxdb_records
from tests.operator import test_metrics_truth as truth
from tests.operator.conftest import run_bounded

pytestmark = pytest.mark.e2e


def test_every_table_read_back_from_influxdb_equals_the_ground_truth(influxdb, tmp_path):
    sink = Config(timestream=TimestreamSettings(target="influxdb"),
                  influxdb=InfluxDBSettings(url=influxdb.influxdb_endpoint,
                                            database=influxdb.influxdb_database))

    def job_output(records: list, **job_settings) -> list[dict]:
        run_bounded(tmp_path, records, sink, **job_settings)
        return [{"table": r.table, "record": r.record}
                for r in influxdb_records(sink.influxdb.url, sink.influxdb.database)]

    truth.test_every_table_equals_the_ground_truth(job_output, seed=3, python_mode="process")
    dead = tmp_path / "dead.jsonl"
    letters = dead.read_text().splitlines() if dead.exists() else []
    assert [line for line in letters if "influxdb_refused" in line] == []
