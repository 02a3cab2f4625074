"""The sink's InfluxDB writer against the real local server (InfluxDB 1.8): the v2 write API
(`/api/v2/write`, org, bucket and token; InfluxDB 1.8 serves it for compatibility), a database,
bucket or retention policy that does not exist failing at once with the fix, and the bounded
retrying while the server is stopped: it resumes when the server is back, and gives up loudly
when it stays away. The v3 API (`/api/v3/write_lp`) has no local server: its request is
checked against a stub only (tests/unit/test_influxdb_writer.py)."""

from __future__ import annotations

import threading
import time

import pytest

from connectors import influxdb as influx
from connectors.influxdb import InfluxDBWriteError, InfluxDBWriter, WriteEndpoint
from cli import local_influxdb
from connectors.settings import InfluxDBSettings
from cli.influxdb_landed import influxdb_records

pytestmark = pytest.mark.e2e

NOW = (int(time.time()) // 60 - 5) * 60_000


def record(queue: str, at_ms: int = NOW, queued: int = 3, version: int = 1) -> dict:
    return {
        "Dimensions": [{"Name": "instance_id", "Value": "i-1", "DimensionValueType": "VARCHAR"},
                       {"Name": "queue_id", "Value": queue, "DimensionValueType": "VARCHAR"}],
        "MeasureName": "queue_interval", "MeasureValueType": "MULTI",
        "MeasureValues": [{"Name": "contacts_queued", "Value": str(queued), "Type": "BIGINT"},
                          {"Name": "avg_handle_time", "Value": "12.5", "Type": "DOUBLE"}],
        "Time": str(at_ms), "TimeUnit": "MILLISECONDS", "Version": version,
    }


class CountingPost:
    """The real HTTP POST, counted."""

    def __init__(self):
        self.calls = 0

    def __call__(self, url, body, headers):
        self.calls += 1
        return influx.http_post(url, body, headers)


def held(settings: InfluxDBSettings, database: str | None = None) -> dict:
    """(table, tags, time) -> fields of every point the server holds."""
    return {(r.table, tuple(sorted(r.dimensions.items())), r.time_ms): r.measures
            for r in influxdb_records(settings.url, database or settings.database)}


@pytest.mark.parametrize("bucket", ["connect_metrics", "connect_metrics/autogen"])
def test_the_v2_write_api_with_org_bucket_and_token_lands_the_points(influxdb, bucket):
    settings = InfluxDBSettings(url=influxdb.influxdb_endpoint, api="v2", org="connect",
                                database=bucket, token="any-token")
    writer = InfluxDBWriter(WriteEndpoint.of(settings, settings.token))
    first = writer.write("queue_interval", [record("q-1"), record("q-2", queued=5)], NOW)
    # A correction of q-1 (same tags and time, a higher version) replaces its point.
    second = writer.write("queue_interval", [record("q-1", queued=4, version=2)], NOW)
    assert (first.written, second.written, first.refused, second.refused) == (2, 1, [], [])
    assert held(settings, influxdb.influxdb_database) == {
        ("queue_interval", (("instance_id", "i-1"), ("queue_id", q)), NOW):
            {"contacts_queued": str(n), "avg_handle_time": "12.5"}
        for q, n in (("q-1", 4), ("q-2", 5))
    }


@pytest.mark.parametrize(("api", "database", "named"), [
    ("v1", "no_such_database", "no_such_database"),
    ("v2", "no_such_database", "no_such_database"),
    ("v2", "connect_metrics/no_such_policy", "connect_metrics/no_such_policy"),  # a 500
])
def test_a_database_or_retention_policy_that_does_not_exist_fails_at_once(influxdb, api,
                                                                          database, named):
    settings = InfluxDBSettings(url=influxdb.influxdb_endpoint, api=api, org="connect",
                                database=database)
    post = CountingPost()
    writer = InfluxDBWriter(WriteEndpoint.of(settings, ""), post=post, max_retry_s=300)
    started = time.monotonic()
    with pytest.raises(InfluxDBWriteError) as raised:
        writer.write("queue_interval", [record("q-1")], NOW)
    assert post.calls == 1 and time.monotonic() - started < 5
    assert f"the database {named!r} must exist before the job writes" in str(raised.value)
    assert "`connect-metrics dev up` creates it" in str(raised.value)


def test_a_write_while_the_server_is_stopped_lands_once_it_is_back(influxdb):
    settings = InfluxDBSettings(url=influxdb.influxdb_endpoint, database=influxdb.influxdb_database)
    writer = InfluxDBWriter(WriteEndpoint.of(settings, ""), max_retry_s=120)
    local_influxdb.stop(influxdb)
    outcome = {}
    writing = threading.Thread(target=lambda: outcome.update(
        result=writer.write("queue_interval", [record("q-1")], NOW)))
    writing.start()
    time.sleep(5)
    assert writing.is_alive(), "the write must wait for the server, not give up"
    local_influxdb.start(influxdb)
    writing.join(60)
    result = outcome["result"]
    assert result.written == 1 and result.retries >= 3
    assert held(settings) == {
        ("queue_interval", (("instance_id", "i-1"), ("queue_id", "q-1")), NOW):
            {"contacts_queued": "3", "avg_handle_time": "12.5"}}


def test_a_server_that_stays_away_fails_the_write_after_the_retry_budget(influxdb):
    settings = InfluxDBSettings(url=influxdb.influxdb_endpoint, database=influxdb.influxdb_database)
    post = CountingPost()
    writer = InfluxDBWriter(WriteEndpoint.of(settings, ""), post=post, max_retry_s=4)
    local_influxdb.stop(influxdb)
    started = time.monotonic()
    with pytest.raises(InfluxDBWriteError, match=r"InfluxDB unreachable at .*/write .* 1 points "
                                                 r"for queue_interval still unwritten after \d+ "
                                                 r"attempts over \d+ s; the job stops"):
        writer.write("queue_interval", [record("q-1")], NOW)
    took = time.monotonic() - started
    assert 4 <= took < 4 + 10 + 2  # the budget, at most one more back-off (10 s at most)
    assert 3 <= post.calls < 40
