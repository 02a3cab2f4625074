"""The job's one configuration object.

On Amazon Managed Service for Apache Flink the application's property groups arrive in
`/etc/flink/application_properties.json`; elsewhere the same file format is read from a local
path. Every setting has a default that works against the local emulators, so an empty file (or
no file) is a valid configuration for `connect-metrics run`.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connectors.settings import ConfigError, InfluxDBSettings, KinesisSettings, TimestreamSettings
from jobs.core.agents import AgentSettings
from jobs.core.contacts import LifecycleSettings
from jobs.core.events import ParseOptions
from jobs.core.service_levels import ServiceLevelError, ServiceLevels, thresholds

MSF_PROPERTIES_PATH = Path("/etc/flink/application_properties.json")
MSF_GROUP_PREFIX = "kinesis.analytics."
PROJECT_ROOT = Path(__file__).resolve().parent.parent

PYTHON_EXECUTION_MODES = ("process", "thread")
"""PyFlink's `python.execution-mode`: Python functions in a Python process of their own, or
inside the JVM (through pemja), without a round trip per record and per state write."""
DEFAULT_PYTHON_MODE = "thread"


@dataclass(frozen=True)
class JobSettings:
    sql_dir: str = str(PROJECT_ROOT / "sql")
    parallelism: int = 1
    checkpoint_interval_ms: int = 10_000
    checkpoint_dir: str = str(PROJECT_ROOT / ".local" / "checkpoints")
    interval_minutes: int = 1
    gauge_period_ms: int = 5_000
    gauge_refresh_ms: int = 60_000
    gauge_refresh_for_ms: int = 3_600_000
    gauge_provisional_ms: int = 250
    allowed_lateness_ms: int = 5_000
    event_future_bound_ms: int = 15 * 60_000
    event_past_bound_ms: int = 7 * 24 * 3_600_000
    reporting_time_zone: str = "UTC"
    idle_timeout_ms: int = 60_000
    dead_letter: str = "jsonl:" + str(PROJECT_ROOT / ".local" / "dead-letters.jsonl")
    keep_agent_names: bool = False
    keep_usernames: bool = True
    contact_max_queue_ms: int = 4 * 3_600_000
    contact_max_handle_ms: int = 8 * 3_600_000
    contact_acw_timeout_ms: int = 2 * 3_600_000
    agent_stale_after_ms: int = 360_000
    python_execution_mode: str = DEFAULT_PYTHON_MODE
    python_bundle_time_ms: int = 100
    service_level_thresholds: str = "20,60"
    service_level_queue_thresholds: str = ""

    def sql_parameters(self) -> dict[str, object]:
        """What a metric file may name as `${...}`."""
        return {"interval_minutes": self.interval_minutes}

    def service_levels(self) -> ServiceLevels:
        """Each queue's service-level thresholds (`jobs.core.service_levels`)."""
        return ServiceLevels.parse(self.service_level_thresholds,
                                   self.service_level_queue_thresholds)

    def parse_options(self) -> ParseOptions:
        return ParseOptions(keep_agent_names=self.keep_agent_names,
                            keep_usernames=self.keep_usernames)

    def agent_settings(self) -> AgentSettings:
        return AgentSettings(stale_after_ms=self.agent_stale_after_ms)

    def lifecycle_settings(self) -> LifecycleSettings:
        return LifecycleSettings(max_queue_time_ms=self.contact_max_queue_ms,
                                 max_handle_time_ms=self.contact_max_handle_ms,
                                 acw_timeout_ms=self.contact_acw_timeout_ms)

    def __post_init__(self) -> None:
        for name in ("interval_minutes", "gauge_period_ms", "gauge_refresh_ms",
                     "gauge_refresh_for_ms", "python_bundle_time_ms", "event_future_bound_ms", "event_past_bound_ms"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{_property_key(name)} must be positive")
        if self.python_execution_mode not in PYTHON_EXECUTION_MODES:
            raise ConfigError(
                f"{_property_key('python_execution_mode')}: {self.python_execution_mode!r}; use "
                + " or ".join(PYTHON_EXECUTION_MODES))
        try:
            thresholds(self.service_level_thresholds)
        except ServiceLevelError as err:
            raise ConfigError(f"service.level.thresholds: {err}; use whole seconds separated by "
                              "commas, such as 20,60") from None
        try:
            self.service_levels()
        except ServiceLevelError as err:
            raise ConfigError(
                f"service.level.queue.thresholds: {err}; use QUEUE=SECONDS[,SECONDS...] entries "
                "separated by ';', the queue by id, ARN or name:NAME, such as "
                "QUEUE_ID=120;name:Sales=20,30"
            ) from None
        try:
            ZoneInfo(self.reporting_time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"reporting.time.zone: {self.reporting_time_zone!r} is not a time zone; use an "
                "IANA name such as UTC, Europe/London or America/New_York"
            ) from None


@dataclass(frozen=True)
class Config:
    kinesis: KinesisSettings = field(default_factory=KinesisSettings)
    timestream: TimestreamSettings = field(default_factory=TimestreamSettings)
    influxdb: InfluxDBSettings = field(default_factory=InfluxDBSettings)
    job: JobSettings = field(default_factory=JobSettings)

    @classmethod
    def load(cls, path: Path | None = None) -> "Config":
        """Read property groups from `path`, else from MSF's file when it exists, else defaults."""
        if path is None:
            if not MSF_PROPERTIES_PATH.exists():
                return cls()
            path = MSF_PROPERTIES_PATH
        try:
            groups = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such file; pass an existing application_properties.json")
        except json.JSONDecodeError as err:
            raise ConfigError(f"{path}:{err.lineno}: not valid JSON ({err.msg})") from None
        return cls.from_property_groups(groups, source=str(path))

    def to_property_groups(self) -> list[dict]:
        """The MSF property-group form of this configuration (every property, as strings)."""
        return [
            {
                "PropertyGroupId": _group_id(section.name),
                "PropertyMap": {
                    _property_key(f.name): _to_text(getattr(getattr(self, section.name), f.name))
                    for f in dataclasses.fields(getattr(self, section.name))
                },
            }
            for section in dataclasses.fields(self)
        ]

    @classmethod
    def from_property_groups(cls, groups: object, source: str = "property groups") -> "Config":
        """Build from MSF's `[{"PropertyGroupId": ..., "PropertyMap": {...}}]` shape."""
        if not isinstance(groups, list):
            raise ConfigError(f"{source}: expected a JSON list of property groups")
        sections = {f.name: f.type for f in dataclasses.fields(cls)}
        values: dict[str, object] = {}
        for group in groups:
            if not isinstance(group, dict) or "PropertyGroupId" not in group:
                raise ConfigError(f"{source}: each group needs PropertyGroupId and PropertyMap")
            group_id = str(group["PropertyGroupId"])
            if group_id.startswith(MSF_GROUP_PREFIX):
                continue  # the service's own groups (run options), not the job's
            section = _section_name(group_id)
            if section not in sections:
                known = ", ".join(_group_id(name) for name in sections)
                raise ConfigError(f"{source}: unknown property group {group_id!r}; known: {known}")
            settings_type = _resolve(cls, section)
            values[section] = _build_section(settings_type, group_id, group.get("PropertyMap") or {}, source)
        return cls(**values)


_GROUP_IDS = {"influxdb": "InfluxDB"}


def _group_id(section: str) -> str:
    return _GROUP_IDS.get(section, section.capitalize())


def _section_name(group_id: str) -> str:
    return group_id.strip().lower()


def _to_text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _property_key(field_name: str) -> str:
    return field_name.replace("_", ".")


def _resolve(owner: type, name: str) -> type:
    return typing.get_type_hints(owner)[name]


def _build_section(settings_type: type, group_id: str, properties: dict, source: str) -> object:
    hints = typing.get_type_hints(settings_type)
    by_key = {_property_key(f.name): f.name for f in dataclasses.fields(settings_type)}
    kwargs: dict[str, object] = {}
    for key, raw in properties.items():
        name = by_key.get(str(key).strip().lower())
        if name is None:
            known = ", ".join(sorted(by_key))
            raise ConfigError(f"{source}: group {group_id}: unknown property {key!r}; known: {known}")
        kwargs[name] = _convert(raw, hints[name], f"{source}: group {group_id}: {key}")
    try:
        return settings_type(**kwargs)
    except ConfigError as err:
        raise ConfigError(f"{source}: group {group_id}: {err}") from None


def _convert(raw: object, target: type, where: str) -> object:
    if isinstance(target, types.UnionType):
        target = next(t for t in typing.get_args(target) if t is not type(None))
    if target is int:
        try:
            value = int(str(raw).strip())
        except ValueError:
            raise ConfigError(f"{where}: {raw!r} is not a whole number") from None
        if value < 0:
            raise ConfigError(f"{where}: {value} must not be negative")
        return value
    if target is bool:
        text = str(raw).strip().lower()
        if text not in ("true", "false"):
            raise ConfigError(f"{where}: {raw!r} must be true or false")
        return text == "true"
    return str(raw).strip()
