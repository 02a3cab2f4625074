"""The metric tables against the simulator's ground truth.

A simulated hour of a centre with every feature (voice, chat with concurrency, tasks, holds,
misses, callbacks, queue and agent transfers, outbound, breaks, logins and logouts) crossing
midnight of the reporting time zone, with duplicates, reordering within the allowed lateness and
key-casing variants injected: every value of queue_interval, queue_today, queue_realtime and
routing_profile_realtime equals the truth, counts exactly and durations within 1 ms; so do
agent_realtime (each agent's activity and status) and agent_interval (its time per activity) and
the service level of queue_service_level and queue_service_level_today, with one queue's target
at 120 s (given by its name), one at 20 s (by its id) and the third at the default 20 and 60 s, and queue_names holds each
queue's name from the snapshots, one queue renamed halfway; one run also writes provisional
gauge rows, which the samples confirm or rewrite. With dropped events the error is measured and
printed (run with -s).
"""

from __future__ import annotations

from collections import Counter

import pytest

from simulator.faults import FaultSettings
from jobs.core.service_levels import ServiceLevels
from tests.truth import (
    COUNTS, assert_names_equal_truth, assert_service_levels_equal_truth,
    assert_agents_equal_truth, assert_tables_equal_truth, hour_across_midnight, latest,
    truth_intervals,
)

FAULTS = FaultSettings(duplicates=0.02, reorder=0.05, reorder_ms=3_000, casing=0.02)


def run_across_midnight(job_output, seed: int, faults: FaultSettings, **job_settings):
    """The job over `hour_across_midnight`; returns (lines, truth, zone)."""
    events, truth, zone = hour_across_midnight(seed, faults)
    lines = job_output([e.payload for e in events], reporting_time_zone=zone, **job_settings)
    return lines, truth, zone


@pytest.mark.parametrize(("seed", "python_mode", "provisional_ms"), [
    (3, "thread", 0), (12, "thread", 0), (3, "process", 0), (12, "thread", 100)])
def test_every_table_equals_the_ground_truth(job_output, seed, python_mode, provisional_ms):
    events, truth, zone = hour_across_midnight(seed, FAULTS,
                                               queue_renames=((1, 1_800.0, "Support line"),))
    first, second, third = truth.of("instance")[0]["queues"]
    # One queue by its name, one by its id; the third keeps the default.
    targets = f"name:{first['name']}=120;{second['queue_id']}=20"
    lines = job_output([e.payload for e in events], reporting_time_zone=zone,
                       python_execution_mode=python_mode,
                       service_level_queue_thresholds=targets,
                       gauge_provisional_ms=provisional_ms)
    assert sum(t["contacts_queued"] for t in truth.of("interval")) > 250

    levels = ServiceLevels.parse("20,60", targets)
    compared_levels = assert_service_levels_equal_truth(lines, truth, zone, levels)
    assert {(first["queue_id"], "120"), (second["queue_id"], "20"), (third["queue_id"], "20"),
            (third["queue_id"], "60")} <= compared_levels
    assert not {(first["queue_id"], "20"), (second["queue_id"], "60")} & compared_levels
    names = assert_names_equal_truth(lines, truth)
    assert [name for _, name in names[second["queue_id"]]] == ["Support", "Support line"]

    compared = assert_tables_equal_truth(lines, truth, zone)
    assert compared.days == 2  # the run crosses midnight
    assert compared.realtime_rows > 300
    if not provisional_ms:  # with them, samples up to the clock write every gauge
        assert compared.realtime_rows < 0.9 * compared.queue_gauges  # repeats are skipped
    else:
        written = Counter((line["record"]["Time"], str(line["record"]["Dimensions"]))
                          for line in lines if line["table"] == "queue_realtime")
        assert any(n > 1 for n in written.values()), "no instant written twice: no provisional row"
    assert compared.agent_instants > 600
    assert assert_agents_equal_truth(lines, truth) > 500


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
