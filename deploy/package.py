"""Builds the application zip for Amazon Managed Service for Apache Flink (MSF).

Layout of the zip (MSF runs `main.py` from its root; `run_options` names the rest):

    main.py                               the entry script
    app/jobs/**/*.py, app/connectors/*.py the job's packages (not `cli/`: the command line stays out)
    app/sql/*.sql                         the metric definitions (found next to `jobs/`)
    lib/connect-metrics-connectors.jar    the shaded connector jar (`jarfile`)
    lib/python/...                        unpacked wheels of the libraries the MSF runtime lacks

A folder named in `pyFiles` is itself put on the Python workers' PYTHONPATH, which is why the
job's packages live in a folder (`app/`) rather than at the root.

The zip is reproducible: entries sorted, every timestamp 1980-01-01 00:00, every file mode 0644,
no byte code. Wheels come from `pip download` (binary only, for the target Python and platform,
versions pinned by requirements.lock) into a folder under `.local/`, so a rebuild needs no
network; tests pass their own wheel folder instead.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from deploy import DeployError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOCK_FILE = PROJECT_ROOT / "requirements.lock"
CACHE_DIR = PROJECT_ROOT / ".local" / "package"

# What the job imports at run time that the MSF PyFlink runtime does not bring: apache-flink
# 2.2.1 depends on python-dateutil (with six), requests (with urllib3), numpy, pandas, pyarrow,
# apache-beam (which requires orjson) and others, but not on boto3. boto3 needs botocore,
# s3transfer and jmespath; botocore's other needs (python-dateutil, urllib3) come with pyflink.
# orjson is vendored although apache-beam brings one, so the job runs the version it is tested
# with. influxdb-client (line protocol for the InfluxDB target) needs reactivex; its other needs
# (certifi, python-dateutil, urllib3) come with pyflink.
RUNTIME_REQUIREMENTS = ("boto3", "botocore", "s3transfer", "jmespath", "orjson",
                        "influxdb-client", "reactivex")

FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o644


@dataclass(frozen=True)
class ZipLayout:
    entry_script: str = "main.py"
    app_dir: str = "app"
    jar: str = "lib/connect-metrics-connectors.jar"
    python_lib_dir: str = "lib/python"

    @property
    def py_files(self) -> tuple[str, ...]:
        return (self.app_dir + "/", self.python_lib_dir + "/")


LAYOUT = ZipLayout()


class PackageError(DeployError):
    """The package cannot be built; the message names what is missing and the fix."""


def run_options(zip_layout: ZipLayout = LAYOUT) -> dict[str, str]:
    """The `kinesis.analytics.flink.run.options` property group values for `zip_layout`."""
    return {
        "python": zip_layout.entry_script,
        "jarfile": zip_layout.jar,
        "pyFiles": ",".join(zip_layout.py_files),
    }


def pinned_requirements(
    names: Iterable[str] = RUNTIME_REQUIREMENTS, lock_file: Path = LOCK_FILE
) -> list[str]:
    """`name==version` for each of `names`, the version from the lock file."""
    pins: dict[str, str] = {}
    for line in lock_file.read_text(encoding="utf-8").splitlines():
        name, sep, version = line.split("#", 1)[0].strip().partition("==")
        if sep:
            pins[_normalise(name)] = version.strip()
    missing = [name for name in names if _normalise(name) not in pins]
    if missing:
        raise PackageError(f"{lock_file}: no pinned version for {', '.join(missing)}")
    return [f"{name}=={pins[_normalise(name)]}" for name in names]


def download_wheels(
    requirements: list[str],
    dest: Path,
    python_version: str = "3.12",
    platform: str = "manylinux2014_x86_64",
    log: Callable[[str], None] | None = None,
) -> Path:
    """Wheels for `requirements` in `dest`, downloaded by pip unless all are already there."""
    log = log or _stderr
    dest.mkdir(parents=True, exist_ok=True)
    missing = [req for req in requirements if _find_wheel(dest, req) is None]
    if not missing:
        log(f"package: {len(requirements)} wheels already in {dest}")
        return dest
    log(f"package: downloading {len(missing)} wheels for Python {python_version} {platform}")
    command = [
        sys.executable, "-m", "pip", "download", "--disable-pip-version-check",
        "--only-binary=:all:", "--no-deps", "--implementation", "cp",
        "--python-version", python_version, "--platform", platform,
        "--cache-dir", str(CACHE_DIR / "pip-cache"), "--dest", str(dest), *missing,
    ]
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in result.stdout.splitlines():
        log(f"  pip: {line}")
    if result.returncode != 0:
        raise PackageError(
            f"pip download failed for {' '.join(missing)} (exit {result.returncode}); "
            "it needs the network once, later builds use the wheels in " + str(dest)
        )
    return dest


def build_package(
    out: Path,
    jar: Path,
    python_version: str = "3.12",
    platform: str = "manylinux2014_x86_64",
    *,
    wheel_dir: Path | None = None,
    log: Callable[[str], None] | None = None,
) -> Path:
    """Write the MSF application zip to `out` (a file, or a folder to put it in); return it.

    `wheel_dir` holds the wheels of the pinned runtime requirements; by default they are
    downloaded (once) into `.local/package/wheels-<python>-<platform>/`.
    """
    log = log or _stderr
    jar = Path(jar)
    if not jar.is_file():
        raise PackageError(f"{jar}: no connector jar; build it with `make connectors`")
    requirements = pinned_requirements()
    if wheel_dir is None:
        wheel_dir = download_wheels(
            requirements,
            CACHE_DIR / f"wheels-cp{python_version.replace('.', '')}-{platform}",
            python_version, platform, log,
        )
    out = Path(out)
    if out.is_dir():
        out = out / "connect-metrics.zip"

    entries: dict[str, bytes] = {}
    _add(entries, LAYOUT.entry_script, (PROJECT_ROOT / "main.py").read_bytes())
    for path in app_files():
        _add(entries, f"{LAYOUT.app_dir}/{path.relative_to(PROJECT_ROOT).as_posix()}",
             path.read_bytes())
    _add(entries, LAYOUT.jar, jar.read_bytes())
    for requirement in requirements:
        wheel = _find_wheel(Path(wheel_dir), requirement)
        if wheel is None:
            raise PackageError(f"{wheel_dir}: no wheel for {requirement}")
        log(f"package: vendoring {wheel.name}")
        for name, data in wheel_entries(wheel):
            _add(entries, f"{LAYOUT.python_lib_dir}/{name}", data)

    out.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE_TIME)
            info.external_attr = (0o100000 | FILE_MODE) << 16
            info.create_system = 3
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, entries[name], compresslevel=9)
    out.write_bytes(buffer.getvalue())
    log(f"package: wrote {out} ({out.stat().st_size:,} bytes, {len(entries)} files)")
    return out


def app_files() -> list[Path]:
    """The job's files: Python modules of `jobs/` and `connectors/`, and the metric SQL."""
    files = [
        path
        for package in ("jobs", "connectors")
        for path in (PROJECT_ROOT / package).rglob("*.py")
        if not _skipped(path.relative_to(PROJECT_ROOT / package))
    ]
    files += [
        path for path in (PROJECT_ROOT / "sql").rglob("*")
        if path.is_file() and not _skipped(path.relative_to(PROJECT_ROOT / "sql"))
    ]
    return sorted(files)


def wheel_entries(wheel: Path) -> list[tuple[str, bytes]]:
    """The files a wheel installs into site-packages, without byte code or scripts."""
    result = []
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            name = info.filename
            if info.is_dir() or _skipped(Path(name)):
                continue
            parts = name.split("/")
            if parts[0].endswith(".data"):
                if len(parts) < 3 or parts[1] not in ("purelib", "platlib"):
                    continue  # scripts, headers and data files are not importable
                name = "/".join(parts[2:])
            result.append((name, archive.read(info)))
    return result


def _skipped(relative: Path) -> bool:
    parts = relative.parts
    return (
        "__pycache__" in parts
        or relative.suffix in (".pyc", ".pyo")
        or any(part.startswith(".") for part in parts)
    )


def _add(entries: dict[str, bytes], name: str, data: bytes) -> None:
    if name in entries and entries[name] != data:
        raise PackageError(f"two different files would be {name} in the package")
    entries[name] = data


def _find_wheel(folder: Path, requirement: str) -> Path | None:
    name, _, version = requirement.partition("==")
    if not folder.is_dir():
        return None
    for wheel in sorted(folder.glob("*.whl")):
        wheel_name, wheel_version = wheel.name.split("-")[:2]
        if _normalise(wheel_name) == _normalise(name) and wheel_version == version:
            return wheel
    return None


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
