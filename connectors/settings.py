"""Where the connectors read and write: Kinesis streams, Timestream, InfluxDB.

The job's configuration (`jobs.config`) holds one of each, read from the property groups of the
same names; the connectors need nothing else of it.
"""

from __future__ import annotations

from dataclasses import dataclass

ACCEPTED_FORMS = (
    "timestream (Timestream for LiveAnalytics at Timestream.endpoint), "
    "jsonl:PATH (the exact records, one JSON object per line), "
    "influxdb (Timestream for InfluxDB or any InfluxDB, from the InfluxDB property group), "
    "influxdb:http://HOST:PORT/DATABASE (that server and database)"
)
"""The forms of `Timestream.target` (and of `--sink`)."""


class ConfigError(ValueError):
    """A configuration value or file that cannot be used; the message names it and the fix."""


@dataclass(frozen=True)
class KinesisSettings:
    region: str = "us-east-1"
    endpoint: str = "http://127.0.0.1:4568"
    agent_stream: str = "agent-events"
    contact_stream: str = "contact-events"
    initial_position: str = "TRIM_HORIZON"
    poll_interval_ms: int = 250
    shard_discovery_interval_ms: int = 10_000
    idle_clock_ms: int = 250


@dataclass(frozen=True)
class TimestreamSettings:
    region: str = "us-east-1"
    endpoint: str = "http://127.0.0.1:4570"
    database: str = "connect_metrics"
    target: str = "timestream"
    batch_size: int = 100
    flush_interval_ms: int = 100
    max_retry_seconds: int = 300
    memory_retention_hours: int = 6
    magnetic_writes: bool = False
    raw_tables: bool = False


INFLUXDB_APIS = ("v1", "v2", "v3")
"""The write API: v1 `/write` (InfluxDB 1.x, and 2.x/3 through their v1 compatibility), v2
`/api/v2/write` (InfluxDB 2.x, Timestream for InfluxDB 2), v3 `/api/v3/write_lp` (InfluxDB 3)."""


@dataclass(frozen=True)
class InfluxDBSettings:
    """Where `Timestream.target` `influxdb` writes. `database` is the v1/v3 database or the v2
    bucket. The token comes from `token.secret.arn` (AWS Secrets Manager) when set, else from
    `token`, else from the CONNECT_METRICS_INFLUXDB_TOKEN environment variable; a server
    without authentication needs none."""

    url: str = "http://127.0.0.1:8086"
    api: str = "v1"
    database: str = "connect_metrics"
    org: str = ""
    token: str = ""
    token_secret_arn: str = ""
    batch_lines: int = 5_000

    def __post_init__(self) -> None:
        if self.api not in INFLUXDB_APIS:
            raise ConfigError(f"api: {self.api!r}; use " + ", ".join(INFLUXDB_APIS))
        if not self.url.startswith(("http://", "https://")):
            raise ConfigError(f"url: {self.url!r} is not an http:// or https:// URL")
        if not self.database:
            raise ConfigError("database must not be empty (the database, or the v2 bucket)")
        if self.api == "v2" and not self.org:
            raise ConfigError("org is needed with api v2 (the organization of the bucket)")
        if self.batch_lines <= 0:
            raise ConfigError("batch.lines must be positive")
