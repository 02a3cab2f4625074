from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from connectors.timestream import TimestreamWriteError, TimestreamWriter, to_record
from jobs.metrics import MetricTable

METRIC = MetricTable(
    table="queue_interval", path=Path("sql/queue_interval.sql"), query="SELECT 1", query_line=5,
    dimensions=("instance_id", "queue_id", "channel"), time_column="window_start",
    measure_name="queue_interval",
)


def test_row_becomes_a_multi_measure_record():
    row = {
        "instance_id": "i-1", "queue_id": "q-1", "channel": "VOICE",
        "window_start": datetime(2026, 11, 23, 10, 1), "contacts_queued": 3,
        "avg_queue_answer_time": Decimal("12.5"), "service_met": True, "unused": None,
        "label": "x",
    }
    assert to_record(METRIC, row, version=7) == {
        "Dimensions": [
            {"Name": "instance_id", "Value": "i-1", "DimensionValueType": "VARCHAR"},
            {"Name": "queue_id", "Value": "q-1", "DimensionValueType": "VARCHAR"},
            {"Name": "channel", "Value": "VOICE", "DimensionValueType": "VARCHAR"},
        ],
        "MeasureName": "queue_interval",
        "MeasureValueType": "MULTI",
        "MeasureValues": [
            {"Name": "contacts_queued", "Value": "3", "Type": "BIGINT"},
            {"Name": "avg_queue_answer_time", "Value": "12.5", "Type": "DOUBLE"},
            {"Name": "service_met", "Value": "true", "Type": "BOOLEAN"},
            {"Name": "label", "Value": "x", "Type": "VARCHAR"},
        ],
        "Time": "1795428060000",
        "TimeUnit": "MILLISECONDS",
        "Version": 7,
    }


def test_empty_dimension_values_are_left_out():
    row = {"instance_id": "i-1", "queue_id": None, "channel": "", "window_start": 0, "n": 1}
    names = [d["Name"] for d in to_record(METRIC, row, 1)["Dimensions"]]
    assert names == ["instance_id"]


class FakeClient:
    """Answers write_records from a script of outcomes: None = success, or an exception."""

    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)
        self.calls = []

    def write_records(self, DatabaseName, TableName, Records):
        self.calls.append((DatabaseName, TableName, len(Records)))
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if outcome is not None:
            raise outcome
        return {}


def client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "WriteRecords")


def test_batches_hold_at_most_100_records():
    client = FakeClient()
    calls = TimestreamWriter(client, "db", sleep=lambda s: None).write("t", [{}] * 250)
    assert calls == 3
    assert [c[2] for c in client.calls] == [100, 100, 50]


def test_throttling_and_network_errors_are_retried_with_growing_delay():
    delays = []
    client = FakeClient(
        client_error("ThrottlingException"),
        EndpointConnectionError(endpoint_url="http://x"),
        client_error("InternalServerException"),
    )
    TimestreamWriter(client, "db", sleep=delays.append).write("t", [{}])
    assert len(client.calls) == 4
    assert len(delays) == 3
    assert delays[2] > delays[0]


def test_retries_are_bounded_then_the_write_fails_loudly():
    client = FakeClient(*[client_error("ThrottlingException")] * 3)
    with pytest.raises(TimestreamWriteError, match="db.t failed"):
        TimestreamWriter(client, "db", max_attempts=3, sleep=lambda s: None).write("t", [{}])
    assert len(client.calls) == 3


def test_missing_table_names_it_and_the_fix():
    client = FakeClient(client_error("ResourceNotFoundException"))
    with pytest.raises(TimestreamWriteError, match=r"db.t does not exist: create it"):
        TimestreamWriter(client, "db", sleep=lambda s: None).write("t", [{}])
    assert len(client.calls) == 1
