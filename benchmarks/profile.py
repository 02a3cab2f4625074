"""Where the full job's Python time goes: py-spy samples a bounded run at parallelism 1.

py-spy samples the process that submits the job and, with `--subprocesses`, the JVM's Python
worker process (or, with loopback workers, the worker threads of the submitting process), so it
sees every Python operator. Only samples of worker threads running a bundle count; a sample
whose innermost frame is a wait (for a state read from Java, for the next element) counts
under that wait, so the table shows how much of the worker's time is waiting, too.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from benchmarks.job_run import DEFAULT_PYTHON_WORKERS
from benchmarks.report import Measurement
from jobs.config import PROJECT_ROOT

PART = "profile"
RATE_HZ = 100
WORKER_FRAME = "process_bundle ("
PROJECT_DIRS = ("jobs/", "connectors/")
# Innermost frames of a worker thread that waits: for an answer from Java (state reads, state
# writes committed, the next elements) or for another thread.
WAITS = ("Condition.wait (", "Thread._wait_for_tstate_lock (")
_LINE = re.compile(r":\d+\)$")


def function_of(frame: str) -> str:
    """`name (file:line)` without the line, so samples add up per function."""
    return _LINE.sub(")", frame)


def is_project(function: str) -> bool:
    return any(f"({d}" in function for d in PROJECT_DIRS)


def is_wait(function: str) -> bool:
    return function.startswith(WAITS)


def summarise(raw_lines: Iterable[str]) -> tuple[int, Counter, Counter]:
    """(worker samples, samples per innermost function, samples per function on the stack)
    from py-spy's raw (collapsed) output."""
    total, leaf, inclusive = 0, Counter(), Counter()
    for line in raw_lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        frames = stack.split(";")
        if not count.isdigit() or not any(WORKER_FRAME in f for f in frames):
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
            top: int = 15) -> tuple[list[Measurement], str]:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).is_file():
        return [Measurement(PART, "hot path", None, "", note="py-spy is not installed")], ""
    out.mkdir(parents=True, exist_ok=True)
    source = profile_file(data_file, records, out)
    raw = out / "py-spy.txt"
    print(f"profile: the full job over {records:,} records under py-spy ({RATE_HZ} Hz)",
          file=sys.stderr, flush=True)
    with (out / "job.log").open("w") as log:
        done = subprocess.run(
            [py_spy, "record", "--nonblocking", "--subprocesses", "--rate", str(RATE_HZ),
             "--format", "raw", "--output", str(raw), "--", sys.executable, "-m",
             "benchmarks.job_run", "full", "--python-workers", python_workers, "--out",
             str(out / "run"), str(source)],
            cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT)
    if done.returncode != 0 or not raw.is_file():
        return [Measurement(PART, "hot path", None, "",
                            note=f"py-spy failed; see {out / 'job.log'}")], ""
    total, leaf, inclusive = summarise(raw.read_text().splitlines())
    def share(selected) -> float:
        return sum(n for f, n in leaf.items() if selected(f)) / total * 100 if total else 0.0

    measurements = [
        Measurement(PART, "worker samples waiting for Java or another thread", share(is_wait),
                    "%", note=f"{total:,} worker samples over {records:,} records"),
        Measurement(PART, "worker samples whose innermost frame is project code",
                    share(is_project), "%"),
    ]
    return measurements, details(total, leaf, inclusive, top)


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
