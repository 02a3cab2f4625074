"""The dashboard's InfluxQL and the shape of InfluxDB's answer, without a server."""

import pytest

from connectors.settings import InfluxDBSettings, TimestreamSettings
from jobs.config import Config
from cli.top.influxdb import InfluxDBStore, latest_influxql, rows_from_answer
from cli.top.live import open_store
from cli.top.snapshot import QUEUE_NOW, READS
from cli.top.store import Row, StoreError

NOW = 1_795_488_000_000


def test_the_query_takes_each_series_newest_point_within_the_lookback():
    assert latest_influxql(QUEUE_NOW, NOW) == (
        'SELECT "contacts_in_queue", "oldest_contact_age", "agents_available", '
        '"agents_staffed" FROM "queue_realtime" WHERE time > 1795487700000ms '
        'GROUP BY "instance_id", "queue_id", "channel" ORDER BY time DESC LIMIT 1')
    assert {r.table: latest_influxql(r, NOW).split("time > ")[1].split("ms")[0] for r in READS} == {
        "queue_realtime": str(NOW - 300_000), "queue_today": str(NOW - 172_800_000),
        "queue_service_level_today": str(NOW - 172_800_000),
        "routing_profile_realtime": str(NOW - 300_000), "agent_realtime": str(NOW - 86_400_000),
        "queue_names": str(NOW - 3_660 * 86_400_000),
        "routing_profile_names": str(NOW - 3_660 * 86_400_000)}


def test_rows_come_from_each_series_tags_and_point():
    answer = {"results": [{"statement_id": 0, "series": [
        {"name": "queue_realtime", "tags": {"instance_id": "i", "queue_id": "q", "channel": "VOICE"},
         "columns": ["time", "contacts_in_queue", "oldest_contact_age", "agents_available",
                     "agents_staffed"],
         "values": [[NOW - 5_000, 2, 41.5, None, 3]]},
    ]}]}
    assert rows_from_answer(answer, QUEUE_NOW) == [Row(
        dimensions={"instance_id": "i", "queue_id": "q", "channel": "VOICE"}, time_ms=NOW - 5_000,
        measures={"contacts_in_queue": 2, "oldest_contact_age": 41.5, "agents_staffed": 3})]
    assert rows_from_answer({"results": [{"statement_id": 0}]}, QUEUE_NOW) == []


def test_the_store_is_influxdb_when_asked_or_when_the_job_writes_there():
    influx = Config(influxdb=InfluxDBSettings(url="http://h:9999", database="d", token="t"))
    store = open_store(influx, influxdb=True)
    assert isinstance(store, InfluxDBStore) and store.description == "InfluxDB http://h:9999, database d"
    writes_there = Config(timestream=TimestreamSettings(target="influxdb"))
    assert isinstance(open_store(writes_there), InfluxDBStore)
    assert not isinstance(open_store(Config()), InfluxDBStore)


def test_an_unreachable_server_is_a_store_error_naming_the_fix():
    from cli.prerequisites import free_ports

    (port,) = free_ports(1)
    store = InfluxDBStore(f"http://127.0.0.1:{port}", "connect_metrics")
    with pytest.raises(StoreError, match=rf"127.0.0.1:{port}.*connect-metrics dev up"):
        store.latest([QUEUE_NOW], NOW)
