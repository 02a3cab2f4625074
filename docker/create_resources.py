"""Create the Kinesis streams and the Timestream database and tables the job needs.

The one-shot `init` service of docker-compose.yml runs this against the emulators on the compose
network, with the same application_properties.json the job reads, so the names cannot drift: the
streams are the Kinesis group's, the tables the files of `Job.sql.dir` (plus the raw-event tables
when `Timestream.raw.tables` is true). Safe to run again: what exists is left alone (moto's
CreateDatabase and CreateTable would replace an existing one and drop its records).

    python docker/create_resources.py --config /etc/flink/application_properties.json
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, NamedTuple

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from connectors.raw_events import RAW_TABLES
from jobs.config import Config
from jobs.metrics import load_catalogue

WAIT_S = 120.0
POLL_S = 0.5


class Resources(NamedTuple):
    streams: tuple[str, ...]
    database: str
    tables: tuple[str, ...]


def resources(config: Config, sql_dir: Path | None = None) -> Resources:
    """What the job reads from and writes to with this configuration."""
    catalogue = load_catalogue(Path(sql_dir or config.job.sql_dir))
    tables = [metric.table for metric in catalogue]
    if config.timestream.raw_tables:
        tables += list(RAW_TABLES)
    return Resources(
        streams=(config.kinesis.agent_stream, config.kinesis.contact_stream),
        database=config.timestream.database,
        tables=tuple(tables),
    )


def create(config: Config, wanted: Resources) -> None:
    kinesis = _client("kinesis", config.kinesis.endpoint or None, config.kinesis.region)
    timestream = _client(
        "timestream-write", config.timestream.endpoint or None, config.timestream.region
    )
    _wait_until_answering("Kinesis", config.kinesis.endpoint, kinesis.list_streams)
    _wait_until_answering("Timestream", config.timestream.endpoint, timestream.list_databases)
    for stream in wanted.streams:
        try:
            kinesis.create_stream(StreamName=stream, ShardCount=1)
            print(f"created stream {stream}", flush=True)
        except ClientError as err:
            if _code(err) != "ResourceInUseException":
                raise
    for stream in wanted.streams:
        _wait_until_active(kinesis, stream)
    if not _database_exists(timestream, wanted.database):
        timestream.create_database(DatabaseName=wanted.database)
        print(f"created Timestream database {wanted.database}", flush=True)
    existing = _table_names(timestream, wanted.database)
    for table in wanted.tables:
        if table not in existing:
            timestream.create_table(DatabaseName=wanted.database, TableName=table)
            print(f"created Timestream table {wanted.database}.{table}", flush=True)


def _client(service: str, endpoint: str | None, region: str) -> Any:
    config = BotoConfig(connect_timeout=2, read_timeout=10, retries={"max_attempts": 2})
    return boto3.client(service, endpoint_url=endpoint, region_name=region, config=config)


def _wait_until_answering(name: str, endpoint: str, probe: Any) -> None:
    deadline = time.monotonic() + WAIT_S
    while True:
        try:
            probe()
            return
        except (BotoCoreError, ClientError) as err:
            if time.monotonic() > deadline:
                raise SystemExit(f"{name} did not answer at {endpoint} within {WAIT_S:.0f} s: {err}")
            time.sleep(POLL_S)


def _wait_until_active(client: Any, stream: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while True:
        summary = client.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
        if summary["StreamStatus"] == "ACTIVE":
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"stream {stream} is still {summary['StreamStatus']}")
        time.sleep(POLL_S)


def _database_exists(client: Any, database: str) -> bool:
    try:
        client.describe_database(DatabaseName=database)
    except ClientError as err:
        if _code(err) == "ResourceNotFoundException":
            return False
        raise
    return True


def _table_names(client: Any, database: str) -> set[str]:
    names: set[str] = set()
    kwargs = {"DatabaseName": database}
    while True:
        page = client.list_tables(**kwargs)
        names.update(table["TableName"] for table in page.get("Tables", []))
        if not page.get("NextToken"):
            return names
        kwargs["NextToken"] = page["NextToken"]


def _code(err: ClientError) -> str:
    return err.response.get("Error", {}).get("Code", "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=None, metavar="PATH",
                        help="application_properties.json (default: as the job finds it)")
    args = parser.parse_args(argv)
    config = Config.load(args.config)
    wanted = resources(config)
    create(config, wanted)
    print(f"ready: streams {', '.join(wanted.streams)}; "
          f"{wanted.database} tables {', '.join(wanted.tables)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
