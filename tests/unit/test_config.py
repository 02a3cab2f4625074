import json

import pytest

from connectors.settings import ConfigError
from jobs.config import Config


def test_defaults_target_the_local_emulators():
    config = Config()
    assert config.kinesis.endpoint == "http://127.0.0.1:4568"
    assert config.timestream.endpoint == "http://127.0.0.1:4570"
    assert config.kinesis.agent_stream == "agent-events"
    assert config.timestream.batch_size == 100


def test_property_groups_override_defaults(tmp_path):
    path = tmp_path / "application_properties.json"
    path.write_text(json.dumps([
        {"PropertyGroupId": "Kinesis", "PropertyMap": {"agent.stream": "agents", "endpoint": ""}},
        {"PropertyGroupId": "Job", "PropertyMap": {"parallelism": "2"}},
    ]))
    config = Config.load(path)
    assert config.kinesis.agent_stream == "agents"
    assert config.kinesis.endpoint == ""
    assert config.kinesis.contact_stream == "contact-events"
    assert config.job.parallelism == 2


@pytest.mark.parametrize(
    "groups, message",
    [
        ({"Kinesis": {}}, "expected a JSON list"),
        ([{"PropertyGroupId": "Kinesys", "PropertyMap": {}}], "unknown property group 'Kinesys'"),
        ([{"PropertyGroupId": "Job", "PropertyMap": {"paralelism": "2"}}],
         "group Job: unknown property 'paralelism'"),
        ([{"PropertyGroupId": "Job", "PropertyMap": {"parallelism": "two"}}],
         "group Job: parallelism: 'two' is not a whole number"),
        ([{"PropertyMap": {}}], "PropertyGroupId"),
    ],
)
def test_bad_properties_name_the_group_key_and_fix(groups, message):
    with pytest.raises(ConfigError, match=message):
        Config.from_property_groups(groups)


def test_missing_or_broken_file(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        Config.load(tmp_path / "absent.json")
    broken = tmp_path / "broken.json"
    broken.write_text("[\n{")
    with pytest.raises(ConfigError, match=r"broken.json:2: not valid JSON"):
        Config.load(broken)


def test_property_groups_round_trip():
    config = Config.from_property_groups([
        {"PropertyGroupId": "Timestream", "PropertyMap": {"magnetic.writes": "true"}},
    ])
    assert config.timestream.magnetic_writes is True
    assert Config.from_property_groups(config.to_property_groups()) == config


def test_the_services_own_run_options_group_is_not_the_jobs():
    config = Config.from_property_groups([
        {"PropertyGroupId": "kinesis.analytics.flink.run.options",
         "PropertyMap": {"python": "main.py", "jarfile": "lib/connectors.jar"}},
    ])
    assert config == Config()


@pytest.mark.parametrize(("key", "value", "message"), [
    ("reporting.time.zone", "Mars/Olympus",
     r"reporting.time.zone: 'Mars/Olympus' is not a time zone; use an IANA name"),
    ("gauge.period.ms", "0", "gauge.period.ms must be positive"),
    ("interval.minutes", "0", "interval.minutes must be positive"),
    ("gauge.refresh.ms", "0", "gauge.refresh.ms must be positive"),
    ("python.bundle.time.ms", "0", "python.bundle.time.ms must be positive"),
    ("gauge.provisional.ms", "-1", "gauge.provisional.ms: -1 must not be negative"),
    ("python.execution.mode", "fast", "python.execution.mode: 'fast'; use process or thread"),
    ("service.level.thresholds", "20,x",
     r"service.level.thresholds: 'x' is not a whole number of seconds; use whole seconds "
     r"separated by commas, such as 20,60"),
    ("service.level.thresholds", "0", r"service.level.thresholds: 0 s is not a positive"),
    ("service.level.thresholds", "20,20", r"service.level.thresholds: a threshold is given twice"),
    ("service.level.queue.thresholds", "q1:120",
     r"service.level.queue.thresholds: 'q1:120' is not QUEUE=SECONDS\[,SECONDS...\]; use "
     r"QUEUE=SECONDS\[,SECONDS...\] entries separated by ';', the queue by id, ARN or name:NAME"),
    ("service.level.queue.thresholds", "q1=120;q1=60",
     r"service.level.queue.thresholds: queue q1 is given twice"),
    ("service.level.queue.thresholds", "q1=-5",
     r"service.level.queue.thresholds: queue q1: -5 s is not a positive threshold"),
    ("service.level.queue.thresholds", "=120", r"service.level.queue.thresholds: '=120' is not"),
    ("service.level.queue.thresholds", "name:=120",
     r"service.level.queue.thresholds: 'name:=120' is not .* or name:NAME"),
    ("service.level.queue.thresholds", "name:Sales=20;name:Sales=60",
     r"service.level.queue.thresholds: queue named Sales is given twice"),
    ("service.level.queue.thresholds", "name:Sales=soon",
     r"service.level.queue.thresholds: queue named Sales: 'soon' is not a whole number"),
])
def test_bad_job_settings_name_the_file_group_and_fix(key, value, message):
    groups = [{"PropertyGroupId": "Job", "PropertyMap": {key: value}}]
    with pytest.raises(ConfigError, match=rf"props.json: group Job: {message}"):
        Config.from_property_groups(groups, source="props.json")


def test_a_reporting_time_zone_is_read():
    groups = [{"PropertyGroupId": "Job", "PropertyMap": {"reporting.time.zone": "Europe/Paris"}}]
    assert Config.from_property_groups(groups).job.reporting_time_zone == "Europe/Paris"


def test_each_queue_has_its_own_service_level_thresholds_from_the_properties():
    config = Config.from_property_groups([{"PropertyGroupId": "Job", "PropertyMap": {
        "service.level.thresholds": "60, 20",
        "service.level.queue.thresholds":
            "arn:aws:connect:eu-west-1:1:instance/i/queue/q-sales=30 ; q-back-office=120,300;",
    }}])
    levels = config.job.service_levels()
    assert levels.for_queue("q-sales") == (30,)  # named by its ARN
    assert levels.for_queue("q-back-office") == (120, 300)
    assert levels.for_queue("q-other") == (20, 60)  # the default, in ascending order
    assert levels.for_queue(None) == ()
    assert Config().job.service_levels().for_queue("q-any") == (20, 60)


def test_a_queue_target_may_name_the_queue_and_an_id_target_wins():
    config = Config.from_property_groups([{"PropertyGroupId": "Job", "PropertyMap": {
        "service.level.queue.thresholds": "name: Sales line=120 ;name:Back office=300;q-1=30",
    }}])
    levels = config.job.service_levels()
    assert levels.for_queue("q-7", "Sales line") == (120,)
    assert levels.for_queue("q-7", "Sales") == (20, 60)  # another name: the default
    assert levels.for_queue("q-7") == (20, 60)  # no name known
    assert levels.for_queue("q-1", "Sales line") == (30,)  # the id entry wins
    # What a contact is counted against until its queue's name decides:
    assert levels.candidates("q-7") == (20, 60, 120, 300)
    assert levels.candidates("q-1") == (30,)
    assert (levels.needs_name("q-7"), levels.needs_name("q-1"), levels.needs_name(None)) == (
        True, False, False)
    plain = Config().job.service_levels()
    assert (plain.candidates("q-7"), plain.needs_name("q-7")) == ((20, 60), False)
