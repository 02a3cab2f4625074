"""The job's Python settings reach the Flink configuration its Python operators are built from
(the bundle time only where the job owns the environment: MSF refuses it from code); the bench's choice of Python workers decides which process runs them."""

from __future__ import annotations

import os

import pytest
from pyflink.common.typeinfo import Types
from pyflink.datastream import StreamExecutionEnvironment

from benchmarks.job_run import use_python_workers
from jobs.config import Config, JobSettings
from jobs.main import local_environment
from jobs.pipeline import use_python_mode


def configured(env: StreamExecutionEnvironment) -> dict[str, str]:
    return dict(env._j_stream_execution_environment.getConfiguration().toMap())


def test_the_execution_mode_is_set_on_any_environment():
    env = StreamExecutionEnvironment.get_execution_environment()
    use_python_mode(env, Config(job=JobSettings(python_execution_mode="thread")))
    assert configured(env)["python.execution-mode"] == "thread"


def test_the_bundle_time_is_set_on_local_environments_only(tmp_path):
    config = Config(job=JobSettings(python_bundle_time_ms=250, checkpoint_dir=str(tmp_path)))
    assert configured(local_environment(config))["python.fn-execution.bundle.time"] == "250"
    env = StreamExecutionEnvironment.get_execution_environment()
    use_python_mode(env, config)
    assert "python.fn-execution.bundle.time" not in configured(env)


@pytest.mark.parametrize(("workers", "in_this_process"), [("per-slot", False), ("loopback", True)])
def test_bench_python_workers_decide_which_process_runs_the_python_functions(
        monkeypatch, tmp_path, workers, in_this_process):
    # Set first so that the variable is restored (unset) after the test.
    monkeypatch.setenv("_python_worker_execution_mode", "loopback")
    use_python_workers(workers)
    env = local_environment(Config(job=JobSettings(checkpoint_dir=str(tmp_path))))
    pids = env.from_collection([1, 2]).map(lambda _: os.getpid(), output_type=Types.INT())
    with pids.execute_and_collect() as results:
        seen = set(results)
    assert (seen == {os.getpid()}) is in_this_process
    assert len(seen) == 1
