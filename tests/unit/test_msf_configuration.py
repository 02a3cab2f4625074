"""MSF 2.2's list of keys application code may set, and how a job's settings are read against it."""

from __future__ import annotations

from deploy.msf_configuration import allowed_keys, keys_set, refused


def test_the_list_holds_what_the_page_names():
    keys = allowed_keys()
    assert {"python.execution-mode", "python.job-options", "pipeline.jars",
            "table.local-time-zone", "table.exec.state.ttl"} <= keys
    assert not {"python.fn-execution.bundle.time", "python.state.cache-size",
                "state.backend.type", "restart-strategy.type", "parallelism.default"} & keys
    assert all(not key.startswith("[") and " " not in key for key in keys)


def test_a_changed_value_counts_as_set_unless_flink_rewrites_it_itself():
    before = {"parallelism.default": "1", "__table.query-start.epoch-time__": "1"}
    after = {"parallelism.default": "2", "__table.query-start.epoch-time__": "2", "a.new": "x"}
    assert keys_set(before, after, volatile={"__table.query-start.epoch-time__"}) == {
        "parallelism.default", "a.new"}


def test_refused_names_the_keys_off_the_list():
    assert refused(["pipeline.name", "state.backend.type", "python.fn-execution.bundle.size"]) == [
        "python.fn-execution.bundle.size", "state.backend.type"]
