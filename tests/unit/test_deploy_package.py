"""deploy/package.py: the MSF application zip, built from a fake wheel folder (no network)."""

from __future__ import annotations

import ast
import json
import os
import sys
import zipfile
from pathlib import Path

import pytest

import main as entry_script
from deploy import package
from deploy.package import (
    LAYOUT,
    RUNTIME_REQUIREMENTS,
    PackageError,
    build_package,
    download_wheels,
    pinned_requirements,
    run_options,
)
from connectors.settings import KinesisSettings, TimestreamSettings
from jobs.config import Config

ROOT = Path(__file__).resolve().parents[2]
# Imported by the job and installed with apache-flink itself in the MSF runtime.
PROVIDED_BY_PYFLINK = {"pyflink", "py4j"}


def _fake_wheel(folder: Path, requirement: str) -> Path:
    name, _, version = requirement.partition("==")
    module = name.replace("-", "_")
    wheel = folder / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(f"{module}/__init__.py", f"VERSION = {version!r}\n")
        archive.writestr(f"{module}/__pycache__/__init__.cpython-312.pyc", b"\0")
        archive.writestr(f"{module}-{version}.dist-info/METADATA", f"Name: {name}\n")
        archive.writestr(f"{module}-{version}.data/purelib/{module}_extra.py", "")
        archive.writestr(f"{module}-{version}.data/scripts/{module}-tool", "#!/bin/sh\n")
    return wheel


@pytest.fixture(scope="module")
def wheel_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("wheels")
    for requirement in pinned_requirements():
        _fake_wheel(folder, requirement)
    return folder


@pytest.fixture(scope="module")
def jar(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("jar") / "connect-metrics-connectors.jar"
    path.write_bytes(b"PK\x05\x06" + bytes(18))
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory, wheel_dir, jar) -> Path:
    out = tmp_path_factory.mktemp("out") / "app.zip"
    return build_package(out, jar, wheel_dir=wheel_dir, log=lambda line: None)


@pytest.fixture(scope="module")
def names(built) -> list[str]:
    with zipfile.ZipFile(built) as archive:
        return archive.namelist()


def test_same_inputs_give_the_same_bytes(tmp_path, built, wheel_dir, jar):
    # A newer modification time of an input must not change the package.
    later = (ROOT / "main.py").stat().st_mtime + 3600
    os.utime(jar, (later, later))
    again = build_package(tmp_path / "again.zip", jar, wheel_dir=wheel_dir, log=lambda line: None)
    assert again.read_bytes() == built.read_bytes()


def test_entries_are_sorted_with_fixed_times_and_modes(built, names):
    assert names == sorted(names)
    with zipfile.ZipFile(built) as archive:
        for info in archive.infolist():
            assert info.date_time == (1980, 1, 1, 0, 0, 0), info.filename
            assert info.external_attr >> 16 == 0o100644, info.filename


def test_zip_has_the_msf_layout(names):
    assert "main.py" in names
    assert "lib/connect-metrics-connectors.jar" in names
    for module in ("jobs/__init__.py", "jobs/config.py", "jobs/pipeline.py",
                   "connectors/__init__.py", "connectors/timestream_sink.py"):
        assert f"app/{module}" in names
    for sql in sorted((ROOT / "sql").glob("*.sql")):
        assert f"app/sql/{sql.name}" in names
    for requirement in RUNTIME_REQUIREMENTS:
        assert f"lib/python/{requirement.replace('-', '_')}/__init__.py" in names


def test_zip_holds_no_byte_code_build_output_java_sources_or_tools(names):
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".pyo"))]
    assert not [n for n in names if n.startswith(("app/connectors/target", "app/connectors/src"))]
    assert not [n for n in names if n.startswith(("app/simulator", "app/tests", "deploy"))]
    assert not [n for n in names if "/scripts/" in n or ".data/" in n]


def test_wheel_data_purelib_files_are_installed_at_the_top(names):
    assert "lib/python/orjson_extra.py" in names


def test_run_options_point_at_files_in_the_zip(names):
    options = run_options(LAYOUT)
    assert options["python"] in names
    assert options["jarfile"] in names
    folders = options["pyFiles"].split(",")
    assert folders == ["app/", "lib/python/"]
    for folder in folders:
        assert any(name.startswith(folder) for name in names), folder
    # A pyFiles folder itself goes on PYTHONPATH: the packages must sit directly inside.
    assert "app/jobs/__init__.py" in names and "lib/python/boto3/__init__.py" in names


def test_the_entry_script_looks_for_code_where_the_package_puts_it():
    assert entry_script.CODE_FOLDERS == (LAYOUT.app_dir, LAYOUT.python_lib_dir)
    assert entry_script.PACKAGED_JAR.relative_to(entry_script.HERE).as_posix() == LAYOUT.jar


def _imports(path: Path, module: str) -> set[str]:
    """Absolute names of every module `path` imports, at any depth of its code."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}".strip(".")
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _module_file(roots: list[Path], module: str) -> Path | None:
    relative = Path(*module.split("."))
    for root in roots:
        for candidate in (root / relative.with_suffix(".py"), root / relative / "__init__.py"):
            if candidate.is_file():
                return candidate
    return None


def imports_outside(root: Path) -> tuple[set[str], set[str]]:
    """(modules reached from `root`/main.py, imported names nothing in `root` provides)."""
    roots = [root / folder for folder in entry_script.CODE_FOLDERS]
    vendored = {path.name.split(".")[0] for path in roots[1].iterdir()} if roots[1].is_dir() else set()
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    seen, queue, outside = set(), [("__main__", root / "main.py")], set()
    while queue:
        module, path = queue.pop()
        for name in _imports(path, module):
            top = name.split(".")[0]
            if top in stdlib or top in vendored or top in PROVIDED_BY_PYFLINK:
                continue
            found = _module_file(roots, name)
            if found is None:
                # `from jobs import config` names a module, `from jobs.x import f` a function:
                # a name whose parent module is there counts as found.
                parent = name.rpartition(".")[0]
                if not parent or _module_file(roots, parent) is None:
                    outside.add(name)
            elif name not in seen:
                seen.add(name)
                queue.append((name, found))
    return seen, outside


def test_main_imports_only_what_the_zip_holds(tmp_path, built):
    with zipfile.ZipFile(built) as archive:
        archive.extractall(tmp_path)
    seen, outside = imports_outside(tmp_path)
    assert outside == set()
    assert {"jobs.main", "jobs.pipeline", "connectors.timestream_sink"} <= seen
    assert not any(name.startswith("simulator") for name in seen)


def test_the_import_check_finds_modules_the_zip_lacks(tmp_path):
    (tmp_path / "main.py").write_text("from jobs import job\n", encoding="utf-8")
    (tmp_path / "app" / "jobs").mkdir(parents=True)
    (tmp_path / "app" / "jobs" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "app" / "jobs" / "job.py").write_text(
        "import os\nimport requests\nfrom simulator.truth import x\n"
        "def f():\n    import boto3\n",
        encoding="utf-8",
    )
    (tmp_path / "lib" / "python" / "boto3").mkdir(parents=True)
    seen, outside = imports_outside(tmp_path)
    assert seen == {"jobs", "jobs.job"}
    assert outside == {"requests", "simulator.truth", "simulator.truth.x"}


def test_pinned_versions_come_from_the_lock_file(tmp_path):
    lock = tmp_path / "requirements.lock"
    lock.write_text("boto3==1.2.3\nOrJSON==4.5.6  # comment\n", encoding="utf-8")
    assert pinned_requirements(["boto3", "orjson"], lock) == ["boto3==1.2.3", "orjson==4.5.6"]
    with pytest.raises(PackageError, match="jmespath"):
        pinned_requirements(["boto3", "jmespath"], lock)


def test_every_runtime_requirement_is_pinned():
    assert [r.partition("==")[0] for r in pinned_requirements()] == list(RUNTIME_REQUIREMENTS)


def test_wheels_already_downloaded_are_not_fetched_again(monkeypatch, wheel_dir):
    def no_network(*args, **kwargs):
        raise AssertionError("pip was run")

    monkeypatch.setattr(package.subprocess, "run", no_network)
    lines = []
    assert download_wheels(pinned_requirements(), wheel_dir, log=lines.append) == wheel_dir
    assert lines == [f"package: {len(RUNTIME_REQUIREMENTS)} wheels already in {wheel_dir}"]


def test_missing_wheels_are_downloaded_for_the_target_python_and_platform(monkeypatch, tmp_path):
    commands = []

    def fake_pip(command, **kwargs):
        commands.append(command)
        return package.subprocess.CompletedProcess(command, 0, stdout="Saved x\n")

    monkeypatch.setattr(package.subprocess, "run", fake_pip)
    lines = []
    download_wheels(["orjson==3.11.3"], tmp_path, "3.12", "manylinux2014_x86_64", lines.append)
    (command,) = commands
    assert command[1:4] == ["-m", "pip", "download"]
    for option in ("--only-binary=:all:", "--no-deps"):
        assert option in command
    for option, value in (("--python-version", "3.12"), ("--platform", "manylinux2014_x86_64"),
                          ("--implementation", "cp"), ("--dest", str(tmp_path))):
        assert command[command.index(option) + 1] == value
    assert command[-1] == "orjson==3.11.3"
    assert lines[-1] == "  pip: Saved x"


def test_a_missing_wheel_or_jar_is_an_error_naming_it(tmp_path, wheel_dir, jar):
    with pytest.raises(PackageError, match="make connectors"):
        build_package(tmp_path / "x.zip", tmp_path / "none.jar", wheel_dir=wheel_dir)
    partial = tmp_path / "partial"
    partial.mkdir()
    _fake_wheel(partial, pinned_requirements()[0])
    with pytest.raises(PackageError, match="no wheel for botocore=="):
        build_package(tmp_path / "x.zip", jar, wheel_dir=partial, log=lambda line: None)


def test_on_msf_the_local_emulator_endpoints_become_the_aws_endpoints():
    config = entry_script.msf_config(Config())
    assert config.kinesis.endpoint == "" and config.timestream.endpoint == ""
    custom = Config(
        kinesis=KinesisSettings(endpoint="https://kinesis.example.com"),
        timestream=TimestreamSettings(endpoint="https://ingest.example.com"),
    )
    assert entry_script.msf_config(custom) == custom


def test_on_msf_the_service_run_options_group_is_not_a_job_setting(tmp_path):
    properties = tmp_path / "application_properties.json"
    properties.write_text(json.dumps([
        {"PropertyGroupId": "kinesis.analytics.flink.run.options",
         "PropertyMap": run_options()},
        {"PropertyGroupId": "Kinesis", "PropertyMap": {"agent.stream": "agents"}},
    ]), encoding="utf-8")
    config = entry_script.load_msf_config(properties)
    assert config.kinesis.agent_stream == "agents"
    assert config.kinesis.endpoint == ""
