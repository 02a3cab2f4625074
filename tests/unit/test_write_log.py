"""The bench's write log forwards the job's Timestream calls and notes when each record's write
was acknowledged; a refused write lands nothing."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from botocore.exceptions import ClientError

from benchmarks.write_log import WriteLog


class Upstream(BaseHTTPRequestHandler):
    """Timestream as far as the test needs: table `missing` does not exist, a write takes
    `DELAY_S`; every request is kept."""

    DELAY_S = 0.05
    protocol_version = "HTTP/1.1"
    seen: list[tuple[str, dict]] = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        target = self.headers["X-Amz-Target"].rsplit(".", 1)[-1]
        Upstream.seen.append((target, body))
        if body.get("TableName") == "missing":
            status, answer = 400, {"__type": "ResourceNotFoundException", "message": "no table"}
        else:
            time.sleep(self.DELAY_S)
            status, answer = 200, ({"RecordsIngested": {"Total": len(body["Records"])}}
                                   if target == "WriteRecords" else
                                   {"Database": {"DatabaseName": body.get("DatabaseName")}})
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):  # noqa: A002
        pass


@pytest.fixture
def proxied():
    Upstream.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    log = WriteLog(f"http://127.0.0.1:{server.server_address[1]}").start()
    client = boto3.client("timestream-write", region_name="us-east-1",
                          endpoint_url=log.endpoint, aws_access_key_id="test",
                          aws_secret_access_key="test")
    yield log, client
    log.stop()
    server.shutdown()


def record(agent: str, time_ms: int, version: int) -> dict:
    return {"Dimensions": [{"Name": "agent_id", "Value": agent}], "MeasureName": "m",
            "MeasureValueType": "MULTI", "Time": str(time_ms), "TimeUnit": "MILLISECONDS",
            "Version": version,
            "MeasureValues": [{"Name": "x", "Value": "1", "Type": "BIGINT"}]}


def test_each_record_is_noted_when_its_write_was_acknowledged(proxied):
    log, client = proxied
    before = time.time_ns() // 1_000_000
    client.write_records(DatabaseName="db", TableName="agents",
                         Records=[record("a", 1000, 1), record("b", 1000, 1)])
    after = time.time_ns() // 1_000_000
    time.sleep(0.2)
    client.write_records(DatabaseName="db", TableName="agents",
                         Records=[record("a", 1000, 1), record("a", 1000, 2)])

    assert [target for target, _ in Upstream.seen] == ["WriteRecords", "WriteRecords"]
    assert Upstream.seen[0][1]["Records"][0] == record("a", 1000, 1)
    first = log.first_seen[("agents", (("agent_id", "a"),), 1000, 1)]
    assert first[0].measures == {"x": "1"}
    # Noted when the emulator answered, not when the request arrived; a rewrite of the same
    # version keeps its first time; a new version is a record of its own.
    assert before + Upstream.DELAY_S * 1000 <= first[1] <= after
    assert log.first_seen[("agents", (("agent_id", "b"),), 1000, 1)][1] == first[1]
    assert log.first_seen[("agents", (("agent_id", "a"),), 1000, 2)][1] > after
    assert len(log.first_seen) == 3


def test_a_refused_write_is_answered_as_the_emulator_answered_and_lands_nothing(proxied):
    log, client = proxied
    with pytest.raises(ClientError) as refused:
        client.write_records(DatabaseName="db", TableName="missing", Records=[record("a", 1, 1)])
    assert refused.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert client.describe_database(DatabaseName="db")["Database"]["DatabaseName"] == "db"
    assert log.first_seen == {}
