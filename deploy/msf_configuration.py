"""What Flink configuration MSF 2.2 lets application code set.

`msf-programmatic-configuration.txt` keeps the service's list of keys (with the page and the date
it was read); any other key set in code makes MSF throw when the application starts. The job's
tests build it as `main.py` does on MSF and check every key it sets against this list.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

ALLOWED_KEYS_FILE = Path(__file__).with_name("msf-programmatic-configuration.txt")


def allowed_keys(path: Path = ALLOWED_KEYS_FILE) -> frozenset[str]:
    """The keys on MSF's list (section headers and comments skipped)."""
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return frozenset(line for line in lines if line and line[0] not in "#[")


def keys_set(before: Mapping[str, str], after: Mapping[str, str],
             volatile: Iterable[str] = ()) -> set[str]:
    """Keys `after` has that `before` lacks or holds another value of; `volatile` keys (which
    Flink itself rewrites on every build, such as the query start time) count only when new."""
    moving = set(volatile)
    return {key for key, value in after.items()
            if key not in before or (before[key] != value and key not in moving)}


def refused(keys: Iterable[str], allowed: frozenset[str] | None = None) -> list[str]:
    """The keys MSF would refuse from application code, sorted."""
    allowed = allowed_keys() if allowed is None else allowed
    return sorted(set(keys) - allowed)
