"""The sink target named on the command line or in `Timestream.target`, checked before the job
starts so that a typo is an error message, not a failure inside a Python worker."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlsplit

from connectors.settings import ACCEPTED_FORMS
from connectors.settings import ConfigError
from jobs.config import Config


def with_sink(config: Config, target: str) -> Config:
    """`config` writing to `target`; `influxdb:URL/DATABASE` also sets InfluxDB.url and .database."""
    target = target.strip()
    if target.startswith("influxdb:"):
        url, database = _influxdb_url(target[len("influxdb:"):], target)
        influxdb = replace(config.influxdb, url=url, database=database)
        return replace(config, influxdb=influxdb,
                       timestream=replace(config.timestream, target="influxdb"))
    checked = replace(config, timestream=replace(config.timestream, target=target))
    check_sink(checked)
    return checked


def check_sink(config: Config) -> None:
    """Refuse a `Timestream.target` the sink does not know, naming the forms it accepts."""
    target = config.timestream.target
    if target in ("timestream", "influxdb"):
        return
    if target.startswith("jsonl:") and target[len("jsonl:"):].strip():
        return
    raise ConfigError(f"sink target {target!r} is not one of: {ACCEPTED_FORMS}")


def _influxdb_url(text: str, target: str) -> tuple[str, str]:
    parts = urlsplit(text)
    database = parts.path.rstrip("/").rpartition("/")[2]
    prefix = parts.path.rstrip("/").rpartition("/")[0]
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme not in ("http", "https") or not parts.hostname or not database \
            or port is None or parts.query or parts.fragment:
        raise ConfigError(
            f"sink target {target!r}: expected influxdb:http://HOST:PORT/DATABASE (or https://); "
            f"accepted sink targets: {ACCEPTED_FORMS}"
        )
    return f"{parts.scheme}://{parts.netloc}{prefix}", database
