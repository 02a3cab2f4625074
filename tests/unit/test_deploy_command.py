"""deploy/command.py: options to template parameters, the Connect instance, and every AWS error
as one sentence with the fix."""

from __future__ import annotations

import argparse
import os

import pytest
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    ProfileNotFound,
)

from deploy import DeployError
from deploy import command
from cli import commands
from cli.prerequisites import SetupError

ARN = "arn:aws:connect:eu-west-2:123456789012:instance/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
INSTANCE_ID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"


def parse(*arguments: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    return parser.parse_args(["--bucket", "b", *arguments])


def parameters(*arguments: str) -> dict[str, str]:
    return command.template_parameters(parse(*arguments), lambda: "123456789012",
                                       "eu-west-2", "aws")


def test_only_the_options_given_become_parameters():
    assert parameters() == {}
    assert parameters(
        "--instance", ARN, "--stream-mode", "PROVISIONED", "--shards", "2",
        "--stream-retention-hours", "48", "--memory-retention-hours", "12",
        "--magnetic-retention-days", "30", "--parallelism", "4", "--parallelism-per-kpu", "2",
        "--no-auto-scaling", "--parameter", "LogRetentionDays=90", "--parameter", "A=b=c",
    ) == {
        "ConnectInstanceArn": ARN, "StreamMode": "PROVISIONED", "ShardCount": "2",
        "StreamRetentionHours": "48", "MemoryRetentionHours": "12", "MagneticRetentionDays": "30",
        "Parallelism": "4", "ParallelismPerKPU": "2", "AutoScalingEnabled": "false",
        "LogRetentionDays": "90", "A": "b=c",
    }
    assert parameters("--auto-scaling")["AutoScalingEnabled"] == "true"


@pytest.mark.parametrize("item", ["LogRetentionDays", "=90"])
def test_a_parameter_not_written_key_equals_value_is_refused(item):
    with pytest.raises(DeployError, match=f"--parameter '{item}': write it as KEY=VALUE"):
        parameters("--parameter", item)


def test_an_instance_id_becomes_an_arn_in_the_region_and_account():
    assert parameters("--instance", INSTANCE_ID)["ConnectInstanceArn"] == ARN
    china = command.instance_arn(INSTANCE_ID, "cn-north-1", lambda: "123456789012", "aws-cn")
    assert china.startswith("arn:aws-cn:connect:cn-north-1:123456789012:instance/")


def test_an_instance_in_another_region_is_refused_with_the_region_to_use():
    with pytest.raises(DeployError) as refused:
        command.instance_arn(ARN, "us-east-1", lambda: "1", "aws")
    assert str(refused.value) == (
        f"--instance {ARN} is in eu-west-2, but the stack would go to us-east-1; deploy to the "
        "instance's region (--region eu-west-2)"
    )


@pytest.mark.parametrize("value", ["my-instance", "arn:aws:connect:eu-west-2:1:instance/x"])
def test_something_else_than_an_instance_is_refused(value):
    with pytest.raises(DeployError, match="is neither a Connect instance ARN"):
        command.instance_arn(value, "eu-west-2", lambda: "1", "aws")


def error(code: str, message: str = "text") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "CreateStack")


@pytest.mark.parametrize("raised, message", [
    (NoCredentialsError(), command.CREDENTIALS_FIX),
    (ProfileNotFound(profile="nope"), "The config profile (nope) could not be found; list the "
     "profiles with `aws configure list-profiles`, or unset AWS_PROFILE"),
    (EndpointConnectionError(endpoint_url="https://s3.amazonaws.com"),
     "cannot reach https://s3.amazonaws.com; check the network, --region and --endpoint-url"),
    (error("ExpiredToken"), "the AWS credentials have expired (CreateStack); renew them "
     "(e.g. `aws sso login`)"),
    (error("InvalidClientTokenId"), "AWS does not accept these credentials (CreateStack: "
     "InvalidClientTokenId); check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_PROFILE"),
    (error("AccessDenied", "no cloudformation:CreateStack"), "AWS refused CreateStack: no "
     f"cloudformation:CreateStack; {command.PERMISSIONS_HINT}"),
    (error("ValidationError", "Template format error"),
     "CreateStack failed: ValidationError: Template format error"),
])
def test_aws_errors_become_one_sentence_with_the_fix(raised, message):
    with pytest.raises(DeployError) as translated:
        with command.aws_errors(None):
            raise raised
    assert str(translated.value) == message


def test_an_unreachable_endpoint_given_on_the_command_line_is_named():
    with pytest.raises(DeployError, match=r"^cannot reach http://127\.0\.0\.1:9; "):
        with command.aws_errors("http://127.0.0.1:9"):
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1:9/bucket")


@pytest.fixture
def no_aws_configuration(monkeypatch):
    """This machine's AWS settings out of the way; no instance metadata service either."""
    for key in list(os.environ):
        if key.startswith("AWS_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.mark.parametrize("environment, arguments, message", [
    ({}, ["--region", "us-east-1"], command.CREDENTIALS_FIX),
    ({"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"}, [], command.REGION_FIX),
    ({"AWS_PROFILE": "nope"}, [], "The config profile (nope) could not be found"),
])
def test_deploy_stops_before_any_work_without_credentials_or_region(
    no_aws_configuration, monkeypatch, capsys, tmp_path, environment, arguments, message,
):
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    assert commands.main(["deploy", "--bucket", "b", "--instance", ARN, *arguments]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"connect-metrics: error: {message}")
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # no zip built


def test_without_zip_the_package_is_built_from_the_connector_jar(monkeypatch, tmp_path):
    import deploy.package
    import jobs.main

    jar = tmp_path / "connectors.jar"
    jar.write_bytes(b"PK")
    built = []
    monkeypatch.setattr(jobs.main, "CONNECTOR_JAR", jar)
    monkeypatch.setattr(deploy.package, "build_package", lambda *a: built.append(a) or a[0])
    assert command._build() == command.DEFAULT_ZIP
    assert built == [(command.DEFAULT_ZIP, jar)]


def test_without_zip_or_connector_jar_deploy_names_the_build_command(monkeypatch, tmp_path):
    import jobs.main

    monkeypatch.setattr(jobs.main, "CONNECTOR_JAR", tmp_path / "missing.jar")
    with pytest.raises(SetupError, match="run `make connectors`"):
        command._build()
