import socket
import stat
from pathlib import Path

import pytest

from cli.prerequisites import (
    SetupError,
    java_major_version,
    node_major_version,
    port_in_use,
    require_connector_jar,
    require_java,
    require_maven,
    require_node,
    require_port_free,
    require_python_module,
)

JAVA_17 = """openjdk version "17.0.15" 2025-04-15
OpenJDK Runtime Environment (build 17.0.15+6-Debian-1deb12u1)
OpenJDK 64-Bit Server VM (build 17.0.15+6-Debian-1deb12u1, mixed mode, sharing)
"""
JAVA_8 = """java version "1.8.0_392"
Java(TM) SE Runtime Environment (build 1.8.0_392-b08)
"""


def fake_tool(directory: Path, name: str) -> Path:
    """An executable that is only ever found, never run: the tests inject its output."""
    tool = directory / name
    tool.write_text("#!/bin/sh\nexit 1\n")
    tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    return tool


def answering(text: str):
    return lambda command: text


def never_run(command: list[str]) -> str:
    raise AssertionError(f"{command} should not run")


@pytest.mark.parametrize(
    ("text", "major"),
    [
        (JAVA_17, 17),
        (JAVA_8, 8),
        ('openjdk version "21" 2023-09-19', 21),
        ('openjdk version "11.0.22" 2024-01-16 LTS', 11),
        ('openjdk version "1.7.0_80"', 7),
        ('java version "25-ea" 2025-09-16', 25),
        ("", None),
        ("bash: java: command not found", None),
    ],
)
def test_java_major_version(text, major):
    assert java_major_version(text) == major


@pytest.mark.parametrize(
    ("text", "major"),
    [("v20.20.2\n", 20), ("v18.19.0", 18), ("22.1.0", 22), ("", None), ("node: oops", None)],
)
def test_node_major_version(text, major):
    assert node_major_version(text) == major


def test_require_java_accepts_17_on_path(tmp_path):
    fake_tool(tmp_path, "java")
    assert require_java({"PATH": str(tmp_path)}, answering(JAVA_17)) == 17


def test_require_java_accepts_21(tmp_path):
    fake_tool(tmp_path, "java")
    assert require_java({"PATH": str(tmp_path)}, answering('openjdk version "21"')) == 21


def test_require_java_names_the_old_version_and_the_fix(tmp_path):
    java = fake_tool(tmp_path, "java")
    with pytest.raises(SetupError) as err:
        require_java({"PATH": str(tmp_path)}, answering(JAVA_8))
    message = str(err.value)
    assert "found Java 8" in message
    assert str(java) in message
    assert "apt-get install openjdk-17-jdk-headless" in message
    assert "JAVA_HOME" in message


def test_require_java_missing_from_path(tmp_path):
    with pytest.raises(SetupError, match=r"no `java` on PATH.*openjdk-17-jdk-headless"):
        require_java({"PATH": str(tmp_path)}, never_run)


def test_require_java_prefers_java_home(tmp_path):
    home = tmp_path / "jdk-17"
    (home / "bin").mkdir(parents=True)
    java = fake_tool(home / "bin", "java")
    seen: list[list[str]] = []

    def run(command: list[str]) -> str:
        seen.append(command)
        return JAVA_17

    assert require_java({"JAVA_HOME": str(home), "PATH": ""}, run) == 17
    assert seen == [[str(java), "-version"]]


def test_require_java_home_without_java(tmp_path):
    fake_tool(tmp_path, "java")
    with pytest.raises(SetupError, match=r"JAVA_HOME=.*has no bin/java.*set JAVA_HOME"):
        require_java({"JAVA_HOME": str(tmp_path / "nowhere"), "PATH": str(tmp_path)}, never_run)


def test_require_java_unreadable_version(tmp_path):
    fake_tool(tmp_path, "java")
    with pytest.raises(SetupError, match=r"could not read the Java version .*Error: oops"):
        require_java({"PATH": str(tmp_path)}, answering("Error: oops\n"))


def test_require_maven(tmp_path):
    mvn = fake_tool(tmp_path, "mvn")
    assert require_maven({"PATH": str(tmp_path)}) == str(mvn)


def test_require_maven_missing(tmp_path):
    with pytest.raises(SetupError, match=r"no `mvn` on PATH.*apt-get install maven"):
        require_maven({"PATH": str(tmp_path)})


def test_require_node_accepts_20(tmp_path):
    node = fake_tool(tmp_path, "node")
    assert require_node({"PATH": str(tmp_path)}, answering("v20.20.2\n")) == str(node)


def test_require_node_names_the_old_version(tmp_path):
    fake_tool(tmp_path, "node")
    with pytest.raises(SetupError, match=r"found Node.js v18.19.0 .*needs Node.js 20 or newer"):
        require_node({"PATH": str(tmp_path)}, answering("v18.19.0\n"))


def test_require_node_missing(tmp_path):
    with pytest.raises(SetupError, match=r"no `node` on PATH.*Node.js 20 or newer"):
        require_node({"PATH": str(tmp_path)}, never_run)


def test_port_in_use_and_free():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        assert port_in_use("127.0.0.1", port)
    assert not port_in_use("127.0.0.1", port)


def test_port_bound_but_not_listening_counts_as_used():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        assert port_in_use("127.0.0.1", holder.getsockname()[1])


def test_require_port_free_names_port_owner_and_setting():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(SetupError) as err:
            require_port_free("127.0.0.1", port, "kinesis-mock", "--kinesis-port")
    message = str(err.value)
    assert f"port {port} on 127.0.0.1 is already in use" in message
    assert "kinesis-mock cannot listen there" in message
    assert "choose another port with --kinesis-port" in message


def test_require_port_free_passes_on_a_free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    require_port_free("127.0.0.1", port, "moto", "--timestream-port")


def test_require_connector_jar(tmp_path):
    jar = tmp_path / "connectors.jar"
    jar.write_bytes(b"PK")
    assert require_connector_jar(jar) == jar


def test_require_connector_jar_missing(tmp_path):
    jar = tmp_path / "target" / "connectors.jar"
    with pytest.raises(SetupError) as err:
        require_connector_jar(jar)
    assert str(jar) in str(err.value)
    assert "run `make connectors` (mvn -f connectors/pom.xml package)" in str(err.value)


def test_require_python_module():
    require_python_module("json", "unused")


@pytest.mark.parametrize("module", ["no_such_module_here", "no_such_package.server"])
def test_require_python_module_missing(module):
    with pytest.raises(SetupError, match=rf"{module} not found .*; pip install extra"):
        require_python_module(module, "pip install extra")


def test_setup_error_is_a_runtime_error():
    assert issubclass(SetupError, RuntimeError)
