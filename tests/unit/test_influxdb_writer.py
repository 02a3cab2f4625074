"""Metric records as InfluxDB points and the batched, retried line-protocol write."""

import json

import pytest

from connectors.influxdb import (
    InfluxDBWriteError, InfluxDBWriter, WriteEndpoint, newest_versions, read_token, to_line,
)
from connectors.settings import ConfigError, InfluxDBSettings

NOW = 1_795_428_060_000


def record(version=1, time_ms=NOW, queue="q-1", **measures):
    values = measures or {"contacts_queued": ("3", "BIGINT")}
    return {
        "Dimensions": [{"Name": "queue_id", "Value": queue, "DimensionValueType": "VARCHAR"},
                       {"Name": "channel", "Value": "VOICE", "DimensionValueType": "VARCHAR"}],
        "MeasureName": "queue_interval", "MeasureValueType": "MULTI",
        "MeasureValues": [{"Name": n, "Value": v, "Type": t} for n, (v, t) in values.items()],
        "Time": str(time_ms), "TimeUnit": "MILLISECONDS", "Version": version,
    }


def test_a_record_becomes_a_point_with_typed_fields_tags_and_millisecond_time():
    line = to_line("queue_interval", record(
        contacts_queued=("3", "BIGINT"), avg_handle_time=("12.5", "DOUBLE"),
        service_met=("true", "BOOLEAN"), label=('say "hi", a=b', "VARCHAR"),
        oldest_at=("1795428000000", "TIMESTAMP"), queue="q 1,x=y"))
    assert line == (
        r"queue_interval,channel=VOICE,queue_id=q\ 1\,x\=y "
        r'avg_handle_time=12.5,contacts_queued=3i,label="say \"hi\", a=b",'
        r"oldest_at=1795428000000i,service_met=true " + str(NOW)
    )


def test_a_whole_double_stays_a_float_and_a_whole_bigint_an_integer():
    # In line protocol a number without the `i` suffix is a float.
    assert " avg=2 " in to_line("t", record(avg=("2.0", "DOUBLE")))
    assert " n=2i " in to_line("t", record(n=("2", "BIGINT")))


def test_only_the_newest_version_of_a_point_is_kept_within_a_flush():
    old, new, other = record(version=5), record(version=9), record(version=1, queue="q-2")
    later_equal = record(version=9, contacts_queued=("4", "BIGINT"))
    assert newest_versions([new, other, old]) == [new, other]
    assert newest_versions([new, later_equal]) == [later_equal]


def Response(status, data=b""):  # noqa: N802 - reads as the answer it stands for
    return status, data


class StubHttp:
    """The HTTP boundary: answers in order (a (status, body), an exception, or a function of
    the body), then 204; records every request."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests = []

    def __call__(self, url, body, headers):
        self.requests.append(("POST", url, body.decode(), headers))
        answer = self.answers.pop(0) if self.answers else Response(204)
        if isinstance(answer, Exception):
            raise answer
        return answer(body.decode()) if callable(answer) else answer


class Clock:
    def __init__(self):
        self.now, self.sleeps = 0.0, []

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def writer(http, settings=InfluxDBSettings(), token="", clock=None, **kwargs):
    clock = clock or Clock()
    return InfluxDBWriter(WriteEndpoint.of(settings, token), post=http, sleep=clock.sleep,
                          clock=lambda: clock.now, **kwargs)


@pytest.mark.parametrize(("settings", "token", "address", "authorization"), [
    (InfluxDBSettings(url="http://h:8086/", database="cm"), "",
     "http://h:8086/write?db=cm&precision=ms", None),
    (InfluxDBSettings(url="https://h:8086", api="v2", org="o", database="b"), "t",
     "https://h:8086/api/v2/write?org=o&bucket=b&precision=ms", "Token t"),
    (InfluxDBSettings(url="https://h:8181", api="v3", database="cm"), "t",
     "https://h:8181/api/v3/write_lp?db=cm&precision=millisecond", "Bearer t"),
])
def test_each_api_has_its_write_address_and_authorization(settings, token, address,
                                                          authorization):
    http = StubHttp()
    outcome = writer(http, settings, token).write("queue_interval", [record()], NOW)
    method, url, body, headers = http.requests[0]
    assert (method, url, headers.get("Authorization")) == ("POST", address, authorization)
    assert body == to_line("queue_interval", record())
    assert (outcome.written, outcome.calls) == (1, 1)


def test_points_are_sent_in_requests_of_at_most_batch_lines():
    http = StubHttp()
    records = [record(time_ms=NOW + i) for i in range(12)]
    outcome = writer(http, batch_lines=5).write("t", records, NOW)
    assert [body.count("\n") + 1 for _, _, body, _ in http.requests] == [5, 5, 2]
    assert outcome.written == 12


def test_throttling_5xx_and_network_errors_are_retried_with_growing_jittered_delay():
    clock = Clock()
    http = StubHttp(Response(429, b'{"error": "too many requests"}'), Response(503),
                    ConnectionRefusedError(111, "Connection refused"), Response(500))
    outcome = writer(http, clock=clock).write("t", [record()], NOW)
    assert (outcome.written, outcome.retries, len(http.requests)) == (1, 4, 5)
    assert clock.sleeps[3] > clock.sleeps[0]
    assert all(0.1 <= s <= 10 for s in clock.sleeps)


def test_retries_stop_after_the_time_budget_and_the_write_fails_loudly():
    http = StubHttp(*[Response(503)] * 100)
    with pytest.raises(InfluxDBWriteError, match=r"InfluxDB 503 .* 1 points for t still "
                                                 r"unwritten after \d+ attempts over"):
        writer(http, max_retry_s=60).write("t", [record()], NOW)
    assert 5 < len(http.requests) < 100


def refuse_lines_with(marker):
    """A server that refuses a request holding `marker` (writing the rest, as v1 does)."""
    def answer(body):
        if marker in body:
            return Response(400, json.dumps({"error": f"partial write: field type conflict: "
                                                      f"input field \"{marker}\" is type "
                                                      "string, already exists as type "
                                                      "float dropped=1"}).encode())
        return Response(204)
    return answer


def test_a_refused_point_is_returned_with_the_servers_reason_and_the_rest_are_written():
    records = [record(time_ms=NOW + i) for i in range(7)]
    bad = record(time_ms=NOW + 3, avg=("oops", "VARCHAR"))
    records[3] = bad
    http = StubHttp(*[refuse_lines_with("avg")] * 20)
    outcome = writer(http).write("t", records, NOW)
    assert outcome.written == 6 and outcome.rejected == 1
    assert [r for r, _ in outcome.refused] == [bad]
    assert outcome.refused[0][1].startswith("refused by InfluxDB (400): partial write: field "
                                            "type conflict: input field \"avg\"")
    written = {line for _, _, body, _ in http.requests for line in body.split("\n")
               if "avg" not in line}
    assert written == {to_line("t", r) for r in records if r is not bad}


def test_a_point_without_fields_is_refused_without_a_request():
    http = StubHttp()
    outcome = writer(http).write("t", [record(avg=("nan", "DOUBLE"))], NOW)
    assert http.requests == [] and outcome.written == 0
    assert outcome.refused[0][1] == "no field to write (every measure was null)"


MISSING = "the database 'connect_metrics' must exist before the job writes; create it"


@pytest.mark.parametrize(("status", "body", "message"), [
    (401, b'{"error": "authorization failed"}', "refused the credentials"),
    (403, b'{"error": "forbidden"}', "refused the credentials"),
    (404, b'{"error": "database not found: \\"connect_metrics\\""}', MISSING),
    (404, b'{"code": "not found", "message": "bucket \\"b\\" not found"}', MISSING),
    # InfluxDB 1.x: a missing retention policy is a 500, yet no outage
    (500, b'{"error": "retention policy not found: weekly"}', MISSING),
    (405, b'{"error": "method not allowed"}', r"failed \(405\)"),
])
def test_answers_no_retry_can_mend_fail_at_once(status, body, message):
    http = StubHttp(Response(status, body))
    with pytest.raises(InfluxDBWriteError, match=message):
        writer(http).write("t", [record()], NOW)
    assert len(http.requests) == 1


class StubSecrets:
    def __init__(self, text):
        self.text, self.calls = text, []

    def get_secret_value(self, SecretId):
        self.calls.append(SecretId)
        return {"SecretString": self.text}


ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:influx-token-AbC"


@pytest.mark.parametrize("text", ["tok-1", '{"token": "tok-1", "username": "admin"}'])
def test_the_token_comes_from_the_secret_in_its_own_region(text):
    secrets, regions = StubSecrets(text), []
    settings = InfluxDBSettings(token_secret_arn=ARN, token="ignored")
    assert read_token(settings, {}, lambda r: regions.append(r) or secrets) == "tok-1"
    assert (regions, secrets.calls) == (["eu-west-1"], [ARN])


def test_a_secret_without_a_token_is_an_error_naming_the_secret():
    with pytest.raises(InfluxDBWriteError, match="influx-token-AbC is a JSON object without"):
        read_token(InfluxDBSettings(token_secret_arn=ARN), {}, lambda r: StubSecrets("{}"))


def test_a_malformed_secret_arn_is_an_error():
    with pytest.raises(InfluxDBWriteError, match="not a Secrets Manager secret ARN"):
        read_token(InfluxDBSettings(token_secret_arn="influx-token"), {})


def test_locally_the_token_is_the_property_or_the_environment_variable():
    env = {"CONNECT_METRICS_INFLUXDB_TOKEN": "from-env"}
    assert read_token(InfluxDBSettings(token="from-property"), env) == "from-property"
    assert read_token(InfluxDBSettings(), env) == "from-env"
    assert read_token(InfluxDBSettings(), {}) == ""


@pytest.mark.parametrize(("changes", "message"), [
    ({"api": "v4"}, "use v1, v2, v3"), ({"url": "h:8086"}, "not an http"),
    ({"api": "v2"}, "org is needed"), ({"database": ""}, "must not be empty"),
])
def test_settings_that_cannot_work_are_refused(changes, message):
    with pytest.raises(ConfigError, match=message):
        InfluxDBSettings(**changes)
