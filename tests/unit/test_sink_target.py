"""The sink target of `run` and `replay`, checked before the job starts."""

import pytest

from cli.sink_target import check_sink, with_sink
from cli import commands
from connectors.settings import ACCEPTED_FORMS, ConfigError, InfluxDBSettings
from jobs.config import Config


def test_an_influxdb_url_sets_the_influxdb_group_and_target():
    config = with_sink(Config(), "influxdb:http://10.0.0.5:8181/metrics")
    assert config.timestream.target == "influxdb"
    assert (config.influxdb.url, config.influxdb.database) == ("http://10.0.0.5:8181", "metrics")


def test_an_influxdb_url_keeps_a_path_prefix_and_the_groups_other_settings():
    config = Config(influxdb=InfluxDBSettings(api="v2", org="o", token="t"))
    influx = with_sink(config, "influxdb:https://h.example:8086/influx/bucket-1").influxdb
    assert influx == InfluxDBSettings(url="https://h.example:8086/influx", database="bucket-1",
                                      api="v2", org="o", token="t")


@pytest.mark.parametrize("target", ["timestream", "influxdb", "jsonl:/tmp/out.jsonl"])
def test_the_accepted_forms_pass(target):
    assert with_sink(Config(), target).timestream.target == target


@pytest.mark.parametrize("target", [
    "bogus:x", "jsonl:", "Timestream", "influxdb:h:8086/db", "influxdb:http://h/db",
    "influxdb:http://h:8086/", "influxdb:ftp://h:21/db", "influxdb:http://h:port/db",
    "influxdb:http://h:8086/db?org=x",
])
def test_unknown_or_malformed_targets_are_refused_naming_the_accepted_forms(target):
    with pytest.raises(ConfigError) as error:
        with_sink(Config(), target)
    assert repr(target) in str(error.value) and ACCEPTED_FORMS in str(error.value)


def test_a_bad_target_in_the_properties_is_refused_too():
    config = Config.from_property_groups(
        [{"PropertyGroupId": "Timestream", "PropertyMap": {"target": "influx"}}])
    with pytest.raises(ConfigError, match="sink target 'influx' is not one of"):
        check_sink(config)


@pytest.mark.parametrize("command", ["run", "replay"])
def test_the_command_refuses_a_bad_sink_before_the_job_starts(command, tmp_path, capsys,
                                                              monkeypatch):
    import cli.prerequisites

    started = []
    monkeypatch.setattr(cli.prerequisites, "require_java", lambda *a: started.append("java"))
    events = tmp_path / "events.jsonl"
    events.write_text("")
    args = [command, "--sink", "bogus:x"] + ([str(events)] if command == "replay" else [])
    assert commands.main(args) == 2
    err = capsys.readouterr().err
    assert "sink target 'bogus:x' is not one of: timestream" in err
    assert "influxdb:http://HOST:PORT/DATABASE" in err and "Traceback" not in err
    assert started == []


def test_the_influxdb_group_round_trips_through_property_groups():
    config = Config(influxdb=InfluxDBSettings(url="https://x:8086", api="v2", org="o",
                                              database="b", token_secret_arn="arn:x"))
    groups = config.to_property_groups()
    assert "InfluxDB" in [g["PropertyGroupId"] for g in groups]
    assert Config.from_property_groups(groups) == config
