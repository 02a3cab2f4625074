"""Entry script of the Amazon Managed Service for Apache Flink (MSF) application.

MSF runs this file (`kinesis.analytics.flink.run.options`: `python` = `main.py`) from the root of
the application zip that `deploy/package.py` builds. The job's own packages sit in `app/` and the
Python libraries the MSF runtime lacks in `lib/python/`; both folders are listed on `pyFiles`, so
the Python workers import from them, and this script puts them on `sys.path` for itself too.

On MSF the configuration is the application's property groups
(`/etc/flink/application_properties.json`). On any cluster (MSF, `flink run`, docker-compose's
application mode) the Flink settings (state backend, checkpointing, parallelism, restart strategy)
belong to the cluster: the job sets only keys MSF lets code set (`jobs.msf`). Run by `python`
itself, it runs the same job in a local MiniCluster. Off MSF, the file named in
`CONNECT_METRICS_PROPERTIES` configures it, or the defaults that target the local emulators.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Folders of the application zip that hold importable code (see deploy/package.py).
CODE_FOLDERS = ("app", "lib/python")
# The connector jar in the zip (MSF takes it from `jarfile`; a local run of the zip from here).
PACKAGED_JAR = HERE / "lib" / "connect-metrics-connectors.jar"
PROPERTIES_ENV = "CONNECT_METRICS_PROPERTIES"
LOG = logging.getLogger("connect-metrics")

for _folder in reversed(CODE_FOLDERS):
    if (HERE / _folder).is_dir() and str(HERE / _folder) not in sys.path:
        sys.path.insert(0, str(HERE / _folder))

from pyflink.datastream import StreamExecutionEnvironment  # noqa: E402

import jobs  # noqa: E402
from jobs.config import MSF_PROPERTIES_PATH, Config  # noqa: E402
from pyflink.table import StreamTableEnvironment  # noqa: E402

from jobs.main import (  # noqa: E402
    JOB_NAME, build, is_loopback, launched_by_flink, local_environment, use_local_credentials,
)


def on_msf() -> bool:
    return MSF_PROPERTIES_PATH.exists()


def load_msf_config(path: Path | None = None) -> Config:
    """The job's property groups from MSF's file (the service's own groups are skipped)."""
    return msf_config(Config.load(path or MSF_PROPERTIES_PATH))


def msf_config(config: Config) -> Config:
    """The loaded configuration with loopback endpoints (the local defaults) made empty.

    MSF property values cannot be empty, so a deployment leaves the endpoint keys out; on MSF a
    loopback endpoint can only be the local default, and empty means the AWS endpoint of the
    configured region.
    """
    kinesis, timestream = config.kinesis, config.timestream
    if is_loopback(kinesis.endpoint):
        kinesis = dataclasses.replace(kinesis, endpoint="")
    if is_loopback(timestream.endpoint):
        timestream = dataclasses.replace(timestream, endpoint="")
    return dataclasses.replace(config, kinesis=kinesis, timestream=timestream)


def job_config() -> Config:
    """MSF's property groups on MSF; elsewhere the file named by `CONNECT_METRICS_PROPERTIES`,
    or the defaults."""
    if on_msf():
        return load_msf_config()
    path = os.environ.get(PROPERTIES_ENV)
    config = Config.load(Path(path) if path else None)
    use_local_credentials(config)
    return config


def environment(config: Config) -> StreamExecutionEnvironment:
    """On a cluster (MSF, `flink run`, docker-compose's application mode) the cluster's
    environment, untouched: its settings are the cluster's, and MSF refuses most keys from code.
    Run by `python` itself, a local MiniCluster."""
    if launched_by_flink():
        return StreamExecutionEnvironment.get_execution_environment()
    if PACKAGED_JAR.is_file():
        return local_environment(config, jar=PACKAGED_JAR)
    return local_environment(config)


def prepare() -> tuple[Config, StreamExecutionEnvironment, StreamTableEnvironment]:
    """The configuration, the environment and the job built on it, ready to execute."""
    config = job_config()
    # Which copy of the job runs (the zip's `app/` or a checkout); said before PyFlink's worker
    # service, imported with the environment, turns the root logger down to WARNING.
    LOG.info("job code from %s, metrics from %s", Path(jobs.__file__).parent, config.job.sql_dir)
    env = environment(config)
    return config, env, build(config, env)


def main() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    _, env, _ = prepare()
    LOG.info("starting %s", JOB_NAME)
    env.execute(JOB_NAME)


if __name__ == "__main__":
    main()
