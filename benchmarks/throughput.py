"""Throughput: the full job against the pass-through job (same files, source and parse) and the
keyed floor (pass-through plus one keyed state value per event), each at every parallelism,
each run in a fresh process.

Events per second are records divided by the seconds from the job's submission to its end
(MiniCluster and Python worker start-up included, JVM launch not). Start-up and shut-down cost
the same whatever the input, so each job is also run over a one-record file and that fixed
cost is reported next to the rate, with the rate net of it.

Scaling: the full job over a single-instance centre at parallelism 1 and 2. The realtime gauges
of one instance are one key, so this shows what a second slot gives a one-instance centre.

Each run also reports the cores it kept busy (CPU seconds of the job's processes over its
seconds): parallelism 2 can be no faster than the machine's cores over those of parallelism 1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from benchmarks.data import Dataset
from benchmarks.job_run import DEFAULT_PYTHON_WORKERS, JVM, RESULT, SINK_FILE
from benchmarks.machine import ThreadTimes, load_average
from benchmarks.report import Measurement, Target
from jobs.config import DEFAULT_PYTHON_MODE, PROJECT_ROOT

PART = "throughput"
PART_SCALING = "scaling"
MIN_RATIO = 0.3
MIN_EVENTS_PER_S = 2_000
TARGET_PARALLELISM = 1
MIN_SCALING = 1.6  # one instance: the rate at parallelism 2 over the rate at parallelism 1
MODES = ("passthrough", "keyed", "full")
TITLES = {"passthrough": "pass-through", "keyed": "keyed floor", "full": "full job"}


@dataclass(frozen=True)
class Run:
    mode: str
    parallelism: int
    records: int
    seconds: float
    fixed_seconds: float | None  # the same job over one record
    out: Path
    load: str  # load average when it ended
    cpu_seconds: float | None = None  # of the job's processes, over `seconds`
    switches: int | None = None  # of the JVM's threads, from its start to the result (`run_job`)

    @property
    def cores(self) -> float | None:
        return None if self.cpu_seconds is None else self.cpu_seconds / self.seconds

    @property
    def rate(self) -> float:
        return self.records / self.seconds

    @property
    def net_rate(self) -> float | None:
        if self.fixed_seconds is None or self.seconds <= self.fixed_seconds:
            return None
        return self.records / (self.seconds - self.fixed_seconds)

    @property
    def sink(self) -> Path:
        return self.out / SINK_FILE


def run_job(mode: str, parallelism: int, files: list[Path], out: Path,
            python_mode: str = DEFAULT_PYTHON_MODE,
            python_workers: str = DEFAULT_PYTHON_WORKERS
            ) -> tuple[float, float | None, int | None]:
    """Seconds the job took, the CPU seconds it spent and its JVM's context switches (None
    where unknown), from a subprocess (`benchmarks.job_run`); its progress lines are passed
    on. The switches are counted from the JVM's announcement to the result: in thread mode
    every call between Python and the JVM gives up the one interpreter lock, and a thread that
    waits for it leaves its core, so they count the hand-offs the job's Python steps make."""
    out.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "benchmarks.job_run", mode, "--parallelism",
               str(parallelism), "--out", str(out), "--python-mode", python_mode,
               "--python-workers", python_workers, *map(str, files)]
    seconds = cpu = switches = threads = None
    with (out / "job.log").open("w") as log:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
        for line in process.stdout:
            log.write(line)
            if line.startswith(JVM) and threads is None:
                threads = ThreadTimes(int(line[len(JVM):])).start()
            elif line.startswith(RESULT):
                result = json.loads(line[len(RESULT):])
                seconds, cpu = result["seconds"], result.get("cpu_seconds")
                if threads is not None:
                    threads.stop()
                    switches = threads.switches()
            elif line.startswith("replay:"):
                print(f"  {mode} p={parallelism}: {line[len('replay:'):].strip()}",
                      file=sys.stderr, flush=True)
        process.wait()
    if threads is not None:
        threads.stop()  # stopped at the result already, unless the job failed before it
    if process.returncode != 0 or seconds is None:
        raise RuntimeError(f"{mode} job at parallelism {parallelism} failed; see {out / 'job.log'}")
    return seconds, cpu, switches


def one_record_file(data: Dataset, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / "one-record.jsonl"
    with data.files(1)[0].open("rb") as first:
        path.write_bytes(first.readline())
    return path


def measure(data: Dataset, parallelisms: list[int], out: Path, fixed_cost: bool = True,
            python_mode: str = DEFAULT_PYTHON_MODE, python_workers: str = DEFAULT_PYTHON_WORKERS,
            ) -> tuple[list[Run], list[Measurement]]:
    runs = []
    one = one_record_file(data, out) if fixed_cost else None
    for parallelism in parallelisms:
        for mode in MODES:
            name = f"{mode}-p{parallelism}"
            print(f"throughput: {mode} job, parallelism {parallelism}, {data.records:,} records",
                  file=sys.stderr, flush=True)
            seconds, cpu, switches = run_job(mode, parallelism, data.files(parallelism),
                                             out / name, python_mode, python_workers)
            load = load_average()
            fixed = (run_job(mode, parallelism, [one], out / f"{name}-one-record", python_mode,
                             python_workers)[0]
                     if one else None)
            runs.append(Run(mode, parallelism, data.records, seconds, fixed, out / name, load,
                            cpu, switches))
    return runs, measurements(runs)


def measurements(runs: list[Run]) -> list[Measurement]:
    by_key = {(r.mode, r.parallelism): r for r in runs}
    result = []
    for parallelism in sorted({r.parallelism for r in runs}):
        passthrough, full = by_key[("passthrough", parallelism)], by_key[("full", parallelism)]
        for mode in MODES:
            run = by_key.get((mode, parallelism))
            if run is None:
                continue
            target = (Target(MIN_EVENTS_PER_S, False, f">= {MIN_EVENTS_PER_S:,} events/s")
                      if mode == "full" and parallelism == TARGET_PARALLELISM else None)
            result.append(Measurement(PART, f"{TITLES[mode]}, parallelism {parallelism}",
                                      run.rate, "events/s", target, _note(run)))
        keyed = by_key.get(("keyed", parallelism))
        if keyed is not None:
            result.append(Measurement(
                PART, f"keyed floor / pass-through, parallelism {parallelism}",
                keyed.rate / passthrough.rate, "ratio", None, _ratio_note(keyed, passthrough)))
        result.append(Measurement(
            PART, f"full / pass-through, parallelism {parallelism}",
            full.rate / passthrough.rate, "ratio",
            Target(MIN_RATIO, False, f">= {MIN_RATIO}") if parallelism == TARGET_PARALLELISM
            else None,
            _ratio_note(full, passthrough)))
    return result


def measure_scaling(data: Dataset, out: Path, python_mode: str = DEFAULT_PYTHON_MODE,
                    python_workers: str = DEFAULT_PYTHON_WORKERS) -> list[Measurement]:
    """The full job over `data` (one instance) at parallelism 1 and 2, and the ratio."""
    runs = {}
    for parallelism in (1, 2):
        print(f"scaling: full job, one instance, parallelism {parallelism}, "
              f"{data.records:,} records", file=sys.stderr, flush=True)
        seconds, cpu, switches = run_job("full", parallelism, data.files(parallelism),
                                         out / f"full-p{parallelism}", python_mode,
                                         python_workers)
        runs[parallelism] = Run("full", parallelism, data.records, seconds, None,
                                out / f"full-p{parallelism}", load_average(), cpu, switches)
    result = [Measurement(PART_SCALING, f"full job, one instance, parallelism {p}", run.rate,
                          "events/s", note=_note(run)) for p, run in runs.items()]
    result.append(Measurement(
        PART_SCALING, "one instance: parallelism 2 / parallelism 1", runs[2].rate / runs[1].rate,
        "ratio", Target(MIN_SCALING, False, f">= {MIN_SCALING}"), _ceiling_note(runs[1])))
    return result


def _ceiling_note(run: Run) -> str:
    """At most the machine's cores over those the parallelism-1 run kept busy."""
    cores = os.cpu_count()
    if run.cores is None or not cores:
        return ""
    return (f"parallelism 1 kept {run.cores:.2f} of {cores} cores busy, so no parallelism can "
            f"run more than {cores / run.cores:.2f} x its rate on this machine")


def _note(run: Run) -> str:
    text = f"{run.records:,} records in {run.seconds:.1f} s"
    if run.fixed_seconds is not None:
        text += f"; one record takes {run.fixed_seconds:.1f} s"
        if run.net_rate is not None:
            text += f", so {run.net_rate:,.0f} events/s net of that"
    if run.cores is not None:
        text += f"; {run.cores:.2f} cores busy"
    if run.switches is not None:
        text += f"; {run.switches / run.records:.1f} context switches a record"
    return text + f"; load {run.load}"


def _ratio_note(full: Run, passthrough: Run) -> str:
    if full.net_rate is None or passthrough.net_rate is None:
        return ""
    return f"{full.net_rate / passthrough.net_rate:.3f} net of start-up"
