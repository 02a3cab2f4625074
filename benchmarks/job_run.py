"""One bounded run over files, in a process of its own so that no two runs share a JVM:

    python -m benchmarks.job_run full|keyed|passthrough --parallelism P --out DIR FILE...

`full` is `connect-metrics replay` with the JSON-lines sink (the exact Timestream records);
`passthrough` reads the same files with the same source, parse step and event time (in the JVM)
and discards the events;
`keyed` adds to it what any keyed Python operator costs: events keyed by contact id or agent ARN,
one state value read and written per event, then discarded. It is the floor of a job whose
state machines run in PyFlink, whatever they do.
Before the job starts it prints `JVM <pid>`, the JVM that will run it, for a caller that times
the JVM's threads from outside (`benchmarks.throughput.run_job`), so that nothing runs in this
process beside the job's client. The last line printed is `RESULT {json}` with the seconds from
the job's submission to its end, and the CPU seconds this process and the JVM under it spent
meanwhile.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from pyflink.common.typeinfo import Types
from pyflink.datastream import DataStream, KeyedProcessFunction, StreamExecutionEnvironment
from pyflink.datastream.connectors import Sink
from pyflink.java_gateway import get_gateway

from connectors.settings import TimestreamSettings
from jobs.config import DEFAULT_PYTHON_MODE, PYTHON_EXECUTION_MODES, Config, JobSettings
from jobs.main import use_local_credentials
from jobs.operators import held_state
from jobs.pipeline import (
    DEAD_LETTERS, build_job, event_streams, parse, use_python_mode,
)
from benchmarks.machine import command_of, descendants, tree_cpu_seconds
from cli.prerequisites import free_ports
from cli.replay import replay

RESULT = "RESULT "
JVM = "JVM "
SINK_FILE = "timestream.jsonl"
# Where a local run's Python workers live, named for PyFlink's own (environment) setting:
# `per-slot` is one worker process per task slot, as a cluster and Managed Service for Apache
# Flink run them; `loopback`, PyFlink's local default, runs every slot's Python as threads of the
# submitting process, under one interpreter lock, so a second slot adds no Python core.
PYTHON_WORKERS = {"per-slot": "process", "loopback": "loopback"}
DEFAULT_PYTHON_WORKERS = "per-slot"


def bench_config(out: Path, parallelism: int, python_mode: str = DEFAULT_PYTHON_MODE) -> Config:
    """The replay configuration with everything written under `out`. The simulated day lies
    in the past, so magnetic-store writes are on: the records are the same, only Timestream's
    memory-store age check would refuse them."""
    return Config(
        timestream=TimestreamSettings(target=f"jsonl:{out / SINK_FILE}", magnetic_writes=True),
        job=JobSettings(parallelism=parallelism, checkpoint_dir=str(out / "checkpoints"),
                        python_execution_mode=python_mode,
                        dead_letter=f"jsonl:{out / 'dead-letters.jsonl'}"),
    )


def build_passthrough(env: StreamExecutionEnvironment, config: Config,
                      raw: list[DataStream], span: tuple[int, int] | None = None,
                      counts: str | None = None, keyed: bool = False) -> None:
    """Source and parse as the job has them, every parsed event (both feeds) discarded; with
    `keyed`, after a keyed operator that reads and writes one state value per event. Nothing
    is written or dead-lettered, so nothing is counted in `counts`."""
    use_python_mode(env, config)
    parsed = parse(raw, config, span)
    contacts, agents = event_streams(parsed, config)
    discard = Sink(get_gateway().jvm.org.apache.flink.streaming.api.functions.sink.v2
                   .DiscardingSink())
    if keyed:
        counted = [feed.keyed.process(CountPerKey(), output_type=Types.LONG())
                   .name("count per key") for feed in (contacts, agents)]
        events = counted[0].union(counted[1])
    else:
        events = contacts.events.union(agents.events)
    events.sink_to(discard).name("discard")
    parsed.get_side_output(DEAD_LETTERS).sink_to(discard).name("discard dead letters")


def build_keyed(env: StreamExecutionEnvironment, config: Config, raw: list[DataStream],
                span: tuple[int, int] | None = None, counts: str | None = None) -> None:
    build_passthrough(env, config, raw, span, counts, keyed=True)


class CountPerKey(KeyedProcessFunction):
    """One state value read and written per event, stored as the job's operators store theirs."""

    def open(self, runtime_context):
        self._count = runtime_context.get_state(held_state("count"))

    def process_element(self, value, ctx):
        count = (self._count.value() or 0) + 1
        self._count.update(count)
        yield count


BUILDS = {"full": build_job, "keyed": build_keyed, "passthrough": build_passthrough}


def use_python_workers(workers: str) -> None:
    """`PYTHON_WORKERS[workers]` for every environment this process creates after this."""
    os.environ["_python_worker_execution_mode"] = PYTHON_WORKERS[workers]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.job_run")
    parser.add_argument("mode", choices=tuple(BUILDS))
    parser.add_argument("--parallelism", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--python-mode", choices=PYTHON_EXECUTION_MODES,
                        default=DEFAULT_PYTHON_MODE)
    parser.add_argument("--python-workers", choices=tuple(PYTHON_WORKERS),
                        default=DEFAULT_PYTHON_WORKERS)
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args(argv)
    use_python_workers(args.python_workers)
    args.out.mkdir(parents=True, exist_ok=True)
    config = bench_config(args.out.resolve(), args.parallelism, args.python_mode)
    use_local_credentials(config)
    build = BUILDS[args.mode]
    get_gateway()  # the JVM, started before the CPU count begins
    jvm = next((pid for pid in descendants(os.getpid()) if command_of(pid) == "java"), None)
    if jvm is not None:
        print(f"{JVM}{jvm}", flush=True)
    cpu_before = tree_cpu_seconds(os.getpid())
    seconds = replay(config, args.files, rest_port=free_ports(1)[0], build=build).elapsed_s
    cpu_after = tree_cpu_seconds(os.getpid())
    cpu = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
    print(RESULT + json.dumps({"mode": args.mode, "parallelism": args.parallelism,
                               "seconds": seconds, "cpu_seconds": cpu}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
