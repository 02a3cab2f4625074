"""One bounded run over files, in a process of its own so that no two runs share a JVM:

    python -m benchmarks.job_run full|passthrough --parallelism P --out DIR FILE...

`full` is `connect-metrics replay` with the JSON-lines sink (the exact Timestream records);
`passthrough` reads the same files with the same source and parse step and discards the events.
The last line printed is `RESULT {json}` with the seconds from the job's submission to its end.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pyflink.common.typeinfo import Types
from pyflink.datastream import DataStream, StreamExecutionEnvironment
from pyflink.datastream.connectors import Sink
from pyflink.java_gateway import get_gateway

from jobs.config import Config, JobSettings, TimestreamSettings
from jobs.events import ParseOptions
from jobs.main import use_local_credentials
from jobs.pipeline import AGENT_EVENTS, DEAD_LETTERS, ParseRecords, build_job
from jobs.prerequisites import free_ports
from jobs.replay import replay

RESULT = "RESULT "
SINK_FILE = "timestream.jsonl"


def bench_config(out: Path, parallelism: int) -> Config:
    """The replay configuration with everything written under `out`. The simulated day lies
    in the past, so magnetic-store writes are on: the records are the same, only Timestream's
    memory-store age check would refuse them."""
    return Config(
        timestream=TimestreamSettings(target=f"jsonl:{out / SINK_FILE}", magnetic_writes=True),
        job=JobSettings(parallelism=parallelism, checkpoint_dir=str(out / "checkpoints"),
                        dead_letter=f"jsonl:{out / 'dead-letters.jsonl'}"),
    )


def build_passthrough(env: StreamExecutionEnvironment, config: Config,
                      raw: list[DataStream]) -> None:
    """Source and parse as the job has them, every parsed event (both feeds) discarded."""
    combined = raw[0].union(*raw[1:]) if len(raw) > 1 else raw[0]
    options = ParseOptions(keep_agent_names=config.job.keep_agent_names,
                           keep_usernames=config.job.keep_usernames)
    parsed = combined.process(ParseRecords(options), output_type=Types.PICKLED_BYTE_ARRAY())
    discard = Sink(get_gateway().jvm.org.apache.flink.streaming.api.functions.sink.v2
                   .DiscardingSink())
    parsed.union(parsed.get_side_output(AGENT_EVENTS)).sink_to(discard).name("discard")
    parsed.get_side_output(DEAD_LETTERS).sink_to(discard).name("discard dead letters")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.job_run")
    parser.add_argument("mode", choices=("full", "passthrough"))
    parser.add_argument("--parallelism", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    config = bench_config(args.out.resolve(), args.parallelism)
    use_local_credentials(config)
    build = build_job if args.mode == "full" else build_passthrough
    seconds = replay(config, args.files, rest_port=free_ports(1)[0], build=build)
    print(RESULT + json.dumps({"mode": args.mode, "parallelism": args.parallelism,
                               "seconds": seconds}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
