"""The local demo: emulators, simulator and job together, watched with the live dashboard."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
from pathlib import Path

from cli import local_stack
from jobs.config import PROJECT_ROOT, Config
from cli.landed import landed_records
from cli.prerequisites import SetupError
from cli.top.live import EMULATOR_REFRESH_S, Screen, open_store, watch

LOG_DIR = PROJECT_ROOT / ".local"
SIMULATOR_ARGS = ("--agents", "30", "--queues", "3", "--rate", "6", "--backlog", "10m",
                  "--seed", "7")
"""The demo's contact centre (docker-compose.yml's simulator too). Ten minutes of history go out
at once, so the first frames already show completed contacts and a day's totals."""
PLAIN_REFRESH_S = 5.0
"""Seconds between frames when stdout is not a terminal, so a log gets a frame now and then."""


def run_demo(config: Config, tables: list[str], duration_s: float, config_path: Path | None,
             sink: str | None = None) -> int:
    """Run everything until `duration_s` passes (0: until Ctrl-C); stop all of it either way.
    `sink` is the job's `--sink` (already applied to `config`)."""
    settings = local_stack.StackSettings.from_config(config, tables)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    children: list[subprocess.Popen] = []
    store = open_store(config)
    landed = 0
    try:
        try:
            local_stack.up(settings)
            base = [sys.executable, "-m", "cli"]
            options = ["--config", str(config_path)] if config_path else []
            sink_option = ["--sink", sink] if sink else []
            children.append(start_logged([*base, "run", *options, *sink_option],
                                         LOG_DIR / "job.log"))
            children.append(start_logged([*base, "simulate", *options, *SIMULATOR_ARGS],
                                   LOG_DIR / "simulator.log"))
            print(f"demo: job log {LOG_DIR / 'job.log'}, "
                  f"simulator log {LOG_DIR / 'simulator.log'}")
            screen = Screen()
            watch(
                store, screen,
                EMULATOR_REFRESH_S if screen.redraw else PLAIN_REFRESH_S,
                deadline=time.monotonic() + duration_s if duration_s else None,
                check=lambda: _check(children),
            )
        except KeyboardInterrupt:
            pass
        _stop_all(children)  # first, so the job's last writes are counted
        landed = _count_landed(config)
    finally:
        _stop_all(children)
        local_stack.down(settings)
    print(f"demo: {landed} metric rows landed in the {store.description}")
    if landed == 0:
        print(f"demo: no rows arrived; see {LOG_DIR / 'job.log'}", file=sys.stderr)
        return 1
    return 0


def _check(children: list[subprocess.Popen]) -> None:
    for child in children:
        if child.poll() is not None:
            raise SetupError(
                f"{' '.join(child.args[2:4])} exited with {child.returncode}; "
                f"see its log in {LOG_DIR}"
            )


def _count_landed(config: Config) -> int:
    from connectors.influxdb import InfluxDBQueryError
    from cli.influxdb_landed import influxdb_records

    try:
        if config.timestream.target == "influxdb":
            return len(influxdb_records(config.influxdb.url, config.influxdb.database))
        return len(landed_records(config.timestream.endpoint, config.timestream.database))
    except (urllib.error.URLError, OSError, InfluxDBQueryError) as err:
        print(f"demo: could not count the rows written: {err}", file=sys.stderr)
        return 0


def _stop_all(children: list[subprocess.Popen]) -> None:
    while children:
        stop_group(children.pop())


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
