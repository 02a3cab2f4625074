"""Metric records as InfluxDB points, written as line protocol over HTTP.

No Flink import. The sink operator keeps the same pending records as for Timestream (one
multi-measure record per metric row, see `connectors.timestream.to_record`) and hands them to
`InfluxDBWriter.write`, which turns each into a point: the metric table is the measurement, the
dimensions are tags, the measures are fields with their types, the record time the point time.

Versions: InfluxDB keeps one value per measurement, tag set, time and field, the last written.
A corrected row has the same tags and time as the row it corrects and is written after it (one
sink subtask per table keeps the order), so it replaces it as a higher Timestream version does;
within one flush only the highest version of a point is sent. The version itself is not stored.
A measure that becomes null in the correction keeps its earlier value, since line protocol cannot
delete a field.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

from influxdb_client import Point, WritePrecision

from connectors.retry import BoundedRetry
from connectors.timestream import WriteOutcome
from connectors.settings import InfluxDBSettings

TOKEN_ENVIRONMENT_VARIABLE = "CONNECT_METRICS_INFLUXDB_TOKEN"
_REFUSED = {400, 413, 422}  # the server will not take these lines however often they are sent
_RETRYABLE = {408, 429}  # and every 5xx but a missing database or retention policy
_MISSING_DATABASE = ("database not found", "retention policy not found", "bucket not found")
_MAX_REASON_CHARS = 500


class InfluxDBWriteError(RuntimeError):
    """A write that cannot succeed by retrying; the job fails rather than drop data."""


class InfluxDBQueryError(RuntimeError):
    """An InfluxQL statement the server could not answer; the message names it and why."""


def to_line(table: str, record: dict) -> str:
    """The record as one line of line protocol (empty when it has no field to write)."""
    point = Point(table)
    for dimension in record.get("Dimensions", []):
        point.tag(dimension["Name"], dimension["Value"])
    for measure in record.get("MeasureValues", []):
        point.field(measure["Name"], _field_value(measure))
    point.time(int(record["Time"]), WritePrecision.MS)
    return point.to_line_protocol()


def _field_value(measure: dict) -> object:
    kind, text = measure["Type"], measure["Value"]
    if kind in ("BIGINT", "TIMESTAMP"):  # a TIMESTAMP measure is epoch milliseconds
        return int(text)
    if kind == "DOUBLE":
        return float(text)
    if kind == "BOOLEAN":
        return text == "true"
    return text


def newest_versions(records: Iterable[dict]) -> list[dict]:
    """One record per tag set and time: the highest version, the later one of equal versions."""
    kept: dict[tuple, dict] = {}
    for record in records:
        key = (tuple(sorted((d["Name"], d["Value"]) for d in record.get("Dimensions", []))),
               record["Time"])
        if key not in kept or record.get("Version", 0) >= kept[key].get("Version", 0):
            kept.pop(key, None)
            kept[key] = record
    return list(kept.values())


@dataclass(frozen=True)
class WriteEndpoint:
    """The HTTP request of a write: URL, query parameters and headers."""

    url: str
    params: dict[str, str]
    headers: dict[str, str]

    @classmethod
    def of(cls, settings: InfluxDBSettings, token: str) -> "WriteEndpoint":
        base = settings.url.rstrip("/")
        headers = {"Content-Type": "text/plain; charset=utf-8"}
        if settings.api == "v1":
            url, params = f"{base}/write", {"db": settings.database, "precision": "ms"}
        elif settings.api == "v2":
            url = f"{base}/api/v2/write"
            params = {"org": settings.org, "bucket": settings.database, "precision": "ms"}
        else:
            url, params = f"{base}/api/v3/write_lp", {"db": settings.database,
                                                      "precision": "millisecond"}
        if token:
            headers["Authorization"] = f"{'Bearer' if settings.api == 'v3' else 'Token'} {token}"
        return cls(url, params, headers)

    @property
    def database(self) -> str:
        """The database (v1, v3) or bucket (v2; DATABASE/RETENTION_POLICY on InfluxDB 1.8)."""
        return self.params.get("bucket") or self.params["db"]

    @property
    def address(self) -> str:
        return f"{self.url}?{urlencode(self.params)}"

    def describe(self) -> str:
        return f"{self.url} ({', '.join(f'{k}={v}' for k, v in self.params.items())})"


class InfluxDBWriter:
    """Writes points in requests of at most `batch_lines`; retries what may succeed later.

    429, 408, 5xx and network errors back off with jitter until `max_retry_s` has passed, then
    the write fails loudly (the job restarts from its last checkpoint, which still holds the
    pending records). Lines the server refuses (400 parse errors and type conflicts, 413, 422)
    are halved until each refused line is alone, then returned with the server's reason;
    sending a line again that the server already took changes nothing (same point, same value).
    Authentication answers and a missing database, bucket or retention policy (404, or the
    500 InfluxDB 1.x gives for a retention policy) fail at once: no retry can mend them.
    """

    def __init__(
        self,
        endpoint: WriteEndpoint,
        batch_lines: int = 5_000,
        max_retry_s: float = 300.0,
        post: Callable[[str, bytes, dict[str, str]], tuple[int, bytes]] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._endpoint = endpoint
        self._batch_lines = batch_lines
        self._post_http = post or http_post
        self._retry = BoundedRetry(max_retry_s, sleep=sleep, clock=clock)

    def write(self, table: str, records: Iterable[dict], now_ms: int) -> WriteOutcome:
        outcome = WriteOutcome()
        records = list(records)
        newest = newest_versions(records)
        outcome.superseded = len(records) - len(newest)
        lines = []
        for record in newest:
            line = to_line(table, record)
            if line:
                lines.append((record, line))
            else:
                outcome.refused.append((record, "no field to write (every measure was null)"))
        for start in range(0, len(lines), self._batch_lines):
            self._write_lines(table, lines[start : start + self._batch_lines], outcome)
        return outcome

    def _write_lines(self, table: str, lines: list[tuple[dict, str]], outcome: WriteOutcome):
        status, reason = self._post(table, "\n".join(line for _, line in lines), outcome)
        if status not in _REFUSED:
            outcome.written += len(lines)
            return
        if len(lines) == 1:
            outcome.rejected += 1
            outcome.refused.append((lines[0][0], f"refused by InfluxDB ({status}): {reason}"))
            return
        middle = len(lines) // 2
        self._write_lines(table, lines[:middle], outcome)
        self._write_lines(table, lines[middle:], outcome)

    def _post(self, table: str, body: str, outcome: WriteOutcome) -> tuple[int, str]:
        """The status and reason of a write the server answered for good (2xx or refused)."""
        where = self._endpoint.describe()
        attempts = self._retry.attempts()
        count = body.count("\n") + 1
        while True:
            attempts.begin()
            outcome.calls += 1
            try:
                status, data = self._post_http(self._endpoint.address, body.encode(),
                                               self._endpoint.headers)
            # refused, reset, timed out, name not resolved, answer cut short
            except (OSError, http.client.HTTPException) as err:
                problem = f"InfluxDB unreachable at {where} ({err})"
            else:
                reason = _reason(data)
                if 200 <= status < 300 or status in _REFUSED:
                    return status, reason
                if status in (401, 403):
                    raise InfluxDBWriteError(
                        f"InfluxDB at {where} refused the credentials ({status}: {reason}); set "
                        "InfluxDB.token.secret.arn (or InfluxDB.token, or "
                        f"{TOKEN_ENVIRONMENT_VARIABLE} locally) to a token that may write there"
                    )
                if status == 404 or _names_a_missing_database(reason):
                    raise InfluxDBWriteError(
                        f"InfluxDB at {where} answered {status} ({reason}): the database "
                        f"{self._endpoint.database!r} must exist before the job writes; create "
                        "it (InfluxQL CREATE DATABASE or CREATE RETENTION POLICY, `influx bucket "
                        "create` on InfluxDB 2; locally `connect-metrics dev up` creates it) or "
                        "fix InfluxDB.url, InfluxDB.api and InfluxDB.database"
                    )
                if status not in _RETRYABLE and status < 500:
                    raise InfluxDBWriteError(f"writing to {where} failed ({status}): {reason}")
                problem = f"InfluxDB {status} ({reason})"
            attempts.failed(f"{problem} on {table}", f"{count} points for {table}",
                            InfluxDBWriteError)
            outcome.retries += 1


def _names_a_missing_database(reason: str) -> bool:
    """InfluxDB 1.x answers a write to a missing retention policy with a 500 (a missing
    database with a 404): that is no outage, so it is not retried."""
    return any(words in reason.lower() for words in _MISSING_DATABASE)


def http_post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    """POST `body`; the status and body of any answer, an `OSError` when there is none."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def _reason(data: bytes) -> str:
    """The server's message: the `error` of a JSON answer (v1, v2) or the body as it is (v3)."""
    text = data.decode("utf-8", "replace").strip()
    try:
        answer = json.loads(text)
    except ValueError:
        return text[:_MAX_REASON_CHARS]
    if isinstance(answer, dict):
        message = answer.get("error") or answer.get("message")
        if isinstance(message, str) and not answer.get("data"):
            return message[:_MAX_REASON_CHARS]
    return text[:_MAX_REASON_CHARS]


def read_token(settings: InfluxDBSettings, environ: dict[str, str],
               secrets_client: Callable[[str], object] | None = None) -> str:
    """The write token: from Secrets Manager (`token.secret.arn`; the secret string is the token
    or a JSON object with a `token` key), else `token`, else the environment variable."""
    if settings.token_secret_arn:
        region = _arn_region(settings.token_secret_arn)
        if secrets_client is None:
            import boto3

            secrets_client = lambda r: boto3.client("secretsmanager", region_name=r)  # noqa: E731
        secret = secrets_client(region).get_secret_value(SecretId=settings.token_secret_arn)
        text = secret["SecretString"].strip()
        if text.startswith("{"):
            token = json.loads(text).get("token")
            if not isinstance(token, str) or not token:
                raise InfluxDBWriteError(
                    f"secret {settings.token_secret_arn} is a JSON object without a `token` "
                    "string; store the token itself or {\"token\": \"...\"}"
                )
            return token
        return text
    return settings.token or environ.get(TOKEN_ENVIRONMENT_VARIABLE, "")


def _arn_region(arn: str) -> str:
    parts = arn.split(":")
    if len(parts) < 7 or parts[2] != "secretsmanager" or not parts[3]:
        raise InfluxDBWriteError(
            f"InfluxDB.token.secret.arn {arn!r} is not a Secrets Manager secret ARN "
            "(arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)"
        )
    return parts[3]


def influxql(url: str, statement: str, database: str | None = None, token: str = "",
             method: str = "GET") -> dict:
    """An InfluxQL statement against `/query` (InfluxDB 1.x, 2.x's v1 API, 3): the JSON answer,
    times in epoch milliseconds. Statements that change the server need `method` POST."""
    params = {"q": statement, "epoch": "ms", **({"db": database} if database else {})}
    headers = {"Authorization": f"Token {token}"} if token else {}
    address = f"{url.rstrip('/')}/query"
    if method == "POST":
        request = urllib.request.Request(
            address, data=urlencode(params).encode(), method="POST",
            headers={**headers, "Content-Type": "application/x-www-form-urlencoded"})
    else:
        request = urllib.request.Request(f"{address}?{urlencode(params)}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.loads(response.read())
    except urllib.error.HTTPError as err:
        raise InfluxDBQueryError(
            f"InfluxQL {statement!r} at {url}: {err.code} {_reason(err.read())}") from None
    except (OSError, http.client.HTTPException, ValueError) as err:
        raise InfluxDBQueryError(f"InfluxQL {statement!r} at {url}: {err}") from None
    for result in answer.get("results", []):
        if "error" in result:
            raise InfluxDBQueryError(f"InfluxQL {statement!r} at {url}: {result['error']}")
    return answer


def quoted_identifier(name: str) -> str:
    """A measurement, tag or field name as an InfluxQL identifier."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
