"""A replay keeps Flink's network buffer timeout: it wants throughput, and nobody watches its
rows arrive (a live run's operators flush sooner; see `test_msf_configuration`)."""

from __future__ import annotations

from connectors.file_source import file_sources
from jobs.config import Config, JobSettings
from jobs.main import local_environment
from jobs.pipeline import LIVE_BUFFER_TIMEOUT_MS, build_job


def buffer_timeouts(tmp_path, span) -> set[int]:
    config = Config(job=JobSettings(checkpoint_interval_ms=0,
                                    checkpoint_dir=str(tmp_path / "checkpoints")))
    tmp_path.mkdir()
    recording = tmp_path / "recorded.jsonl"
    recording.write_text("{}\n")
    env = local_environment(config)
    build_job(env, config, file_sources(env, [recording]), span=span)
    graph = env._generate_stream_graph(clear_transformations=True)
    return {node.getBufferTimeout() for node in graph.getStreamNodes().toArray()}


def test_a_replay_keeps_the_default_buffer_timeout_and_a_live_run_does_not(tmp_path):
    default = local_environment(Config())._j_stream_execution_environment.getBufferTimeout()
    assert buffer_timeouts(tmp_path / "replay", (0, 2**40)) == {default}
    assert buffer_timeouts(tmp_path / "live", None) == {LIVE_BUFFER_TIMEOUT_MS}
    assert default != LIVE_BUFFER_TIMEOUT_MS
