"""`connect-metrics simulate`: a simulated contact centre into Kinesis or JSON-lines files."""

from __future__ import annotations

import argparse
import logging
import re
import time
from datetime import datetime, timezone

from simulator.centre import AGENT_FEED, CONTACT_FEED
from simulator.faults import FaultSettings
from simulator.output import JsonLinesOutput, Progress
from simulator.publish import KinesisPublisher, publish_paced
from simulator.settings import CHANNELS, DAY_PROFILES, CentreSettings
from simulator.simulation import Simulation
from simulator.truth import TruthFile

LOG = logging.getLogger("connect-metrics.simulate")
_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*(ms|h|m|s)?")
_UNIT_MS = {"h": 3_600_000, "m": 60_000, "s": 1_000, "ms": 1, None: 1_000}


def parse_duration(text: str) -> int:
    """Milliseconds of `90s`, `30m`, `1h`, `1h30m`, `250ms` or plain seconds (`150`)."""
    source = text.strip().lower()
    if not source:
        raise ValueError("empty duration")
    total = 0.0
    position = 0
    while position < len(source):
        match = _DURATION.match(source, position)
        if match is None:
            raise ValueError(f"bad duration {text!r}: use e.g. 90s, 30m, 1h, 1h30m")
        total += float(match.group(1)) * _UNIT_MS[match.group(2)]
        position = match.end()
        while position < len(source) and source[position] == " ":
            position += 1
    return int(round(total))


def parse_time(text: str) -> int:
    """Epoch milliseconds of an ISO 8601 time (UTC when it names no zone)."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)


def parse_channels(text: str) -> tuple[str, ...]:
    names = (part.strip().upper() for part in text.split(",") if part.strip())
    channels = tuple(dict.fromkeys(names))
    channels = tuple("TASK" if c == "TASKS" else c for c in channels)
    unknown = [c for c in channels if c not in CHANNELS]
    if unknown or not channels:
        raise ValueError(f"--channels takes some of voice,chat,task; got {text!r}")
    return channels


def _argument(kind):
    def convert(text: str):
        try:
            return kind(text)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None
    convert.__name__ = kind.__name__
    return convert


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--agents", type=int, default=10, metavar="N",
                        help="agents per instance (default 10)")
    parser.add_argument("--queues", type=int, default=2, metavar="Q",
                        help="queues per instance (default 2)")
    parser.add_argument("--rate", type=float, default=6.0, metavar="PER_MINUTE",
                        help="contacts arriving per minute per instance, over all queues and "
                        "channels (default 6)")
    parser.add_argument("--channels", type=_argument(parse_channels), default=("VOICE", "CHAT"),
                        metavar="LIST",
                        help="channels: some of voice,chat,task (default voice,chat)")
    parser.add_argument("--outbound", type=float, default=None, metavar="PER_MINUTE",
                        help="outbound calls per minute per instance (default 5%% of --rate)")
    parser.add_argument("--instances", type=int, default=1, metavar="N",
                        help="Amazon Connect instances, each with its own ids (default 1)")
    parser.add_argument("--day-profile", choices=sorted(DAY_PROFILES), default="flat",
                        help="arrival rate by hour of day: flat, or office (a weekday, rate x "
                        "0.03..1.4 by UTC hour) (default flat)")
    parser.add_argument("--duration", type=_argument(parse_duration), default=None,
                        metavar="DURATION", help="simulated time to produce: 90s, 30m, 1h, or "
                        "seconds (default: until Ctrl-C; needed for file output)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--start", type=_argument(parse_time), default=None, metavar="ISO_TIME",
                        help="simulated start time, e.g. 2026-01-05T08:00:00Z (default: now "
                        "minus --backlog); with the same --seed and --start the output is "
                        "byte-identical")
    parser.add_argument("--backlog", type=_argument(parse_duration), default=0, metavar="DURATION",
                        help="start the simulated clock this far in the past and publish that "
                        "history at once (default 0)")
    parser.add_argument("--out", default="kinesis", metavar="kinesis|PATH",
                        help="kinesis (the configured streams), or a JSON-lines file: one raw "
                        "record per line, gzip when PATH ends in .gz, one file per feed when "
                        "PATH contains {feed} (default kinesis)")
    parser.add_argument("--truth", default=None, metavar="PATH",
                        help="write the ground truth here (JSON lines, gzip for .gz); see "
                        "docs/simulator-truth.md")
    parser.add_argument("--speed", type=float, default=None, metavar="X",
                        help="simulated seconds per wall-clock second (default: 1 for kinesis, "
                        "as fast as possible for files)")
    parser.add_argument("--faults", type=_argument(FaultSettings.parse), default=FaultSettings(),
                        metavar="SPEC", help="delivery faults, e.g. duplicates=0.01,reorder=0.02,"
                        "reorder-ms=5000,drop=0.001,malformed=0.001,casing=0.01 (default none)")


def build_simulation(args: argparse.Namespace, start_ms: int, truth=None) -> Simulation:
    profile = DAY_PROFILES[args.day_profile]
    if args.instances < 1:
        raise ValueError("--instances must be at least 1")
    if args.agents < 1 or args.queues < 1:
        raise ValueError("--agents and --queues must be at least 1")
    if args.speed is not None and args.speed <= 0:
        raise ValueError("--speed must be positive")
    settings = CentreSettings(
        agents=args.agents,
        queues=args.queues,
        arrivals_per_minute=args.rate,
        channels=tuple(args.channels),
        outbound_per_minute=args.outbound,
        day_profile=profile,
    )
    return Simulation([settings] * args.instances, seed=args.seed, start_ms=start_ms,
                      faults=args.faults, truth=truth)


def run(args: argparse.Namespace, config) -> int:
    to_kinesis = args.out.strip().lower() == "kinesis"
    if not to_kinesis and args.duration is None:
        raise ValueError("--duration is needed when --out is a file (e.g. --duration 1h)")
    now = int(time.time() * 1000)
    start = args.start if args.start is not None else now - args.backlog
    truth = TruthFile(args.truth) if args.truth else None
    try:
        simulation = build_simulation(args, start, truth)
        events = simulation.events(args.duration)
        if to_kinesis:
            _to_kinesis(events, config, now, args.speed or 1.0)
            return 0
        with JsonLinesOutput(args.out) as output:
            progress = Progress(start, None if args.duration is None else start + args.duration)
            try:
                if args.speed is not None:
                    publish_paced(_reporting(events, output, progress), output, now, args.speed)
                else:
                    for event in _reporting(events, output, progress):
                        output.add(event)
            finally:
                progress.update(progress.reached_ms, output.sent, force=True)
            LOG.info("wrote %d records to %s", output.sent,
                     ", ".join(str(p) for p in output.paths.values()))
        return 0
    finally:
        if truth is not None:
            truth.close()
            LOG.info("wrote %d truth lines to %s", truth.lines, truth.path)


def _reporting(events, output: JsonLinesOutput, progress: Progress):
    for event in events:
        progress.update(event.at, output.sent)
        yield event


def _to_kinesis(events, config, origin_ms: int, speed: float) -> None:
    import boto3

    from jobs.main import use_local_credentials

    use_local_credentials(config)
    settings = config.kinesis
    client = boto3.client("kinesis", region_name=settings.region,
                          endpoint_url=settings.endpoint or None)
    publisher = KinesisPublisher(
        client, {AGENT_FEED: settings.agent_stream, CONTACT_FEED: settings.contact_stream}
    )
    LOG.info("publishing to %s and %s at %s", settings.agent_stream, settings.contact_stream,
             settings.endpoint or "AWS")
    try:
        publish_paced(events, publisher, origin_ms, speed=speed)
    finally:
        LOG.info("published %d records", publisher.sent)
