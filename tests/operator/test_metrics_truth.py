"""The metric tables against the simulator's ground truth.

A simulated hour of a centre with every feature (voice, chat with concurrency, tasks, holds,
misses, callbacks, queue and agent transfers, outbound, breaks, logins and logouts) crossing
midnight of the reporting time zone, with duplicates, reordering within the allowed lateness and
key-casing variants injected: every value of queue_interval, queue_today, queue_realtime and
routing_profile_realtime equals the truth, counts exactly and durations within 1 ms. With
dropped events the error is measured and printed (run with -s).
"""

from __future__ import annotations

import time
from bisect import bisect_right
from collections import defaultdict
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from jobs.config import JobSettings
from simulator.faults import FaultSettings
from simulator.scenarios import every_feature
from simulator.simulation import Simulation
from simulator.truth import TruthList, minute
from tests.operator.conftest import dimensions, measures

HOUR_MS = 3_600_000
FAULTS = FaultSettings(duplicates=0.02, reorder=0.05, reorder_ms=3_000, casing=0.02)
COUNTS = (
    "contacts_queued", "callbacks_queued", "contacts_handled", "contacts_abandoned",
    "sum_contacts_answered_in_20", "sum_contacts_answered_in_60", "contacts_removed",
    "contacts_removed_in_20", "contacts_removed_in_60", "contacts_completed",
    "contacts_transferred_out",
)
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


def hour_across_midnight(seed: int, faults: FaultSettings):
    """An hour from HH:30 UTC, ending at least an hour ago (inside Timestream's memory store),
    with the reporting time zone's midnight at its middle. Returns (records, truth, zone)."""
    hour = int(time.time()) // 3600 * HOUR_MS
    start_ms = hour - 2 * HOUR_MS - HOUR_MS // 2
    midnight_utc_hour = (start_ms + HOUR_MS // 2) // HOUR_MS % 24
    offset = -midnight_utc_hour % 24
    offset = offset - 24 if offset > 12 else offset
    zone = f"Etc/GMT{-offset:+d}"  # Etc/GMT-5 is five hours ahead of UTC
    truth = TruthList()
    simulation = Simulation([every_feature(agents=20, queues=3, arrivals_per_minute=6.0)],
                            seed=seed, start_ms=start_ms, faults=faults, truth=truth)
    records = [emitted.payload for emitted in simulation.events(HOUR_MS)]
    return records, truth, zone


def run_across_midnight(job_output, seed: int, faults: FaultSettings, **job_settings):
    """The job over `hour_across_midnight`. Returns (lines, truth, zone)."""
    records, truth, zone = hour_across_midnight(seed, faults)
    lines = job_output(records, reporting_time_zone=zone, **job_settings)
    return lines, truth, zone


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
        tolerance = 0.001 if name in DURATIONS else 0
        assert abs(got - want) <= tolerance, (where, name, got, want)


@pytest.mark.parametrize(("seed", "python_mode"), [(3, "process"), (12, "process"),
                                                  (3, "thread")])
def test_every_table_equals_the_ground_truth(job_output, seed, python_mode):
    lines, truth, zone = run_across_midnight(job_output, seed, FAULTS,
                                             python_execution_mode=python_mode)
    assert_tables_equal_truth(lines, truth, zone)


def assert_tables_equal_truth(lines: list[dict], truth: TruthList, zone: str) -> None:
    """Every value of queue_interval, queue_today, queue_realtime and routing_profile_realtime
    in the sink's `lines` equals the truth of the simulated hour."""
    assert sum(t["contacts_queued"] for t in truth.of("interval")) > 250

    intervals = truth_intervals(truth)
    ours = latest(lines, "queue_interval")
    for key in ours.keys() | intervals.keys():  # a missing row is all zeros
        row = ours.get(key, {})
        assert_close(row, intervals.get(key, {}), COUNTS + DURATIONS, ("queue_interval", key))
        removed = row.get("contacts_removed")
        if removed:
            assert row["service_level_20"] == pytest.approx(
                100 * row["contacts_removed_in_20"] / removed)
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
    assert len({day for _, _, day in days}) == 2  # the run crosses midnight
    for key in today.keys() | days.keys():
        assert_close(today.get(key, {}), days.get(key, {}), COUNTS + DURATIONS,
                      ("queue_today", key))

    # Gauge rows are written when they change and at least every refresh: at any sample
    # instant a gauge is its latest row at or before it, the oldest contact having waited on.
    gauges = {(g["channel"], g["queue_id"], g["at"]): g for g in truth.of("queue_gauge")}
    realtime = latest(lines, "queue_realtime")
    queue_rows = as_of_series(realtime)
    last_sample = max(at for _, _, at in realtime)
    assert len(realtime) > 300
    assert len(realtime) < 0.9 * len(gauges)  # samples that repeat the row before are skipped
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
    assert compared > 600


def test_dropped_events_error_is_measured(job_output):
    """Drops cannot be corrected: this measures how far the counts move (printed with -s) and
    checks each total stays within the events that were lost."""
    lines, truth, _ = run_across_midnight(job_output, 3, FaultSettings(
        duplicates=0.02, reorder=0.05, reorder_ms=3_000, drop=0.005))
    dropped = [f for f in truth.of("fault") if f["fault"] == "drop"]
    dropped_contact_events = sum(1 for f in dropped if f["feed"] == "contact")
    expected = truth_intervals(truth)
    ours = latest(lines, "queue_interval")
    print(f"\ndropped {len(dropped)} of {len(dropped) + truth.of('end')[0]['records_delivered']}"
          f" records ({dropped_contact_events} contact events)")
    for name in COUNTS:
        want = sum(row.get(name, 0) for row in expected.values())
        got = sum(row.get(name, 0) for row in ours.values())
        wrong = sum(1 for key in expected.keys() | ours.keys()
                    if ours.get(key, {}).get(name, 0) != expected.get(key, {}).get(name, 0))
        print(f"{name:30} truth {want:6.0f}  job {got:6.0f}  error {got - want:+5.0f}"
              f" ({100 * (got - want) / want if want else 0:+.2f} %), {wrong} intervals differ")
        assert abs(got - want) <= dropped_contact_events, name
    assert dropped_contact_events > 0


def _local_midnight(at_ms: int, tz: ZoneInfo) -> int:
    local = datetime.fromtimestamp(at_ms / 1000, tz)
    return int(local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp() * 1000)
