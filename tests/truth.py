"""The metric tables the job wrote against the simulator's ground truth, shared by the
operator and end-to-end tests: counts exact, durations within 1 ms, gauges equal at every
sample instant (a gauge is its series' latest row at or before the instant)."""

from __future__ import annotations

import time
from bisect import bisect_right
from collections import defaultdict
from datetime import datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

import pytest

from jobs.config import JobSettings
from jobs.core.service_levels import ServiceLevels
from simulator.faults import FaultSettings
from simulator.scenarios import every_feature
from simulator.centre import Emitted
from simulator.simulation import Simulation
from simulator.truth import SERVICE_LEVELS_S, TruthList, minute


def measures(line: dict) -> dict:
    return {m["Name"]: m["Value"] for m in line["record"]["MeasureValues"]}


def dimensions(line: dict) -> dict:
    return {d["Name"]: d["Value"] for d in line["record"]["Dimensions"]}


COUNTS = (
    "contacts_queued", "callbacks_queued", "contacts_handled", "contacts_abandoned",
    "contacts_removed", "contacts_completed", "contacts_transferred_out",
)
SERVICE_LEVEL_COUNTS = ("contacts_removed", "contacts_removed_within",
                        "sum_contacts_answered_within")
REMOVED = ("answered", "abandoned", "callback_requested")  # Connect's "removed from the queue"
DURATIONS = (
    "sum_queue_answer_time", "sum_abandon_time", "sum_handle_time", "sum_hold_time",
    "sum_after_contact_work_time", "max_queued_time",
)
TRUTH_NAMES = {"callbacks_queued": "callbacks", "sum_queue_answer_time": "sum_queue_answer_time_ms",
               "sum_handle_time": "sum_handle_time_ms", "sum_hold_time": "sum_hold_time_ms",
               "sum_after_contact_work_time": "sum_acw_time_ms"}
REFRESH_MS = JobSettings().gauge_refresh_ms
AGENT_GAUGES = {"agents_online": "online", "agents_available": "available",
                "agents_on_contact": "on_contact", "agents_after_contact_work": "acw",
                "agents_non_productive": "non_productive", "agents_error": "error",
                "agents_staffed": "staffed"}
# agent_interval's time column of each activity (OFFLINE has none)
AGENT_TIMES = {"AVAILABLE": "time_available", "ON_CONTACT": "time_on_contact",
               "ACW": "time_after_contact_work", "INCOMING": "time_incoming",
               "NON_PRODUCTIVE": "time_non_productive", "ERROR": "time_error_or_missed",
               "MISSED": "time_error_or_missed", "REJECTED": "time_error_or_missed"}


HOUR_MS = 3_600_000
HEARTBEAT_MS = 120_000  # an agent with nothing to say still sends one this often


def hour_across_midnight(seed: int, faults: FaultSettings, agents: int = 20,
                         arrivals_per_minute: float = 6.0, span_ms: int = HOUR_MS,
                         **changes) -> tuple[list[Emitted], TruthList, str]:
    """An hour (or `span_ms`) of a centre with every feature, ending at least an hour ago
    (inside Timestream's memory store), with the reporting time zone's midnight at its middle
    (an hour runs from HH:30 UTC); `changes` change the centre's settings.
    Returns (events, truth, zone)."""
    hour = int(time.time()) // 3600 * HOUR_MS
    start_ms = hour - 2 * HOUR_MS - span_ms // 2
    midnight_utc_hour = (start_ms + span_ms // 2) // HOUR_MS % 24
    offset = -midnight_utc_hour % 24
    offset = offset - 24 if offset > 12 else offset
    zone = f"Etc/GMT{-offset:+d}"  # Etc/GMT-5 is five hours ahead of UTC
    truth = TruthList()
    simulation = Simulation(
        [every_feature(agents=agents, queues=3, arrivals_per_minute=arrivals_per_minute,
                       **changes)],
        seed=seed, start_ms=start_ms, faults=faults, truth=truth)
    return list(simulation.events(span_ms)), truth, zone


class Compared(NamedTuple):
    """How much was compared, for a test to check its scenario covered what it meant to."""
    days: int
    realtime_rows: int
    queue_gauges: int
    agent_instants: int


def assert_tables_equal_truth(lines: list[dict], truth: TruthList, zone: str) -> Compared:
    """`lines` are sink records (`{"table": ..., "record": ...}`), read with Timestream's upsert
    semantics; queue_interval, queue_today, queue_realtime and routing_profile_realtime must
    equal the truth."""
    intervals = truth_intervals(truth)
    ours = latest(lines, "queue_interval")
    for key in ours.keys() | intervals.keys():  # a missing row is all zeros
        row = ours.get(key, {})
        assert_close(row, intervals.get(key, {}), COUNTS + DURATIONS, ("queue_interval", key))
        if row.get("contacts_completed"):
            assert row["avg_handle_time"] == pytest.approx(
                row["sum_handle_time"] / row["contacts_completed"])

    days: dict[tuple, dict] = defaultdict(lambda: defaultdict(float))
    tz = ZoneInfo(zone)
    for (channel, queue_id, start), row in intervals.items():
        day = _local_midnight(start, tz)
        for name, value in row.items():
            if name == "max_queued_time":
                days[(channel, queue_id, day)][name] = max(days[(channel, queue_id, day)][name],
                                                           value)
            else:
                days[(channel, queue_id, day)][name] += value
    today = {}  # a day's latest record
    for (channel, day, queue_id, at), row in sorted(latest(lines, "queue_today").items(),
                                                    key=lambda item: item[0][3]):
        midnight = int(datetime.fromisoformat(day).replace(tzinfo=tz).timestamp() * 1000)
        today[(channel, queue_id, midnight)] = row
    for key in today.keys() | days.keys():
        assert_close(today.get(key, {}), days.get(key, {}), COUNTS + DURATIONS,
                      ("queue_today", key))

    # Gauge rows are written when they change and at least every refresh: at any sample
    # instant a gauge is its latest row at or before it, the oldest contact having waited on.
    gauges = {(g["channel"], g["queue_id"], g["at"]): g for g in truth.of("queue_gauge")}
    realtime = latest(lines, "queue_realtime")
    queue_rows = as_of_series(realtime)
    last_sample = max(at for _, _, at in realtime)
    for (channel, queue_id, at), gauge in gauges.items():
        if (channel, queue_id) not in queue_rows or at > last_sample:
            continue
        found = as_of(queue_rows[(channel, queue_id)], at)
        if found is None:
            continue  # before the queue's first row
        row_at, row = found
        where = ("queue_realtime", channel, queue_id, at, row_at)
        assert at - row_at < REFRESH_MS, where
        assert row["contacts_in_queue"] == gauge["contacts_in_queue"], where
        age_ms = row["oldest_contact_age"] * 1000 + (at - row_at if gauge["contacts_in_queue"]
                                                     else 0)
        assert abs(age_ms - gauge["oldest_contact_age_ms"]) <= 1, where
    end_ms = truth.of("meta")[0]["end_ms"]  # after it, only what the run left open changes
    assert {key for key in realtime if key[2] < end_ms} <= gauges.keys()

    profile_rows = as_of_series(latest(lines, "routing_profile_realtime"))
    agent_gauges = {g["at"]: g for g in truth.of("agent_gauge")}
    first_row = max(rows[0][0] for rows in profile_rows.values())
    compared = 0
    for at, gauge in agent_gauges.items():
        if at < first_row:
            continue
        totals: dict[str, float] = defaultdict(float)
        for rows in profile_rows.values():
            row_at, row = as_of(rows, at)
            assert at - row_at < REFRESH_MS, ("routing_profile_realtime", at, row_at)
            for name, value in row.items():
                totals[name] += value
        compared += 1
        for ours_name, truth_name in AGENT_GAUGES.items():
            assert totals[ours_name] == gauge[truth_name], (at, ours_name)
    return Compared(days=len({day for _, _, day in days}), realtime_rows=len(realtime),
                    queue_gauges=len(gauges), agent_instants=compared)


def as_of_series(rows: dict[tuple, dict]) -> dict[tuple, list[tuple[int, dict]]]:
    """`latest` rows as each series' (time, row) list in time order."""
    series: dict[tuple, list] = defaultdict(list)
    for (*key, at), row in sorted(rows.items(), key=lambda item: item[0][-1]):
        series[tuple(key)].append((at, row))
    return series


def as_of(rows: list[tuple[int, dict]], at: int) -> tuple[int, dict] | None:
    """The series' latest (time, row) at or before `at`."""
    index = bisect_right([t for t, _ in rows], at)
    return rows[index - 1] if index else None


def latest(lines: list[dict], table: str) -> dict[tuple, dict]:
    """Each record of `table` as Timestream keeps it: the highest version (then the last
    written) per dimensions and time; keyed by (dimensions without instance_id..., time)."""
    kept: dict[tuple, tuple[int, dict]] = {}
    for line in lines:
        if line["table"] != table:
            continue
        record = line["record"]
        dims = dimensions(line)
        key = (*(v for k, v in sorted(dims.items()) if k != "instance_id"), int(record["Time"]))
        version = int(record["Version"])
        if key not in kept or version >= kept[key][0]:
            kept[key] = (version, {n: float(v) for n, v in measures(line).items()})
    return {key: values for key, (_, values) in kept.items()}


def truth_intervals(truth: TruthList) -> dict[tuple, dict]:
    """queue_interval as the truth has it, keyed like `latest` (channel, queue_id, start):
    the interval lines plus the longest stay and abandon time from the contacts."""
    rows: dict[tuple, dict] = defaultdict(lambda: defaultdict(float))
    for line in truth.of("interval"):
        row = rows[(line["channel"], line["queue_id"], line["interval_start"])]
        for name in COUNTS + DURATIONS:
            source = TRUTH_NAMES.get(name, name)
            if source in line:
                row[name] += line[source] / (1000 if source.endswith("_ms") else 1)
    for contact in truth.of("contact"):
        left, outcome = contact["left_queue_at"], contact["queue_outcome"]
        if left is None or outcome not in ("answered", "abandoned", "callback_requested"):
            continue
        row = rows[(contact["channel"], contact["queue_id"], minute(left))]
        waited = (left - contact["enqueued_at"]) / 1000
        row["max_queued_time"] = max(row.get("max_queued_time", 0.0), waited)
        if outcome == "abandoned":
            row["sum_abandon_time"] += waited
    return rows


def assert_close(ours: dict, expected: dict, names, where) -> None:
    for name in names:
        got, want = ours.get(name, 0.0), expected.get(name, 0.0)
        tolerance = 0.001 if name in DURATIONS or name in AGENT_TIMES.values() else 0
        assert abs(got - want) <= tolerance, (where, name, got, want)


def truth_service_levels(truth: TruthList, levels: ServiceLevels) -> dict[tuple, dict]:
    """queue_service_level as the truth implies it for each queue's own thresholds, keyed like
    `latest` (channel, queue_id, threshold_s, start): every contact that left its queue
    answered, abandoned or for a callback, against each threshold of its queue (a queue
    given by name has its name in the instance: name targets go to queues never renamed)."""
    (instance,) = truth.of("instance")
    names = {queue["queue_id"]: queue["name"] for queue in instance["queues"]}
    renamed = {rename["queue_id"] for rename in truth.of("queue_renamed")}
    assert not any(map(levels.needs_name, renamed)), "name targets on a renamed queue"
    rows: dict[tuple, dict] = defaultdict(lambda: defaultdict(int))
    for contact in truth.of("contact"):
        left, outcome = contact["left_queue_at"], contact["queue_outcome"]
        if left is None or outcome not in REMOVED:
            continue
        waited = left - contact["enqueued_at"]
        for seconds in levels.for_queue(contact["queue_id"], names.get(contact["queue_id"])):
            row = rows[(contact["channel"], contact["queue_id"], str(seconds), minute(left))]
            row["contacts_removed"] += 1
            row["contacts_removed_within"] += waited <= seconds * 1000
            row["sum_contacts_answered_within"] += outcome == "answered" and waited <= seconds * 1000
    # The interval lines count 20 and 60 s on their own: where a queue has those, both agree.
    for line in truth.of("interval"):
        for seconds in SERVICE_LEVELS_S:
            if seconds in levels.for_queue(line["queue_id"], names.get(line["queue_id"])):
                key = (line["channel"], line["queue_id"], str(seconds), line["interval_start"])
                assert rows.get(key, {}).get("contacts_removed_within", 0) == (
                    line[f"contacts_removed_in_{seconds}"]), key
    return rows


def assert_service_levels_equal_truth(lines: list[dict], truth: TruthList, zone: str,
                                      levels: ServiceLevels) -> set[tuple[str, str]]:
    """queue_service_level and queue_service_level_today equal the truth for each queue's own
    thresholds (`levels`); returns the (queue_id, threshold_s) pairs compared."""
    expected = truth_service_levels(truth, levels)
    _assert_levels(latest(lines, "queue_service_level"), expected, "queue_service_level")

    tz = ZoneInfo(zone)
    days: dict[tuple, dict] = defaultdict(lambda: defaultdict(int))
    for (channel, queue_id, seconds, start), row in expected.items():
        for name, value in row.items():
            days[(channel, queue_id, seconds, _local_midnight(start, tz))][name] += value
    today = {}  # a day's latest record
    for (channel, day, queue_id, seconds, at), row in sorted(
            latest(lines, "queue_service_level_today").items(), key=lambda item: item[0][-1]):
        midnight = int(datetime.fromisoformat(day).replace(tzinfo=tz).timestamp() * 1000)
        today[(channel, queue_id, seconds, midnight)] = row
    _assert_levels(today, days, "queue_service_level_today")
    return {(queue_id, seconds) for _, queue_id, seconds, _ in expected}


def _assert_levels(ours: dict, expected: dict, table: str) -> None:
    """Every key of either side: the counts equal, the service level their quotient."""
    for key in ours.keys() | expected.keys():
        row = ours.get(key, {})
        assert_close(row, expected.get(key, {}), SERVICE_LEVEL_COUNTS, (table, key))
        assert row["service_level"] == pytest.approx(
            100 * row["contacts_removed_within"] / row["contacts_removed"]), key


def assert_agents_equal_truth(lines: list[dict], truth: TruthList) -> int:
    """agent_realtime and agent_interval against the truth's activity segments. From an agent's
    first agent_realtime row on, its latest row at a segment's start and just before its end
    shows the segment's activity and status; agent_interval's time per activity is the length
    of each run of one activity, counted in the interval in which the run ended, for every
    interval wholly inside the simulated span. Returns the instants compared."""
    realtime: dict[str, list] = defaultdict(list)
    for line in lines:
        if line["table"] == "agent_realtime":
            realtime[dimensions(line)["agent_id"]].append(
                (int(line["record"]["Time"]), measures(line)))
    segments: dict[str, list[dict]] = defaultdict(list)
    for segment in truth.of("agent_activity"):
        segments[segment["agent_id"]].append(segment)
    compared = 0
    times: dict[tuple, dict] = defaultdict(lambda: defaultdict(float))
    for agent_id, agent_segments in segments.items():
        rows = sorted(realtime[agent_id], key=lambda row: row[0])
        runs: list[dict] = []
        for segment in sorted(agent_segments, key=lambda s: s["start"]):
            for at in {segment["start"], segment["end"] - 1}:
                if rows and rows[0][0] <= at < segment["end"]:
                    row_at, row = as_of(rows, at)
                    assert (row["activity"], row["status_name"]) == (
                        segment["activity"], segment["status"]), (agent_id, at, row_at, segment)
                    compared += 1
            if runs and runs[-1]["activity"] == segment["activity"] \
                    and runs[-1]["end"] == segment["start"]:
                runs[-1] = {**runs[-1], "end": segment["end"], "open": segment["open"]}
            else:
                runs.append(segment)
        for run in runs:
            if not run["open"] and run["activity"] in AGENT_TIMES:
                key = (agent_id, minute(run["end"]))
                times[key][AGENT_TIMES[run["activity"]]] += (run["end"] - run["start"]) / 1000
    end_ms = truth.of("meta")[0]["end_ms"]
    interval_ms = truth.of("meta")[0]["interval_ms"]
    ours = latest(lines, "agent_interval")
    for key in ours.keys() | times.keys():
        if key[1] + interval_ms <= end_ms:
            assert_close(ours.get(key, {}), times.get(key, {}), set(AGENT_TIMES.values()),
                         ("agent_interval", key))
    return compared


def newest_names(lines: list[dict], table: str, id_column: str,
                 name_column: str) -> dict[str, list[tuple[int, str]]]:
    """Each id's (time, name) records of a names table, in time order."""
    named: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for line in lines:
        if line["table"] == table:
            named[dimensions(line)[id_column]].append(
                (int(line["record"]["Time"]), measures(line)[name_column]))
    return {key: sorted(records) for key, records in named.items()}


def assert_names_equal_truth(lines: list[dict], truth: TruthList) -> dict[str, list]:
    """queue_names holds, for every queue of the truth, its name and each rename at or after
    the rename's time (the next snapshot that shows it), the newest record the final name;
    routing_profile_names the name of every profile an agent has (snapshots name no other).
    Returns the queue names' records."""
    (instance,) = truth.of("instance")
    renames = truth.of("queue_renamed")
    queues = newest_names(lines, "queue_names", "queue_id", "queue_name")
    assert queues.keys() == {q["queue_id"] for q in instance["queues"]}
    for queue in instance["queues"]:
        names = [queue["name"]] + [r["name"] for r in renames if r["queue_id"] == queue["queue_id"]]
        records = queues[queue["queue_id"]]
        assert [name for _, name in records] == names, queue
        for (at, _), rename in zip(records[1:], (r for r in renames
                                                if r["queue_id"] == queue["queue_id"])):
            assert rename["at"] <= at < rename["at"] + 2 * HEARTBEAT_MS, rename
    profiles = newest_names(lines, "routing_profile_names", "routing_profile_id",
                            "routing_profile_name")
    staffed = {agent["routing_profile_id"] for agent in truth.of("agent")}
    assert {key: records[-1][1] for key, records in profiles.items()} == {
        p["routing_profile_id"]: p["name"] for p in instance["routing_profiles"]
        if p["routing_profile_id"] in staffed}
    return queues


def _local_midnight(at_ms: int, tz: ZoneInfo) -> int:
    local = datetime.fromtimestamp(at_ms / 1000, tz)
    return int(local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp() * 1000)
