"""Checks for the tools a local run needs, each failing with one message that names the fix.

Without them a missing JDK surfaces as a Py4J stack trace and a busy port as a hung emulator;
checking first turns both into a sentence the user can act on.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

MIN_JAVA = 17
MIN_NODE = 20
JDK_FIX = (
    f"install JDK {MIN_JAVA} or newer (e.g. `apt-get install openjdk-17-jdk-headless`) "
    "or set JAVA_HOME to one"
)
NODE_FIX = (
    f"install Node.js {MIN_NODE} or newer (https://nodejs.org/en/download, "
    "or `nvm install 20`) and make sure `node` is on PATH"
)
MAVEN_FIX = "install Maven 3.8 or newer (e.g. `apt-get install maven`) and put `mvn` on PATH"
CONNECTORS_FIX = "run `make connectors` (mvn -f connectors/pom.xml package)"

Runner = Callable[[list[str]], str]

_JAVA_VERSION = re.compile(r'version "(\d+)(?:\.(\d+))?')
_NODE_VERSION = re.compile(r"^v?(\d+)\.")


class SetupError(RuntimeError):
    """The machine is missing something a local run needs; the message says what to do."""


def version_output(command: list[str]) -> str:
    """Stdout and stderr together, because `java -version` prints to stderr."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout + done.stderr


def java_major_version(text: str) -> int | None:
    """Major version from `java -version` output; `1.8.0_392` is Java 8 in the old scheme."""
    match = _JAVA_VERSION.search(text)
    if match is None:
        return None
    major, minor = int(match.group(1)), match.group(2)
    return int(minor) if major == 1 and minor is not None else major


def node_major_version(text: str) -> int | None:
    """Major version from `node --version` output such as `v20.20.2`."""
    match = _NODE_VERSION.match(text.strip())
    return int(match.group(1)) if match else None


def java_executable(environ: Mapping[str, str]) -> str | None:
    """JAVA_HOME wins over PATH, as it does for PyFlink's own launcher."""
    java_home = environ.get("JAVA_HOME")
    if java_home:
        candidate = Path(java_home) / "bin" / "java"
        return str(candidate) if os.access(candidate, os.X_OK) else None
    return shutil.which("java", path=environ.get("PATH"))


def require_java(environ: Mapping[str, str] | None = None, run: Runner = version_output) -> int:
    """Return the Java major version, or explain how to get Java 17+."""
    environ = os.environ if environ is None else environ
    java = java_executable(environ)
    if java is None:
        java_home = environ.get("JAVA_HOME")
        where = f"JAVA_HOME={java_home} has no bin/java" if java_home else "no `java` on PATH"
        raise SetupError(f"Java not found ({where}); {JDK_FIX}")
    output = run([java, "-version"])
    major = java_major_version(output)
    if major is None:
        first_line = output.strip().splitlines()[0] if output.strip() else "no output"
        raise SetupError(
            f"could not read the Java version from `{java} -version` ({first_line}); {JDK_FIX}"
        )
    if major < MIN_JAVA:
        raise SetupError(
            f"found Java {major} at {java}, but Flink 2.2 needs Java {MIN_JAVA} or newer; {JDK_FIX}"
        )
    return major


def require_maven(environ: Mapping[str, str] | None = None) -> str:
    """Return the path of `mvn`, which builds the connector jars."""
    environ = os.environ if environ is None else environ
    mvn = shutil.which("mvn", path=environ.get("PATH"))
    if mvn is None:
        raise SetupError(f"Maven not found (no `mvn` on PATH); {MAVEN_FIX}")
    return mvn


def require_node(environ: Mapping[str, str] | None = None, run: Runner = version_output) -> str:
    """Return the path of a Node 20+ `node`, which runs kinesis-mock."""
    environ = os.environ if environ is None else environ
    node = shutil.which("node", path=environ.get("PATH"))
    if node is None:
        raise SetupError(f"Node.js not found (no `node` on PATH); {NODE_FIX}")
    output = run([node, "--version"])
    major = node_major_version(output)
    if major is None or major < MIN_NODE:
        found = output.strip() or "an unknown version"
        raise SetupError(
            f"found Node.js {found} at {node}, but kinesis-mock needs Node.js "
            f"{MIN_NODE} or newer; {NODE_FIX}"
        )
    return node


def free_ports(count: int) -> list[int]:
    """Loopback ports the kernel just handed out (all held at once, so they differ)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def port_in_use(host: str, port: int) -> bool:
    """True when something listens on, or holds, `host:port`.

    Connecting catches a wildcard listener that BSD would let us bind past; binding (with
    SO_REUSEADDR, so TIME_WAIT leftovers do not count) catches a socket that is not listening.
    """
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        pass
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def require_port_free(host: str, port: int, what: str, setting: str) -> None:
    """Fail before starting `what`, which would otherwise die with EADDRINUSE in a log file."""
    if port_in_use(host, port):
        raise SetupError(
            f"port {port} on {host} is already in use, so {what} cannot listen there; stop the "
            f"program holding it (`ss -ltnp 'sport = :{port}'` shows it) or choose another port "
            f"with {setting}"
        )


def require_connector_jar(path: Path) -> Path:
    """The job cannot reach Kinesis or Timestream without the shaded connector jar."""
    if not Path(path).is_file():
        raise SetupError(f"connector jar {path} not found; {CONNECTORS_FIX}")
    return Path(path)


def require_python_module(module: str, fix: str) -> None:
    """A missing optional dependency should name the extra to install, not fail on import."""
    try:
        found = importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        found = False
    if not found:
        raise SetupError(f"Python module {module} not found in {sys.executable}; {fix}")


def main() -> int:
    """`python -m cli.prerequisites`: what `make` checks before any set-up step runs."""
    try:
        require_java()
        require_maven()
        require_node()
    except SetupError as err:
        print(f"connect-metrics: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
