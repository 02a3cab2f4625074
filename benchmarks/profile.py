"""Where the full job's Python time goes: py-spy samples a bounded run at parallelism 1.

In process mode py-spy samples the process that submits the job and, with `--subprocesses`,
the JVM's Python worker process (or, with loopback workers, the worker threads of the
submitting process). In thread mode the Python functions run in an interpreter inside the JVM
that runs the job: py-spy attaches to that JVM once it has loaded the Python library. Only
samples of an operator's Python function count; a sample whose innermost frame waits (for a
state read, a timer or an output handed to Java, for the next element, for another thread)
counts under that wait, so the table shows how much of the time is spent in Java, too.
In thread mode the JVM's threads are timed as well (`ThreadTimes`): every Python operator
runs on a task thread of its own, and their CPU time shows whether any of them, or the machine,
was saturated.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from benchmarks.job_run import DEFAULT_PYTHON_WORKERS
from benchmarks.machine import ThreadTimes, command_of, descendants
from benchmarks.report import Measurement
from jobs.config import DEFAULT_PYTHON_MODE, PROJECT_ROOT

PART = "profile"
RATE_HZ = 100
# A frame on the stack of every sample of an operator's Python function: the bundle of a
# process-mode worker, the embedded operator of thread mode.
WORKER_FRAMES = ("process_bundle (", "(pyflink/fn_execution/embedded/operations.py:")
PROJECT_DIRS = ("jobs/", "connectors/")
# Innermost frames that wait: in process mode for an answer from Java (state reads, state writes
# committed, the next elements) or for another thread; in thread mode, PyFlink's calls into the
# JVM (state, timers, side outputs and the chained Java operators behind them, metrics).
WAITS = ("Condition.wait (", "Thread._wait_for_tstate_lock (")
JAVA_CALLS = tuple(f"(pyflink/fn_execution/{module})" for module in (
    "datastream/embedded/state_impl.py", "datastream/embedded/timerservice_impl.py",
    "datastream/embedded/side_output_context.py", "metrics/embedded/counter_impl.py"))
LIBPYTHON = "libpython"
ATTACH_TIMEOUT_S = 300
_LINE = re.compile(r":\d+\)$")


def function_of(frame: str) -> str:
    """`name (file:line)` without the line, so samples add up per function."""
    return _LINE.sub(")", frame)


def is_project(function: str) -> bool:
    return any(f"({d}" in function for d in PROJECT_DIRS)


def is_wait(function: str) -> bool:
    return function.startswith(WAITS) or function.endswith(JAVA_CALLS)


def summarise(raw_lines: Iterable[str]) -> tuple[int, Counter, Counter]:
    """(worker samples, samples per innermost function, samples per function on the stack)
    from py-spy's raw (collapsed) output."""
    total, leaf, inclusive = 0, Counter(), Counter()
    for line in raw_lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        frames = stack.split(";")
        if not count.isdigit() or not any(w in f for f in frames for w in WORKER_FRAMES):
            continue
        samples = int(count)
        total += samples
        leaf[function_of(frames[-1])] += samples
        for function in {function_of(f) for f in frames}:
            inclusive[function] += samples
    return total, leaf, inclusive


def profile_file(data_file: Path, records: int, out: Path) -> Path:
    """The first `records` lines of `data_file`: a profile needs a minute, not the whole run."""
    path = out / "profile-input.jsonl"
    with data_file.open("rb") as source, path.open("wb") as target:
        for n, line in enumerate(source):
            if n >= records:
                break
            target.write(line)
    return path


def measure(data_file: Path, records: int, out: Path, python_workers: str = DEFAULT_PYTHON_WORKERS,
            python_mode: str = DEFAULT_PYTHON_MODE, top: int = 15
            ) -> tuple[list[Measurement], str]:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).is_file():
        return [Measurement(PART, "hot path", None, "", note="py-spy is not installed")], ""
    out.mkdir(parents=True, exist_ok=True)
    source = profile_file(data_file, records, out)
    raw = out / "py-spy.txt"
    print(f"profile: the full job over {records:,} records under py-spy ({RATE_HZ} Hz, "
          f"Python {python_mode} mode)", file=sys.stderr, flush=True)
    job = [sys.executable, "-m", "benchmarks.job_run", "full", "--python-mode", python_mode,
           "--python-workers", python_workers, "--out", str(out / "run"), str(source)]
    record = [py_spy, "record", "--nonblocking", "--rate", str(RATE_HZ), "--format", "raw",
              "--output", str(raw)]
    times = None
    with (out / "job.log").open("w") as log:
        if python_mode == "thread":
            sampled, times = _record_embedded(record, job, log)
        else:
            sampled = subprocess.run([*record, "--subprocesses", "--", *job], cwd=PROJECT_ROOT,
                                     stdout=log, stderr=subprocess.STDOUT).returncode == 0
    if not sampled or not raw.is_file():
        return [Measurement(PART, "hot path", None, "",
                            note=f"py-spy failed; see {out / 'job.log'}")], ""
    total, leaf, inclusive = summarise(raw.read_text().splitlines())
    def share(selected) -> float:
        return sum(n for f, n in leaf.items() if selected(f)) / total * 100 if total else 0.0

    measurements = [
        Measurement(PART, "worker samples waiting for Java or another thread", share(is_wait),
                    "%", note=f"{total:,} worker samples over {records:,} records, Python "
                              f"{python_mode} mode"),
        Measurement(PART, "worker samples whose innermost frame is project code",
                    share(is_project), "%"),
    ]
    busy = times.busy() if times is not None else {}
    if busy:
        measurements.append(Measurement(
            PART, "cores busy in the job's JVM", sum(busy.values()), "cores",
            note=f"of {os.cpu_count()}, while py-spy sampled it; each thread's share is in the "
                 "profile's details"))
    switches = times.switches_by_name() if times is not None else {}
    return measurements, (details(total, leaf, inclusive, top)
                          + thread_details(busy, switches, records, top))


def thread_details(busy: dict[str, float], switches: dict[str, int], records: int,
                   top: int) -> str:
    """The busiest threads, with how often each left its core per record replayed (`ThreadTimes`):
    a Python step's thread that waits for the interpreter lock at its calls into the JVM leaves
    it more often the more other Python steps are busy."""
    if not busy:
        return ""
    lines = ["", "Threads of the job's JVM by CPU (names cut at 15 characters; threads of one "
             "name added up):", "", "| cores | context switches a record | thread |",
             "|---|---|---|"]
    lines += [f"| {cores:.2f} | {switches.get(name, 0) / records:.2f} | `{name}` |"
              for name, cores in sorted(busy.items(), key=lambda item: -item[1])[:top]]
    return "\n".join(lines) + "\n"


def _record_embedded(record: list[str], job: list[str], log) -> tuple[bool, ThreadTimes | None]:
    """Run `job`; once the JVM it starts has loaded the Python library (the job's interpreter in
    thread mode; PyFlink's own Python helpers load it too, hence the JVM), sample that JVM with
    `record` until it exits, timing its threads meanwhile. Whether both ended well, and the
    times."""
    running = subprocess.Popen(job, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + ATTACH_TIMEOUT_S
    jvm = None
    while running.poll() is None and time.monotonic() < deadline:
        jvm = next((pid for pid in descendants(running.pid)
                    if command_of(pid) == "java" and _has_mapped(pid, LIBPYTHON)), None)
        if jvm is not None:
            break
        time.sleep(0.05)
    if jvm is None:
        running.kill()
        running.wait()
        print(f"profile: no JVM of the job loaded {LIBPYTHON}", file=log, flush=True)
        return False, None
    times = ThreadTimes(jvm).start()
    sampled = subprocess.run([*record, "--pid", str(jvm)], stdout=log, stderr=subprocess.STDOUT)
    times.stop()
    return running.wait() == 0 and sampled.returncode == 0, times


def _has_mapped(pid: int, library: str) -> bool:
    try:
        return library in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def details(total: int, leaf: Counter, inclusive: Counter, top: int) -> str:
    if not total:
        return "No worker samples.\n"
    lines = ["Innermost frames (self time) of the Python worker threads:", "",
             "| samples | share | function |", "|---|---|---|"]
    lines += [f"| {n:,} | {n / total:.1%} | `{f}` |" for f, n in leaf.most_common(top)]
    lines += ["", "Project functions on the stack (inclusive time):", "",
              "| samples | share | function |", "|---|---|---|"]
    ours = [(f, n) for f, n in inclusive.most_common() if is_project(f)][:top]
    lines += [f"| {n:,} | {n / total:.1%} | `{f}` |" for f, n in ours]
    return "\n".join(lines) + "\n"
