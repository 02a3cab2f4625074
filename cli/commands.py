"""`connect-metrics`: run the job, the local emulators, and the simulator."""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import replace
from pathlib import Path

from deploy import DeployError
from deploy import command as deploy_command
from connectors.settings import ConfigError
from jobs.config import Config, JobSettings
from jobs.metrics import MetricFileError, load_catalogue, timestream_tables
from cli.prerequisites import SetupError
from simulator import cli as simulator_cli

LOG = logging.getLogger("connect-metrics")
MSF_PYTHON = "3.12"
SINK_HELP = ("where metric records go (default from Timestream.target): timestream, jsonl:PATH, "
             "influxdb (the InfluxDB property group) or influxdb:http://HOST:PORT/DATABASE")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        config = Config.load(args.config)
        return args.handler(args, config) or 0
    except (ConfigError, DeployError, MetricFileError, SetupError, ValueError) as err:
        print(f"connect-metrics: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("connect-metrics: stopped", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="connect-metrics",
        description="Real-time Amazon Connect metrics: a Flink job reading the agent event "
        "stream and contact events from Kinesis, computing the metrics defined in sql/, and "
        "writing them to Amazon Timestream.",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config", type=Path, default=None, metavar="PATH",
        help="application_properties.json with the property groups Kinesis, Timestream, Job "
        "(default: /etc/flink/application_properties.json when it exists, else built-in "
        "defaults that target the local emulators)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run", parents=[common], help="run the job in a local Flink MiniCluster",
        description="Run the job in a local Flink MiniCluster against the configured Kinesis "
        "streams and Timestream endpoint, until Ctrl-C.",
    )
    run.add_argument("--dead-letter", metavar="TARGET",
                     help="where unusable records go: jsonl:PATH (default from Job.dead.letter)")
    run.add_argument("--parallelism", type=int, metavar="N", help="job parallelism")
    run.add_argument("--sink", metavar="TARGET", help=SINK_HELP)
    run.add_argument("--restore", type=Path, metavar="CHECKPOINT",
                     help="resume from a retained checkpoint (a chk-N directory under "
                     "Job.checkpoint.dir)")
    run.set_defaults(handler=_run)

    replay = commands.add_parser(
        "replay", parents=[common], help="run the job over recorded events and exit",
        description="Run the same job over JSON-lines files of raw Connect records (plain or "
        ".gz, both feeds mixed or separate, one record per line), then exit.",
    )
    replay.add_argument("files", nargs="+", type=Path, metavar="FILE")
    replay.add_argument("--sink", metavar="TARGET", help=SINK_HELP)
    replay.add_argument("--dead-letter", metavar="TARGET",
                        help="where unusable records go: jsonl:PATH (default from Job.dead.letter)")
    replay.add_argument("--parallelism", type=int, metavar="N", help="job parallelism")
    replay.set_defaults(handler=_replay)

    package = commands.add_parser(
        "package", parents=[common], help="build the application zip for Amazon Managed Service for Apache Flink",
        description="Build the MSF application zip (main.py, the job, sql/, the connector jar "
        "under lib/, Python dependencies for Python 3.12 manylinux x86_64) and print the run "
        "options to set. The same inputs give the same zip.",
    )
    package.add_argument("--out", type=Path, default=Path("dist/connect-metrics.zip"),
                         metavar="ZIP", help="where to write the zip (default dist/connect-metrics.zip)")
    package.add_argument("--python", default=MSF_PYTHON, metavar="X.Y",
                         help=f"the Python the zip's libraries are for (default {MSF_PYTHON}, "
                         "MSF's; the local cluster runs this machine's)")
    package.set_defaults(handler=_package)

    deploy = commands.add_parser(
        "deploy", help="upload the zip to S3 and create or update the CloudFormation stack",
        description="Build the application zip (or take --zip), upload it to S3 under a key "
        "with its content hash, create or update the stack of deploy/cloudformation.yaml while "
        "printing its events, and print the stack's outputs. AWS credentials and region come "
        "from the AWS default chain.",
    )
    deploy_command.add_arguments(deploy)
    deploy.set_defaults(handler=_deploy, config=None)

    dev = commands.add_parser(
        "dev", help="start, stop or inspect the local emulators",
        description="The local stack: kinesis-mock (Kinesis) and moto (Timestream), on the "
        "loopback ports of the configured endpoints.",
    )
    dev_commands = dev.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, text in (
        ("up", "start both emulators, create the streams, database and tables"),
        ("down", "stop the emulators this stack started"),
        ("status", "say what runs where, and where the logs are"),
    ):
        sub = dev_commands.add_parser(action, parents=[common], help=text, description=text)
        sub.set_defaults(handler=_dev)
    cluster = dev_commands.add_parser(
        "cluster", help="a standalone Flink cluster run as MSF runs the job, with the emulators",
        description="A JobManager and TaskManagers from the Flink distribution inside the "
        "PyFlink wheel, each a process, with MSF's settings (deploy/flink-cluster.yaml: RocksDB, "
        "checkpoints, restarts) and the emulators. `submit` runs an application zip on it as MSF "
        "does; build one for this machine's Python with `connect-metrics package --python "
        f"{sys.version_info.major}.{sys.version_info.minor}`.",
    )
    cluster_commands = cluster.add_subparsers(dest="cluster_action", required=True,
                                              metavar="ACTION")
    for action, text in (
        ("up", "start the emulators and the cluster (a TaskManager that died is replaced)"),
        ("down", "stop the cluster and the emulators"),
        ("status", "say what runs where, and where the logs are"),
        ("submit", "run an application zip on the cluster, detached, and print its job id"),
    ):
        sub = cluster_commands.add_parser(action, parents=[common], help=text, description=text)
        sub.set_defaults(handler=_cluster)
        if action == "submit":
            sub.add_argument("zip", type=Path, metavar="ZIP", help="the application zip")
            sub.add_argument("--parallelism", type=int, default=1, metavar="N",
                             help="the job's parallelism (default 1; the cluster has 2 slots)")
            sub.add_argument("--from-savepoint", metavar="PATH",
                             help="start from this savepoint or retained checkpoint")

    simulate = commands.add_parser(
        "simulate", parents=[common], help="simulate a contact centre: both feeds and the truth",
        description="Simulate an Amazon Connect contact centre and publish its agent events and "
        "contact events into the two Kinesis streams (in real time, or faster with --speed), or "
        "write them to JSON-lines files; --truth writes what really happened beside them.",
    )
    simulator_cli.add_arguments(simulate)
    simulate.set_defaults(handler=_simulate)

    top = commands.add_parser(
        "top", parents=[common], help="a live view of the metrics the job wrote to Timestream",
        description="Show each queue (in queue, oldest, today's queued, handled, abandoned, "
        "service level, average answer time, average handle time), agents by activity and "
        "each agent's current activity, read back from the Timestream emulator (default) or "
        "Amazon Timestream, refreshed every --refresh seconds until Ctrl-C.",
    )
    top.add_argument("--refresh", type=float, metavar="SECONDS",
                     help="seconds between frames (default 1 for the emulator, 10 for Amazon "
                     "Timestream, where every frame is four billed queries)")
    frames = top.add_mutually_exclusive_group()
    frames.add_argument("--once", action="store_const", const=1, dest="frames",
                        help="print one frame and exit")
    frames.add_argument("--frames", type=int, metavar="N", help="print N frames and exit")
    top.add_argument("--width", type=int, metavar="COLUMNS",
                     help="frame width (default: the terminal's, or 100 when not a terminal)")
    top.add_argument("--timestream", action="store_true",
                     help="read Amazon Timestream (timestream-query, AWS default credentials) "
                     "instead of the emulator at Timestream.endpoint")
    top.add_argument("--influxdb", action="store_true",
                     help="read InfluxDB at InfluxDB.url with InfluxQL (the default when "
                     "Timestream.target is influxdb)")
    top.add_argument("--region", metavar="REGION",
                     help="Timestream region (default: Timestream.region)")
    top.add_argument("--database", metavar="NAME",
                     help="Timestream database (default: Timestream.database)")
    top.add_argument("--queue-names", type=Path, metavar="JSON",
                     help="a JSON object of queue id (or queue ARN) to queue name, over the "
                     "names the job learned from agent snapshots (queue_names)")
    top.set_defaults(handler=_top)

    demo = commands.add_parser(
        "demo", parents=[common], help="emulators + simulator + job, with the live dashboard",
        description="Start the local stack, publish a simulated contact centre, run the job, "
        "and show the live dashboard of `top` over what lands in the Timestream emulator; "
        "everything stops on Ctrl-C or after --duration.",
    )
    demo.add_argument("--sink", metavar="TARGET", help=SINK_HELP)
    demo.add_argument("--duration", type=float, default=0, metavar="SECONDS",
                      help="stop after this many seconds (default 0: until Ctrl-C)")
    demo.set_defaults(handler=_demo)
    return parser


def _job_config(args: argparse.Namespace, config: Config) -> Config:
    """The configuration with the command line's overrides, checked before Flink starts."""
    from connectors.dead_letter import check_target
    from cli.sink_target import check_sink, with_sink
    from cli import prerequisites
    from jobs.main import CONNECTOR_JAR, use_local_credentials

    job = config.job
    if args.dead_letter:
        job = replace(job, dead_letter=args.dead_letter)
    if args.parallelism:
        job = replace(job, parallelism=args.parallelism)
    config = replace(config, job=job)
    config = with_sink(config, args.sink) if args.sink else config
    check_sink(config)
    load_catalogue(Path(config.job.sql_dir))
    check_target(config.job.dead_letter)
    prerequisites.require_java()
    prerequisites.require_connector_jar(CONNECTOR_JAR)
    use_local_credentials(config)
    return config


def _replay(args: argparse.Namespace, config: Config) -> int:
    from cli.prerequisites import free_ports
    from cli.replay import replay

    return replay(_job_config(args, config), args.files, rest_port=free_ports(1)[0]).exit_code


def _run(args: argparse.Namespace, config: Config) -> int:
    from jobs.main import local_environment, run

    config = _job_config(args, config)
    if args.restore is not None and not (args.restore / "_metadata").is_file():
        raise SetupError(f"{args.restore} is not a checkpoint (no _metadata file in it)")
    run(config, local_environment(config, restore_from=args.restore))
    return 0


def _package(args: argparse.Namespace, config: Config) -> int:
    from deploy.package import build_package, run_options
    from cli import prerequisites
    from jobs.main import CONNECTOR_JAR

    prerequisites.require_connector_jar(CONNECTOR_JAR)
    zip_path = build_package(args.out, CONNECTOR_JAR, python_version=args.python)
    print(f"{zip_path} ({zip_path.stat().st_size / 1_000_000:.1f} MB)")
    print("property group kinesis.analytics.flink.run.options:")
    for key, value in run_options().items():
        print(f"  {key} = {value}")
    return 0


def _deploy(args: argparse.Namespace, config: Config) -> int:
    return deploy_command.run(args)


def _tables(config: Config) -> list[str]:
    return timestream_tables(Path(config.job.sql_dir), config.timestream.raw_tables)


def _dev(args: argparse.Namespace, config: Config) -> int:
    from cli import local_stack

    settings = local_stack.StackSettings.from_config(config, _tables(config))
    if args.action == "up":
        local_stack.up(settings)
        print(local_stack.status(settings))
    elif args.action == "down":
        local_stack.down(settings)
        print("local stack stopped")
    else:
        print(local_stack.status(settings))
    return 0


def _cluster(args: argparse.Namespace, config: Config) -> int:
    import json

    from cli import flink_cluster, local_stack

    settings = flink_cluster.ClusterSettings()
    stack = local_stack.StackSettings.from_config(config, _tables(config))
    if args.cluster_action == "up":
        local_stack.up(stack)
        print(local_stack.status(stack))
        print(flink_cluster.up(settings))
    elif args.cluster_action == "down":
        flink_cluster.down(settings)
        local_stack.down(stack)
        print("cluster and local stack stopped")
    elif args.cluster_action == "status":
        print(local_stack.status(stack))
        print(flink_cluster.status(settings))
    else:
        if not args.zip.is_file():
            raise SetupError(f"{args.zip}: no such file; build it with `connect-metrics package "
                             f"--python {sys.version_info.major}.{sys.version_info.minor}`")
        # The zip's main.py reads its properties from this file (off MSF); the metric files
        # are the zip's own unless the configuration names others.
        groups = config.to_property_groups()
        for group in groups:
            if group["PropertyMap"].get("sql.dir") == JobSettings().sql_dir:
                del group["PropertyMap"]["sql.dir"]
        properties = settings.state_dir / "application_properties.json"
        properties.parent.mkdir(parents=True, exist_ok=True)
        properties.write_text(json.dumps(groups, indent=2), encoding="utf-8")
        job_id = flink_cluster.submit(settings, args.zip, properties, args.parallelism,
                                      savepoint=args.from_savepoint)
        print(f"job {job_id} submitted: {settings.rest_url}/#/job/{job_id}")
    return 0


def _simulate(args: argparse.Namespace, config: Config) -> int:
    return simulator_cli.run(args, config)


def _top(args: argparse.Namespace, config: Config) -> int:
    from cli.top.live import Screen, default_refresh, open_store, read_queue_names, watch

    if (args.refresh is not None and args.refresh <= 0) or (args.frames is not None
                                                             and args.frames < 1):
        raise ValueError("--refresh must be positive and --frames at least 1")
    names = read_queue_names(args.queue_names) if args.queue_names else None
    store = open_store(config, args.timestream, args.region, args.database, args.influxdb)
    try:
        last = watch(store, Screen(width=args.width), args.refresh or default_refresh(store),
                     frames=args.frames, queue_names=names)
    except KeyboardInterrupt:
        return 0
    return 1 if last is not None and last.error else 0


def _demo(args: argparse.Namespace, config: Config) -> int:
    from cli.demo import run_demo

    from cli.sink_target import with_sink

    config = with_sink(config, args.sink) if args.sink else config
    return run_demo(config, _tables(config), args.duration, args.config, args.sink)

