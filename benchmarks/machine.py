"""The machine a run was taken on, so numbers are never quoted without it."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path


def cpu_model(cpuinfo: str) -> str:
    match = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    return match.group(1).strip() if match else platform.processor() or "unknown CPU"


def memory_gib(meminfo: str) -> float | None:
    match = re.search(r"^MemTotal:\s*(\d+)\s*kB", meminfo, re.MULTILINE)
    return int(match.group(1)) / 1024 / 1024 if match else None


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: how busy the machine was with other work too."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def read_stat(path: Path) -> tuple[int, float] | None:
    """(parent pid, CPU seconds, user and system) of a process's or thread's `/proc` stat file;
    None when it is gone."""
    try:
        fields = path.read_text().rpartition(")")[2].split()
    except OSError:
        return None
    if len(fields) < 13:
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def tree_cpu_seconds(pid: int) -> float | None:
    """CPU seconds (user and system) of process `pid` and every process under it, from `/proc`
    (None where there is none): with a job's JVM under it, the cores a run keeps busy."""
    stats = _process_stats(Path("/proc"))
    if pid not in stats:
        return None
    return sum(stats[p][1] for p in (pid, *_below(pid, stats)))


def descendants(pid: int, proc: Path = Path("/proc")) -> list[int]:
    """The processes below `pid`, from the parent each one names in `/proc/PID/stat`."""
    return _below(pid, _process_stats(proc))


def _process_stats(proc: Path) -> dict[int, tuple[int, float]]:
    """`read_stat` of every process, by pid: each stat file read once."""
    stats = {}
    for stat in proc.glob("[0-9]*/stat"):
        read = read_stat(stat)
        if read is not None:  # else gone since the listing
            stats[int(stat.parent.name)] = read
    return stats


def _below(pid: int, stats: dict[int, tuple[int, float]]) -> list[int]:
    children: dict[int, list[int]] = {}
    for child, (parent, _) in stats.items():
        children.setdefault(parent, []).append(child)
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), ()):
            found.append(child)
            todo.append(child)
    return found


def command_of(pid: int) -> str:
    """The process's command name ('' once it is gone)."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def read_switches(path: Path) -> int | None:
    """Context switches, voluntary and not, of a thread's `/proc` status file: each time it
    left its core, to wait (for a lock, for I/O) or because its time was up. None when gone."""
    try:
        text = path.read_text()
    except OSError:
        return None
    counts = re.findall(r"^(?:non)?voluntary_ctxt_switches:\s*(\d+)$", text, re.MULTILINE)
    return sum(map(int, counts)) if counts else None


@dataclass(frozen=True)
class ThreadUse:
    cpu_seconds: float
    switches: int  # context switches (`read_switches`)


class ThreadTimes:
    """CPU time and context switches of each thread of a process (`/proc/PID/task/*`; Linux
    cuts names at 15 characters), read every `every_s` on a thread of its own until `stop` or
    the process ends: `busy` is the cores each name kept busy between the first reading and the
    last, `switches` how often its threads left a core meanwhile."""

    def __init__(self, pid: int, every_s: float = 0.5, proc: Path = Path("/proc")):
        self._task = proc / str(pid) / "task"
        self._every = every_s
        self._readings: list[tuple[float, dict[str, ThreadUse]]] = []
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> ThreadTimes:
        self._take()  # here, so that what follows the call is timed whatever the scheduler does
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()

    def read(self) -> dict[str, ThreadUse] | None:
        """What each thread used, by thread id and name; None once the process is gone."""
        used: dict[str, ThreadUse] = {}
        try:
            tasks = list(self._task.iterdir())
        except OSError:
            return None
        for task in tasks:
            try:
                name = (task / "comm").read_text().strip()
            except OSError:
                continue  # a thread that ended since the listing
            stat, switches = read_stat(task / "stat"), read_switches(task / "status")
            if stat is not None and switches is not None:
                used[f"{task.name} {name}"] = ThreadUse(stat[1], switches)
        return used

    def busy(self) -> dict[str, float]:
        return cores_by_name(self._readings)

    def switches_by_name(self) -> dict[str, int]:
        """Context switches per thread name between the first reading and the last."""
        return {name: use.switches for name, use in use_by_name(self._readings).items()}

    def switches(self) -> int | None:
        """Context switches of all the threads (None without two readings)."""
        return sum(self.switches_by_name().values()) if len(self._readings) > 1 else None

    def _take(self) -> bool:
        reading = self.read()
        if reading is not None:
            self._readings.append((time.monotonic(), reading))
        return reading is not None

    def _run(self) -> None:
        while not self._stopped.wait(self._every):
            if not self._take():
                return
        self._take()  # at the stop


def cores_by_name(readings: list[tuple[float, dict[str, ThreadUse]]]) -> dict[str, float]:
    """Cores kept busy per thread name between the first and the last of `readings` ((time,
    use per "id name")), as `use_by_name` counts them."""
    if len(readings) < 2:
        return {}
    span = readings[-1][0] - readings[0][0]
    return {name: use.cpu_seconds / span for name, use in use_by_name(readings).items()}


def use_by_name(readings: list[tuple[float, dict[str, ThreadUse]]]) -> dict[str, ThreadUse]:
    """What the threads of each name used from the first of `readings` to the last: a thread
    gone before the last reading counts up to its own last one, a thread that came after the
    first from zero."""
    first = readings[0][1] if readings else {}
    latest: dict[str, ThreadUse] = {}
    for _, reading in readings:
        latest.update(reading)
    used: dict[str, ThreadUse] = {}
    for thread, use in latest.items():
        name, before = thread.partition(" ")[2], first.get(thread, ThreadUse(0.0, 0))
        so_far = used.get(name, ThreadUse(0.0, 0))
        used[name] = ThreadUse(so_far.cpu_seconds + use.cpu_seconds - before.cpu_seconds,
                               so_far.switches + use.switches - before.switches)
    return used


def java_version() -> str:
    try:
        done = subprocess.run(["java", "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "not found"
    first = (done.stderr or done.stdout).strip().splitlines()
    return first[0] if first else "unknown"


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def describe() -> list[tuple[str, str]]:
    """(item, value) pairs for the results file's machine section."""
    memory = memory_gib(_read("/proc/meminfo"))
    return [
        ("date (UTC)", datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M")),
        ("CPU", f"{cpu_model(_read('/proc/cpuinfo'))}, {os.cpu_count()} cores visible"),
        ("memory", f"{memory:.1f} GiB" if memory else "unknown"),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("Python", platform.python_version()),
        ("Java", java_version()),
        ("Flink (PyFlink)", metadata.version("apache-flink")),
        ("load average at start (1, 5, 15 min)", load_average()),
    ]
