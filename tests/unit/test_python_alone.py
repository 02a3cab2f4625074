"""The job's Python steps wired without Flink, as the bench's floor under the full job's time:
every record must reach every step the job would take it through."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from benchmarks import data as bench_data
from benchmarks.python_alone import NAME, PythonAlone, measure
from cli.replay import read_files
from jobs.config import Config
from jobs.core.events import AgentEvent, ContactEvent, parse_record
from jobs.operators import CONTACTS_COMPLETED, MAIN, output_id
from jobs.pipeline import AGENT_EVENTS, DEAD_LETTERS


@pytest.fixture(scope="module")
def records(tmp_path_factory) -> Path:
    spec = bench_data.DataSpec(records=3_000, hours=0.5, shards=(1,))
    path = bench_data.dataset(spec, tmp_path_factory.mktemp("bench")).files(1)[0]
    with path.open("ab") as lines:
        lines.write(b'{"not": "an event"}\n')
    return path


class _Watched(PythonAlone):
    """Keeps the queue rows of the gauges."""

    def __init__(self, config, span):
        super().__init__(config, span)
        self.queue_rows = []

    def _emitted(self, step, outputs):
        if step == "gauges":
            self.queue_rows += [o for o in outputs if output_id(o) == MAIN]
        super()._emitted(step, outputs)


def test_every_record_goes_through_the_steps_the_job_takes_it_through(records):
    config = Config()
    _, span = read_files([records], config.job.event_past_bound_ms)
    alone = _Watched(config, span)
    with records.open("rb") as lines:
        alone.run(lines)
    events = [parse_record(line.strip(), "replay", 0) for line in records.open("rb")]
    contacts = [e for e in events if isinstance(e, ContactEvent)]
    assert alone.records == len(events)
    assert alone.outputs["parse", AGENT_EVENTS.tag_id] == sum(
        isinstance(e, AgentEvent) for e in events)
    assert alone.outputs["parse", DEAD_LETTERS.tag_id] == 1
    assert alone.outputs["parse", MAIN] >= len(contacts)  # and the links of transfers
    # The end of input expires what is open: every contact is completed once.
    assert alone.outputs["contacts", CONTACTS_COMPLETED.tag_id] == len(
        {e.contact_id for e in contacts})
    # The gauges see both the contacts' queue changes and the agents' views.
    assert max(row[3] for row in alone.queue_rows) > 0, "contacts in queue"
    assert max(row[5] for row in alone.queue_rows) > 0, "agents online"
    assert alone.jvm_calls > 3 * alone.records  # in, out and a state call for each at least


def test_the_rows_put_the_full_job_against_the_python_alone(records):
    alone, against = measure([records], full_rate=500.0)
    assert alone.name == NAME and alone.value > 0
    assert against.value == pytest.approx(500.0 / alone.value)
    assert "µs for each of its" in against.note
    assert len(measure([records], full_rate=None)) == 1, "no full job run: nothing to put it against"


def test_a_line_that_is_not_json_is_a_dead_letter_and_the_rest_goes_on(tmp_path):
    path = tmp_path / "records.jsonl"
    path.write_bytes(b"not json\n" + orjson.dumps({"also": "not an event"}) + b"\n")
    alone = PythonAlone(Config(), None)
    alone.run(path.open("rb"))
    assert alone.records == 2 and alone.outputs["parse", DEAD_LETTERS.tag_id] == 2
