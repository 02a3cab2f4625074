"""The parsed-event views cost a Python step per event: the job builds them only for a metric
file that reads them. The parse step's kinds are the JVM's."""

from __future__ import annotations

import shutil

from pyflink.java_gateway import get_gateway

from connectors.file_source import file_sources
from jobs.config import PROJECT_ROOT, Config, JobSettings
from jobs.main import local_environment
from jobs.pipeline import EVENT, LINK, TICK, build_job

AGENTS_ONLINE = PROJECT_ROOT / "tests" / "e2e" / "agents_online.sql"


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


def test_the_kinds_parse_emits_are_the_ones_the_jvm_reads(tmp_path):
    plan_of(tmp_path)  # the connector jar on the gateway's class path
    event_time = get_gateway().jvm.io.connectmetrics.events.EventTime
    assert (TICK, EVENT, LINK) == (event_time.TICK, event_time.EVENT, event_time.LINK)
