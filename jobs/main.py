"""Starts the job: environment, sources, the graph from `jobs.pipeline`, then execute."""

from __future__ import annotations

import logging
import os
import sys
import sysconfig
from pathlib import Path
from urllib.parse import urlparse

from pyflink.common import Configuration, WatermarkStrategy
from pyflink.datastream import StreamExecutionEnvironment
from pyflink.table import StreamTableEnvironment

from connectors.kinesis_source import RAW_RECORD_TYPE, kinesis_source
from jobs.config import PROJECT_ROOT, Config
from jobs.pipeline import build_job

CONNECTOR_JAR = PROJECT_ROOT / "connectors" / "target" / "connect-metrics-connectors.jar"
JOB_NAME = "connect-metrics"
GATEWAY_PORT_ENV = "PYFLINK_GATEWAY_PORT"
LOG = logging.getLogger(__name__)


def launched_by_flink() -> bool:
    """Whether a Flink client started this interpreter (`flink run`, application mode, MSF):
    PyFlink's driver then hands it the gateway to a cluster whose settings are the cluster's."""
    return GATEWAY_PORT_ENV in os.environ


def is_loopback(endpoint: str) -> bool:
    host = urlparse(endpoint).hostname or ""
    return host == "localhost" or host.startswith("127.") or host == "::1"


def use_local_credentials(config: Config) -> None:
    """The emulators accept any key; give the AWS default chain one when only they are used."""
    if is_loopback(config.kinesis.endpoint) and is_loopback(config.timestream.endpoint):
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
        os.environ.setdefault("AWS_REGION", config.kinesis.region)
        os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")


def local_environment(
    config: Config,
    jar: Path = CONNECTOR_JAR,
    restore_from: Path | None = None,
    rest_port: int | None = None,
) -> StreamExecutionEnvironment:
    """A MiniCluster environment whose Python workers use this interpreter.

    Every key set here is one a cluster owns (MSF refuses most of them from application code),
    so only local runs come through here. Checkpoints go to `Job.checkpoint.dir` and are kept
    when the job stops, so a stopped or killed run can resume with `restore_from` (a `chk-N`
    directory).
    """
    flink_config = Configuration()
    flink_config.set_string(
        "execution.checkpointing.dir", Path(config.job.checkpoint_dir).resolve().as_uri()
    )
    flink_config.set_string(
        "execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELLATION"
    )
    if rest_port is not None:
        flink_config.set_string("rest.bind-address", "127.0.0.1")
        flink_config.set_string("rest.port", str(rest_port))
    if restore_from is not None:
        flink_config.set_string("execution.state-recovery.path", str(Path(restore_from).resolve()))
    flink_config.set_string("pipeline.jars", jar.resolve().as_uri())
    flink_config.set_string("python.executable", sys.executable)
    flink_config.set_string("python.client.executable", sys.executable)
    # In thread mode the interpreter inside the JVM starts from the base installation, not
    # this virtualenv: it is told where the packages and the project are.
    flink_config.set_string("python.pythonpath", os.pathsep.join([str(PROJECT_ROOT),
                                                                  *package_folders()]))
    # A Python step holds its output and the watermark until its bundle ends (process mode).
    flink_config.set_string("python.fn-execution.bundle.time", str(config.job.python_bundle_time_ms))
    # A local run that keeps failing should stop and say why, not restart forever.
    flink_config.set_string("restart-strategy.type", "fixed-delay")
    flink_config.set_string("restart-strategy.fixed-delay.attempts", "3")
    flink_config.set_string("restart-strategy.fixed-delay.delay", "2 s")
    env = StreamExecutionEnvironment.get_execution_environment(flink_config)
    env.set_parallelism(config.job.parallelism)
    if config.job.checkpoint_interval_ms:
        env.enable_checkpointing(config.job.checkpoint_interval_ms)
    return env


def package_folders() -> list[str]:
    """This interpreter's package folders: its own and those a `.pth` file added (a virtualenv
    that borrows another's libraries, as the cluster's and the package test's Python do)."""
    own = [sysconfig.get_path("purelib"), sysconfig.get_path("platlib")]
    borrowed = [path for path in sys.path if Path(path).name in ("site-packages", "dist-packages")]
    return list(dict.fromkeys(own + borrowed))


def add_kinesis_sources(env: StreamExecutionEnvironment, config: Config) -> list:
    settings = config.kinesis
    return [
        env.from_source(
            kinesis_source(
                stream,
                region=settings.region,
                endpoint=settings.endpoint,
                initial_position=settings.initial_position,
                poll_interval_ms=settings.poll_interval_ms,
                shard_discovery_interval_ms=settings.shard_discovery_interval_ms,
                idle_clock_ms=settings.idle_clock_ms,
            ),
            WatermarkStrategy.no_watermarks(),
            f"kinesis {stream}",
            type_info=RAW_RECORD_TYPE,
        ).uid(f"kinesis-{feed}-source")
        for feed, stream in (("agent-events", settings.agent_stream),
                             ("contact-events", settings.contact_stream))
    ]


def build(config: Config, env: StreamExecutionEnvironment) -> StreamTableEnvironment:
    """The job on its Kinesis sources; returns the table environment of its SQL part."""
    return build_job(env, config, add_kinesis_sources(env, config))


def run(config: Config, env: StreamExecutionEnvironment) -> None:
    build(config, env)
    LOG.info("starting %s", JOB_NAME)
    env.execute(JOB_NAME)
