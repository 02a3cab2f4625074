"""The local emulator stack behind `connect-metrics dev up | down | status`.

kinesis-mock (Node) stands in for Kinesis and moto's server for Timestream Write; a real InfluxDB
server (`cli.local_influxdb`) is the database of the InfluxDB target. All run
detached in their own session so they outlive the CLI that started them. Each has a pid file
that records the pid with the process's start time and command line: `down` then never signals
a program that later reused the pid, and a second `up` finds and reuses what already runs.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from cli import local_influxdb
from jobs.config import PROJECT_ROOT, Config
from cli.prerequisites import (
    SetupError,
    port_in_use,
    require_node,
    require_port_free,
    require_python_module,
)

log = logging.getLogger(__name__)

KINESIS_MOCK_DIR = PROJECT_ROOT / "node_modules" / "kinesis-local"
STATE_DIR = PROJECT_ROOT / ".local" / "stack"
STARTUP_TIMEOUT_S = 60.0
PROGRESS_EVERY_S = 3.0
RESOURCE_TIMEOUT_S = 30.0
# kinesis-mock waits up to 30 s for open keep-alive connections before it exits on SIGTERM.
STOP_GRACE_S = 5.0
PORT_RELEASE_S = 5.0
POLL_S = 0.2
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")
KINESIS_PORT_SETTING = "the `endpoint` property of the Kinesis property group"
KINESIS_TLS_PORT_SETTING = (
    "the `endpoint` property of the Kinesis property group (the TLS port is its port minus one)"
)
TIMESTREAM_PORT_SETTING = "the `endpoint` property of the Timestream property group"

# Children started by this interpreter; polling them reaps them, so a stopped emulator does not
# linger as a zombie of a long-lived caller such as a test run.
_children: dict[int, subprocess.Popen] = {}


class Stream(NamedTuple):
    name: str
    shards: int = 1


@dataclass(frozen=True)
class StackSettings:
    """Where the emulators listen and what they must hold once `up` returns."""

    tables: tuple[str, ...] = ()
    host: str = "127.0.0.1"
    kinesis_port: int = 4568
    kinesis_tls_port: int = 4567
    timestream_port: int = 4570
    influxdb_port: int = 8086
    influxdb_database: str = "connect_metrics"
    state_dir: Path = STATE_DIR
    streams: tuple[Stream, ...] = (Stream("agent-events"), Stream("contact-events"))
    database: str = "connect_metrics"
    region: str = "us-east-1"
    kinesis_mock_dir: Path = KINESIS_MOCK_DIR

    def __post_init__(self) -> None:
        ports = (self.kinesis_port, self.kinesis_tls_port, self.timestream_port,
                 self.influxdb_port)
        if len(set(ports)) != len(ports):
            raise SetupError(
                f"the Kinesis port {self.kinesis_port}, Kinesis TLS port {self.kinesis_tls_port}, "
                f"Timestream port {self.timestream_port} and InfluxDB port {self.influxdb_port} "
                f"must all differ; change {KINESIS_PORT_SETTING}, {TIMESTREAM_PORT_SETTING} or "
                "the `url` property of the InfluxDB property group"
            )

    @property
    def kinesis_endpoint(self) -> str:
        return f"http://{self.host}:{self.kinesis_port}"

    @property
    def timestream_endpoint(self) -> str:
        return f"http://{self.host}:{self.timestream_port}"

    @property
    def influxdb_endpoint(self) -> str:
        return f"http://{self.host}:{self.influxdb_port}"

    @classmethod
    def from_config(
        cls, config: Config, tables: Iterable[str], state_dir: Path = STATE_DIR
    ) -> StackSettings:
        """Derive ports and names from the job's own settings so the stack and job agree."""
        if config.kinesis.region != config.timestream.region:
            raise SetupError(
                f"the Kinesis region {config.kinesis.region} and Timestream region "
                f"{config.timestream.region} differ; the local stack serves one region, so set "
                "the `region` property of both groups to the same value"
            )
        kinesis_port = _local_port(config.kinesis.endpoint, KINESIS_PORT_SETTING)
        return cls(
            tables=tuple(tables),
            kinesis_port=kinesis_port,
            kinesis_tls_port=kinesis_port - 1,
            timestream_port=_local_port(config.timestream.endpoint, TIMESTREAM_PORT_SETTING),
            influxdb_port=_local_port(config.influxdb.url,
                                      "the `url` property of the InfluxDB property group"),
            influxdb_database=config.influxdb.database,
            state_dir=state_dir,
            streams=(Stream(config.kinesis.agent_stream), Stream(config.kinesis.contact_stream)),
            database=config.timestream.database,
            region=config.kinesis.region,
        )


@dataclass(frozen=True)
class EmulatorStatus:
    name: str
    running: bool
    pid: int | None
    endpoint: str
    log_path: Path

    def __str__(self) -> str:
        state = f"running (pid {self.pid})" if self.running else "not running"
        return f"{self.name:<12} {state:<20} {self.endpoint:<24} log: {self.log_path}"


@dataclass(frozen=True)
class StackStatus:
    emulators: tuple[EmulatorStatus, ...]

    @property
    def running(self) -> bool:
        return all(e.running for e in self.emulators)

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.emulators)


@dataclass(frozen=True)
class LocalProcess:
    """A server this machine runs for the local stack, tracked by a pid file in `state_dir`."""
    name: str
    ports: tuple[tuple[int, str], ...]
    command: tuple[str, ...]
    cwd: Path
    env: dict[str, str]
    state_dir: Path

    @property
    def pid_file(self) -> Path:
        return self.state_dir / f"{self.name}.pid"

    @property
    def log_path(self) -> Path:
        return self.state_dir / f"{self.name}.log"

    @property
    def port_numbers(self) -> list[int]:
        return [port for port, _ in self.ports]


@dataclass(frozen=True)
class _Emulator(LocalProcess):
    endpoint: str
    service: str
    probe: Callable[[Any], object]


@dataclass(frozen=True)
class _PidRecord:
    pid: int
    identity: str
    ports: list[int]


def up(settings: StackSettings) -> StackStatus:
    """Start what is not running yet, wait until it answers, then create streams and tables."""
    _require_installed(settings)
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    emulators = _emulators(settings)

    def ready() -> None:
        _wait_until_answering(emulators, settings.region)
        create_streams(settings.kinesis_endpoint, settings.region, settings.streams,
                       f"see {emulators[0].log_path}")
        create_timestream_tables(settings.timestream_endpoint, settings.region,
                                 settings.database, settings.tables)

    start_missing(settings.host, emulators, ready,
                  before=lambda: local_influxdb.start(settings),
                  undo_before=lambda: local_influxdb.stop(settings))
    return _status((*emulators, local_influxdb.server(settings)))


def start_missing(host: str, processes: Sequence[LocalProcess], ready: Callable[[], None],
                  before: Callable[[], bool] = lambda: False,
                  undo_before: Callable[[], None] = lambda: None) -> None:
    """Start those of `processes` that do not run yet (every port checked first), after
    `before` (True when it started something), then wait for `ready`; on any failure stop what
    this call started."""
    to_start = [p for p in processes if not already_running(p)]
    for process in to_start:
        for port, setting in process.ports:
            require_port_free(host, port, process.name, setting)
    started: list[LocalProcess] = []
    before_started = False
    try:
        before_started = before()
        for process in to_start:
            start_process(process)
            started.append(process)
        ready()
    except BaseException:
        for process in reversed(started):
            stop_process(process)
        if before_started:
            undo_before()
        raise


def down(settings: StackSettings) -> None:
    """Stop exactly the processes our pid files name, then make sure their ports are free."""
    stopped = [e for e in _emulators(settings) if stop_process(e)]
    for emulator in stopped:
        wait_ports_released(settings.host, emulator)
    local_influxdb.stop(settings)


def status(settings: StackSettings) -> str:
    """One line per emulator, read from pid files alone so it is instant and changes nothing."""
    return str(_status((*_emulators(settings), local_influxdb.server(settings))))


def _local_port(endpoint: str, setting: str) -> int:
    """Only a plain-http loopback endpoint can be served by an emulator on this machine."""
    url = urlsplit(endpoint)
    try:
        port = url.port
    except ValueError:
        port = None
    if url.scheme != "http" or url.hostname not in LOOPBACK_HOSTS or port is None:
        raise SetupError(
            f"{setting} is {endpoint!r}, which the local stack cannot serve; use a local "
            "plain-http endpoint such as http://127.0.0.1:4568"
        )
    return port


def _require_installed(settings: StackSettings) -> None:
    require_node()
    local_influxdb.influxd_path()
    if not (settings.kinesis_mock_dir / "main.js").is_file():
        raise SetupError(
            f"kinesis-mock is not installed ({settings.kinesis_mock_dir} has no main.js); "
            f"run `npm ci` in {PROJECT_ROOT}"
        )
    require_python_module("moto.server", "install the dev extra: pip install -e '.[dev]'")


def _emulators(settings: StackSettings) -> tuple[_Emulator, _Emulator]:
    kinesis = _Emulator(
        name="kinesis-mock",
        ports=(
            (settings.kinesis_port, KINESIS_PORT_SETTING),
            (settings.kinesis_tls_port, KINESIS_TLS_PORT_SETTING),
        ),
        endpoint=settings.kinesis_endpoint,
        command=("node", str(settings.kinesis_mock_dir / "main.js")),
        # main.js opens its TLS certificate, server.json, relative to the working directory.
        cwd=settings.kinesis_mock_dir,
        env={
            "KINESIS_MOCK_PLAIN_PORT": str(settings.kinesis_port),
            "KINESIS_MOCK_TLS_PORT": str(settings.kinesis_tls_port),
            "AWS_REGION": settings.region,
            "LOG_LEVEL": "INFO",
            "CREATE_STREAM_DURATION": "100ms",
        },
        service="kinesis",
        probe=lambda client: client.list_streams(),
        state_dir=settings.state_dir,
    )
    moto = _Emulator(
        name="moto",
        ports=((settings.timestream_port, TIMESTREAM_PORT_SETTING),),
        endpoint=settings.timestream_endpoint,
        command=(
            sys.executable,
            "-m",
            "moto.server",
            "-H",
            settings.host,
            "-p",
            str(settings.timestream_port),
        ),
        cwd=settings.state_dir,
        env={},
        service="timestream-write",
        probe=lambda client: client.list_databases(),
        state_dir=settings.state_dir,
    )
    return kinesis, moto


def _client(service: str, endpoint: str, region: str) -> Any:
    """Dummy credentials, never a profile: the emulators accept any key."""
    session = boto3.session.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name=region
    )
    config = BotoConfig(connect_timeout=1, read_timeout=5, retries={"max_attempts": 1})
    return session.client(service, endpoint_url=endpoint, config=config)


def _process_identity(pid: int) -> str | None:
    """When a live process started, None when it is gone or a zombie.

    A pid alone may have been reused by another program since the pid file was written; pid
    plus start time cannot be. The command line is left out: a start script may exec the
    server it starts (Flink's do), which keeps the pid and its start time.
    """
    if Path("/proc").is_dir():
        return _proc_identity(pid)
    return _ps_identity(pid)


def _proc_identity(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    state, start_ticks = fields[0], fields[19]
    return None if state == "Z" else start_ticks


def _ps_identity(pid: int) -> str | None:
    done = subprocess.run(
        ["ps", "-o", "lstart=", "-p", str(pid)],
        capture_output=True,
        text=True,
        check=False,
    )
    identity = done.stdout.strip()
    return identity if done.returncode == 0 and identity else None


def read_record(pid_file: Path) -> _PidRecord | None:
    try:
        data = json.loads(pid_file.read_text(encoding="utf-8"))
        return _PidRecord(int(data["pid"]), str(data["identity"]), list(data["ports"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def is_alive(record: _PidRecord) -> bool:
    """Our own children are asked directly, which also reaps them once they exit."""
    child = _children.get(record.pid)
    if child is not None:
        return child.poll() is None
    return _process_identity(record.pid) == record.identity


def already_running(emulator: LocalProcess) -> bool:
    """True when our pid file names a live process on the wanted ports, so `up` can reuse it."""
    if not emulator.pid_file.exists():
        return False
    record = read_record(emulator.pid_file)
    if record is None or not is_alive(record):
        log.warning("removing stale pid file %s", emulator.pid_file)
        emulator.pid_file.unlink(missing_ok=True)
        return False
    if record.ports != emulator.port_numbers:
        raise SetupError(
            f"{emulator.name} from an earlier `dev up` runs on port(s) "
            f"{', '.join(map(str, record.ports))} (pid {record.pid}), not "
            f"{', '.join(map(str, emulator.port_numbers))}; run `connect-metrics dev down` first"
        )
    log.info("%s already running (pid %d); reusing it", emulator.name, record.pid)
    return True


def start_process(emulator: LocalProcess) -> None:
    with emulator.log_path.open("wb") as log_file:
        child = subprocess.Popen(
            emulator.command,
            cwd=emulator.cwd,
            env={**os.environ, **emulator.env},
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _children[child.pid] = child
    record = _PidRecord(child.pid, _process_identity(child.pid) or "", emulator.port_numbers)
    emulator.pid_file.write_text(json.dumps(record.__dict__) + "\n", encoding="utf-8")
    log.info("started %s (pid %d), log %s", emulator.name, child.pid, emulator.log_path)


def _wait_until_answering(emulators: Iterable[_Emulator], region: str) -> None:
    """Poll every emulator until it answers an API call, reporting progress on stderr."""
    pending = {e.name: (e, _client(e.service, e.endpoint, region)) for e in emulators}
    started_at = time.monotonic()
    next_report = started_at + PROGRESS_EVERY_S
    try:
        while pending:
            for name, (emulator, client) in list(pending.items()):
                _fail_if_exited(emulator)
                if _answers(emulator, client):
                    pending.pop(name)
            now = time.monotonic()
            if pending and now - started_at > STARTUP_TIMEOUT_S:
                emulator = next(iter(pending.values()))[0]
                raise SetupError(
                    f"{emulator.name} did not answer at {emulator.endpoint} within "
                    f"{STARTUP_TIMEOUT_S:.0f} s; see {emulator.log_path}"
                )
            if pending and now >= next_report:
                waiting = ", ".join(f"{e.name} at {e.endpoint}" for e, _ in pending.values())
                print(f"waiting for {waiting} ({now - started_at:.0f} s)", file=sys.stderr)
                next_report += PROGRESS_EVERY_S
            if pending:
                time.sleep(POLL_S)
    finally:
        for _, client in pending.values():
            client.close()


def _answers(emulator: _Emulator, client: Any) -> bool:
    try:
        emulator.probe(client)
    except (BotoCoreError, ClientError):
        return False
    client.close()
    return True


def _fail_if_exited(emulator: _Emulator) -> None:
    record = read_record(emulator.pid_file)
    if record is not None and is_alive(record):
        return
    child = _children.get(record.pid) if record else None
    code = f" with exit code {child.returncode}" if child is not None else ""
    raise SetupError(
        f"{emulator.name} exited during start-up{code}; see {emulator.log_path}"
        f"{_last_line(emulator.log_path)}"
    )


def _last_line(path: Path) -> str:
    try:
        lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return f" (last line: {lines[-1].strip()[:200]})" if lines else ""


def create_streams(endpoint: str, region: str, streams: Iterable[Stream], hint: str) -> None:
    """Idempotent, so `up` on a running stack leaves existing streams and their records alone.
    `hint` ends the message of a stream that never becomes active (where to look)."""
    client = _client("kinesis", endpoint, region)
    streams = list(streams)
    try:
        for stream in streams:
            try:
                client.create_stream(StreamName=stream.name, ShardCount=stream.shards)
                log.info("created stream %s", stream.name)
            except ClientError as err:
                if _error_code(err) != "ResourceInUseException":
                    raise
        for stream in streams:
            _wait_until_active(client, stream.name, hint)
    finally:
        client.close()


def _wait_until_active(client: Any, stream: str, hint: str) -> None:
    deadline = time.monotonic() + RESOURCE_TIMEOUT_S
    while True:
        summary = client.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
        if summary["StreamStatus"] == "ACTIVE":
            return
        if time.monotonic() > deadline:
            raise SetupError(
                f"stream {stream} is still {summary['StreamStatus']} after "
                f"{RESOURCE_TIMEOUT_S:.0f} s; {hint}"
            )
        time.sleep(0.05)


def create_timestream_tables(
    endpoint: str, region: str, database: str, tables: Iterable[str]
) -> None:
    """Create only what is missing: moto's CreateDatabase and CreateTable silently replace an
    existing database or table, dropping everything written to it."""
    client = _client("timestream-write", endpoint, region)
    try:
        if not _database_exists(client, database):
            _create_ignoring_conflict(client.create_database, DatabaseName=database)
            log.info("created Timestream database %s", database)
        existing = _table_names(client, database)
        for table in tables:
            if table not in existing:
                _create_ignoring_conflict(
                    client.create_table, DatabaseName=database, TableName=table
                )
                log.info("created Timestream table %s.%s", database, table)
    finally:
        client.close()


def _database_exists(client: Any, database: str) -> bool:
    try:
        client.describe_database(DatabaseName=database)
    except ClientError as err:
        if _error_code(err) == "ResourceNotFoundException":
            return False
        raise
    return True


def _table_names(client: Any, database: str) -> set[str]:
    names: set[str] = set()
    kwargs: dict[str, str] = {"DatabaseName": database}
    while True:
        page = client.list_tables(**kwargs)
        names.update(table["TableName"] for table in page.get("Tables", []))
        if not page.get("NextToken"):
            return names
        kwargs["NextToken"] = page["NextToken"]


def _create_ignoring_conflict(create: Callable[..., object], **kwargs: str) -> None:
    try:
        create(**kwargs)
    except ClientError as err:
        if _error_code(err) != "ConflictException":
            raise


def _error_code(err: ClientError) -> str:
    return err.response.get("Error", {}).get("Code", "")


def _status(emulators: Iterable[_Emulator]) -> StackStatus:
    return StackStatus(tuple(_emulator_status(e) for e in emulators))


def _emulator_status(emulator: _Emulator) -> EmulatorStatus:
    record = read_record(emulator.pid_file)
    running = record is not None and is_alive(record)
    return EmulatorStatus(
        name=emulator.name,
        running=running,
        pid=record.pid if running and record else None,
        endpoint=emulator.endpoint,
        log_path=emulator.log_path,
    )


def stop_process(emulator: LocalProcess) -> bool:
    """Stop the process our pid file names; a pid now used by another program is left alone."""
    if not emulator.pid_file.exists():
        return False
    record = read_record(emulator.pid_file)
    try:
        if record is None or not is_alive(record):
            log.warning("%s was not running; removing stale pid file", emulator.name)
            return False
        _terminate(emulator.name, record)
        log.info("stopped %s (pid %d)", emulator.name, record.pid)
        return True
    finally:
        emulator.pid_file.unlink(missing_ok=True)


def _terminate(name: str, record: _PidRecord) -> None:
    """SIGTERM the whole process group, SIGKILL it if it lingers."""
    for sig, grace in ((signal.SIGTERM, STOP_GRACE_S), (signal.SIGKILL, STOP_GRACE_S)):
        try:
            os.killpg(record.pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if not is_alive(record):
                _children.pop(record.pid, None)
                return
            time.sleep(0.05)
    raise SetupError(
        f"could not stop {name} (pid {record.pid}); kill it with `kill -9 {record.pid}`"
    )


def wait_ports_released(host: str, emulator: LocalProcess) -> None:
    deadline = time.monotonic() + PORT_RELEASE_S
    for port in emulator.port_numbers:
        while port_in_use(host, port):
            if time.monotonic() > deadline:
                raise SetupError(
                    f"port {port} is still in use after stopping {emulator.name}; "
                    f"`ss -ltnp 'sport = :{port}'` shows which program holds it"
                )
            time.sleep(POLL_S)
