"""No Python gauge in the job: Flink reads gauges from its metric threads, and in thread mode a
Python gauge is called into the interpreter from outside the task (the JVM crashed in
`take_gil` when the REST API asked for metrics). Counters are incremented by the task itself."""

from __future__ import annotations

import ast

import pytest

from jobs.config import PROJECT_ROOT

SOURCES = sorted(p for folder in ("jobs", "connectors")
                 for p in (PROJECT_ROOT / folder).rglob("*.py"))


def gauge_calls(source: str) -> list[int]:
    return [node.lineno for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "gauge"]


def test_a_gauge_call_is_found():
    assert gauge_calls("group.gauge('lastWriteLatencyMs', lambda: 1)") == [1]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_the_job_registers_no_python_gauge(path):
    assert gauge_calls(path.read_text(encoding="utf-8")) == [], f"{path}: use a counter"
