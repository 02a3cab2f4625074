"""Print every metric row as it lands in the Timestream emulator, as `make demo` does.

    python docker/print_metrics.py --config /etc/flink/application_properties.json
"""

from __future__ import annotations

import argparse
import sys
import time
import urllib.error
from pathlib import Path

from jobs.config import Config
from jobs.landed import landed_records

POLL_S = 1.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=None, metavar="PATH",
                        help="application_properties.json (default: as the job finds it)")
    args = parser.parse_args(argv)
    config = Config.load(args.config)
    endpoint, database = config.timestream.endpoint, config.timestream.database
    print(f"waiting for metric rows in {database} at {endpoint} "
          "(the job needs about 20 s to start)...", flush=True)
    seen = 0
    while True:
        try:
            records = landed_records(endpoint, database)
        except (urllib.error.URLError, OSError) as err:
            print(f"Timestream emulator not answering: {err}", file=sys.stderr, flush=True)
            records = []
        for record in records[seen:]:
            print(record.describe(), flush=True)
        seen = max(seen, len(records))
        time.sleep(POLL_S)


if __name__ == "__main__":
    sys.exit(main())
