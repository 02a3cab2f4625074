"""The local demo: emulators, simulator and job together, printing metric rows as they land."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from jobs import local_stack
from jobs.config import PROJECT_ROOT, Config
from jobs.landed import landed_records
from jobs.prerequisites import SetupError

LOG_DIR = PROJECT_ROOT / ".local"


def run_demo(config: Config, tables: list[str], duration_s: float, config_path: Path | None) -> int:
    """Run everything until `duration_s` passes (0: until Ctrl-C); stop all of it either way."""
    settings = local_stack.StackSettings.from_config(config, tables)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    children: list[subprocess.Popen] = []
    seen = 0
    printed: dict[str, int] = {}  # rows printed per table: each table's list only grows
    try:
        local_stack.up(settings)
        base = [sys.executable, "-m", "jobs.cli"]
        options = ["--config", str(config_path)] if config_path else []
        children.append(start_logged([*base, "run", *options], LOG_DIR / "job.log"))
        children.append(start_logged(
            [*base, "simulate", *options, "--agents", "30", "--queues", "3", "--rate", "6",
             "--backlog", "150", "--seed", "7"],
            LOG_DIR / "simulator.log",
        ))
        print(f"demo: job log {LOG_DIR / 'job.log'}, simulator log {LOG_DIR / 'simulator.log'}")
        print("demo: waiting for the first metric rows (the job needs ~20 s to start)...")
        deadline = time.monotonic() + duration_s if duration_s else None
        while deadline is None or time.monotonic() < deadline:
            for child in children:
                if child.poll() is not None:
                    raise SetupError(
                        f"{' '.join(child.args[2:4])} exited with {child.returncode}; "
                        f"see its log in {LOG_DIR}"
                    )
            by_table: dict[str, list] = {}
            for record in landed_records(config.timestream.endpoint, config.timestream.database):
                by_table.setdefault(record.table, []).append(record)
            for table, records in sorted(by_table.items()):
                for record in records[printed.get(table, 0):]:
                    print(record.describe(), flush=True)
                    printed[table] = printed.get(table, 0) + 1
                    seen += 1
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:
            stop_group(child)
        local_stack.down(settings)
    print(f"demo: {seen} metric rows landed in the Timestream emulator")
    if seen == 0:
        print(f"demo: no rows arrived; see {LOG_DIR / 'job.log'}", file=sys.stderr)
        return 1
    return 0


def start_logged(command: list[str], log: Path) -> subprocess.Popen:
    """`command` in its own process group, output to `log`, from the project root."""
    with log.open("w") as out:
        return subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT,
            start_new_session=True, env=os.environ.copy(),
        )


def stop_group(child: subprocess.Popen, grace_s: float = 15.0) -> None:
    """Stop the child's whole process group (the job has a JVM and Python workers under it)."""
    if child.poll() is None:
        os.killpg(child.pid, signal.SIGINT)
        try:
            child.wait(grace_s)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    child.wait()
