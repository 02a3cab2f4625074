"""Start-up and latency against the local emulators, with `connect-metrics run` as a user runs it.

Start-up: 150 s of a small contact centre's history (the demo's) is put into kinesis-mock, then
`connect-metrics run` is launched; the time until the first metric row is in moto's Timestream.

Latency: then a larger simulated centre is put into Kinesis in real time (event time = wall
clock), in `put_records` batches every 100 ms, at about `rate` events/s. Latency is from the
moment an event's batch was accepted to the moment moto acknowledged the first write of a
record that shows it (`benchmarks.write_log`, a proxy between the job and moto):
- `queue_realtime`: for each QUEUED contact event, the first record of its instance, queue and
  channel whose sample time is at or after the event's time;
- `agent_realtime`: for each agent event, the record of its agent at the event's own time (an
  event that changed nothing the table shows has none, and is counted apart).
Interval rows (`queue_interval`): from the end of each interval (event time = wall clock) to the
moment its first record was in moto; the job waits `Job.allowed.lateness.ms` for late events
before it closes an interval.
Both hold only while events are put at their time: the part also reports how far behind it
they were put (`put_behind`).
"""

from __future__ import annotations

import bisect
import json
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import boto3

from benchmarks.report import Measurement, Target, percentile
from benchmarks.write_log import WriteLog
from connectors.settings import KinesisSettings, TimestreamSettings
from jobs.config import Config, JobSettings
from cli.demo import start_logged, stop_group
from jobs.core.events import AgentEvent, ContactEvent, parse_record
from cli.local_stack import StackSettings, Stream, down, up
from jobs.main import CONNECTOR_JAR
from jobs.metrics import load_catalogue
from cli.prerequisites import free_ports, require_connector_jar
from simulator.centre import AGENT_FEED, CONTACT_FEED
from simulator.publish import KinesisPublisher, publish_paced
from simulator.settings import CentreSettings
from simulator.simulation import Simulation

PART_STARTUP = "start-up"
PART_LATENCY = "latency"
MAX_P99_S = 2.0
INTERVAL_MARGIN_S = 2.0  # interval rows within the allowed lateness and this of the interval's end
QUEUE_GAUGES, AGENT_GAUGES, INTERVALS = "queue_realtime", "agent_realtime", "queue_interval"
KEYS = {QUEUE_GAUGES: ("instance_id", "queue_id", "channel"),
        AGENT_GAUGES: ("instance_id", "agent_id"), INTERVALS: ("instance_id", "queue_id", "channel")}
"""The dimensions that say which queue or agent a table's record is about."""
SETTLE_S = 0.5  # after the measured rows, for rows of the same watermark step in other tables
BATCH_EVERY_S = 0.1
DRAIN_S = 60.0  # after the last put, how long rows may still come
TAIL_S = 15.0  # puts after the measured ones, beyond the rows' own span
BACKLOG_MS = 150_000
# One instance of this centre puts about this many events per second once it is warm.
CENTRE = CentreSettings(agents=100, queues=4, arrivals_per_minute=20)
EVENTS_PER_S_PER_CENTRE = 3.6
# kinesis-mock files each entry of a put by hashing every record already in the entry's shard,
# so a put costs it entries x records in the shard, and over a run its CPU time grows with the
# square of what was put: with 1 contact and 4 agent shards it fell minutes behind the clock
# after about 160 s of this centre, with no job reading. Shards cut each one's share; the job
# polls each every `Kinesis.poll.interval.ms`, which costs too, so not more than needed.
STREAM_SHARDS = 16
MAX_BEHIND_S = 2.0  # events put later than this after their time: the run measures the emulator


@dataclass(frozen=True)
class Put:
    key: tuple  # (instance_id, queue_id, channel)
    event_time: int
    put_ms: int


@dataclass(frozen=True)
class Landed:
    key: tuple
    record_time: int
    landed_ms: int


def match_latencies(puts: Iterable[Put], landed: Iterable[Landed],
                    exact: bool = False) -> tuple[list[float], int]:
    """Seconds from each put to the first record of its key that landed after it and covers
    its time (record time >= event time; with `exact`, record time = event time), and how many
    puts no record covered."""
    by_key: dict[tuple, list[Landed]] = {}
    for record in sorted(landed, key=lambda r: r.landed_ms):
        by_key.setdefault(record.key, []).append(record)
    seconds, unmatched = [], 0
    for put in puts:
        records = by_key.get(put.key, [])
        start = bisect.bisect_left([r.landed_ms for r in records], put.put_ms)
        found = next((r for r in records[start:]
                      if (r.record_time == put.event_time if exact
                          else r.record_time >= put.event_time)), None)
        if found is None:
            unmatched += 1
        else:
            seconds.append((found.landed_ms - put.put_ms) / 1000)
    return seconds, unmatched


class StampingPublisher:
    """`KinesisPublisher` that sends at most every `every_s` and notes when each event's batch
    was accepted. Has `add` / `flush` for `publish_paced`."""

    def __init__(self, publisher: KinesisPublisher, every_s: float = BATCH_EVERY_S):
        self._publisher = publisher
        self._every_s = every_s
        self._buffer: list = []
        self._last = 0.0
        self.stamped: list[tuple[object, int]] = []  # (emitted, put wall ms)

    def add(self, event) -> None:
        self._buffer.append(event)

    def flush(self, force: bool = False) -> None:
        if not self._buffer or (not force and time.monotonic() - self._last < self._every_s):
            return
        for event in self._buffer:
            self._publisher.add(event)
        self._publisher.flush()
        self._last = time.monotonic()
        now_ms = time.time_ns() // 1_000_000
        self.stamped.extend((event, now_ms) for event in self._buffer)
        self._buffer = []


def interval_delays(landed: Iterable[Landed], interval_ms: int, ends_from: int,
                    ends_to: int) -> list[float]:
    """Seconds from the end of each interval ending in [ends_from, ends_to) to the first record
    of it that landed (record time = the interval's start)."""
    first: dict[tuple, int] = {}
    for record in landed:
        identity = (record.key, record.record_time)
        first[identity] = min(first.get(identity, record.landed_ms), record.landed_ms)
    return [(landed_ms - (start + interval_ms)) / 1000 for (_, start), landed_ms in first.items()
            if ends_from <= start + interval_ms < ends_to]


def put_behind(stamped: Iterable[tuple[object, int]], measured_from: int,
               measured_to: int) -> list[float]:
    """Seconds from when each measured event was due (`Emitted.at`, its event time here) to
    the moment its batch was accepted: how far the publisher and the emulator fell behind the
    clock. Latency is taken from the put, but the watermark and the interval ends follow event
    time, so rows of events put late wait for puts that are late too."""
    return [(put_ms - emitted.at) / 1000 for emitted, put_ms in stamped
            if measured_from <= emitted.at < measured_to]


def interval_ends(interval_ms: int, ends_from: int, ends_to: int) -> int:
    """How many interval ends fall in [ends_from, ends_to): each is one burst of interval rows,
    so one sample of how long such a burst takes to land."""
    first = -(-ends_from // interval_ms) * interval_ms
    return len(range(first, ends_to, interval_ms))


def local_config(out: Path, job_settings: dict[str, str] | None = None) -> Config:
    """The default configuration on free loopback ports, with its files under `out` and the
    `Job` group's properties in `job_settings` (`{"allowed.lateness.ms": "1000"}`)."""
    kinesis, timestream = free_ports(2)
    config = Config(
        kinesis=KinesisSettings(endpoint=f"http://127.0.0.1:{kinesis}"),
        timestream=TimestreamSettings(endpoint=f"http://127.0.0.1:{timestream}"),
        job=JobSettings(checkpoint_dir=str(out / "checkpoints"),
                        dead_letter=f"jsonl:{out / 'dead-letters.jsonl'}"),
    )
    groups = config.to_property_groups()
    for group in groups:
        if group["PropertyGroupId"] == "Job":
            group["PropertyMap"].update(job_settings or {})
    return Config.from_property_groups(groups, source="--latency-settings")


def parse_settings(text: str) -> dict[str, str]:
    """`key=value,key=value` (Job group properties) as a dict; empty text is no settings."""
    settings = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--latency-settings: {item!r} is not key=value; for example "
                             "allowed.lateness.ms=1000,gauge.period.ms=1000")
        settings[key.strip()] = value.strip()
    return settings


def settings_label(job_settings: dict[str, str]) -> str:
    return ", ".join(f"{key}={value}" for key, value in job_settings.items())


def _publisher(config: Config) -> KinesisPublisher:
    client = boto3.client("kinesis", region_name=config.kinesis.region,
                          endpoint_url=config.kinesis.endpoint, aws_access_key_id="test",
                          aws_secret_access_key="test")
    return KinesisPublisher(client, {AGENT_FEED: config.kinesis.agent_stream,
                                     CONTACT_FEED: config.kinesis.contact_stream})


def measure(out: Path, rate: float, seconds: float, warmup_s: float,
            job_settings: dict[str, str] | None = None,
            startup_timeout_s: float = 300) -> list[Measurement]:
    """Start-up and latency of the job with the defaults but for `job_settings`; a row's
    name ends with the settings when there are some."""
    require_connector_jar(CONNECTOR_JAR)
    out.mkdir(parents=True, exist_ok=True)
    config = local_config(out, job_settings)
    label = f" ({settings_label(job_settings)})" if job_settings else ""
    watch = WriteLog(config.timestream.endpoint).start()
    job_config = replace(config, timestream=replace(config.timestream, endpoint=watch.endpoint))
    properties = out / "application_properties.json"
    properties.write_text(json.dumps(job_config.to_property_groups(), indent=1))
    tables = [m.table for m in load_catalogue(Path(config.job.sql_dir))]
    (tls_port,) = free_ports(1)
    stack = replace(StackSettings.from_config(config, tables, state_dir=out / "stack"),
                    kinesis_tls_port=tls_port,
                    streams=(Stream(config.kinesis.agent_stream, STREAM_SHARDS),
                             Stream(config.kinesis.contact_stream, STREAM_SHARDS)))
    job = None
    try:
        print("start-up: emulators", file=sys.stderr, flush=True)
        up(stack)
        now_ms = time.time_ns() // 1_000_000
        backlog = Simulation([CentreSettings(agents=30, queues=3, arrivals_per_minute=6)],
                             seed=7, start_ms=now_ms - BACKLOG_MS)
        publish_paced(backlog.events(BACKLOG_MS), _publisher(config), now_ms)
        print("start-up: 150 s of history put; launching `connect-metrics run`",
              file=sys.stderr, flush=True)
        launched = time.monotonic()
        job = start_logged([sys.executable, "-m", "cli", "run", "--config", str(properties)],
                           out / "job.log")
        while not watch.first_seen:
            if job.poll() is not None:
                raise RuntimeError(f"the job exited; see {out / 'job.log'}")
            if time.monotonic() - launched > startup_timeout_s:
                raise RuntimeError(f"no metric row within {startup_timeout_s:.0f} s; see "
                                   f"{out / 'job.log'}")
            time.sleep(0.05)
        first_row_s = time.monotonic() - launched
        print(f"start-up: first metric row {first_row_s:.1f} s after launch",
              file=sys.stderr, flush=True)
        result = [Measurement(PART_STARTUP,
                              f"`connect-metrics run` to the first metric row{label}",
                              first_row_s, "s", note="150 s of history waiting in Kinesis")]
        missing = set(KEYS) - set(tables)
        if missing:
            text = f"{', '.join(sorted(missing))} not in the catalogue"
            print(f"latency: skipped: {text}", file=sys.stderr, flush=True)
            return result + [Measurement(PART_LATENCY, f"put to row{label}", None, "s",
                                         note=text)]
        return result + _latency(config, job, watch, rate, seconds, warmup_s, label)
    finally:
        watch.stop()
        if job is not None:
            stop_group(job)
        down(stack)


def _latency(config: Config, job, watch: WriteLog, rate: float, seconds: float,
             warmup_s: float, label: str) -> list[Measurement]:
    centres = max(1, round(rate / EVENTS_PER_S_PER_CENTRE))
    start_ms = time.time_ns() // 1_000_000
    simulation = Simulation([CENTRE] * centres, seed=11, start_ms=start_ms)
    publisher = StampingPublisher(_publisher(config))
    # Puts go on after the measured ones for as long as a row may wait for later event time
    # (an interval closes, a watermark passes) so the last measured events are covered too.
    interval_ms = config.job.interval_minutes * 60_000
    tail_s = interval_ms / 1000 + TAIL_S
    print(f"latency: putting {centres} centres of {CENTRE.agents} agents in real time for "
          f"{warmup_s + seconds + tail_s:.0f} s (measuring {seconds:.0f} s after {warmup_s:.0f} "
          "s)", file=sys.stderr, flush=True)
    publish_paced(simulation.events(int((warmup_s + seconds + tail_s) * 1000)), publisher,
                  start_ms)
    publisher.flush(force=True)
    measured_from = start_ms + int(warmup_s * 1000)
    measured_to = measured_from + int(seconds * 1000)
    puts = _puts(publisher.stamped, measured_from, measured_to)
    window = [put_ms for _, put_ms in publisher.stamped
              if measured_from <= put_ms < measured_to]
    put_span_ms = max(window) - min(window) if window else 0
    put_rate = len(window) / put_span_ms * 1000 if put_span_ms else 0.0  # one batch or none
    print(f"latency: {len(puts[QUEUE_GAUGES]):,} QUEUED and {len(puts[AGENT_GAUGES]):,} agent "
          f"events measured, {put_rate:.0f} events/s put; waiting for their rows",
          file=sys.stderr, flush=True)
    deadline = time.monotonic() + DRAIN_S
    while True:
        if job.poll() is not None:
            raise RuntimeError("the job exited during the latency run")
        _, unmatched = match_latencies(puts[QUEUE_GAUGES], _landed(watch, QUEUE_GAUGES))
        if unmatched == 0 or time.monotonic() > deadline:
            break
        time.sleep(2)
    time.sleep(SETTLE_S)
    rate_note = f"put at {put_rate:.0f} events/s"
    target = Target(MAX_P99_S, True, f"<= {MAX_P99_S:g} s")
    behind = put_behind(publisher.stamped, measured_from, measured_to)
    result = _percentiles(
        f"event time to put into Kinesis{label}", behind,
        f"{len(behind):,} events; the publisher and kinesis-mock, not the job: above "
        f"{MAX_BEHIND_S:g} s the rows below measure them; {STREAM_SHARDS} shards a stream",
        Target(MAX_BEHIND_S, True, f"<= {MAX_BEHIND_S:g} s"))
    for table, what, exact in ((QUEUE_GAUGES, "QUEUED events", False),
                               (AGENT_GAUGES, "agent events", True)):
        latencies, unmatched = match_latencies(puts[table], _landed(watch, table), exact=exact)
        without = ("that changed nothing it shows" if exact else "not covered")
        note = f"{len(latencies):,} {what} with a row, {unmatched} {without}; {rate_note}"
        if table == QUEUE_GAUGES:
            rows, rewritten = rewrites(watch, table)
            note += (f"; {rewritten:,} of {rows:,} row instants written more than once (a "
                     "provisional row the sample rewrote, or a start's rewrites)")
        result += _percentiles(f"put to row in {table}{label}", latencies, note, target)
    lateness_s = config.job.allowed_lateness_ms / 1000
    delays = interval_delays(_landed(watch, INTERVALS), interval_ms, measured_from, measured_to)
    bound = lateness_s + INTERVAL_MARGIN_S
    ends = interval_ends(interval_ms, measured_from, measured_to)
    result += _percentiles(
        f"interval end to row in {INTERVALS}{label}", delays,
        f"{len(delays):,} queue intervals at the {ends} interval ends of the measured span; "
        f"allowed lateness {lateness_s:g} s; {rate_note}", Target(bound, True, f"<= {bound:g} s"))
    return result


def _puts(stamped: list[tuple[object, int]], measured_from: int,
          measured_to: int) -> dict[str, list[Put]]:
    """The measured events of each gauge table: QUEUED contact events and agent events."""
    puts = {QUEUE_GAUGES: [], AGENT_GAUGES: []}
    for emitted, put_ms in stamped:
        event = parse_record(emitted.payload, "latency", put_ms)
        if not isinstance(event, (ContactEvent, AgentEvent)):
            continue
        if not measured_from <= event.event_time < measured_to:
            continue
        if isinstance(event, AgentEvent):
            puts[AGENT_GAUGES].append(Put((event.instance_id, event.agent_id),
                                          event.event_time, put_ms))
        elif event.event_type == "QUEUED" and event.queue_id:
            puts[QUEUE_GAUGES].append(Put((event.instance_id, event.queue_id, event.channel),
                                          event.event_time, put_ms))
    return puts


def rewrites(watch: WriteLog, table: str) -> tuple[int, int]:
    """(row instants of `table` seen, how many of them with more than one version)."""
    versions: dict[tuple, int] = {}
    for table_, dimensions, time_ms, _ in list(watch.first_seen):
        if table_ == table:
            versions[(dimensions, time_ms)] = versions.get((dimensions, time_ms), 0) + 1
    return len(versions), sum(1 for n in versions.values() if n > 1)


def _landed(watch: WriteLog, table: str) -> list[Landed]:
    return [Landed(tuple(r.dimensions.get(d) for d in KEYS[table]), r.time_ms, seen_ms)
            for r, seen_ms in list(watch.first_seen.values()) if r.table == table]


def _percentiles(what: str, seconds: list[float], note: str,
                 target: Target) -> list[Measurement]:
    """p50 and p99 (with the target) of `seconds`."""
    if not seconds:
        return [Measurement(PART_LATENCY, f"p50 / p99, {what}", None, "s", note=note)]
    return [Measurement(PART_LATENCY, f"p50, {what}", percentile(seconds, 0.5), "s",
                        note=note),
            Measurement(PART_LATENCY, f"p99, {what}", percentile(seconds, 0.99), "s", target)]
