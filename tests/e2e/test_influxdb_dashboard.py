"""dashboards/connect-metrics-influxdb.json, every panel query executed against the local InfluxDB.

Known points go in with the sink's own writer, the queue tables' points tagged with their queue's
name as the job tags them for InfluxDB (`jobs.core.queue_naming`); each panel's InfluxQL runs as
Grafana would send it (the range macro made concrete) and must return the series the panel
draws, labelled by queue name, with the values computed here from the points written.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict

import pytest

from connectors.influxdb import InfluxDBWriter, WriteEndpoint, influxql
from connectors.settings import InfluxDBSettings
from jobs.config import PROJECT_ROOT
from jobs.core.queue_naming import NAME_TAG, QueueNaming
from jobs.core.service_levels import ServiceLevels
from jobs.schema import written_tables

pytestmark = pytest.mark.e2e

DASHBOARD = json.loads((PROJECT_ROOT / "dashboards" / "connect-metrics-influxdb.json").read_text())
TIMESTREAM = json.loads((PROJECT_ROOT / "dashboards" / "connect-metrics.json").read_text())
INSTANCE = "i-1"
QUEUES = (("q-sales", "VOICE"), ("q-support", "CHAT"))
THRESHOLDS = {"q-sales": (20,), "q-support": (20, 120)}  # each queue's own targets
RANGE = "time > now() - 1h"
NAMES = {"q-sales": "Sales line"}  # each queue's newest name; q-support was never named
NAMING = QueueNaming(ServiceLevels.parse("20,120", "q-sales=20"), name_tag=True)  # THRESHOLDS


def targets(dashboard: dict) -> dict[str, list[dict]]:
    return {p["title"]: p["targets"] for p in dashboard["panels"] if p.get("targets")}


class Centre:
    """Points written as the sink writes them, and what each was."""

    def __init__(self, url: str, database: str):
        self.writer = InfluxDBWriter(WriteEndpoint.of(InfluxDBSettings(url=url,
                                                                       database=database), ""))
        self.points: dict[str, list[tuple[dict, int, dict]]] = defaultdict(list)

    def write(self, table: str, dims: dict, at_ms: int, **measures) -> None:
        kinds = {bool: "BOOLEAN", int: "BIGINT", float: "DOUBLE", str: "VARCHAR"}
        record = {
            "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
            "MeasureValues": [{"Name": k, "Value": str(v).lower() if isinstance(v, bool)
                               else str(v), "Type": kinds[type(v)]} for k, v in measures.items()],
            "Time": str(at_ms), "Version": 1,
        }
        if "queue_id" in dims:
            record = NAMING.settle(table, record, NAMES.get(dims["queue_id"]))
        assert self.writer.write(table, [record], at_ms).written == 1
        self.points[table].append((dims, at_ms, measures))

    def last(self, table: str, **dims) -> dict:
        found = [(at, m) for d, at, m in self.points[table] if dims.items() <= d.items()]
        return max(found, key=lambda f: f[0])[1]


@pytest.fixture(scope="module")
def centre(influxdb_module):
    url, database = influxdb_module
    now = int(time.time() * 1000)
    base = now - now % 900_000 - 900_000  # one whole quarter hour, inside the range
    centre = Centre(url, database)
    for n, (queue, channel) in enumerate(QUEUES):
        dims = {"instance_id": INSTANCE, "queue_id": queue, "channel": channel}
        for step, at in enumerate((now - 20_000, now - 10_000)):
            centre.write("queue_realtime", dims, at, contacts_in_queue=n + step,
                         oldest_contact_age=12.5 * (n + 1) + step, agents_available=3 - step,
                         agents_staffed=5)
        for step, at in enumerate((base, base + 60_000)):
            centre.write("queue_today", {**dims, "local_date": "2026-12-04"}, at,
                         contacts_queued=10 * (n + 1) + step, contacts_handled=8 * (n + 1) + step,
                         contacts_abandoned=n + 1, contacts_removed=9 * (n + 1) + step,
                         avg_queue_answer_time=11.25, avg_handle_time=200.5 + n,
                         avg_abandon_time=30.0, abandonment_rate=5.5)
            centre.write("queue_interval", dims, at, contacts_queued=4 + n + step,
                         contacts_handled=3 + step, contacts_abandoned=n, contacts_removed=4 + step,
                         contacts_completed=2 + step, sum_handle_time=300.0 * (n + 1) + step)
            for seconds in THRESHOLDS[queue]:
                within = min(3 + n + seconds // 60, 4 + step)
                level = {**dims, "threshold_s": str(seconds)}
                centre.write("queue_service_level", level, at, contacts_removed=4 + step,
                             contacts_removed_within=within, sum_contacts_answered_within=within,
                             service_level=100 * within / (4 + step))
                centre.write("queue_service_level_today", {**level, "local_date": "2026-12-04"},
                             at, contacts_removed=9 * (n + 1) + step,
                             contacts_removed_within=7 * (n + 1) + seconds // 60,
                             sum_contacts_answered_within=6 * (n + 1),
                             service_level=100 * (7 * (n + 1) + seconds // 60)
                             / (9 * (n + 1) + step))
    # q-sales was renamed; q-support never named in a snapshot
    centre.write("queue_names", {"instance_id": INSTANCE, "queue_id": "q-sales"}, now - 90_000,
                 queue_name="Sales")
    centre.write("queue_names", {"instance_id": INSTANCE, "queue_id": "q-sales"}, now - 30_000,
                 queue_name="Sales line")
    centre.write("queue_realtime", {"instance_id": INSTANCE, "queue_id": "agent/a-1",
                                    "channel": "VOICE"}, now - 10_000, contacts_in_queue=1,
                 oldest_contact_age=2.0, agents_available=0, agents_staffed=1)
    for profile, size in (("p-1", 6), ("p-2", 4)):
        for step, at in enumerate((now - 130_000, now - 70_000, now - 65_000)):
            centre.write("routing_profile_realtime",
                         {"instance_id": INSTANCE, "routing_profile_id": profile,
                          "routing_profile_name": profile.upper()}, at,
                         agents_online=size, agents_on_contact=size - 2 - step % 2,
                         agents_after_contact_work=1, agents_available=1 + step % 2,
                         agents_non_productive=0, agents_error=0, agents_staffed=size)
    for n, activity in enumerate(("ON_CONTACT", "AVAILABLE")):
        agent = {"instance_id": INSTANCE, "agent_id": f"a-{n}", "agent_username": f"agent.{n}"}
        centre.write("agent_realtime", agent, now - 50_000, activity="OFFLINE",
                     status_name="Offline", routing_profile_name="P-1", online=False)
        centre.write("agent_realtime", agent, now - 40_000 + n, activity=activity,
                     status_name="Available", routing_profile_name="P-1", online=True)
        for step, at in enumerate((base, base + 60_000)):
            centre.write("agent_interval", agent, at, contacts_handled=2 + n, contacts_missed=n,
                         sum_handle_time=100.0 * (step + 1), time_on_contact=30.0 + n,
                         time_after_contact_work=10.0, time_available=15.0, time_incoming=5.0)
    centre.url, centre.database, centre.base = url, database, base
    return centre


def run(centre: Centre, target: dict) -> list[dict]:
    """The target's series as Grafana gets them: name, tags, and rows with a value."""
    statement = target["query"].replace("$timeFilter", RANGE)
    answer = influxql(centre.url, statement, centre.database)
    series = answer["results"][0].get("series", [])
    found = []
    for one in series:
        rows = [dict(zip(one["columns"], values)) for values in one["values"]]
        rows = [r for r in rows if any(v is not None for k, v in r.items() if k != "time")]
        found.append({"tags": one.get("tags", {}), "rows": rows})
    return found


def by_queue(series: list[dict]) -> dict[tuple, list[dict]]:
    return {(s["tags"]["queue_id"], s["tags"]["channel"]): s["rows"] for s in series}


def labelled_by_name(series: list[dict]) -> bool:
    """Whether each series carries its queue's newest name, or its id when never named."""
    return all(s["tags"][NAME_TAG] == NAMES.get(s["tags"]["queue_id"], s["tags"]["queue_id"])
               for s in series)


def test_the_dashboard_has_the_timestream_dashboards_panels():
    assert [(p["title"], p["type"]) for p in DASHBOARD["panels"]] == [
        (p["title"], p["type"]) for p in TIMESTREAM["panels"]]
    # The same queries, plus queue_names where a table shows names: InfluxQL cannot join, Grafana
    # joins the two results by queue_id.
    assert {len(t) for t in targets(DASHBOARD).values()} == {1, 2} and all(
        len([q for q in targets(DASHBOARD)[title] if '"queue_names"' not in q["query"]])
        == len(t) for title, t in targets(TIMESTREAM).items())
    for title, panel_targets in targets(DASHBOARD).items():
        if any('"queue_names"' in t["query"] for t in panel_targets):
            panel = next(p for p in DASHBOARD["panels"] if p["title"] == title)
            assert panel["transformations"] == [
                {"id": "joinByField", "options": {"byField": "queue_id", "mode": "outer"}}]
    for panel_targets in targets(DASHBOARD).values():
        for target in panel_targets:
            assert target["datasource"] == {"type": "influxdb", "uid": "${datasource}"}


def test_every_field_and_tag_a_query_names_is_one_the_sink_writes():
    tables = written_tables(PROJECT_ROOT / "sql")
    import re
    for title, panel_targets in targets(DASHBOARD).items():
        for target in panel_targets:
            query = target["query"]
            read = set(re.findall(r'FROM "(\w+)"', query))
            assert read and read <= tables.keys(), (title, read)
            aliases = set(re.findall(r'AS "(\w+)"', query))
            columns = set().union(*(tables[t].columns for t in read))
            if any("queue_id" in tables[t].columns for t in read):
                columns.add(NAME_TAG)  # the job's tag on the queue tables' InfluxDB rows
            for name in re.findall(r'"(\w+)"', query):
                assert name in columns | aliases | read, (title, name)


def names_query(title: str) -> dict:
    """The panel's query of queue_names: each named queue's newest name."""
    (target,) = [t for t in targets(DASHBOARD)[title] if '"queue_names"' in t["query"]]
    return target


@pytest.mark.parametrize("title", ["Queues now", "Today per queue",
                                   "Service level today per queue"])
def test_tables_get_each_queues_newest_name(centre, title):
    series = run(centre, names_query(title))
    assert [(s["tags"]["queue_id"], [r["queue_name"] for r in s["rows"]]) for s in series] == [
        ("q-sales", ["Sales line"])]


def test_queues_now(centre):
    target, _ = targets(DASHBOARD)["Queues now"]
    series = by_queue(run(centre, target))
    assert series.keys() == set(QUEUES)  # the agent's own queue is left out
    for queue, channel in QUEUES:
        held = centre.last("queue_realtime", queue_id=queue, channel=channel)
        (row,) = series[(queue, channel)]
        assert (row["in_queue"], row["oldest_s"], row["agents_available"],
                row["agents_staffed"]) == (held["contacts_in_queue"], held["oldest_contact_age"],
                                           held["agents_available"], held["agents_staffed"])


@pytest.mark.parametrize(("title", "field"), [("Contacts in queue", "contacts_in_queue"),
                                              ("Oldest contact in queue", "oldest_contact_age")])
def test_queue_gauges_over_time(centre, title, field):
    (target,) = targets(DASHBOARD)[title]
    assert target["alias"] == "$tag_queue_name $tag_channel"
    assert labelled_by_name(run(centre, target))
    series = by_queue(run(centre, target))
    assert series.keys() == set(QUEUES)
    for (queue, channel), rows in series.items():
        written = sorted((at, m[field]) for d, at, m in centre.points["queue_realtime"]
                         if d["queue_id"] == queue and d["channel"] == channel)
        assert [(r["time"], r[field]) for r in rows] == written


def test_today_all_queues(centre):
    totals, levels = targets(DASHBOARD)["Today, all queues"]
    (series,) = run(centre, totals)
    (row,) = series["rows"]
    latest = [centre.last("queue_today", queue_id=q, channel=c) for q, c in QUEUES]
    assert row["handled"] == sum(x["contacts_handled"] for x in latest)
    assert row["abandoned"] == sum(x["contacts_abandoned"] for x in latest)
    by_threshold = {s["tags"]["threshold_s"]: s["rows"] for s in run(centre, levels)}
    assert by_threshold.keys() == {"20", "120"}
    for seconds, ((row,)) in by_threshold.items():
        latest = [centre.last("queue_service_level_today", queue_id=q, threshold_s=seconds)
                  for q, _ in QUEUES if int(seconds) in THRESHOLDS[q]]
        assert row["service_level"] == pytest.approx(
            100 * sum(x["contacts_removed_within"] for x in latest)
            / sum(x["contacts_removed"] for x in latest))


def test_service_level_today_per_queue(centre):
    target, _ = targets(DASHBOARD)["Service level today per queue"]
    series = run(centre, target)
    assert {(s["tags"]["queue_id"], int(s["tags"]["threshold_s"])) for s in series} == {
        (q, seconds) for q, thresholds in THRESHOLDS.items() for seconds in thresholds}
    names = {"service_level": "service_level", "removed_within": "contacts_removed_within",
             "removed": "contacts_removed", "answered_within": "sum_contacts_answered_within"}
    for one in series:
        held = centre.last("queue_service_level_today", queue_id=one["tags"]["queue_id"],
                           threshold_s=one["tags"]["threshold_s"])
        (row,) = one["rows"]
        assert {k: row[k] for k in names} == {k: held[v] for k, v in names.items()}


def test_today_per_queue(centre):
    target, _ = targets(DASHBOARD)["Today per queue"]
    series = by_queue(run(centre, target))
    assert series.keys() == set(QUEUES)
    names = {"queued": "contacts_queued", "handled": "contacts_handled",
             "abandoned": "contacts_abandoned", "avg_answer_s": "avg_queue_answer_time",
             "aht_s": "avg_handle_time", "avg_abandon_s": "avg_abandon_time",
             "abandonment_rate": "abandonment_rate"}
    for (queue, channel), (row,) in series.items():
        held = centre.last("queue_today", queue_id=queue, channel=channel)
        assert {k: row[k] for k in names} == {k: held[v] for k, v in names.items()}


def interval_sums(centre: Centre, queue: str | None = None, channel: str | None = None) -> dict:
    sums: dict[str, float] = defaultdict(float)
    for dims, _, measures in centre.points["queue_interval"]:
        if queue is None or (dims["queue_id"], dims["channel"]) == (queue, channel):
            for name, value in measures.items():
                sums[name] += value
    return sums


def level_sums(centre: Centre, seconds: str, queue: str | None = None) -> dict:
    sums: dict[str, float] = defaultdict(float)
    for dims, _, measures in centre.points["queue_service_level"]:
        if dims["threshold_s"] == seconds and queue in (None, dims["queue_id"]):
            for name, value in measures.items():
                sums[name] += value
    return sums


def test_service_level_per_quarter_hour(centre):
    per_queue, everything = targets(DASHBOARD)["Service level"]
    assert per_queue["alias"] == "$tag_queue_name $tag_channel $tag_threshold_s s"
    series = run(centre, per_queue)
    assert labelled_by_name(series)
    assert {(s["tags"]["queue_id"], int(s["tags"]["threshold_s"])) for s in series} == {
        (q, seconds) for q, thresholds in THRESHOLDS.items() for seconds in thresholds}
    for one in series:
        sums = level_sums(centre, one["tags"]["threshold_s"], one["tags"]["queue_id"])
        assert [(r["time"], r["service_level"]) for r in one["rows"]] == [
            (centre.base, pytest.approx(100 * sums["contacts_removed_within"]
                                        / sums["contacts_removed"]))]
    assert everything["alias"] == "all queues $tag_threshold_s s"
    for one in run(centre, everything):
        sums = level_sums(centre, one["tags"]["threshold_s"])
        assert [(r["time"], r["service_level"]) for r in one["rows"]] == [
            (centre.base, pytest.approx(100 * sums["contacts_removed_within"]
                                        / sums["contacts_removed"]))]


def test_average_handle_time(centre):
    (target,) = targets(DASHBOARD)["Average handle time"]
    assert target["alias"] == "$tag_queue_name $tag_channel"
    assert labelled_by_name(run(centre, target))
    series = by_queue(run(centre, target))
    assert series.keys() == set(QUEUES)
    for (queue, channel), rows in series.items():
        sums = interval_sums(centre, queue, channel)
        assert [(r["time"], r["avg_handle_time"]) for r in rows] == [
            (centre.base, pytest.approx(sums["sum_handle_time"] / sums["contacts_completed"]))]


def test_contacts_per_quarter_hour(centre):
    (target,) = targets(DASHBOARD)["Contacts per 15 minutes, all queues"]
    (series,) = run(centre, target)
    sums = interval_sums(centre)
    assert [(r["time"], r["queued"], r["handled"], r["abandoned"]) for r in series["rows"]] == [
        (centre.base, sums["contacts_queued"], sums["contacts_handled"],
         sums["contacts_abandoned"])]


def test_agents_by_activity(centre):
    (target,) = targets(DASHBOARD)["Agents by activity"]
    (series,) = run(centre, target)
    minutes: dict[int, dict[str, dict]] = defaultdict(dict)
    for dims, at, measures in sorted(centre.points["routing_profile_realtime"],
                                     key=lambda p: p[1]):
        minutes[at - at % 60_000][dims["routing_profile_id"]] = measures  # the minute's last
    fields = {"on_contact": "agents_on_contact", "available": "agents_available",
              "after_contact_work": "agents_after_contact_work",
              "non_productive": "agents_non_productive", "error": "agents_error"}
    expected = [(minute, {k: sum(p[v] for p in profiles.values()) for k, v in fields.items()})
                for minute, profiles in sorted(minutes.items())]
    assert [(r["time"], {k: r[k] for k in fields}) for r in series["rows"]] == expected


def test_agents_now(centre):
    (target,) = targets(DASHBOARD)["Agents now"]
    series = run(centre, target)
    assert {s["tags"]["agent_username"] for s in series} == {"agent.0", "agent.1"}
    for one in series:
        held = centre.last("agent_realtime", agent_id=one["tags"]["agent_id"])
        (row,) = one["rows"]
        assert (row["activity"], row["status"], row["routing_profile"]) == (
            held["activity"], held["status_name"], held["routing_profile_name"])


def test_agents_over_the_range(centre):
    (target,) = targets(DASHBOARD)["Agents over the range"]
    series = run(centre, target)
    assert {s["tags"]["agent_id"] for s in series} == {"a-0", "a-1"}
    for one in series:
        rows = [m for d, _, m in centre.points["agent_interval"]
                if d["agent_id"] == one["tags"]["agent_id"]]

        def total(name):
            return sum(m[name] for m in rows)

        (row,) = one["rows"]
        busy = total("time_on_contact") + total("time_after_contact_work")
        assert row["handled"] == total("contacts_handled")
        assert row["missed"] == total("contacts_missed")
        assert row["aht_s"] == pytest.approx(total("sum_handle_time") / total("contacts_handled"))
        assert row["occupancy"] == pytest.approx(
            100 * busy / (busy + total("time_available") + total("time_incoming")))
