"""The machine a run was taken on, so numbers are never quoted without it."""

from __future__ import annotations

import os
import platform
import re
import subprocess
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
    parents, spent = {}, {}
    try:
        for stat in Path("/proc").glob("[0-9]*/stat"):
            read = read_stat(stat)
            if read is None:
                continue  # gone meanwhile
            child = int(stat.parent.name)
            parents[child], spent[child] = read
    except OSError:
        return None
    if pid not in spent:
        return None
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, p in parents.items() if p == parent and child not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(spent[p] for p in tree)


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
