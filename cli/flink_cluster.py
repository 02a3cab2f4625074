"""A standalone Flink cluster on this machine that runs the application zip the way MSF does.

The Flink distribution inside the PyFlink wheel (its `bin/` scripts and `lib/`) runs as one
JobManager and `task_managers` TaskManagers, each a process of its own, with the settings MSF
manages for an application (`deploy/flink-cluster.yaml`: RocksDB state, checkpoints, restart
strategy) and this machine's ports and folders, in a configuration folder of its own
(`FLINK_CONF_DIR`). `submit` unpacks an application zip and runs its `main.py` with `flink run`,
its jar and Python folders named as MSF's run options name them. The cluster's Python sees the
project's libraries but not the checkout, so the job's code comes from the zip alone.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sysconfig
import time
import urllib.error
import urllib.request
import venv
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from deploy.package import LAYOUT
from jobs.config import PROJECT_ROOT
from cli.local_stack import (
    LocalProcess, already_running, read_record, start_missing, stop_process,
    wait_ports_released,
)
from jobs.main import GATEWAY_PORT_ENV, package_folders
from cli.prerequisites import SetupError

log = logging.getLogger(__name__)

MANAGED_SETTINGS = PROJECT_ROOT / "deploy" / "flink-cluster.yaml"
START_TIMEOUT_S = 180.0
PROGRESS_EVERY_S = 10.0
POLL_S = 0.5
NO_WATERMARK = -(2**63)  # what the REST API shows for a subtask that has had none
# The settings of this machine's cluster that MSF does not decide (it sizes its own workers).
LOCAL_SETTINGS = {
    "jobmanager.memory.process.size": "1024m",
    "taskmanager.memory.process.size": "1728m",
    # A TaskManager killed outright is noticed within seconds, not Flink's default 50 s.
    "heartbeat.interval": "2 s",
    "heartbeat.timeout": "10 s",
}


class ClusterError(SetupError):
    """The cluster or a job on it did not do what was asked; the message says what to look at."""


@dataclass(frozen=True)
class ClusterSettings:
    state_dir: Path = PROJECT_ROOT / ".local" / "cluster"
    host: str = "127.0.0.1"
    rest_port: int = 8081
    rpc_port: int = 6123
    task_managers: int = 2
    # One slot each, as MSF gives one per KPU by default: a job at parallelism 2 runs on both
    # TaskManagers, and one lost stops it until a replacement registers.
    slots_per_task_manager: int = 1
    # Settings that replace the managed ones for this cluster (a test's shorter checkpoints).
    overrides: dict[str, str] = field(default_factory=dict)

    @property
    def rest_url(self) -> str:
        return f"http://{self.host}:{self.rest_port}"

    @property
    def conf_dir(self) -> Path:
        return self.state_dir / "conf"

    @property
    def savepoint_dir(self) -> Path:
        return self.state_dir / "savepoints"

    @property
    def lib_dir(self) -> Path:
        return self.state_dir / "lib"

    @property
    def python_dir(self) -> Path:
        return self.state_dir / "python"

    @property
    def python(self) -> Path:
        return self.python_dir / "bin" / "python"


def flink_home() -> Path:
    """The Flink distribution inside the installed PyFlink wheel."""
    import pyflink

    return Path(pyflink.__file__).resolve().parent


def managed_settings(path: Path = MANAGED_SETTINGS) -> dict[str, str]:
    """The settings MSF manages, as Flink configuration strings."""
    values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(key): _text(value) for key, value in values.items()}


def configuration(settings: ClusterSettings) -> dict[str, str]:
    """The cluster's whole Flink configuration: the distribution's own (the JVM options Flink
    needs), the settings MSF manages, this machine's."""
    shipped = yaml.safe_load((flink_home() / "conf" / "config.yaml").read_text(encoding="utf-8"))
    return {
        **_flatten(shipped or {}),
        **managed_settings(),
        **LOCAL_SETTINGS,
        "jobmanager.rpc.address": settings.host,
        "jobmanager.rpc.port": str(settings.rpc_port),
        "jobmanager.bind-host": settings.host,
        "taskmanager.bind-host": settings.host,
        "taskmanager.host": settings.host,
        "rest.address": settings.host,
        "rest.bind-address": settings.host,
        "rest.port": str(settings.rest_port),
        "taskmanager.numberOfTaskSlots": str(settings.slots_per_task_manager),
        "execution.checkpointing.dir": (settings.state_dir / "checkpoints").resolve().as_uri(),
        "execution.checkpointing.savepoint-dir": settings.savepoint_dir.resolve().as_uri(),
        "python.executable": str(settings.python),
        "python.client.executable": str(settings.python),
        # Thread mode's interpreter inside the JVM starts from the base installation.
        "python.pythonpath": os.pathsep.join(package_folders()),
        **settings.overrides,
    }


def python_without_the_checkout(folder: Path) -> Path:
    """A virtualenv that sees this interpreter's libraries but not the checkout.

    The project virtualenv holds the checkout as an editable install: a `.pth` file there puts a
    finder for `jobs`, `connectors` and `deploy` on `sys.meta_path`. A folder named in another
    `.pth` file is only appended to `sys.path`, its own `.pth` files unread, so the libraries
    (PyFlink, boto3, ...) come along and the finder does not.
    """
    python = folder / "bin" / "python"
    if not python.exists():
        venv.create(folder, with_pip=False, symlinks=True)
        site = Path(sysconfig.get_path("purelib", vars={"base": str(folder)}))
        (site / "project-libraries.pth").write_text(
            "\n".join(package_folders()) + "\n", encoding="utf-8")
    return python


def link_libraries(folder: Path) -> list[Path]:
    """The cluster's `lib/`: the distribution's jars and flink-python, as the job image has them.

    With flink-python on the JVM's own class path, the embedded Python interpreter of thread
    mode (pemja) is loaded once per TaskManager. Loaded with each job's classes instead, a second
    job on the same TaskManagers (a restore from a savepoint) fails to open its Python operators
    on Java 17: pemja cannot load its native library into a second class loader.
    """
    home = flink_home()
    jars = sorted(home.glob("lib/*.jar")) + sorted(home.glob("opt/flink-python-*.jar"))
    if not any(jar.name.startswith("flink-python-") for jar in jars):
        raise ClusterError(f"no flink-python jar in {home / 'opt'}; reinstall apache-flink")
    folder.mkdir(parents=True, exist_ok=True)
    wanted = {jar.name: jar for jar in jars}
    for link in folder.iterdir():  # those of another PyFlink version would be loaded twice
        if link.name not in wanted or link.resolve() != wanted[link.name]:
            link.unlink()
    for name, jar in wanted.items():
        if not (folder / name).exists():
            (folder / name).symlink_to(jar)
    return sorted(folder.iterdir())


def up(settings: ClusterSettings) -> str:
    """Start what is not running yet (a TaskManager that died is replaced, as MSF replaces
    one) and wait until every TaskManager has registered."""
    _write_conf(settings)
    link_libraries(settings.lib_dir)
    python_without_the_checkout(settings.python_dir)
    processes = _processes(settings)
    start_missing(settings.host, processes, lambda: _wait_until_registered(settings, processes))
    return status(settings)


def down(settings: ClusterSettings) -> None:
    """Stop the TaskManagers, then the JobManager (what our pid files name)."""
    for process in reversed(_processes(settings)):
        if stop_process(process):
            wait_ports_released(settings.host, process)


def status(settings: ClusterSettings) -> str:
    overview = _get(settings, "/overview", quiet=True)
    if overview is None:
        return f"flink cluster  not answering at {settings.rest_url}  logs: {settings.state_dir}"
    return (f"flink cluster  {settings.rest_url}  TaskManagers {overview['taskmanagers']}, "
            f"slots {overview['slots-available']} free of {overview['slots-total']}, "
            f"jobs running {overview['jobs-running']}  logs: {settings.state_dir}")


def task_manager_pid(settings: ClusterSettings, number: int) -> int:
    """The process id of TaskManager `number` (1-based), from its pid file."""
    record = read_record(_processes(settings)[number].pid_file)
    if record is None:
        raise ClusterError(f"no pid file of TaskManager {number} in {settings.state_dir}; "
                           "is the cluster up (`connect-metrics dev cluster status`)?")
    return record.pid


def submit(settings: ClusterSettings, application_zip: Path, properties: Path,
           parallelism: int, savepoint: str | None = None) -> str:
    """Run the zip's `main.py` on the cluster as MSF does, detached; returns the job id."""
    folder = settings.state_dir / "applications" / f"{application_zip.stem}-{time.time_ns()}"
    with zipfile.ZipFile(application_zip) as archive:
        archive.extractall(folder)
    command = [str(flink_home() / "bin" / "flink"), "run", "--detached",
               "--parallelism", str(parallelism)]
    if savepoint:
        command += ["--fromSavepoint", savepoint]
    command += ["--python", LAYOUT.entry_script, "--pyFiles", ",".join(LAYOUT.py_files),
                "--jarfile", LAYOUT.jar]
    env = {key: value for key, value in os.environ.items() if key != GATEWAY_PORT_ENV}
    env.update(_process_env(settings), CONNECT_METRICS_PROPERTIES=str(Path(properties).resolve()))
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True,
                          check=False, timeout=300)
    match = re.search(r"JobID ([0-9a-f]{32})", done.stdout)
    if done.returncode != 0 or match is None:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-30:])
        raise ClusterError(f"`flink run` of {application_zip} failed (exit {done.returncode}); "
                           f"the cluster's logs are in {settings.state_dir}:\n{tail}")
    return match.group(1)


def job(settings: ClusterSettings, job_id: str) -> dict:
    """The REST API's view of the job: state, vertices, timestamps."""
    return _get(settings, f"/jobs/{job_id}")


def failures(settings: ClusterSettings, job_id: str) -> list[str]:
    """The job's failures so far (each followed by a restart while the strategy allows)."""
    history = _get(settings, f"/jobs/{job_id}/exceptions")["exceptionHistory"]["entries"]
    return [entry["exceptionName"] for entry in history]


def input_watermark(settings: ClusterSettings, job_id: str, vertex_name: str) -> int:
    """The lowest input watermark among the subtasks of the job's vertices whose names start
    with `vertex_name` (a chain's first operator; the metric sinks are one per table);
    `NO_WATERMARK` until every subtask has one."""
    vertices = [v for v in job(settings, job_id)["vertices"] if v["name"].startswith(vertex_name)]
    if not vertices:
        raise ClusterError(f"job {job_id} has no vertex named {vertex_name!r}")
    values = [int(m["value"]) for vertex in vertices for m in _get(
        settings, f"/jobs/{job_id}/vertices/{vertex['id']}/watermarks")
        if m["id"].endswith(".currentInputWatermark")]
    return min(values, default=NO_WATERMARK)


def completed_checkpoints(settings: ClusterSettings, job_id: str) -> int:
    return _get(settings, f"/jobs/{job_id}/checkpoints")["counts"]["completed"]


def wait_for_state(settings: ClusterSettings, job_id: str, wanted: str,
                   timeout_s: float = START_TIMEOUT_S) -> None:
    """Wait until the job is in state `wanted` and, for RUNNING, every subtask runs too."""
    deadline = time.monotonic() + timeout_s
    seen = None
    while time.monotonic() < deadline:
        seen = job(settings, job_id)
        if seen["state"] == wanted and (wanted != "RUNNING" or all(
                v["status"] == "RUNNING" for v in seen["vertices"])):
            return
        if seen["state"] in ("FAILED", "CANCELED") and wanted not in ("FAILED", "CANCELED"):
            break
        time.sleep(POLL_S)
    state = seen["state"] if seen else "unknown"
    raise ClusterError(f"job {job_id} is {state}, not {wanted}; see {settings.rest_url}/#/job/"
                       f"{job_id} and the logs in {settings.state_dir}")


def stop_with_savepoint(settings: ClusterSettings, job_id: str,
                        timeout_s: float = START_TIMEOUT_S) -> str:
    """Stop the job with a savepoint (as MSF does before an update or scaling); its path."""
    trigger = _post(settings, f"/jobs/{job_id}/stop", {
        "targetDirectory": settings.savepoint_dir.resolve().as_uri(), "drain": False})
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        answer = _get(settings, f"/jobs/{job_id}/savepoints/{trigger['request-id']}")
        if answer["status"]["id"] == "COMPLETED":
            operation = answer["operation"]
            if "failure-cause" in operation:
                raise ClusterError(f"savepoint of job {job_id} failed: "
                                   f"{operation['failure-cause'].get('stack-trace', '')[:2000]}")
            wait_for_state(settings, job_id, "FINISHED")
            return operation["location"]
        time.sleep(POLL_S)
    raise ClusterError(f"savepoint of job {job_id} not done in {timeout_s:.0f} s")


def cancel(settings: ClusterSettings, job_id: str) -> None:
    """Cancel the job (its retained checkpoints stay) and wait until it is gone."""
    request = urllib.request.Request(f"{settings.rest_url}/jobs/{job_id}?mode=cancel",
                                     method="PATCH")
    with urllib.request.urlopen(request, timeout=30):
        pass
    wait_for_state(settings, job_id, "CANCELED")


def _processes(settings: ClusterSettings) -> list[LocalProcess]:
    bin_dir = flink_home() / "bin"
    env = _process_env(settings)
    jobmanager = LocalProcess(
        name="flink-jobmanager",
        ports=((settings.rest_port, "ClusterSettings.rest_port"),
               (settings.rpc_port, "ClusterSettings.rpc_port")),
        command=(str(bin_dir / "jobmanager.sh"), "start-foreground"),
        cwd=settings.state_dir, env=env, state_dir=settings.state_dir,
    )
    return [jobmanager] + [
        LocalProcess(name=f"flink-taskmanager-{number}", ports=(),
                     command=(str(bin_dir / "taskmanager.sh"), "start-foreground"),
                     cwd=settings.state_dir, env=env, state_dir=settings.state_dir)
        for number in range(1, settings.task_managers + 1)
    ]


def _process_env(settings: ClusterSettings) -> dict[str, str]:
    """Where the Flink scripts find their configuration and put their logs; the emulators'
    dummy credentials unless real ones are set."""
    env = {"FLINK_CONF_DIR": str(settings.conf_dir), "FLINK_LOG_DIR": str(settings.state_dir),
           "FLINK_LIB_DIR": str(settings.lib_dir)}
    for key, value in (("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test"),
                       ("AWS_REGION", "us-east-1"), ("AWS_EC2_METADATA_DISABLED", "true")):
        env[key] = os.environ.get(key, value)
    return env


def _write_conf(settings: ClusterSettings) -> None:
    settings.conf_dir.mkdir(parents=True, exist_ok=True)
    shipped = flink_home() / "conf"
    for name in ("log4j-console.properties", "log4j-cli.properties", "log4j.properties"):
        shutil.copy(shipped / name, settings.conf_dir / name)
    (settings.conf_dir / "config.yaml").write_text(
        yaml.safe_dump(configuration(settings), sort_keys=True), encoding="utf-8")


def _wait_until_registered(settings: ClusterSettings, processes: list[LocalProcess]) -> None:
    started = time.monotonic()
    next_report = started + PROGRESS_EVERY_S
    wanted = settings.task_managers
    while True:
        overview = _get(settings, "/overview", quiet=True)
        registered = overview["taskmanagers"] if overview else 0
        if registered >= wanted:
            return
        for process in processes:
            if not already_running(process):
                raise ClusterError(f"{process.name} exited while starting; see "
                                   f"{process.log_path} and the logs in {settings.state_dir}")
        now = time.monotonic()
        if now - started > START_TIMEOUT_S:
            raise ClusterError(f"{registered} of {wanted} TaskManagers registered after "
                               f"{START_TIMEOUT_S:.0f} s; see the logs in {settings.state_dir}")
        if now >= next_report:
            log.warning("flink cluster: %d of %d TaskManagers registered after %.0f s",
                        registered, wanted, now - started)
            next_report = now + PROGRESS_EVERY_S
        time.sleep(POLL_S)


def _get(settings: ClusterSettings, path: str, quiet: bool = False):
    try:
        with urllib.request.urlopen(settings.rest_url + path, timeout=10) as response:
            return json.load(response)
    except (OSError, ValueError) as err:
        if quiet:
            return None
        raise ClusterError(f"the cluster's REST API at {settings.rest_url}{path} did not answer "
                           f"({err}); is it up (`connect-metrics dev cluster status`)?") from None


def _post(settings: ClusterSettings, path: str, body: dict) -> dict:
    request = urllib.request.Request(
        settings.rest_url + path, data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)
    except urllib.error.HTTPError as err:
        raise ClusterError(f"{settings.rest_url}{path}: HTTP {err.code}: "
                           f"{err.read().decode(errors='replace')[:500]}") from None


def _flatten(values: dict, prefix: str = "") -> dict[str, str]:
    """Nested YAML maps as Flink's dotted keys."""
    flat: dict[str, str] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = _text(value)
    return flat


def _text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)
