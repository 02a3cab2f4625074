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
from typing import NamedTuple

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from jobs.config import Config
from cli.local_stack import Stream, create_streams, create_timestream_tables
from jobs.metrics import timestream_tables

WAIT_S = 120.0
POLL_S = 0.5


class Resources(NamedTuple):
    streams: tuple[str, ...]
    database: str
    tables: tuple[str, ...]


def resources(config: Config, sql_dir: Path | None = None) -> Resources:
    """What the job reads from and writes to with this configuration."""
    return Resources(
        streams=(config.kinesis.agent_stream, config.kinesis.contact_stream),
        database=config.timestream.database,
        tables=tuple(timestream_tables(
            Path(sql_dir or config.job.sql_dir), config.timestream.raw_tables
        )),
    )


def create(config: Config, wanted: Resources) -> None:
    """Wait for both emulators, then create what is missing (the local stack's own steps)."""
    kinesis, timestream = config.kinesis, config.timestream
    _wait_until_answering("Kinesis", kinesis.endpoint, kinesis.region, "kinesis", "list_streams")
    _wait_until_answering("Timestream", timestream.endpoint, timestream.region,
                          "timestream-write", "list_databases")
    create_streams(kinesis.endpoint, kinesis.region, [Stream(s) for s in wanted.streams],
                   "see the kinesis service's log")
    create_timestream_tables(timestream.endpoint, timestream.region, wanted.database,
                             wanted.tables)


def _wait_until_answering(name: str, endpoint: str, region: str, service: str,
                          probe: str) -> None:
    config = BotoConfig(connect_timeout=2, read_timeout=10, retries={"max_attempts": 2})
    client = boto3.client(service, endpoint_url=endpoint or None, region_name=region,
                          config=config)
    deadline = time.monotonic() + WAIT_S
    while True:
        try:
            getattr(client, probe)()
            return
        except (BotoCoreError, ClientError) as err:
            if time.monotonic() > deadline:
                raise SystemExit(f"{name} did not answer at {endpoint} within {WAIT_S:.0f} s: {err}")
            time.sleep(POLL_S)


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
