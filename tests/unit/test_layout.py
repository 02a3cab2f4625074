"""The folders keep their promises: the domain core imports no Flink, the job never imports the
command line's package, and the connectors import neither (they know nothing of contacts,
agents or events; the job configures them).

Imports are read from the source (every `import` and `from ... import`, inside functions too),
and followed through the project's own modules, so a core module that imports a helper which
imports pyflink fails as well.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from jobs.config import PROJECT_ROOT


def module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(package: str) -> dict[str, Path]:
    return {module_name(path): path for path in (PROJECT_ROOT / package).rglob("*.py")}


PROJECT = {name: path for package in ("jobs", "cli", "connectors", "deploy", "simulator")
           for name, path in modules(package).items()}


def imported(path: Path) -> set[str]:
    """The modules `path` names in its imports (`from a import b` names `a` and `a.b`)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def reached(start: str) -> dict[str, str]:
    """Every module `start` imports, directly or through the project's modules: module -> the
    project module that imports it."""
    seen: dict[str, str] = {}
    todo = [start]
    while todo:
        current = todo.pop()
        for name in imported(PROJECT[current]):
            if name in seen:
                continue
            seen[name] = current
            if name in PROJECT:
                todo.append(name)
    return seen


def offenders(start: str, forbidden: tuple[str, ...]) -> list[str]:
    """"`via` imports `module`" for each forbidden module (or one of its parts) reached."""
    return sorted({f"{via} imports {name}" for name, via in reached(start).items()
                   if any(name == f or name.startswith(f"{f}.") for f in forbidden)})


@pytest.mark.parametrize("module", sorted(modules("jobs/core")))
def test_the_domain_core_imports_no_flink(module):
    assert offenders(module, ("pyflink",)) == []


@pytest.mark.parametrize("module", sorted(modules("jobs")))
def test_the_job_never_imports_the_command_line(module):
    assert offenders(module, ("cli",)) == []


@pytest.mark.parametrize("module", sorted(modules("connectors")))
def test_connectors_import_neither_the_job_nor_the_command_line(module):
    assert offenders(module, ("jobs", "cli")) == []


def test_the_rules_catch_an_offending_import(tmp_path, monkeypatch):
    core = tmp_path / "core.py"
    core.write_text("def f():\n    from jobs.pipeline import build_job\n")
    monkeypatch.setitem(PROJECT, "jobs.core.probe", core)
    assert any(found.startswith("jobs.pipeline imports pyflink")
               for found in offenders("jobs.core.probe", ("pyflink",)))
    assert offenders("jobs.core.probe", ("cli",)) == []
    core.write_text("import cli.replay\n")
    assert "jobs.core.probe imports cli.replay" in offenders("jobs.core.probe", ("cli",))
