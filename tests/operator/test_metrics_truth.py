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
from collections import defaultdict
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

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
AGENT_GAUGES = {"agents_online": "online", "agents_available": "available",
                "agents_on_contact": "on_contact", "agents_after_contact_work": "acw",
                "agents_non_productive": "non_productive", "agents_error": "error",
                "agents_staffed": "staffed"}


def run_across_midnight(job_output, seed: int, faults: FaultSettings):
    """An hour from HH:30 UTC, ending at least an hour ago (inside Timestream's memory store),
    with the reporting time zone's midnight at its middle. Returns (lines, truth, zone)."""
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
    lines = job_output(records, reporting_time_zone=zone)
    return lines, truth, zone


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


@pytest.mark.parametrize("seed", [3, 12])
def test_every_table_equals_the_ground_truth(job_output, seed):
    lines, truth, zone = run_across_midnight(job_output, seed, FAULTS)
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

    gauges = {(g["channel"], g["queue_id"], g["at"]): g for g in truth.of("queue_gauge")}
    realtime = latest(lines, "queue_realtime")
    first_seen: dict[tuple, int] = {}
    for channel, queue_id, at in sorted(realtime, key=lambda k: k[2]):
        first_seen.setdefault((channel, queue_id), at)
    last_sample = max(at for _, _, at in realtime)
    assert len(realtime) > 3000
    for (channel, queue_id, at), gauge in gauges.items():
        if first_seen.get((channel, queue_id), last_sample + 1) <= at <= last_sample:
            row = realtime[(channel, queue_id, at)]
            where = ("queue_realtime", channel, queue_id, at)
            assert row["contacts_in_queue"] == gauge["contacts_in_queue"], where
            assert abs(row["oldest_contact_age"] * 1000 - gauge["oldest_contact_age_ms"]) <= 1
    end_ms = truth.of("meta")[0]["end_ms"]  # after it, only what the run left open changes
    assert {key for key in realtime if key[2] < end_ms} <= gauges.keys()

    by_sample: dict[int, dict] = defaultdict(lambda: defaultdict(float))
    for (*_, at), row in latest(lines, "routing_profile_realtime").items():
        for name, value in row.items():
            by_sample[at][name] += value
    agent_gauges = {g["at"]: g for g in truth.of("agent_gauge")}
    assert len(by_sample) > 600
    for at, row in by_sample.items():
        if at >= end_ms:
            continue
        for ours_name, truth_name in AGENT_GAUGES.items():
            assert row[ours_name] == agent_gauges[at][truth_name], (at, ours_name)


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
