"""`make bench` / `python -m benchmarks`: throughput, write cost, state, start-up, latency and a
profile of the hot path, measured in one run and written to `benchmarks/results.md`.

Every parameter has an environment variable too (`BENCH_RECORDS=50000` for a quick run).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from benchmarks import data as bench_data
from benchmarks import (
    live, machine, parse_throughput, profile, python_alone, state, throughput, write_cost,
)
from benchmarks.job_run import DEFAULT_PYTHON_WORKERS, PYTHON_WORKERS
from benchmarks.report import Measurement, markdown_table
from jobs.config import DEFAULT_PYTHON_MODE, PROJECT_ROOT, PYTHON_EXECUTION_MODES

PARTS = ("parse", "throughput", "write-cost", "scaling", "state", "live", "profile")
RESULTS = PROJECT_ROOT / "benchmarks" / "results.md"
RUNS_DIR = PROJECT_ROOT / ".local" / "bench" / "runs"
FRESH_SETTINGS = "allowed.lateness.ms=1000,gauge.period.ms=1000"
"""Settings that trade tolerance of disorder and write cost for freshness."""


def _env(name: str, default: str) -> str:
    return os.environ.get(f"BENCH_{name}", default)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--records", type=int, default=int(_env("RECORDS", "100000")),
                   help="records replayed in the throughput runs (BENCH_RECORDS, 100000)")
    p.add_argument("--parallelism", default=_env("PARALLELISM", "1,2"),
                   help="parallelisms of the throughput runs (BENCH_PARALLELISM, 1,2)")
    p.add_argument("--parts", default=_env("PARTS", ",".join(PARTS)),
                   help=f"what to measure, some of {','.join(PARTS)} (BENCH_PARTS, all); "
                   "write-cost needs throughput")
    p.add_argument("--python-mode", default=_env("PYTHON_MODE", DEFAULT_PYTHON_MODE),
                   choices=PYTHON_EXECUTION_MODES,
                   help="Job.python.execution.mode of the throughput runs (BENCH_PYTHON_MODE, "
                   f"{DEFAULT_PYTHON_MODE}, the job's default)")
    p.add_argument("--python-workers", default=_env("PYTHON_WORKERS", DEFAULT_PYTHON_WORKERS),
                   choices=tuple(PYTHON_WORKERS),
                   help="the throughput and profile runs' Python workers: a process per task "
                   "slot as on a cluster, or PyFlink's local loopback, threads of one process "
                   "(BENCH_PYTHON_WORKERS, per-slot)")
    p.add_argument("--no-fixed-cost", action="store_true",
                   help="skip the one-record runs that measure start-up and shut-down")
    p.add_argument("--state-agents", type=int, default=int(_env("STATE_AGENTS", "100")),
                   help="agents of the simulated 24 h day (BENCH_STATE_AGENTS, 100)")
    p.add_argument("--latency-rate", type=float, default=float(_env("LATENCY_RATE", "150")),
                   help="events/s put into Kinesis (BENCH_LATENCY_RATE, 150)")
    p.add_argument("--latency-seconds", type=float,
                   default=float(_env("LATENCY_SECONDS", "180")),
                   help="measured seconds of putting, after the warm-up: interval rows come in "
                   "one burst per interval end, so each end is one sample of their latency "
                   "(BENCH_LATENCY_SECONDS, 180: three ends of the default 1-minute intervals)")
    p.add_argument("--latency-warmup", type=float, default=float(_env("LATENCY_WARMUP", "60")),
                   help="seconds of putting before measuring (BENCH_LATENCY_WARMUP, 60)")
    p.add_argument("--latency-settings",
                   default=_env("LATENCY_SETTINGS", FRESH_SETTINGS),
                   help="Job properties of a second start-up and latency run after the one "
                   "with the defaults, key=value,...; empty for none (BENCH_LATENCY_SETTINGS, "
                   f"{FRESH_SETTINGS})")
    p.add_argument("--profile-records", type=int,
                   default=int(_env("PROFILE_RECORDS", "20000")),
                   help="records of the profiled run (BENCH_PROFILE_RECORDS, 20000)")
    p.add_argument("--out", type=Path, default=Path(_env("OUT", str(RESULTS))),
                   help="the results file (BENCH_OUT, benchmarks/results.md)")
    return p


def _commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=PROJECT_ROOT, capture_output=True,
                              text=True).stdout.strip()
    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return head + (" with uncommitted changes" if git("status", "--porcelain") else "")


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = set(parts) - set(PARTS)
    if unknown or ("write-cost" in parts and "throughput" not in parts):
        _parser().error(f"--parts: some of {','.join(PARTS)}; write-cost needs throughput")
    parallelisms = [int(p) for p in args.parallelism.split(",")]
    try:
        latency_settings = live.parse_settings(args.latency_settings)
    except ValueError as err:
        _parser().error(str(err))
    args.out.parent.mkdir(parents=True, exist_ok=True)  # not found only after every part ran
    run_dir = RUNS_DIR / datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    described = machine.describe()
    measurements: list[Measurement] = []
    details: list[tuple[str, str]] = []
    started = time.monotonic()
    data = None
    if {"throughput", "profile"} & set(parts):
        spec = bench_data.DataSpec(records=args.records, shards=tuple(sorted(set(parallelisms))))
        _say(f"bench: simulator files for {args.records:,} records ({spec.instances} instances "
             f"of {spec.agents} agents), cached in {bench_data.CACHE_DIR}")
        data = bench_data.dataset(spec)
    for part in parts:
        _say(f"bench: {part} ({time.monotonic() - started:.0f} s so far)")
        try:
            _measure(part, args, parts, parallelisms, data, run_dir, measurements, details,
                     latency_settings)
        except Exception as err:  # one part failing must not lose the others' numbers
            _say(f"bench: {part} failed: {err!r}")
            measurements.append(Measurement(part, "this part", None, "",
                                            note=f"failed: {type(err).__name__}: {err}"))
    text = results_text(described, args, data, measurements, details, _commit(),
                        time.monotonic() - started)
    args.out.write_text(text)
    _say(f"bench: wrote {args.out} ({time.monotonic() - started:.0f} s); runs in {run_dir}")
    print(markdown_table(measurements))
    return 0


def _measure(part, args, parts, parallelisms, data, run_dir, measurements, details,
             latency_settings) -> None:
    """Run one part, adding its rows to `measurements` and its tables to `details`."""
    if part == "parse":
        rows = parse_throughput.run()
        measurements += [Measurement("parse", r["benchmark"], r["events_per_s"],
                                     "events/s", note="one core, CPU time")
                         for r in rows if "parse " in r["benchmark"]]
    elif part == "throughput":
        runs, found = throughput.measure(data, parallelisms, run_dir / "throughput",
                                         fixed_cost=not args.no_fixed_cost,
                                         python_mode=args.python_mode,
                                         python_workers=args.python_workers)
        measurements += found
        full = next((run.rate for run in runs if run.mode == "full" and run.parallelism == 1),
                    None)
        _say("bench: the job's Python alone, one thread")
        measurements += python_alone.measure(data.files(min(parallelisms)), full)
        if "write-cost" in parts:
            sink = next(r.sink for r in runs if r.mode == "full" and r.parallelism ==
                        min(parallelisms))
            found, table = write_cost.measure(data, sink)
            measurements += found
            details.append(("Write cost by table", table))
    elif part == "scaling":
        _say(f"bench: one-instance files for {args.records:,} records, cached in "
             f"{bench_data.CACHE_DIR}")
        one = bench_data.dataset(bench_data.DataSpec.one_instance(args.records))
        measurements += throughput.measure_scaling(one, run_dir / "scaling", args.python_mode,
                                                   args.python_workers)
    elif part == "state":
        found, table = state.measure(args.state_agents, queues=4, rate=20.0)
        measurements += found
        details.append(("State over the simulated day", table))
    elif part == "live":
        runs = [{}, latency_settings] if latency_settings else [{}]
        for n, settings in enumerate(runs):
            if n:
                _say(f"bench: live again with {live.settings_label(settings)}")
            measurements += live.measure(run_dir / f"live{n or ''}", args.latency_rate,
                                         args.latency_seconds, args.latency_warmup, settings)
    elif part == "profile":
        found, table = profile.measure(data.files(1)[0], args.profile_records,
                                       run_dir / "profile", args.python_workers,
                                       args.python_mode)
        measurements += found
        details.append(("Profile of the full job", table))


def results_text(described, args, data, measurements, details, commit: str,
                 seconds: float) -> str:
    lines = ["# Benchmark results", "",
             f"Written by `make bench` (`python -m benchmarks`) at commit {commit}, in "
             f"{seconds / 60:.0f} min. Targets are the project's goals; see "
             "`benchmarks/README.md` for how each number is taken.", "",
             "## Machine", "", "| | |", "|---|---|"]
    lines += [f"| {item} | {value} |" for item, value in described]
    lines += ["", "## Parameters", ""]
    fresh = f" and with {args.latency_settings}" if args.latency_settings else ""
    if data is not None:
        hours = data.simulated_ms / 3_600_000
        lines.append(f"- replayed files: {data.records:,} records ({data.agent_records:,} agent "
                     f"events, {data.contact_records:,} contact events) of {data.agents:,} "
                     f"agents over {hours:.2f} simulated hours ({data.spec.instances} instances "
                     f"of {data.spec.agents} agents, {data.spec.queues} queues, "
                     f"{data.spec.rate:g} contacts a minute each), seed {data.spec.seed}")
    lines.append(f"- parts: {args.parts}; parallelism {args.parallelism} in Python "
                 f"{args.python_mode} mode, Python workers {args.python_workers}; state day of "
                 f"{args.state_agents} agents; latency at "
                 f"{args.latency_rate:g} events/s for {args.latency_seconds:g} s after "
                 f"{args.latency_warmup:g} s, with the defaults{fresh}; profile over "
                 f"{args.profile_records:,} records")
    lines += ["", "## Results", "", markdown_table(measurements).rstrip()]
    for title, text in details:
        lines += ["", f"## {title}", "", text.rstrip()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
