"""The local InfluxDB server of `connect-metrics dev up | down`: a real database for the
InfluxDB target, queried by `top` and by the InfluxDB dashboard's tests.

`make setup` builds InfluxDB 1.8 (`influxd`) into `.local/bin` with `go install`; an `influxd`
on PATH (Debian's `influxdb` package) serves as well. It speaks the v1 `/write` and InfluxQL
`/query` APIs and InfluxDB 2's `/api/v2/write`. It runs like the emulators: detached, with a pid
file, its data under the stack's state directory.
"""

from __future__ import annotations

import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path

from connectors.influxdb import InfluxDBQueryError, influxql
from cli import local_stack
from jobs.config import PROJECT_ROOT
from cli.prerequisites import SetupError

INFLUXD = PROJECT_ROOT / ".local" / "bin" / "influxd"
INFLUXDB_PORT_SETTING = "the `url` property of the InfluxDB property group"


def influxd_path() -> Path:
    """The server binary; an error naming the fix when there is none."""
    found = _influxd()
    if found is None:
        raise SetupError(
            f"no InfluxDB server: {INFLUXD} is missing and no influxd is on PATH; run `make "
            "setup` (it builds InfluxDB 1.8 with Go) or install Debian's influxdb package"
        )
    return found


def _influxd() -> Path | None:
    if INFLUXD.is_file():
        return INFLUXD
    found = shutil.which("influxd")
    return Path(found) if found else None


def server(settings: local_stack.StackSettings) -> local_stack._Emulator:
    """The influxd process of the stack (its config file is written by `start`)."""
    return local_stack._Emulator(
        name="influxdb",
        ports=((settings.influxdb_port, INFLUXDB_PORT_SETTING),),
        endpoint=settings.influxdb_endpoint,
        command=(str(_influxd() or INFLUXD), "-config", str(_config_path(settings))),
        cwd=settings.state_dir,
        env={"INFLUXDB_REPORTING_DISABLED": "true"},
        service="",
        probe=lambda client: None,
        state_dir=settings.state_dir,
    )


def _config_path(settings: local_stack.StackSettings) -> Path:
    return settings.state_dir / "influxdb.conf"


def start(settings: local_stack.StackSettings) -> bool:
    """Start the server unless ours already runs, wait until it answers, create the database.
    True when this call started it."""
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    process = server(settings)
    started = not local_stack.already_running(process)
    if started:
        local_stack.require_port_free(settings.host, settings.influxdb_port, process.name,
                                      INFLUXDB_PORT_SETTING)
        _write_config(settings)
        local_stack.start_process(process)
    try:
        _wait_until_answering(process)
        try:
            influxql(settings.influxdb_endpoint,
                     f'CREATE DATABASE "{settings.influxdb_database}"', method="POST")
        except InfluxDBQueryError as err:
            raise SetupError(f"{err}; see {process.log_path}") from None
    except BaseException:
        if started:
            local_stack.stop_process(process)
        raise
    return started


def stop(settings: local_stack.StackSettings) -> None:
    process = server(settings)
    if local_stack.stop_process(process):
        local_stack.wait_ports_released(settings.host, process)


def _write_config(settings: local_stack.StackSettings) -> None:
    """Data under the state directory, HTTP on the stack's port, the backup RPC port left to
    the system (it is not used), and no reporting home or self-monitoring."""
    data = settings.state_dir / "influxdb"
    _config_path(settings).write_text(
        f'reporting-disabled = true\n'
        f'bind-address = "{settings.host}:0"\n'
        f'[meta]\n  dir = "{data / "meta"}"\n'
        f'[data]\n  dir = "{data / "data"}"\n  wal-dir = "{data / "wal"}"\n'
        f'  query-log-enabled = false\n'
        f'[http]\n  bind-address = "{settings.host}:{settings.influxdb_port}"\n'
        f'  log-enabled = false\n'
        f'[monitor]\n  store-enabled = false\n',
        encoding="utf-8",
    )


def _wait_until_answering(process: local_stack._Emulator) -> None:
    started_at = time.monotonic()
    while not _pings(process.endpoint):
        local_stack._fail_if_exited(process)
        if time.monotonic() - started_at > local_stack.STARTUP_TIMEOUT_S:
            raise SetupError(
                f"{process.name} did not answer at {process.endpoint} within "
                f"{local_stack.STARTUP_TIMEOUT_S:.0f} s; see {process.log_path}"
            )
        time.sleep(local_stack.POLL_S)


def _pings(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}/ping", timeout=2) as response:
            return response.status == 204
    except (urllib.error.URLError, OSError):
        return False
