"""The job's Python settings reach the Flink configuration its Python operators are built from;
the bench's choice of Python workers decides which process runs them."""

from __future__ import annotations

import os

import pytest
from pyflink.common.typeinfo import Types
from pyflink.datastream import StreamExecutionEnvironment

from benchmarks.job_run import use_python_workers
from jobs.config import Config, JobSettings
from jobs.main import local_environment
from jobs.pipeline import use_python_settings


def test_execution_mode_and_bundle_time_are_set_on_the_environment():
    env = StreamExecutionEnvironment.get_execution_environment()
    use_python_settings(env, Config(job=JobSettings(python_execution_mode="thread",
                                                    python_bundle_time_ms=250)))
    settings = dict(env._j_stream_execution_environment.getConfiguration().toMap())
    assert settings["python.execution-mode"] == "thread"
    assert settings["python.fn-execution.bundle.time"] == "250"


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
