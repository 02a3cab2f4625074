"""The parsed-event views cost a Python step per event: the job builds them only for a metric
file that reads them. The keyed operators emit only the outputs the job reads. The parse step's
kinds are the JVM's."""

from __future__ import annotations

import shutil

from pyflink.java_gateway import get_gateway

from connectors.file_source import file_sources
from jobs.config import PROJECT_ROOT, Config, JobSettings
from jobs.main import local_environment
from jobs.metrics import load_catalogue
from jobs.operators import AGENT_FACTS, AGENT_VIEWS, AGENT_WORK, MAIN, QUEUE_CHANGES
from jobs.pipeline import (
    AGENT_ACTIVITY_VIEWS, CONTACT_VIEWS, EVENT, LINK, TICK, _reads, build_job,
)

AGENTS_ONLINE = PROJECT_ROOT / "tests" / "e2e" / "agents_online.sql"
AGENT_MOVES = (  # a file reading the agent transitions, which no shipped file reads
    "-- dimensions: agent_id\n-- time: window_start\n-- measure_name: moves\n"
    "SELECT agent_id, window_start, COUNT(*) AS moves FROM TABLE(TUMBLE(TABLE "
    "agent_transitions, DESCRIPTOR(event_time), INTERVAL '1' MINUTE))\n"
    "GROUP BY agent_id, window_start, window_end\n")


def plan_of(tmp_path, extra_files=()) -> str:
    sql_dir = tmp_path / "sql"
    shutil.copytree(PROJECT_ROOT / "sql", sql_dir)
    for path in extra_files:
        shutil.copy(path, sql_dir)
    config = Config(job=JobSettings(sql_dir=str(sql_dir), checkpoint_interval_ms=0,
                                    checkpoint_dir=str(tmp_path / "checkpoints")))
    recording = tmp_path / "recorded.jsonl"
    recording.write_text("{}\n")
    env = local_environment(config)
    build_job(env, config, file_sources(env, [recording]))
    return env.get_execution_plan()


def test_the_event_views_are_built_only_for_a_file_that_reads_them(tmp_path):
    plan = plan_of(tmp_path / "project")
    assert '"agent_events"' not in plan and '"contact_events"' not in plan
    plan = plan_of(tmp_path / "with-agents-online", [AGENTS_ONLINE])
    assert '"agent_events"' in plan and '"contact_events"' not in plan


def test_an_operator_emits_only_the_outputs_a_file_or_another_operator_reads(tmp_path):
    shipped = load_catalogue(PROJECT_ROOT / "sql")
    assert _reads(shipped, AGENT_ACTIVITY_VIEWS, AGENT_VIEWS) == {
        AGENT_FACTS.tag_id, AGENT_WORK.tag_id, AGENT_VIEWS.tag_id}, "no file reads transitions"

    sql_dir = tmp_path / "sql"
    sql_dir.mkdir()
    (sql_dir / "agent_moves.sql").write_text(AGENT_MOVES)
    assert _reads(load_catalogue(sql_dir), AGENT_ACTIVITY_VIEWS) == {MAIN}


def test_an_operator_whose_outputs_are_all_read_emits_without_filtering(tmp_path):
    shipped = load_catalogue(PROJECT_ROOT / "sql")
    assert _reads(shipped, CONTACT_VIEWS, QUEUE_CHANGES) is None, "files read both views"

    sql_dir = tmp_path / "sql"
    shutil.copytree(PROJECT_ROOT / "sql", sql_dir)
    (sql_dir / "agent_moves.sql").write_text(AGENT_MOVES)
    assert _reads(load_catalogue(sql_dir), AGENT_ACTIVITY_VIEWS, AGENT_VIEWS) is None


def test_the_kinds_parse_emits_are_the_ones_the_jvm_reads(tmp_path):
    plan_of(tmp_path)  # the connector jar on the gateway's class path
    event_time = get_gateway().jvm.io.connectmetrics.events.EventTime
    assert (TICK, EVENT, LINK) == (event_time.TICK, event_time.EVENT, event_time.LINK)
