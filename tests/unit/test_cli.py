import pytest

from cli import commands

COMMANDS = [[], ["run"], ["dev"], ["dev", "up"], ["dev", "down"], ["dev", "status"], ["deploy"],
            ["simulate"], ["demo"], ["top"], ["replay"], ["package"], ["dev", "cluster"],
            ["dev", "cluster", "up"], ["dev", "cluster", "submit"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "top")
def test_every_command_describes_itself(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        commands.main([*command, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: connect-metrics")
    assert len(out.splitlines()) > 3


def test_a_bad_config_file_is_one_message_and_exit_2(tmp_path, capsys):
    broken = tmp_path / "application_properties.json"
    broken.write_text('[{"PropertyGroupId": "Nope", "PropertyMap": {}}]')
    assert commands.main(["run", "--config", str(broken)]) == 2
    err = capsys.readouterr().err
    assert "unknown property group 'Nope'" in err
    assert "Traceback" not in err


def test_run_without_the_connector_jar_names_the_build_command(monkeypatch, tmp_path, capsys):
    import jobs.main

    monkeypatch.setattr(jobs.main, "CONNECTOR_JAR", tmp_path / "missing.jar")
    assert commands.main(["run"]) == 2
    assert "run `make connectors`" in capsys.readouterr().err


def test_a_bad_metric_file_stops_run_before_flink_starts(tmp_path, capsys):
    sql = tmp_path / "sql"
    sql.mkdir()
    (sql / "broken.sql").write_text("-- dimensions: a\nSELECT 1")
    props = tmp_path / "props.json"
    props.write_text(f'[{{"PropertyGroupId": "Job", "PropertyMap": {{"sql.dir": "{sql}"}}}}]')
    assert commands.main(["run", "--config", str(props)]) == 2
    assert f"{sql / 'broken.sql'}:1: header lacks '-- time" in capsys.readouterr().err


def test_replay_of_a_missing_file_names_it(tmp_path, capsys):
    assert commands.main(["replay", str(tmp_path / "absent.jsonl")]) == 2
    assert "replay: no such file" in capsys.readouterr().err


def test_cluster_submit_of_a_missing_zip_names_the_package_command(tmp_path, capsys):
    assert commands.main(["dev", "cluster", "submit", str(tmp_path / "absent.zip")]) == 2
    err = capsys.readouterr().err
    assert "absent.zip: no such file" in err
    assert "connect-metrics package --python" in err
