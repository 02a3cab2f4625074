"""The benchmark harness's pure helpers. No timing is asserted here: targets live in
`benchmarks/` only."""

from __future__ import annotations

import os
import pickle
import time
from types import SimpleNamespace

import pytest

from benchmarks.data import shard_of
from benchmarks.machine import CLOCK_TICKS, ThreadTimes, ThreadUse, cores_by_name
from benchmarks.keyed import KeyedRunner
from benchmarks.live import (
    Landed, Put, interval_delays, interval_ends, local_config, match_latencies, parse_settings,
    put_behind, rewrites,
)
from benchmarks.profile import (
    is_project, is_wait, summarise, thread_details,
)
from benchmarks.report import Measurement, Target, markdown_table, per_agent_hour, percentile


def test_percentile_is_a_value_that_was_observed_by_nearest_rank():
    values = [5, 1, 4, 2, 3]
    assert percentile(values, 0.5) == 3
    assert percentile(values, 0.99) == 5
    assert percentile(values, 0) == 1
    assert percentile(list(range(1, 101)), 0.99) == 99
    with pytest.raises(ValueError):
        percentile([], 0.5)


def test_per_agent_hour_divides_by_agents_times_simulated_hours():
    assert per_agent_hour(600, agents=10, simulated_ms=2 * 3_600_000) == 30
    assert per_agent_hour(15, agents=10, simulated_ms=1_800_000) == 3
    with pytest.raises(ValueError):
        per_agent_hour(1, agents=0, simulated_ms=1)


def test_table_says_pass_fail_or_skipped_against_the_target():
    at_most = Target(3.0, True, "<= 3 s")
    rows = markdown_table([
        Measurement("latency", "p99", 2.5, "s", at_most),
        Measurement("latency", "p99 | slow", 4.0, "s", at_most, note="a note"),
        Measurement("throughput", "full", 21_000, "events/s", Target(20_000, False, ">= 20k")),
        Measurement("latency", "p50", None, "s", note="table missing"),
        Measurement("write cost", "ratio", 0.0512, "ratio"),
    ]).splitlines()
    assert rows[0].startswith("| part | measurement | value |")
    assert rows[2] == "| latency | p99 | 2.50 s | <= 3 s | pass |  |"
    assert rows[3] == "| latency | p99 \\| slow | 4 s | <= 3 s | FAIL | a note |"
    assert rows[4] == "| throughput | full | 21,000 events/s | >= 20k | pass |  |"
    assert rows[5] == "| latency | p50 | - |  | skipped | table missing |"
    assert rows[6] == "| write cost | ratio | 0.051 |  |  |  |"


def test_put_behind_is_taken_from_when_each_measured_event_was_due():
    due = [SimpleNamespace(at=at) for at in (9_000, 10_000, 12_000, 20_000)]
    stamped = [(due[0], 9_100), (due[1], 10_200), (due[2], 15_000), (due[3], 20_000)]
    assert put_behind(stamped, 10_000, 20_000) == [0.2, 3.0]
    assert put_behind(stamped, 30_000, 40_000) == []


def test_latency_is_taken_to_the_first_covering_row_landed_after_the_put():
    key = ("i", "q", "VOICE")
    puts = [Put(key, event_time=10_000, put_ms=100_000),
            Put(key, event_time=16_000, put_ms=106_000),
            Put(("i", "other", "VOICE"), event_time=10_000, put_ms=100_000)]
    landed = [
        Landed(key, record_time=15_000, landed_ms=99_000),  # before the put: not its row
        Landed(key, record_time=5_000, landed_ms=101_000),  # lands after, but covers older time
        Landed(key, record_time=15_000, landed_ms=102_500),
        Landed(key, record_time=20_000, landed_ms=107_000),
    ]
    seconds, unmatched = match_latencies(puts, landed)
    assert seconds == [2.5, 1.0]
    assert unmatched == 1
    # With `exact`, only a row at the event's own time is its row.
    assert match_latencies(puts[:2], landed, exact=True) == ([], 2)
    at_16 = Landed(key, record_time=16_000, landed_ms=106_400)
    assert match_latencies(puts[:2], [*landed, at_16], exact=True) == ([0.4], 1)


def test_interval_delay_is_from_its_end_to_its_first_record():
    key = ("i", "q", "VOICE")
    landed = [Landed(key, record_time=0, landed_ms=66_000),
              Landed(key, record_time=0, landed_ms=64_000),  # a version seen first
              Landed(key, record_time=60_000, landed_ms=127_500),
              Landed(key, record_time=120_000, landed_ms=185_000)]  # ends after the span
    assert sorted(interval_delays(landed, 60_000, 60_000, 180_000)) == [4.0, 7.5]


def test_interval_ends_are_counted_in_the_half_open_span():
    assert interval_ends(60_000, 60_000, 180_000) == 2  # 60 s and 120 s; 180 s is outside
    assert interval_ends(60_000, 60_001, 240_001) == 3  # 120 s, 180 s and 240 s
    assert interval_ends(60_000, 1_000, 59_000) == 0


def test_rewrites_count_the_instants_of_a_table_landed_in_more_than_one_version():
    queue = (("queue_id", "q"),)
    seen = {("queue_realtime", queue, 5_000, "1"): None, ("queue_realtime", queue, 5_000, "2"): None,
            ("queue_realtime", queue, 10_000, "3"): None,
            ("agent_realtime", (("agent_id", "a"),), 5_000, "4"): None,
            ("agent_realtime", (("agent_id", "a"),), 5_000, "5"): None}
    watch = type("Watch", (), {"first_seen": seen})()
    assert rewrites(watch, "queue_realtime") == (2, 1)


def test_shards_are_stable_and_cover_every_shard():
    keys = [f"contact-{n}" for n in range(200)]
    assert [shard_of(k, 2) for k in keys] == [shard_of(k, 2) for k in keys]
    assert {shard_of(k, 2) for k in keys} == {0, 1}
    assert {shard_of(k, 1) for k in keys} == {0}


def test_profile_counts_only_worker_samples_per_function():
    raw = [
        "Thread.run (threading.py:982);process_bundle (beam.py:10);parse (jobs/core/events.py:5) 7",
        "Thread.run (threading.py:982);process_bundle (beam.py:10);parse (jobs/core/events.py:9) 3",
        "Thread.run (threading.py:982);process_bundle (beam.py:12);wait (threading.py:331) 5",
        "Thread.run (threading.py:982);wait (threading.py:331) 100",
    ]
    total, leaf, inclusive = summarise(raw)
    assert total == 15
    assert leaf["parse (jobs/core/events.py)"] == 10
    assert leaf["wait (threading.py)"] == 5
    assert inclusive["process_bundle (beam.py)"] == 15


class _Echo:
    """A keyed function that keeps a count per key and a timer at each element's time + 10."""

    def open(self, runtime_context):
        self.count = runtime_context.get_state(_Descriptor("count"))

    def process_element(self, value, ctx):
        self.count.update((self.count.value() or 0) + 1)
        ctx.timer_service().register_event_time_timer(value + 10)
        yield ("element", ctx.get_current_key(), value)

    def on_timer(self, timestamp, ctx):
        self.count.clear()
        yield ("timer", ctx.get_current_key(), timestamp)


class _Descriptor:
    def __init__(self, name):
        self.name = name

    def get_name(self):
        return self.name


def test_keyed_runner_fires_timers_in_time_order_once_the_watermark_passes():
    runner = KeyedRunner(_Echo())
    assert runner.process("a", 5, 5) == [("element", "a", 5)]
    runner.process("b", 1, 1)
    runner.process("a", 5, 5)  # the same timer again: it fires once
    assert runner.state_bytes("a") > 0 and runner.keys() == {"a", "b"}
    assert runner.advance(10) == []
    assert runner.advance(20) == [("timer", "b", 11), ("timer", "a", 15)]
    assert runner.keys() == set() and runner.keys_without_timers() == set()


def test_keyed_runner_counts_each_call_a_task_would_make_between_the_operator_and_the_jvm():
    runner = KeyedRunner(_Echo())
    runner.process("a", 5, 5)  # the call, its output; read, write, timer, key
    assert runner.jvm_calls == 6
    runner.advance(20)  # the call, its output; clear, key
    assert runner.jvm_calls == 10


def test_keyed_runner_pickles_list_and_map_states_element_by_element():
    runner = KeyedRunner(_Collector())
    runner.process("k", ("x", 1), 0)
    runner.process("k", ("y", 22), 0)
    assert runner.value("k", "seen") == [("x", 1), ("y", 22)]
    assert runner.value("k", "by_name") == {"x": 1, "y": 22}
    entries = runner.stored[("k", "by_name")]
    assert entries["y"] == pickle.dumps(22), "an entry is pickled alone, not the whole map"
    assert runner.state_bytes("k") == (
        sum(len(pickle.dumps(v)) for v in [("x", 1), ("y", 22)])
        + len("x") + len(pickle.dumps(1)) + len("y") + len(pickle.dumps(22)))
    runner.process("k", ("x", None), 0)  # deletes x, and clears the list
    assert runner.value("k", "by_name") == {"y": 22} and runner.value("k", "seen") is None


class _Collector:
    """Keeps every (name, value) in a list state and the newest value of each name in a map
    state; a None value deletes its name and clears the list."""

    def open(self, runtime_context):
        self.seen = runtime_context.get_list_state(_Descriptor("seen"))
        self.by_name = runtime_context.get_map_state(_Descriptor("by_name"))

    def process_element(self, value, ctx):
        name, number = value
        if number is None:
            del self.by_name[name]
            self.seen.update([])
            return
        self.seen.add(value)
        self.by_name[name] = number
        yield from ()


def test_waits_and_project_code_are_told_apart():
    assert is_wait("Condition.wait (threading.py)")
    assert not is_wait("parse (jobs/core/events.py)")
    assert is_project("parse (jobs/core/events.py)") and is_project("flush (connectors/timestream.py)")
    assert not is_project("dump (cloudpickle/cloudpickle_fast.py)")


def test_throughput_rows_put_full_and_keyed_floor_against_the_pass_through():
    from pathlib import Path

    from benchmarks.throughput import Run, measurements

    def run(mode, parallelism, seconds):
        return Run(mode, parallelism, 10_000, seconds, 2.0, Path("."), "0 0 0",
                   switches=270_000 if mode == "full" else None)

    rows = measurements([run(mode, p, seconds) for p in (1, 2) for mode, seconds in
                         (("passthrough", 4.0), ("keyed", 8.0), ("full", 20.0))])
    by_name = {m.name: m for m in rows}
    assert by_name["keyed floor / pass-through, parallelism 2"].value == 0.5
    ratio = by_name["full / pass-through, parallelism 1"]
    assert ratio.value == 0.2 and ratio.target.limit == 0.3
    assert by_name["full / pass-through, parallelism 2"].target is None
    assert by_name["full job, parallelism 1"].target.limit == 2_000
    assert by_name["full job, parallelism 2"].target is None
    assert "556 events/s net" in by_name["full job, parallelism 2"].note
    assert "27.0 context switches a record" in by_name["full job, parallelism 1"].note
    assert "context switches" not in by_name["keyed floor, parallelism 1"].note


def test_a_job_run_counts_its_jvm_threads_switches_from_outside_between_its_lines(
        tmp_path, monkeypatch):
    """A stand-in for `benchmarks.job_run` that names itself as the JVM, then sleeps 40 times
    (40 context switches at least) before its result and 200 times after it, uncounted."""
    import subprocess
    import sys

    import benchmarks.throughput as throughput

    script = ("import time, os\n"
              "print('replay: starting', flush=True)\n"
              "print(f'JVM {os.getpid()}', flush=True)\n"
              "for _ in range(40): time.sleep(0.005)\n"
              "print('RESULT {\"seconds\": 1.5, \"cpu_seconds\": 0.1}', flush=True)\n"
              "for _ in range(200): time.sleep(0.005)\n")
    popen = subprocess.Popen
    monkeypatch.setattr(throughput.subprocess, "Popen",
                        lambda command, **kwargs: popen([sys.executable, "-c", script], **kwargs))
    seconds, cpu, switches = throughput.run_job("full", 1, [], tmp_path)
    assert (seconds, cpu) == (1.5, 0.1)
    assert 40 <= switches < 100


def test_scaling_is_the_one_instance_rate_at_parallelism_2_over_1(tmp_path, monkeypatch):
    import benchmarks.throughput as throughput
    from benchmarks.data import DataSpec

    assert DataSpec.one_instance(100_000).instances == 1
    seconds = {1: 50.0, 2: 40.0}
    monkeypatch.setattr(throughput, "run_job",
                        lambda mode, parallelism, *args: (seconds[parallelism], 62.5, None))
    monkeypatch.setattr(throughput.os, "cpu_count", lambda: 2)

    class Files:
        records = 10_000

        def files(self, parallelism):
            return []

    rows = throughput.measure_scaling(Files(), tmp_path)
    assert [m.value for m in rows] == [200.0, 250.0, 1.25]
    assert rows[2].target.limit == 1.6 and not rows[2].target.met(rows[2].value)
    assert "1.25 cores busy" in rows[0].note
    assert rows[2].note == ("parallelism 1 kept 1.25 of 2 cores busy, so no parallelism can run "
                            "more than 1.60 x its rate on this machine")


def test_the_cpu_of_a_process_tree_counts_its_children(tmp_path):
    import os
    import subprocess
    import sys
    import time

    from benchmarks.machine import tree_cpu_seconds

    before = tree_cpu_seconds(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "import time\nend = time.process_time() + 1"
                              "\nwhile time.process_time() < end: pass\ntime.sleep(30)"])
    try:
        deadline = time.monotonic() + 20
        while tree_cpu_seconds(child.pid) < 0.9 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert tree_cpu_seconds(os.getpid()) - before >= 0.9
    finally:
        child.kill()
        child.wait()
    assert tree_cpu_seconds(child.pid) is None, "a process that is gone has no tree"


def test_a_part_that_fails_is_a_row_of_the_results_and_the_others_are_kept(tmp_path, monkeypatch):
    import benchmarks.__main__ as bench

    def broken(*args, **kwargs):
        raise RuntimeError("kinesis-mock stopped")

    monkeypatch.setattr(bench.state, "measure", broken)
    monkeypatch.setattr(bench.parse_throughput, "run",
                        lambda: [{"benchmark": "parse agent events (orjson)",
                                  "events_per_s": 1000.0}])
    monkeypatch.setattr(bench, "RUNS_DIR", tmp_path / "runs")
    out = tmp_path / "results.md"
    assert bench.main(["--parts", "parse,state", "--out", str(out)]) == 0
    text = out.read_text()
    assert "| parse | parse agent events (orjson) | 1,000 events/s |" in text
    assert "failed: RuntimeError: kinesis-mock stopped" in text


def test_latency_settings_are_job_properties_applied_over_the_defaults(tmp_path):
    settings = parse_settings(" allowed.lateness.ms=1000, gauge.period.ms = 2000 ,")
    assert settings == {"allowed.lateness.ms": "1000", "gauge.period.ms": "2000"}
    config = local_config(tmp_path, settings)
    assert (config.job.allowed_lateness_ms, config.job.gauge_period_ms) == (1000, 2000)
    assert config.job.checkpoint_dir == str(tmp_path / "checkpoints")
    assert parse_settings("") == {}


@pytest.mark.parametrize(("text", "message"), [
    ("allowed.lateness.ms", r"'allowed.lateness.ms' is not key=value"),
    ("=5", r"'=5' is not key=value"),
])
def test_latency_settings_that_are_not_key_value_say_so(text, message):
    with pytest.raises(ValueError, match=message):
        parse_settings(text)


def test_an_unknown_latency_setting_is_refused_with_the_known_ones(tmp_path):
    with pytest.raises(ValueError, match=r"--latency-settings: group Job: unknown property "
                                         r"'lateness'; known: .*allowed.lateness.ms"):
        local_config(tmp_path, {"lateness": "1"})


def _uses(seconds: dict[str, float]) -> dict[str, ThreadUse]:
    return {thread: ThreadUse(cpu, 0) for thread, cpu in seconds.items()}


def test_thread_cores_are_cpu_seconds_per_name_over_the_span_of_the_readings():
    readings = [(10.0, _uses({"1 gauges": 1.0, "2 parse": 0.0, "3 gone": 0.0})),
                (12.0, _uses({"1 gauges": 2.0, "2 parse": 0.5, "3 gone": 0.4})),
                (14.0, _uses({"1 gauges": 3.0, "2 parse": 1.0, "4 parse": 0.6}))]
    assert cores_by_name(readings) == pytest.approx({"gauges": 0.5, "parse": 0.4, "gone": 0.1})
    assert cores_by_name(readings[:1]) == {}
    table = thread_details(cores_by_name(readings), {"gauges": 30}, records=10, top=2)
    assert "| 0.50 | 3.00 | `gauges` |" in table and "gone" not in table


def _task(proc, pid: int, tid: int, name: str, ticks: int, switches=(0, 0)) -> None:
    task = proc / str(pid) / "task" / str(tid)
    task.mkdir(parents=True, exist_ok=True)
    (task / "comm").write_text(name + "\n")
    # pid (comm) state ppid ... utime stime: fields 14 and 15 of stat
    fields = ["S", *["0"] * 10, str(ticks), str(ticks)]
    (task / "stat").write_text(f"{tid} ({name}) " + " ".join(fields) + " 0 0\n")
    (task / "status").write_text(f"Name:\t{name}\nvoluntary_ctxt_switches:\t{switches[0]}\n"
                                 f"nonvoluntary_ctxt_switches:\t{switches[1]}\n")


def test_thread_times_read_each_thread_and_stop_when_the_process_is_gone(tmp_path):
    _task(tmp_path, 7, 7, "java", CLOCK_TICKS, (3, 1))
    _task(tmp_path, 7, 9, "agent activity", 2 * CLOCK_TICKS, (10, 2))
    times = ThreadTimes(7, proc=tmp_path)
    assert times.read() == {"7 java": ThreadUse(2.0, 4), "9 agent activity": ThreadUse(4.0, 12)}
    assert ThreadTimes(8, proc=tmp_path).read() is None
    gone = ThreadTimes(8, every_s=0.01, proc=tmp_path).start()
    gone.stop()
    assert gone.busy() == {} and gone.switches() is None


def test_context_switches_count_from_the_first_reading_and_keep_a_thread_that_ended(tmp_path):
    _task(tmp_path, 7, 7, "java", 0, (100, 5))
    _task(tmp_path, 7, 9, "contact lifecyc", 0, (40, 0))
    times = ThreadTimes(7, every_s=3600, proc=tmp_path).start()
    _task(tmp_path, 7, 7, "java", 0, (110, 6))  # 11 since the start
    _task(tmp_path, 7, 9, "contact lifecyc", 0, (70, 3))  # 33, then it ends
    times._take()
    (tmp_path / "7" / "task" / "9" / "status").unlink()
    _task(tmp_path, 7, 12, "realtime gauges", 0, (20, 1))  # 21, all after the start
    times.stop()
    assert times.switches() == 11 + 33 + 21
    assert times.switches_by_name() == {"java": 11, "contact lifecyc": 33, "realtime gauges": 21}


def test_thread_times_see_a_busy_thread_of_this_process():
    times = ThreadTimes(os.getpid(), every_s=0.05).start()
    deadline = time.process_time() + 0.3
    while time.process_time() < deadline:
        pass
    times.stop()
    assert sum(times.busy().values()) > 0
