"""`connect-metrics`: run the job, the local emulators, and the simulator."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from dataclasses import replace
from pathlib import Path

from jobs.config import Config, ConfigError
from jobs.metrics import MetricFileError, load_catalogue
from jobs.prerequisites import SetupError

LOG = logging.getLogger("connect-metrics")


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
    except (ConfigError, MetricFileError, SetupError, ValueError) as err:
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
    replay.add_argument("--sink", metavar="TARGET",
                        help="timestream (the configured endpoint) or jsonl:PATH (the exact "
                        "records, one {database, table, record} object per line)")
    replay.add_argument("--dead-letter", metavar="TARGET",
                        help="where unusable records go: jsonl:PATH (default from Job.dead.letter)")
    replay.add_argument("--parallelism", type=int, metavar="N", help="job parallelism")
    replay.set_defaults(handler=_replay)

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

    simulate = commands.add_parser(
        "simulate", parents=[common], help="publish a simulated contact centre to Kinesis",
        description="Publish agent events and contact events of a simulated contact centre "
        "into the two Kinesis streams, in real time (or faster with --speed).",
    )
    simulate.add_argument("--agents", type=int, default=10, help="agents (default 10)")
    simulate.add_argument("--queues", type=int, default=2, help="queues (default 2)")
    simulate.add_argument("--rate", type=float, default=6.0,
                          help="contacts arriving per minute (default 6)")
    simulate.add_argument("--duration", type=float, default=None, metavar="SECONDS",
                          help="simulated seconds to publish (default: until Ctrl-C)")
    simulate.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    simulate.add_argument("--speed", type=float, default=1.0,
                          help="simulated seconds per wall-clock second (default 1)")
    simulate.add_argument("--backlog", type=float, default=0.0, metavar="SECONDS",
                          help="start the simulated clock this far in the past and publish "
                          "that history at once (default 0)")
    simulate.set_defaults(handler=_simulate)

    demo = commands.add_parser(
        "demo", parents=[common], help="emulators + simulator + job, printing rows as they land",
        description="Start the local stack, publish a simulated contact centre, run the job, "
        "and print every metric row as it lands in the Timestream emulator; everything stops "
        "on Ctrl-C or after --duration.",
    )
    demo.add_argument("--duration", type=float, default=0, metavar="SECONDS",
                      help="stop after this many seconds (default 0: until Ctrl-C)")
    demo.set_defaults(handler=_demo)
    return parser


def _job_config(args: argparse.Namespace, config: Config) -> Config:
    """The configuration with the command line's overrides, checked before Flink starts."""
    from jobs import prerequisites
    from jobs.main import CONNECTOR_JAR, use_local_credentials

    job = config.job
    if args.dead_letter:
        job = replace(job, dead_letter=args.dead_letter)
    if args.parallelism:
        job = replace(job, parallelism=args.parallelism)
    config = replace(config, job=job)
    if getattr(args, "sink", None):
        config = replace(config, timestream=replace(config.timestream, target=args.sink))
    load_catalogue(Path(config.job.sql_dir))
    prerequisites.require_java()
    prerequisites.require_connector_jar(CONNECTOR_JAR)
    use_local_credentials(config)
    return config


def _replay(args: argparse.Namespace, config: Config) -> int:
    from connectors.file_source import file_sources
    from jobs.main import local_environment
    from jobs.pipeline import build_job

    config = _job_config(args, config)
    env = local_environment(config)
    build_job(env, config, file_sources(env, args.files))
    LOG.info("replaying %d file(s)", len(args.files))
    env.execute("connect-metrics replay")
    LOG.info("replay done")
    return 0


def _run(args: argparse.Namespace, config: Config) -> int:
    from jobs.main import local_environment, run

    config = _job_config(args, config)
    if args.restore is not None and not (args.restore / "_metadata").is_file():
        raise SetupError(f"{args.restore} is not a checkpoint (no _metadata file in it)")
    run(config, local_environment(config, restore_from=args.restore))
    return 0


def _dev(args: argparse.Namespace, config: Config) -> int:
    from jobs import local_stack

    tables = [metric.table for metric in load_catalogue(Path(config.job.sql_dir))]
    settings = local_stack.StackSettings.from_config(config, tables)
    if args.action == "up":
        local_stack.up(settings)
        print(local_stack.status(settings))
    elif args.action == "down":
        local_stack.down(settings)
        print("local stack stopped")
    else:
        print(local_stack.status(settings))
    return 0


def _simulate(args: argparse.Namespace, config: Config) -> int:
    import boto3

    from jobs.main import use_local_credentials
    from simulator.centre import AGENT_FEED, CONTACT_FEED, Centre, CentreSettings
    from simulator.publish import KinesisPublisher, publish_paced

    use_local_credentials(config)
    client = boto3.client(
        "kinesis", region_name=config.kinesis.region, endpoint_url=config.kinesis.endpoint or None
    )
    publisher = KinesisPublisher(
        client, {AGENT_FEED: config.kinesis.agent_stream, CONTACT_FEED: config.kinesis.contact_stream}
    )
    now = int(time.time() * 1000)
    centre = Centre(
        CentreSettings(agents=args.agents, queues=args.queues, arrivals_per_minute=args.rate),
        seed=args.seed, start_ms=now - int(args.backlog * 1000),
    )
    duration = None if args.duration is None else int(args.duration * 1000)
    LOG.info("publishing to %s and %s at %s", config.kinesis.agent_stream,
             config.kinesis.contact_stream, config.kinesis.endpoint or "AWS")
    try:
        publish_paced(centre.events(duration), publisher, now, speed=args.speed)
    finally:
        LOG.info("published %d records", publisher.sent)
    return 0


def _demo(args: argparse.Namespace, config: Config) -> int:
    from jobs.demo import run_demo

    tables = [metric.table for metric in load_catalogue(Path(config.job.sql_dir))]
    return run_demo(config, tables, args.duration, args.config)


if __name__ == "__main__":
    sys.exit(main())
