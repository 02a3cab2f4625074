"""The job built exactly as `main.py` builds it on MSF sets only Flink keys MSF 2.2 lets
application code set, in the environment's configuration and the table configuration alike."""

from __future__ import annotations

import json

import pytest
from pyflink.common import Configuration
from pyflink.datastream import StreamExecutionEnvironment
from pyflink.table import StreamTableEnvironment
from pyflink.util.java_utils import add_jars_to_context_class_loader

import main as entry_script
from deploy.msf_configuration import keys_set, refused
from jobs.config import Config
from jobs.main import CONNECTOR_JAR, GATEWAY_PORT_ENV
from jobs.pipeline import LIVE_BUFFER_TIMEOUT_MS, SINK_NAME
from cli.prerequisites import require_connector_jar


def env_settings(env: StreamExecutionEnvironment) -> dict[str, str]:
    return dict(env._j_stream_execution_environment.getConfiguration().toMap())


def table_settings(t_env: StreamTableEnvironment) -> dict[str, str]:
    return dict(t_env.get_config().get_configuration().to_dict())


def bare_job() -> tuple[dict, dict]:
    """The settings of a DataStream and SQL job that sets nothing itself: what PyFlink and
    Flink put there on their own."""
    env = StreamExecutionEnvironment.get_execution_environment()
    t_env = StreamTableEnvironment.create(env)
    t_env.create_temporary_view("numbers", t_env.from_data_stream(env.from_collection([1])))
    t_env.to_changelog_stream(t_env.sql_query("SELECT COUNT(*) FROM numbers"))
    return env_settings(env), table_settings(t_env)


@pytest.fixture
def built_on_msf(tmp_path, monkeypatch):
    """`main.prepare()` as on MSF: the properties in MSF's file, PyFlink's driver the one that
    started the interpreter. Returns (keys set in the environment, keys set in the table
    configuration, env, t_env)."""
    require_connector_jar(CONNECTOR_JAR)
    # On MSF the application's jar is on the class path; here it joins the gateway's.
    add_jars_to_context_class_loader([CONNECTOR_JAR.as_uri()])
    properties = tmp_path / "application_properties.json"
    properties.write_text(json.dumps(Config().to_property_groups()), encoding="utf-8")
    monkeypatch.setattr(entry_script, "MSF_PROPERTIES_PATH", properties)
    monkeypatch.setenv(GATEWAY_PORT_ENV, "0")  # read, not used: the gateway is up already
    (env_before, table_before), (env_again, table_again) = bare_job(), bare_job()
    volatile = {key for key in env_before if env_again.get(key) != env_before[key]}
    volatile |= {key for key in table_before if table_again.get(key) != table_before[key]}

    _, env, t_env = entry_script.prepare()

    def set_now() -> tuple[set[str], set[str]]:
        return (keys_set(env_before, env_settings(env), volatile),
                keys_set(table_before, table_settings(t_env), volatile))

    return set_now, env, t_env


def test_the_job_on_msf_sets_only_keys_msf_lets_code_set(built_on_msf):
    set_now, _, _ = built_on_msf
    env_keys, table_keys = set_now()
    # What the job does set, so the check below cannot pass on an empty set.
    assert {"python.execution-mode", "table.local-time-zone"} <= env_keys
    assert "table.exec.state.ttl" in table_keys
    assert refused(env_keys | table_keys) == []


def test_a_key_msf_refuses_is_caught_in_either_configuration(built_on_msf):
    set_now, env, t_env = built_on_msf
    bundle = Configuration()
    bundle.set_string("python.fn-execution.bundle.time", "100")
    env.configure(bundle)
    t_env.get_config().set("table.exec.resource.default-parallelism", "2")
    env_keys, table_keys = set_now()
    assert refused(env_keys | table_keys) == [
        "python.fn-execution.bundle.time", "table.exec.resource.default-parallelism"]


STATEFUL = {"Source: kinesis agent-events": "kinesis-agent-events-source",
            "Source: kinesis contact-events": "kinesis-contact-events-source",
            "contact feed clock": "contact-feed-clock", "agent feed clock": "agent-feed-clock",
            "agent activity": "agent-activity", "contact lifecycle": "contact-lifecycle",
            "realtime gauges": "realtime-gauges", SINK_NAME: "metric-sink",
            f"{SINK_NAME} queue_realtime": "metric-sink-queue_realtime",
            f"{SINK_NAME} agent_interval": "metric-sink-agent_interval",
            "dead-letters": "dead-letters"}


def test_sources_and_stateful_operators_keep_their_ids(built_on_msf):
    """Fixed uids map a snapshot's state back after a code change or at another parallelism
    (MSF restores one on every update and scaling)."""
    _, env, _ = built_on_msf
    graph = env._generate_stream_graph(clear_transformations=False)
    uids = {node.getOperatorName(): node.getTransformationUID()
            for node in graph.getStreamNodes().toArray()}
    assert {name: uids.get(name) for name in STATEFUL} == STATEFUL


def test_every_operator_of_a_live_run_hands_its_output_on_within_the_live_timeout(built_on_msf):
    """Set on each operator, the SQL ones too (the environment's own key is refused on MSF):
    Flink's default holds output up to 100 ms at every exchange on the way to a row."""
    _, env, _ = built_on_msf
    graph = env._generate_stream_graph(clear_transformations=False)
    timeouts = {node.getOperatorName(): node.getBufferTimeout()
                for node in graph.getStreamNodes().toArray()}
    assert len(timeouts) > 20
    assert any(name.startswith(("Calc", "GroupAggregate")) for name in timeouts), timeouts
    assert {name: t for name, t in timeouts.items() if t != LIVE_BUFFER_TIMEOUT_MS} == {}
