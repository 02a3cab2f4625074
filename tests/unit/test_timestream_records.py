from datetime import datetime
from decimal import Decimal

import json

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from connectors.timestream import (
    JsonLinesRecordWriter, RecordLimits, RecordShape, TimestreamWriteError, TimestreamWriter,
    check_record, to_record,
)

METRIC = RecordShape(measure_name="queue_interval", dimensions=("instance_id", "queue_id", "channel"),
                     time_column="window_start", not_written=("window_time",))


def test_row_becomes_a_multi_measure_record():
    row = {
        "instance_id": "i-1", "queue_id": "q-1", "channel": "VOICE",
        "window_start": datetime(2026, 11, 23, 10, 1), "contacts_queued": 3,
        "avg_queue_answer_time": Decimal("12.5"), "service_met": True, "unused": None,
        "label": "x", "window_time": datetime(2026, 11, 23, 10, 1, 59),
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


def test_a_timestamp_ltz_time_column_is_an_instant():
    from pyflink.common.time import Instant

    row = {"instance_id": "i-1", "queue_id": "q-1", "channel": "VOICE",
           "window_start": Instant(1_795_428_060, 500_000_000), "n": 1}
    assert to_record(METRIC, row, 1)["Time"] == "1795428060500"


def test_time_columns_given_as_epoch_millis_are_written_as_times():
    """A batch of a metric's rows hands its times on as epoch milliseconds; a time measure
    stays a TIMESTAMP, other numbers stay BIGINT."""
    row = {"instance_id": "i-1", "queue_id": "q-1", "channel": "VOICE",
           "window_start": 1_795_428_060_001, "oldest_since": 1_795_428_000_123, "n": 3,
           "since_as_time": datetime(2026, 11, 23, 10, 0, 0, 123_000)}
    record = to_record(METRIC, row, 1, times=frozenset({"window_start", "oldest_since",
                                                          "since_as_time"}))
    assert record["Time"] == "1795428060001"
    assert record["MeasureValues"] == [
        {"Name": "oldest_since", "Value": "1795428000123", "Type": "TIMESTAMP"},
        {"Name": "n", "Value": "3", "Type": "BIGINT"},
        {"Name": "since_as_time", "Value": "1795428000123", "Type": "TIMESTAMP"},
    ]


def test_empty_dimension_values_are_left_out():
    row = {"instance_id": "i-1", "queue_id": None, "channel": "", "window_start": 0, "n": 1}
    names = [d["Name"] for d in to_record(METRIC, row, 1)["Dimensions"]]
    assert names == ["instance_id"]


NOW = 1_795_428_000_000


def record(version=1, time_ms=NOW, **changes):
    base = {
        "Dimensions": [{"Name": "queue_id", "Value": "q-1", "DimensionValueType": "VARCHAR"}],
        "MeasureName": "queue_interval", "MeasureValueType": "MULTI",
        "MeasureValues": [{"Name": "contacts_queued", "Value": "3", "Type": "BIGINT"}],
        "Time": str(time_ms), "TimeUnit": "MILLISECONDS", "Version": version,
    }
    return {**base, **changes}


class StubClient:
    """write_records answers from a script: None = success, a dict = RejectedRecords, or raises."""

    def __init__(self, *script):
        self.script = list(script)
        self.calls = []

    def write_records(self, DatabaseName, TableName, Records):
        self.calls.append([dict(r) for r in Records])
        step = self.script.pop(0) if self.script else None
        if isinstance(step, Exception):
            raise step
        if isinstance(step, list):
            raise ClientError(
                {"Error": {"Code": "RejectedRecordsException", "Message": "rejected"},
                 "RejectedRecords": step}, "WriteRecords")
        return {}


def client_error(code: str, status: int = 400) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, "WriteRecords")


class Clock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def writer(client, clock=None, **kwargs):
    clock = clock or Clock()
    return TimestreamWriter(client, "db", sleep=clock.sleep, clock=lambda: clock.now, **kwargs)


def test_batches_hold_at_most_100_records():
    client = StubClient()
    outcome = writer(client).write("t", [record() for _ in range(250)], NOW)
    assert [len(c) for c in client.calls] == [100, 100, 50]
    assert (outcome.written, outcome.calls, outcome.retries) == (250, 3, 0)


def test_throttling_5xx_and_network_errors_are_retried_with_growing_jittered_delay():
    clock = Clock()
    client = StubClient(
        client_error("ThrottlingException"),
        EndpointConnectionError(endpoint_url="http://x"),
        client_error("SomethingOdd", status=503),
        client_error("InternalServerException", status=500),
    )
    outcome = writer(client, clock).write("t", [record()], NOW)
    assert outcome.written == 1 and outcome.retries == 4 and len(client.calls) == 5
    assert clock.sleeps[3] > clock.sleeps[0]
    assert all(0.1 <= s <= 10 for s in clock.sleeps)


def test_retries_stop_after_the_time_budget_and_the_write_fails_loudly():
    client = StubClient(*[client_error("ThrottlingException")] * 100)
    with pytest.raises(TimestreamWriteError, match="still unwritten after .* attempts over"):
        writer(client, max_retry_s=60).write("t", [record()], NOW)
    assert 5 < len(client.calls) < 100


def test_a_client_error_that_cannot_heal_fails_at_once():
    client = StubClient(client_error("ValidationException"))
    with pytest.raises(TimestreamWriteError, match="db.t failed"):
        writer(client).write("t", [record()], NOW)
    assert len(client.calls) == 1


def test_missing_table_names_it_and_how_to_create_it():
    client = StubClient(client_error("ResourceNotFoundException"))
    with pytest.raises(TimestreamWriteError, match=r"db.t does not exist: create it .*create-table"):
        writer(client).write("t", [record()], NOW)


def test_rejections_are_handled_per_record():
    client = StubClient([
        {"RecordIndex": 0, "Reason": "A newer version exists", "ExistingVersion": 9},
        {"RecordIndex": 1, "Reason": "Same version, other value", "ExistingVersion": 5},
        {"RecordIndex": 2, "Reason": "Measure value type mismatch"},
    ])
    records = [record(version=5), record(version=5, Time=str(NOW + 1)), record(version=5), record()]
    outcome = writer(client).write("t", records, NOW)
    assert outcome.superseded == 1
    assert outcome.rejected == 3
    assert outcome.refused == [(records[2], "rejected by Timestream: Measure value type mismatch")]
    assert [r["Version"] for r in client.calls[1]] == [6]
    assert outcome.written == 2


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"Dimensions": [{"Name": "d" * 61, "Value": "x"}]}, "over 60 bytes"),
        ({"Dimensions": [{"Name": "queue_id", "Value": ""}]}, "empty value"),
        ({"Dimensions": [{"Name": f"d{i}", "Value": "x"} for i in range(129)]}, "129 dimensions"),
        ({"MeasureValues": []}, "no measure values"),
        ({"MeasureName": "m" * 257}, "over 256 bytes"),
        ({"MeasureValues": [{"Name": f"m{i}", "Value": "1", "Type": "BIGINT"} for i in range(257)]},
         "257 measures"),
        ({"MeasureValues": [{"Name": "m", "Value": "1", "Type": "INT"}]}, "unsupported type"),
        ({"MeasureValues": [{"Name": "m", "Value": "x" * 2100, "Type": "VARCHAR"}]}, "bytes (at most 2048)"),
        ({"Time": str(NOW + 16 * 60_000)}, "in the future"),
        ({"Time": str(NOW - 7 * 3_600_000)}, "older than the memory store retention"),
    ],
)
def test_records_timestream_would_refuse_are_caught_before_sending(changes, reason):
    assert reason in check_record(record(**changes), NOW, RecordLimits())


def test_old_records_pass_when_magnetic_writes_are_on():
    old = record(time_ms=NOW - 7 * 3_600_000)
    assert check_record(old, NOW, RecordLimits(magnetic_writes=True)) is None
    assert check_record(record(), NOW, RecordLimits()) is None


def test_refused_records_are_not_sent():
    client = StubClient()
    bad = record(MeasureValues=[])
    outcome = writer(client).write("t", [bad, record()], NOW)
    assert [len(c) for c in client.calls] == [1]
    assert outcome.refused[0][0] is bad


def test_jsonl_target_writes_the_exact_records(tmp_path):
    path = tmp_path / "out" / "records.jsonl"
    outcome = JsonLinesRecordWriter(path, "db").write("t", [record(), record(MeasureValues=[])], NOW)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines == [{"database": "db", "table": "t", "record": record()}]
    assert outcome.written == 1 and len(outcome.refused) == 1


class _JavaObject:
    """What PyFlink's thread mode hands Python for a Java object (pemja's PyJObject): its
    methods, `toString` among them, are calls into the JVM."""

    def __init__(self, text: str):
        self._text = text

    def toString(self):  # noqa: N802 - the Java method name
        return self._text


def test_thread_mode_java_times_become_python_ones():
    from datetime import date, datetime, timezone

    from jobs.pipeline import python_value

    instant = _JavaObject("2026-01-05T08:00:00.250Z")
    local = _JavaObject("2026-01-05T08:00:00.250")
    day = _JavaObject("2026-01-05")
    assert python_value(instant) == datetime(2026, 1, 5, 8, 0, 0, 250_000, timezone.utc)
    assert python_value(local) == datetime(2026, 1, 5, 8, 0, 0, 250_000)
    assert python_value(day) == date(2026, 1, 5)
    assert python_value(7) == 7 and python_value("q1") == "q1" and python_value(None) is None
    other = _JavaObject("1.5")
    assert python_value(other) is other
    on_the_second = _JavaObject("2026-01-05T08:00:00Z")
    assert python_value(on_the_second) == datetime(2026, 1, 5, 8, tzinfo=timezone.utc)
    minute = _JavaObject("2026-01-05T08:00")  # Java drops :00
    assert python_value(minute) == datetime(2026, 1, 5, 8, 0)
    already = datetime(2026, 1, 5, 8)  # process mode hands Python values over
    assert python_value(already) is already


def test_the_sinks_timestream_client_leaves_record_checks_to_check_record():
    """botocore's own check of every field cost more CPU than the rest of a call, inside the
    job's interpreter; `check_record` already holds each record to the service's rules."""
    from connectors.settings import InfluxDBSettings, TimestreamSettings
    from connectors.timestream_sink import record_writer

    from botocore.validate import ParamValidationDecorator

    writer = record_writer(TimestreamSettings(), InfluxDBSettings())
    assert isinstance(writer, TimestreamWriter)
    # botocore wraps its request serializer in the check when the check is on.
    assert not isinstance(writer._client._serializer, ParamValidationDecorator)
