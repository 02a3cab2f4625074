"""The dashboard, headless, against moto's Timestream and against the local InfluxDB: the
numbers on screen are the ones stored.

Known records go into the store the way the sink writes them (older samples, rewrites with
higher and lower versions, yesterday's totals, an agent's own queue), the dashboard reads and
renders them, and each number on the frame is compared with what the store holds (Timestream:
the highest version per point; InfluxDB: the last write); newer records written between
refreshes must show up in the next frame.
"""

from __future__ import annotations

import io
import re
import time
import urllib.request

import boto3
import pytest
from moto.server import ThreadedMotoServer

from connectors.influxdb import InfluxDBWriter, WriteEndpoint
from cli import commands
from connectors.settings import InfluxDBSettings, TimestreamSettings
from jobs.config import Config
from cli.local_stack import create_timestream_tables
from cli.prerequisites import free_ports
from cli.top.emulator import EmulatorStore
from cli.top.influxdb import InfluxDBStore
from cli.top.live import Screen, watch
from cli.top.render import ALL_QUEUES, TITLE, render
from cli.top.snapshot import load
from tests.e2e.conftest import influxdb_server, write_properties

pytestmark = pytest.mark.e2e

DATABASE = "connect_metrics"
INSTANCE = "6513270e-269e-4d37-b2a7-4de452e6b438"
SALES, SUPPORT = "d23f0824-128b-4f33-8c5c-7fd0a6a3a450", "9531985d-5d9d-49f8-9818-e811892f902b"
NAMES = {SALES: "Sales", SUPPORT: "Support"}  # the newest of queue_names; no map is given
THRESHOLDS = {SALES: (20, 60), SUPPORT: (120,)}  # each queue's own service-level targets
YESTERDAY, TODAY = "2026-11-23", "2026-11-24"  # local_date values: the newest is "today"
TABLES = ("queue_realtime", "queue_today", "queue_service_level_today", "routing_profile_realtime",
          "agent_realtime", "queue_names", "routing_profile_names")
ACTIVITY = re.compile(r"(\S+) +(ON_CONTACT|ACW|INCOMING|AVAILABLE|NON_PRODUCTIVE|ERROR|MISSED|"
                      r"REJECTED|OFFLINE) +(\S+)")


@pytest.fixture(params=["timestream", "influxdb"])
def emulator(request, tmp_path):
    """moto or InfluxDB on a free port, with the dashboard's tables; what was written, for the
    expectations."""
    if request.param == "influxdb":
        yield from influxdb_store(tmp_path)
        return
    (port,) = free_ports(1)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        # moto's state lives in this process and outlives a server: start from nothing
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"))
        create_timestream_tables(endpoint, "us-east-1", DATABASE, TABLES)
        yield Emulator(endpoint)
    finally:
        server.stop()


class Emulator:
    """Writes records the way the sink does and keeps Timestream's view of them: one record per
    dimensions and time, the highest version winning."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint
        self.client = boto3.client(
            "timestream-write", endpoint_url=endpoint, region_name="us-east-1",
            aws_access_key_id="test", aws_secret_access_key="test",
        )
        self.held: dict[tuple, tuple[int, dict]] = {}

    def write(self, table: str, dims: dict, at_ms: int, measures: dict, version: int = 1):
        self.client.write_records(DatabaseName=DATABASE, TableName=table, Records=[{
            "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
            "MeasureName": table, "MeasureValueType": "MULTI",
            "MeasureValues": [{"Name": k, "Value": _text(v), "Type": _type(v)}
                              for k, v in measures.items()],
            "Time": str(at_ms), "TimeUnit": "MILLISECONDS", "Version": version,
        }])
        key = (table, tuple(sorted(dims.items())), at_ms)
        if key not in self.held or version >= self.held[key][0]:
            self.held[key] = (version, measures)

    def store(self):
        return EmulatorStore(self.endpoint, DATABASE)

    def config(self) -> Config:
        return Config(timestream=TimestreamSettings(endpoint=self.endpoint))

    def newest(self, table: str, **dims: str) -> dict:
        """The measures of the newest held record of `table` whose dimensions include `dims`."""
        found = [(key[2], measures) for key, (_, measures) in self.held.items()
                 if key[0] == table and set(dims.items()) <= set(key[1])]
        return max(found, key=lambda f: f[0])[1]

    def newest_time(self, table: str, **dims: str) -> int:
        return max(key[2] for key in self.held
                   if key[0] == table and set(dims.items()) <= set(key[1]))


def influxdb_store(tmp_path):
    with influxdb_server(tmp_path / "stack", DATABASE) as settings:
        yield InfluxServer(settings.influxdb_endpoint)


class InfluxServer(Emulator):
    """Writes points with the sink's InfluxDB writer; InfluxDB keeps a point's last write,
    whatever its version."""

    def __init__(self, url: str):
        self.url = url
        self.writer = InfluxDBWriter(WriteEndpoint.of(InfluxDBSettings(url=url, database=DATABASE),
                                                      ""))
        self.held = {}

    def write(self, table: str, dims: dict, at_ms: int, measures: dict, version: int = 1):
        outcome = self.writer.write(table, [{
            "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
            "MeasureValues": [{"Name": k, "Value": _text(v), "Type": _type(v)}
                              for k, v in measures.items()],
            "Time": str(at_ms), "Version": version,
        }], at_ms)
        assert outcome.written == 1, outcome
        self.held[(table, tuple(sorted(dims.items())), at_ms)] = (version, measures)

    def store(self):
        return InfluxDBStore(self.url, DATABASE)

    def config(self) -> Config:
        return Config(timestream=TimestreamSettings(target="influxdb"),
                      influxdb=InfluxDBSettings(url=self.url, database=DATABASE))


def _type(value) -> str:
    return {bool: "BOOLEAN", int: "BIGINT", float: "DOUBLE", str: "VARCHAR"}[type(value)]


def _text(value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def queue(queue_id: str, channel: str, **more: str) -> dict:
    return {"instance_id": INSTANCE, "queue_id": queue_id, "channel": channel, **more}


def gauges(in_queue: int, oldest: float, available: int) -> dict:
    return {"contacts_in_queue": in_queue, "oldest_contact_age": oldest,
            "agents_online": 10, "agents_available": available, "agents_staffed": 10}


def today(queued: int, handled: int, abandoned: int, answer_s: float,
          completed: int, handle_s: float) -> dict:
    return {
        "contacts_queued": queued, "contacts_handled": handled, "contacts_abandoned": abandoned,
        "contacts_removed": handled + abandoned, "sum_queue_answer_time": answer_s,
        "contacts_completed": completed, "sum_handle_time": handle_s,
        "avg_queue_answer_time": answer_s / handled, "avg_handle_time": handle_s / completed,
    }


def level(removed: int, within: int) -> dict:
    return {"contacts_removed": removed, "contacts_removed_within": within,
            "sum_contacts_answered_within": within - 1, "service_level": 100.0 * within / removed}


def write_today(emulator: Emulator, queue_id: str, at: int, local_date: str, totals: dict):
    """A queue's running totals and its service level for each of its thresholds."""
    emulator.write("queue_today", queue(queue_id, "VOICE", local_date=local_date), at, totals)
    removed = totals["contacts_removed"]
    for seconds in THRESHOLDS[queue_id]:
        emulator.write("queue_service_level_today",
                       queue(queue_id, "VOICE", local_date=local_date, threshold_s=str(seconds)),
                       at, level(removed, min(removed, removed * seconds // 100 + 1)))


def profile(online: int, available: int, on_contact: int, acw: int) -> dict:
    return {"agents_online": online, "agents_available": available,
            "agents_on_contact": on_contact, "agents_after_contact_work": acw,
            "agents_non_productive": online - available - on_contact - acw, "agents_error": 0,
            "agents_staffed": online}


def agent(activity: str) -> dict:
    return {"activity": activity, "status_name": "Available", "routing_profile_name": "Sales team",
            "online": activity != "OFFLINE", "slots_active": 1, "slots_available": 0}


def write_centre(emulator: Emulator, now: int) -> None:
    """Two sample instants, rewrites, yesterday's totals and an agent's own queue."""
    for at, shift in ((now - 10_000, 0), (now - 5_000, 1)):
        emulator.write("queue_realtime", queue(SALES, "VOICE"), at, gauges(2 + shift, 41.5, 3))
        emulator.write("queue_realtime", queue(SALES, "CHAT"), at, gauges(shift, 3.25, 5))
        emulator.write("queue_realtime", queue(SUPPORT, "VOICE"), at, gauges(4, 90.0 + shift, 0))
    # the sink's retry of the newest Sales VOICE sample, then a stale write of it
    emulator.write("queue_realtime", queue(SALES, "VOICE"), now - 5_000, gauges(7, 62.75, 1), 3)
    emulator.write("queue_realtime", queue(SALES, "VOICE"), now - 5_000, gauges(9, 1.0, 9), 2)
    emulator.write("queue_realtime", queue("agent/ffd1", "VOICE"), now - 5_000, gauges(1, 5.0, 0))
    minute = now - now % 60_000
    write_today(emulator, SALES, minute - 86_400_000, YESTERDAY,
                today(900, 800, 100, 9000.0, 790, 99000.0))
    write_today(emulator, SALES, minute - 120_000, TODAY, today(30, 25, 3, 300.0, 22, 4400.0))
    write_today(emulator, SALES, minute - 60_000, TODAY, today(37, 30, 4, 370.5, 28, 6020.0))
    write_today(emulator, SUPPORT, minute - 60_000, TODAY, today(12, 10, 2, 150.0, 9, 1500.0))
    # names as the job learns them from agent snapshots: Support was renamed an hour ago
    emulator.write("queue_names", {"instance_id": INSTANCE, "queue_id": SALES}, now - 86_000_000,
                   {"queue_name": NAMES[SALES]})
    emulator.write("queue_names", {"instance_id": INSTANCE, "queue_id": SUPPORT},
                   now - 86_000_000, {"queue_name": "Help desk"})
    emulator.write("queue_names", {"instance_id": INSTANCE, "queue_id": SUPPORT},
                   now - 3_600_000, {"queue_name": NAMES[SUPPORT]})
    for profile_id, name in (("p1", "Sales-team"), ("p2", "Generalists")):
        emulator.write("routing_profile_names",
                       {"instance_id": INSTANCE, "routing_profile_id": profile_id},
                       now - 86_000_000, {"routing_profile_name": name})
    for at in (now - 10_000, now - 5_000):
        emulator.write("routing_profile_realtime",
                       {"instance_id": INSTANCE, "routing_profile_id": "p1",
                        "routing_profile_name": "Sales-team"}, at, profile(10, 3, 5, 2))
        emulator.write("routing_profile_realtime",
                       {"instance_id": INSTANCE, "routing_profile_id": "p2",
                        "routing_profile_name": "Generalists"}, at, profile(8, 2, 4, 1))
    for n, activities in enumerate((("AVAILABLE", "ON_CONTACT"), ("ON_CONTACT", "ACW"),
                                    ("AVAILABLE",), ("NON_PRODUCTIVE", "OFFLINE"))):
        for step, activity in enumerate(activities):
            emulator.write("agent_realtime",
                           {"instance_id": INSTANCE, "agent_id": f"a{n}",
                            "agent_username": f"agent.{n}"},
                           now - 40_000 + 10_000 * step + 1_000 * n, agent(activity))


def queue_cells(frame: str, name: str, channel: str = "") -> list[str]:
    """The cells of a queue's line: in queue, oldest, available | queued, handled, abandoned,
    service level, average answer time, average handle time."""
    for line in frame.splitlines():
        words = line.split()
        if line.startswith(name) and (not channel or words[1] == channel):
            cells = line[len(name):].split()[0 if name == ALL_QUEUES else 1:]
            assert cells[3] == "|", line
            return cells[:3] + cells[4:]
    raise AssertionError(f"no line for {name} {channel} in\n{frame}")


def expected_queue_cells(emulator: Emulator, queue_id: str, channel: str) -> list[str]:
    now = emulator.newest("queue_realtime", queue_id=queue_id, channel=channel)
    day = emulator.newest("queue_today", queue_id=queue_id, channel=channel,
                          local_date=TODAY)
    levels = []
    for seconds in THRESHOLDS[queue_id]:
        held = emulator.newest("queue_service_level_today", queue_id=queue_id, channel=channel,
                               local_date=TODAY, threshold_s=str(seconds))
        levels.append(f"{held['service_level']:.1f}%/{seconds}s")
    return [str(now["contacts_in_queue"]), f"{now['oldest_contact_age']:.1f}s",
            str(now["agents_available"]), str(day["contacts_queued"]),
            str(day["contacts_handled"]), str(day["contacts_abandoned"]), *levels,
            f"{day['avg_queue_answer_time']:.1f}s", f"{day['avg_handle_time']:.1f}s"]


def check_frame(frame: str, emulator: Emulator, now: int, ages: bool = True) -> None:
    """Every number on the frame against what the emulator holds."""
    assert expected_queue_cells(emulator, SALES, "VOICE") == queue_cells(frame, "Sales", "VOICE")
    assert expected_queue_cells(emulator, SUPPORT, "VOICE") == queue_cells(
        frame, "Support", "VOICE")
    chat = emulator.newest("queue_realtime", queue_id=SALES, channel="CHAT")
    assert queue_cells(frame, "Sales", "CHAT") == [
        str(chat["contacts_in_queue"]), f"{chat['oldest_contact_age']:.1f}s",
        str(chat["agents_available"]), "0", "0", "0", "-", "-", "-"]
    assert "agent/" not in frame
    days = [emulator.newest("queue_today", queue_id=q, channel="VOICE", local_date=TODAY)
            for q in (SALES, SUPPORT)]
    nows = [emulator.newest("queue_realtime", queue_id=q, channel=c)
            for q, c in ((SALES, "VOICE"), (SALES, "CHAT"), (SUPPORT, "VOICE"))]

    def total(name: str) -> float:
        return sum(d[name] for d in days)

    def level_total(seconds: int) -> str:
        held = [emulator.newest("queue_service_level_today", queue_id=q, local_date=TODAY,
                                threshold_s=str(seconds))
                for q in (SALES, SUPPORT) if seconds in THRESHOLDS[q]]
        within = sum(h["contacts_removed_within"] for h in held)
        return f"{100 * within / sum(h['contacts_removed'] for h in held):.1f}%/{seconds}s"

    assert queue_cells(frame, ALL_QUEUES) == [
        str(sum(n["contacts_in_queue"] for n in nows)),
        f"{max(n['oldest_contact_age'] for n in nows):.1f}s", "-",
        str(total("contacts_queued")), str(total("contacts_handled")),
        str(total("contacts_abandoned")), *map(level_total, (20, 60, 120)),
        f"{total('sum_queue_answer_time') / total('contacts_handled'):.1f}s",
        f"{total('sum_handle_time') / total('contacts_completed'):.1f}s",
    ]
    for name, profile_id in (("Sales-team", "p1"), ("Generalists", "p2")):
        held = emulator.newest("routing_profile_realtime", routing_profile_id=profile_id)
        line = next(x for x in frame.splitlines() if x.startswith(name + " "))
        assert line.split()[1:] == [str(held[m]) for m in (
            "agents_online", "agents_available", "agents_on_contact",
            "agents_after_contact_work", "agents_non_productive", "agents_error",
            "agents_staffed")]
    shown = {m.group(1): (m.group(2), m.group(3)) for m in ACTIVITY.finditer(frame)}
    for n in range(4):
        held = emulator.newest("agent_realtime", agent_id=f"a{n}")
        since = emulator.newest_time("agent_realtime", agent_id=f"a{n}")
        activity, age = shown[f"agent.{n}"]
        assert activity == held["activity"]
        if ages:
            assert age == f"{(now - since) // 1000}s"


def test_the_frame_shows_what_the_emulator_holds_and_follows_new_writes(emulator):
    now = int(time.time() * 1000) // 5_000 * 5_000
    write_centre(emulator, now)
    store = emulator.store()
    first = render(load(store, now), width=140)
    check_frame(first, emulator, now)
    assert f"today = {TODAY}" in first

    later = now + 5_000
    emulator.write("queue_realtime", queue(SALES, "VOICE"), later, gauges(0, 0.0, 4))
    emulator.write("queue_realtime", queue(SALES, "CHAT"), later, gauges(2, 8.5, 2))
    emulator.write("queue_realtime", queue(SUPPORT, "VOICE"), later, gauges(1, 12.0, 1))
    write_today(emulator, SALES, now - now % 60_000, TODAY, today(40, 34, 4, 400.25, 31, 6510.0))
    emulator.write("agent_realtime",
                   {"instance_id": INSTANCE, "agent_id": "a2", "agent_username": "agent.2"},
                   later - 1_000, agent("ON_CONTACT"))
    second = render(load(store, later), width=140)
    assert second != first
    check_frame(second, emulator, later)
    assert queue_cells(second, "Sales", "VOICE")[:4] == ["0", "0.0s", "4", "40"]


def test_the_live_loop_prints_a_checked_frame_per_refresh(emulator):
    now = int(time.time() * 1000) // 5_000 * 5_000
    write_centre(emulator, now)
    out = io.StringIO()
    last = watch(emulator.store(), Screen(out, width=140),
                 refresh_s=0.05, frames=3)
    frames = out.getvalue().split(TITLE)[1:]
    assert len(frames) == 3 and last.error is None
    for frame in frames:
        check_frame(frame, emulator, now, ages=False)


def test_connect_metrics_top_prints_frames_and_exits_0(emulator, tmp_path, capsys):
    now = int(time.time() * 1000) // 5_000 * 5_000
    write_centre(emulator, now)
    properties = write_properties(emulator.config(), tmp_path / "application_properties.json")
    code = commands.main(["top", "--config", str(properties), "--frames", "2", "--refresh", "0.1",
                     "--width", "140"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.count(TITLE) == 2
    check_frame(out.split(TITLE)[-1], emulator, now, ages=False)
