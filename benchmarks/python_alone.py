"""The job's Python alone: the bench's records through the job's own parse step, contact
lifecycle, agent activity and realtime gauges, in one thread, with no Flink (`benchmarks.keyed`).

States and the records between the steps are pickled as the job pickles them, and each feed's
watermark trails its newest event by the allowed lateness, as in the job. Left out: the SQL, the
metric sinks, and every call between Python and the JVM. In Python thread mode all of a task
manager's Python runs under one interpreter lock, so this CPU time a record is a floor under the
full job's wall time a record at any parallelism of one task manager.
"""

from __future__ import annotations

import pickle
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from benchmarks.keyed import KeyedRunner
from benchmarks.report import Measurement
from cli.replay import read_files
from jobs.config import Config
from jobs.operators import (
    AGENT_VIEWS, END_OF_INPUT, QUEUE_CHANGES, AgentActivityFunction,
    ContactLifecycleFunction, RealtimeGaugesFunction, output_id,
)
from jobs.pipeline import AGENT_EVENTS, DEAD_LETTERS, EVENT, LINK, parse_records

PART = "throughput"
NAME = "the job's Python alone, one thread, no Flink"
TO_GAUGES = frozenset((QUEUE_CHANGES.tag_id, AGENT_VIEWS.tag_id))


@dataclass(frozen=True)
class Raw:
    """A raw record as a replay's source emits it (`io.connectmetrics.replay.ReplayLines`)."""

    data: bytes
    stream: str = "replay"
    shard_id: str = ""
    sequence_number: str = ""
    arrival_time: int = 0


class PythonAlone:
    """The job's Python steps wired as the job wires them, each in a `KeyedRunner` (`steps`,
    the parse step's apart). `outputs` counts what each emitted, by (step, tag id or
    `jobs.operators.MAIN`)."""

    def __init__(self, config: Config, span: tuple[int, int] | None):
        job = config.job
        self._lateness = job.allowed_lateness_ms
        self.parse = KeyedRunner(parse_records(config, span))
        self.steps = {
            "contacts": KeyedRunner(ContactLifecycleFunction(job.lifecycle_settings(),
                                                             job.service_levels())),
            "agents": KeyedRunner(AgentActivityFunction(job.agent_settings())),
            "gauges": KeyedRunner(RealtimeGaugesFunction(
                job.gauge_period_ms, job.gauge_refresh_ms, job.gauge_refresh_for_ms)),
        }
        self.outputs: Counter = Counter()
        self.records = 0

    def run(self, lines: Iterable[bytes]) -> None:
        """Every line, then the end of input (the final watermark)."""
        for line in lines:
            self.records += 1
            for output in self.parse.process(None, Raw(line.rstrip(b"\n")), 0):
                self._route(output)
        for step, runner in self.steps.items():
            self._emitted(step, runner.advance(END_OF_INPUT))

    @property
    def jvm_calls(self) -> int:
        """Calls between the steps and the JVM in thread mode, at the least
        (`KeyedRunner.jvm_calls`)."""
        return self.parse.jvm_calls + sum(r.jvm_calls for r in self.steps.values())

    def _route(self, output) -> None:
        tag = output_id(output)
        self.outputs["parse", tag] += 1
        if tag == DEAD_LETTERS.tag_id:
            return
        at, kind, key, event = output[1] if tag == AGENT_EVENTS.tag_id else output
        if kind not in (EVENT, LINK):
            return  # a tick: a replay has none
        step = "agents" if tag == AGENT_EVENTS.tag_id else "contacts"
        runner = self.steps[step]
        self._emitted(step, runner.process(key, _across(event), at))
        if at - self._lateness > runner.watermark:
            self._emitted(step, runner.advance(at - self._lateness))
            self._emitted("gauges", self.steps["gauges"].advance(
                min(self.steps["contacts"].watermark, self.steps["agents"].watermark)))

    def _emitted(self, step: str, outputs: list) -> None:
        for output in outputs:
            tag = output_id(output)
            self.outputs[step, tag] += 1
            if tag in TO_GAUGES:
                instance_id, change = output[1][1]
                self._emitted("gauges", self.steps["gauges"].process(
                    instance_id, (instance_id, _across(change)),
                    change.at))


def measure(paths: list[Path], full_rate: float | None, config: Config | None = None
            ) -> list[Measurement]:
    """The Python alone over `paths`, in CPU time; against `full_rate`, the full job's events/s
    at parallelism 1 in the same bench run (None: not measured)."""
    config = config or Config()
    _, span = read_files(paths, config.job.event_past_bound_ms)
    alone = PythonAlone(config, span)
    started = time.process_time()
    alone.run(_lines(paths))
    seconds = time.process_time() - started
    rate = alone.records / seconds
    micros = 1e6 / rate
    calls = alone.jvm_calls / alone.records
    result = [Measurement(
        PART, NAME, rate, "events/s",
        note=f"{alone.records:,} records in {seconds:.1f} CPU s, {micros:.0f} µs a record: "
        "parse, both state machines and the gauges in memory, states and records between them "
        f"pickled; no SQL, sinks or calls into the JVM, of which the job makes {calls:.1f} a "
        "record at the least. Thread mode runs all of a task manager's Python under one lock: "
        f"at 2,000 events/s a record has 500 µs, {micros:.0f} of them this")]
    if full_rate:
        result.append(Measurement(
            PART, "full job / the job's Python alone, parallelism 1", full_rate / rate, "",
            note=f"the full job's {1e6 / full_rate:.0f} µs a record of wall time, of which "
            f"{micros:.0f} are the Python alone: {(1e6 / full_rate - micros) / calls:.0f} µs "
            f"for each of its {calls:.1f} calls between Python and the JVM a record, and what "
            "the Python alone leaves out"))
    return result


def _across(value):
    """`value` as the next step gets it: pickled on the way (`Types.PICKLED_BYTE_ARRAY`)."""
    return pickle.loads(pickle.dumps(value))


def _lines(paths: list[Path]) -> Iterator[bytes]:
    for path in paths:
        with path.open("rb") as lines:
            yield from lines
