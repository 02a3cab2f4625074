"""docker-compose.yml and docker/, checked statically: no Docker engine is needed.

The compose stack must run the demo of `make demo`: pinned images, files that exist, ports on
loopback only, and a job configuration whose endpoints are the emulator services and whose
streams and tables are the ones the init service creates.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from connectors.settings import InfluxDBSettings
from jobs.config import PROJECT_ROOT, Config
from cli.flink_cluster import managed_settings
from cli.local_stack import StackSettings

COMPOSE_FILE = PROJECT_ROOT / "docker-compose.yml"
PROPERTIES_IN_CONTAINER = "/etc/flink/application_properties.json"
PROJECT_IN_CONTAINER = "/opt/connect-metrics"
DATA_IN_CONTAINER = "/var/lib/connect-metrics"
JOB_SERVICES = ("init", "jobmanager", "taskmanager", "simulator", "metrics")
# An exact release: major.minor.patch, optionally followed by a variant (`-scala_2.12-java17`).
EXACT_TAG = re.compile(r"^\d+\.\d+\.\d+(?:[-_.][A-Za-z0-9_.-]+)?$")
INTERPOLATION = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")
# `CONNECT_METRICS_PROPERTIES=... docker compose up`: the job writes to the influxdb service.
INFLUXDB_TARGET = {"CONNECT_METRICS_PROPERTIES": "application_properties.influxdb.json"}


def _compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


COMPOSE = _compose()
SERVICES: dict[str, dict] = COMPOSE["services"]


def _dockerfiles() -> list[Path]:
    found = set()
    for service in SERVICES.values():
        build = service.get("build")
        if build:
            context = PROJECT_ROOT / (build if isinstance(build, str) else build.get("context", "."))
            dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile",
                                                                                  "Dockerfile")
            found.add((context / dockerfile).resolve())
    return sorted(found)


DOCKERFILES = _dockerfiles()


def _from_lines(dockerfile: Path) -> list[tuple[str, str | None]]:
    """(image, stage name) of every FROM line."""
    stages = []
    for line in dockerfile.read_text(encoding="utf-8").splitlines():
        words = line.split()
        if words and words[0].upper() == "FROM":
            args = [w for w in words[1:] if not w.startswith("--")]
            name = args[2] if len(args) >= 3 and args[1].upper() == "AS" else None
            stages.append((args[0], name))
    return stages


def _tag_problem(image: str) -> str | None:
    """None when `image` names one exact release, else what is wrong with it."""
    if "@sha256:" in image:
        return None
    name, _, tag = image.rpartition(":")
    if not name or "/" in tag:
        return f"{image} has no tag"
    if tag == "latest":
        return f"{image} uses latest"
    if not EXACT_TAG.match(tag):
        return f"{image}: tag {tag!r} is not an exact major.minor.patch version"
    return None


def _port_mappings(service: dict) -> list[tuple[str, int, int]]:
    """(host ip, host port, container port) of each published port."""
    mappings = []
    for port in service.get("ports", []):
        if isinstance(port, dict):
            mappings.append((port.get("host_ip", ""), int(port["published"]), int(port["target"])))
            continue
        parts = str(port).split("/")[0].split(":")
        if len(parts) == 3:
            mappings.append((parts[0], int(parts[1]), int(parts[2])))
        elif len(parts) == 2:
            mappings.append(("", int(parts[0]), int(parts[1])))
        else:
            mappings.append(("", int(parts[0]), int(parts[0])))
    return mappings


def _interpolated(text: str, environ: dict[str, str] | None = None) -> str:
    """`text` with ${NAME:-default} as compose substitutes it from `environ`."""
    return INTERPOLATION.sub(lambda m: (environ or {}).get(m.group(1)) or m.group(2) or "", text)


def _bind_mounts(service: dict, environ: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """(host path, container path) of each bind mount (named volumes have no host path)."""
    mounts = []
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            if volume.get("type") == "bind":
                mounts.append((volume["source"], volume["target"]))
            continue
        source, target = _interpolated(str(volume), environ).split(":")[:2]
        if source.startswith((".", "/", "~")):
            mounts.append((source, target))
    return mounts


def _command(service: dict) -> list[str]:
    command = service.get("command", [])
    return shlex.split(command) if isinstance(command, str) else [str(c) for c in command]


def _option(command: list[str], name: str) -> str:
    assert name in command, f"{name} missing from {command}"
    return command[command.index(name) + 1]


def _properties_host_path(service_name: str, environ: dict[str, str] | None = None) -> Path:
    mounts = dict((target, source)
                  for source, target in _bind_mounts(SERVICES[service_name], environ))
    assert PROPERTIES_IN_CONTAINER in mounts, (
        f"{service_name} does not mount the job's properties at {PROPERTIES_IN_CONTAINER}"
    )
    return (PROJECT_ROOT / mounts[PROPERTIES_IN_CONTAINER]).resolve()


def _compose_config(environ: dict[str, str] | None = None) -> Config:
    return Config.load(_properties_host_path("jobmanager", environ))


def _in_repo(container_path: str) -> Path:
    """The repository file the job image holds at `container_path` (it copies the repo there)."""
    assert container_path.startswith(PROJECT_IN_CONTAINER + "/"), container_path
    return PROJECT_ROOT / container_path.removeprefix(PROJECT_IN_CONTAINER + "/")


def _flink_properties(service_name: str) -> dict[str, str]:
    text = SERVICES[service_name]["environment"]["FLINK_PROPERTIES"]
    pairs = (line.split(":", 1) for line in text.splitlines() if line.strip())
    return {key.strip(): value.strip() for key, value in pairs}


def _env(service_name: str) -> dict[str, str]:
    return {k: str(v) for k, v in (SERVICES[service_name].get("environment") or {}).items()}


def _load_init_script():
    command = _command(SERVICES["init"])
    script = next(Path(word) for word in command if word.endswith(".py"))
    path = PROJECT_ROOT / script if not script.is_absolute() else _in_repo(str(script))
    spec = importlib.util.spec_from_file_location("compose_create_resources", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_demo_services_are_all_there():
    assert set(SERVICES) >= {"kinesis", "timestream", "influxdb", "init", "jobmanager",
                             "taskmanager", "simulator"}


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_image_is_pinned_or_built_from_a_dockerfile_in_the_repo(name):
    service = SERVICES[name]
    build = service.get("build")
    if build:
        context = PROJECT_ROOT / (build if isinstance(build, str) else build.get("context", "."))
        assert context.is_dir(), f"{name}: build context {context} does not exist"
        dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile",
                                                                            "Dockerfile")
        assert (context / dockerfile).is_file(), f"{name}: {context / dockerfile} does not exist"
    else:
        assert "image" in service, f"{name} has neither an image nor a build"
    if "image" in service:
        problem = _tag_problem(service["image"])
        assert problem is None, f"{name}: {problem}"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_every_dockerfile_base_image_is_pinned(dockerfile):
    stages: set[str] = set()
    froms = _from_lines(dockerfile)
    assert froms, f"{dockerfile} has no FROM"
    for image, stage in froms:
        if image not in stages:
            problem = _tag_problem(image)
            assert problem is None, f"{dockerfile.name}: FROM {problem}"
        if stage:
            stages.add(stage)


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_every_dockerfile_copies_files_that_exist(dockerfile):
    for line in dockerfile.read_text(encoding="utf-8").splitlines():
        words = line.split()
        if not words or words[0].upper() != "COPY" or any(w.startswith("--from") for w in words):
            continue
        sources = [w for w in words[1:-1] if not w.startswith("--")]
        for source in sources:
            if source != ".":
                assert (PROJECT_ROOT / source).exists(), f"{dockerfile.name}: COPY {source} missing"


def test_the_job_image_matches_the_python_flink_version():
    """PyFlink on the cluster must be the same release as the Flink the image runs."""
    lock = (PROJECT_ROOT / "requirements.lock").read_text(encoding="utf-8")
    pyflink = re.search(r"^apache-flink==(\S+)$", lock, re.M).group(1)
    job_dockerfile = PROJECT_ROOT / SERVICES["jobmanager"]["build"]["dockerfile"]
    flink_images = [image for image, _ in _from_lines(job_dockerfile)
                    if image.startswith("flink:")]
    assert flink_images == [f"flink:{pyflink}-scala_2.12-java17"]


def test_kinesis_mock_is_the_npm_version_the_local_stack_uses():
    lock = (PROJECT_ROOT / "package-lock.json").read_text(encoding="utf-8")
    version = re.search(r'"node_modules/kinesis-local":\s*{\s*"version":\s*"([^"]+)"', lock)
    assert SERVICES["kinesis"]["image"].endswith(f":{version.group(1)}")
    dockerfile = (PROJECT_ROOT / SERVICES["kinesis"]["build"]["dockerfile"]).read_text()
    assert "npm ci" in dockerfile and "COPY package.json package-lock.json" in dockerfile


def test_moto_is_the_version_the_local_stack_uses():
    lock = (PROJECT_ROOT / "requirements.lock").read_text(encoding="utf-8")
    moto = re.search(r"^moto==(\S+)$", lock, re.M).group(1)
    assert SERVICES["timestream"]["image"] == f"motoserver/moto:{moto}"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_mounted_host_paths_exist(name):
    for source, target in _bind_mounts(SERVICES[name]):
        assert (PROJECT_ROOT / source).exists(), f"{name}: {source} (mounted at {target}) missing"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_published_ports_bind_to_loopback_only(name):
    for host_ip, host_port, _ in _port_mappings(SERVICES[name]):
        assert host_ip == "127.0.0.1", f"{name}: port {host_port} is published on all interfaces"


@pytest.mark.parametrize("environ", [None, INFLUXDB_TARGET], ids=["timestream", "influxdb"])
@pytest.mark.parametrize("name", JOB_SERVICES)
def test_job_image_services_read_the_same_properties(name, environ):
    assert _properties_host_path(name, environ) == _properties_host_path("jobmanager", environ)
    assert _properties_host_path(name, environ).is_file()
    command = _command(SERVICES[name])
    if "--config" in command:
        assert _option(command, "--config") == PROPERTIES_IN_CONTAINER


@pytest.mark.parametrize("name", JOB_SERVICES)
def test_job_image_services_have_dummy_aws_credentials(name):
    env = _env(name)
    assert env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY")
    assert env.get("AWS_REGION") == _compose_config().kinesis.region


@pytest.mark.parametrize(
    "group, service, listen_env",
    [("kinesis", "kinesis", "KINESIS_MOCK_PLAIN_PORT"), ("timestream", "timestream", "MOTO_PORT")],
)
def test_the_job_endpoints_are_the_emulator_services(group, service, listen_env):
    endpoint = urlsplit(getattr(_compose_config(), group).endpoint)
    assert endpoint.scheme == "http"
    assert endpoint.hostname == service, f"{group} endpoint {endpoint.geturl()} is not {service}"
    assert service in SERVICES
    assert _env(service)[listen_env] == str(endpoint.port), (
        f"{service} listens on {_env(service)[listen_env]}, the job calls port {endpoint.port}"
    )
    published = {container: host for _, host, container in _port_mappings(SERVICES[service])}
    assert published.get(endpoint.port) == endpoint.port, (
        f"{service}: container port {endpoint.port} should be published on the same host port"
    )
    healthcheck = " ".join(map(str, SERVICES[service]["healthcheck"]["test"]))
    assert str(endpoint.port) in healthcheck


def test_the_emulators_serve_the_job_region():
    config = _compose_config()
    assert config.kinesis.region == config.timestream.region == _env("kinesis")["AWS_REGION"]


def test_the_job_paths_exist_in_the_image_and_are_shared():
    config = _compose_config()
    assert _in_repo(config.job.sql_dir).is_dir()
    flink = _flink_properties("jobmanager")
    assert flink == _flink_properties("taskmanager")
    assert flink["execution.checkpointing.dir"] == f"file://{config.job.checkpoint_dir}"
    dead_letters = config.job.dead_letter.removeprefix("jsonl:")
    for path in (config.job.checkpoint_dir, dead_letters):
        assert path.startswith(DATA_IN_CONTAINER + "/"), path
    for name in ("jobmanager", "taskmanager"):
        volumes = [str(v) for v in SERVICES[name]["volumes"]]
        shared = [v for v in volumes if v.split(":")[1] == DATA_IN_CONTAINER]
        assert shared and shared[0].split(":")[0] in COMPOSE.get("volumes", {}), (
            f"{name} must mount a named volume at {DATA_IN_CONTAINER}"
        )


def test_the_flink_cluster_runs_python_from_the_image_venv():
    flink = _flink_properties("jobmanager")
    assert flink["jobmanager.rpc.address"] == "jobmanager"
    assert flink["python.executable"] == flink["python.client.executable"] == "/opt/venv/bin/python"
    job_dockerfile = (PROJECT_ROOT / SERVICES["jobmanager"]["build"]["dockerfile"]).read_text()
    assert "python3 -m venv /opt/venv" in job_dockerfile


@pytest.mark.parametrize("name", ["jobmanager", "taskmanager"])
def test_the_cluster_has_the_settings_msf_manages_as_the_local_cluster_has_them(name):
    managed = managed_settings()
    assert {"state.backend.type", "restart-strategy.type"} <= managed.keys()
    flink = _flink_properties(name)
    assert {key: flink.get(key) for key in managed} == managed


def test_the_job_is_submitted_in_application_mode_with_main_py():
    command = _command(SERVICES["jobmanager"])
    assert command[0] == "standalone-job"
    assert _option(command, "--job-classname") == "org.apache.flink.client.python.PythonDriver"
    assert _in_repo(_option(command, "-py")).is_file()
    assert _command(SERVICES["taskmanager"]) == ["taskmanager"]


def test_the_init_step_creates_the_streams_and_tables_the_job_uses():
    config = _compose_config()
    wanted = _load_init_script().resources(config, _in_repo(config.job.sql_dir))
    assert set(wanted.streams) == {config.kinesis.agent_stream, config.kinesis.contact_stream}
    assert set(wanted.streams) == {"agent-events", "contact-events"}
    assert wanted.database == config.timestream.database == "connect_metrics"
    assert set(wanted.tables) == {p.stem for p in (PROJECT_ROOT / "sql").glob("*.sql")}


def test_the_simulator_publishes_the_demo_contact_centre():
    command = _command(SERVICES["simulator"])
    assert command[:2] == ["connect-metrics", "simulate"]
    options = {name: _option(command, name) for name in
               ("--agents", "--queues", "--rate", "--backlog", "--seed")}
    assert options == {"--agents": "30", "--queues": "3", "--rate": "6", "--backlog": "10m",
                       "--seed": "7"}
    assert "--out" not in command


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_dependencies_wait_for_the_right_condition(name):
    for dependency, rule in (SERVICES[name].get("depends_on") or {}).items():
        assert dependency in SERVICES, f"{name} depends on unknown service {dependency}"
        condition = rule["condition"]
        if condition == "service_healthy":
            assert "healthcheck" in SERVICES[dependency], f"{dependency} has no healthcheck"
        elif condition == "service_completed_successfully":
            assert SERVICES[dependency].get("restart", "no") == "no"
        else:
            pytest.fail(f"{name} -> {dependency}: {condition} does not wait for readiness")


def test_the_order_is_emulators_then_init_then_job_and_simulator():
    def waits_for(name: str, dependency: str, condition: str) -> bool:
        rule = (SERVICES[name].get("depends_on") or {}).get(dependency)
        return rule is not None and rule["condition"] == condition

    assert waits_for("init", "kinesis", "service_healthy")
    assert waits_for("init", "timestream", "service_healthy")
    assert waits_for("init", "influxdb", "service_healthy")
    for name in ("jobmanager", "simulator"):
        assert waits_for(name, "init", "service_completed_successfully")
    assert waits_for("taskmanager", "jobmanager", "service_healthy")


def test_influxdb_is_the_server_the_local_stack_runs():
    """Version, database and port as `make setup` and `connect-metrics dev up` have them, so
    the compose stack and the local stack do not drift apart."""
    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    version = re.search(r"^INFLUXDB_VERSION := v(\S+)$", makefile, re.M).group(1)
    service = SERVICES["influxdb"]
    assert service["image"] == f"influxdb:{version}"
    local = StackSettings()
    assert _env("influxdb")["INFLUXDB_DB"] == local.influxdb_database == InfluxDBSettings().database
    listens = int(_env("influxdb")["INFLUXDB_HTTP_BIND_ADDRESS"].rpartition(":")[2])
    assert listens == local.influxdb_port == urlsplit(InfluxDBSettings().url).port
    assert [(host, container) for _, host, container in _port_mappings(service)] == [
        (listens, listens)]
    assert f":{listens}/ping" in " ".join(map(str, service["healthcheck"]["test"]))


def test_the_influxdb_properties_write_to_the_influxdb_service():
    config = _compose_config(INFLUXDB_TARGET)
    assert config.timestream.target == "influxdb"
    url = urlsplit(config.influxdb.url)
    assert (url.scheme, url.hostname) == ("http", "influxdb")
    assert url.port == int(_env("influxdb")["INFLUXDB_HTTP_BIND_ADDRESS"].rpartition(":")[2])
    assert config.influxdb.database == _env("influxdb")["INFLUXDB_DB"]
    # Otherwise the same job: streams, time zone, paths and Timestream settings.
    timestream = _compose_config()
    assert replace(config, timestream=replace(config.timestream, target="timestream"),
                   influxdb=timestream.influxdb) == timestream


def test_the_dashboard_waits_for_the_database_of_either_target():
    depends = SERVICES["metrics"]["depends_on"]
    assert {name: depends[name]["condition"] for name in ("timestream", "influxdb")} == {
        "timestream": "service_healthy", "influxdb": "service_healthy"}


def test_the_job_image_holds_every_package_the_project_installs():
    """`connect-metrics` in the image (simulator, top) imports `cli` and `deploy`; a package the
    image's build context leaves out fails only when a container runs it."""
    import tomllib

    include = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"]["find"]["include"]
    allowed = set((PROJECT_ROOT / "docker" / "Dockerfile.dockerignore").read_text().split())
    missing = [pattern.rstrip("*") for pattern in include
               if f"!{pattern.rstrip('*')}/" not in allowed]
    assert missing == [], f"add !NAME/ to docker/Dockerfile.dockerignore for: {missing}"
