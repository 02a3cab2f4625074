"""The queue-naming operator in a MiniCluster: a service-level record that needs its queue's
name waits for it, and one whose queue is never named takes the default at the end of input."""

from __future__ import annotations

import orjson

from jobs.config import Config, JobSettings
from jobs.core.queue_naming import QueueNaming, queue_key
from jobs.core.service_levels import ServiceLevels
from jobs.main import local_environment
from jobs.operators import KEYED_RECORD_TYPE, SINK_RECORD_TYPE, QueueNamingFunction, keyed_row
from jobs.pipeline import keyed

LEVELS = ServiceLevels.parse("20,60", "name:Sales=120")


def record(queue_id: str, threshold: int | None = None, **measures) -> str:
    dims = [{"Name": "instance_id", "Value": "i-1"}, {"Name": "queue_id", "Value": queue_id}]
    if threshold is not None:
        dims.append({"Name": "threshold_s", "Value": str(threshold)})
    return orjson.dumps({"Dimensions": dims, "MeasureValues": [
        {"Name": k, "Value": v, "Type": "VARCHAR"} for k, v in measures.items()],
        "Time": "0", "Version": 1}).decode()


def written(tmp_path, records: list[tuple[str, str]],
            naming: QueueNaming) -> list[tuple[str, dict]]:
    env = local_environment(Config(job=JobSettings(
        checkpoint_interval_ms=0, checkpoint_dir=str(tmp_path / "checkpoints"))))
    rows = [keyed_row(queue_key(orjson.loads(text)), (table, text)) for table, text in records]
    output = (keyed(env.from_collection(rows, type_info=KEYED_RECORD_TYPE), SINK_RECORD_TYPE)
              .process(QueueNamingFunction(naming), output_type=KEYED_RECORD_TYPE)
              .execute_and_collect())
    with output:
        written = [(key, table, orjson.loads(text)) for key, (table, text) in output]
    assert all(key == table for key, table, _ in written)  # keyed for the sink
    return [(table, record) for _, table, record in written]


def thresholds(rows: list[tuple[str, dict]], queue_id: str) -> list[str]:
    return sorted(
        dims["threshold_s"] for table, r in rows if table == "queue_service_level"
        for dims in [{d["Name"]: d["Value"] for d in r["Dimensions"]}]
        if dims["queue_id"] == queue_id)


def test_held_records_follow_the_name_that_comes_later_or_the_default_at_the_end(tmp_path):
    levels = [("queue_service_level", record(q, s)) for q in ("q-sales", "q-other")
              for s in LEVELS.candidates(q)]
    names = [("queue_names", record("q-sales", queue_name="Sales"))]
    rows = written(tmp_path, levels + names, QueueNaming(LEVELS, name_tag=True))
    assert thresholds(rows, "q-sales") == ["120"]  # held until its name came
    assert thresholds(rows, "q-other") == ["20", "60"]  # never named: the default, at the end
    tags = {next(d["Value"] for d in r["Dimensions"] if d["Name"] == "queue_name")
            for table, r in rows if table == "queue_service_level"}
    assert tags == {"Sales", "q-other"}
    assert [table for table, _ in rows].count("queue_names") == 1
