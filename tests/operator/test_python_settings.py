"""The job's Python settings reach the Flink configuration its Python operators are built from."""

from __future__ import annotations

from pyflink.datastream import StreamExecutionEnvironment

from jobs.config import Config, JobSettings
from jobs.pipeline import use_python_settings


def test_execution_mode_and_bundle_time_are_set_on_the_environment():
    env = StreamExecutionEnvironment.get_execution_environment()
    use_python_settings(env, Config(job=JobSettings(python_execution_mode="thread",
                                                    python_bundle_time_ms=250)))
    settings = dict(env._j_stream_execution_environment.getConfiguration().toMap())
    assert settings["python.execution-mode"] == "thread"
    assert settings["python.fn-execution.bundle.time"] == "250"
