"""`connect-metrics deploy` against moto's server: the zip uploaded, the stack created, then
updated, then left alone when nothing changed.

moto's CloudFormation lacks five of the template's resource types; `moto_cloudformation` adds
them on top of moto's own backends, and the last test shows what plain moto says.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import boto3
import pytest

from deploy.upload import code_key
from jobs.metrics import load_catalogue
from cli.prerequisites import free_ports, port_in_use
from tests.conftest import CLI_ENV
from tests.e2e import moto_cloudformation
from tests.e2e.scenario import kill_group

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
INSTANCE = "arn:aws:connect:us-east-1:123456789012:instance/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
TABLES = {metric.table for metric in load_catalogue(ROOT / "sql")}


def start_moto(arguments: tuple[str, ...], log: Path) -> tuple[subprocess.Popen, str]:
    (port,) = free_ports(1)
    process = subprocess.Popen(
        [sys.executable, *arguments, "-H", "127.0.0.1", "-p", str(port)],
        cwd=ROOT, env=CLI_ENV, stdout=log.open("w"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while not port_in_use("127.0.0.1", port):
        assert process.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)
    return process, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    """moto's server with CloudFormation models for every type of the template."""
    process, endpoint = start_moto(
        moto_cloudformation.SERVER, tmp_path_factory.mktemp("moto") / "moto.log"
    )
    yield endpoint
    kill_group(process)  # an emulator with nothing to keep


@pytest.fixture
def stock_moto(tmp_path):
    process, endpoint = start_moto(("-m", "moto.server"), tmp_path / "moto.log")
    yield endpoint
    kill_group(process)  # an emulator with nothing to keep


def aws_env(**extra: str) -> dict[str, str]:
    """Test credentials and region, and nothing from this machine's AWS configuration."""
    env = {k: v for k, v in CLI_ENV.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION=REGION,
               AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
               AWS_EC2_METADATA_DISABLED="true", **extra)
    return env


def deploy(cwd: Path, *arguments: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cli", "deploy", *arguments],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )


def fake_zip(path: Path, text: str) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("main.py", text)
    return path


def client(service: str, endpoint: str):
    return boto3.client(service, region_name=REGION, endpoint_url=endpoint,
                        aws_access_key_id="test", aws_secret_access_key="test")


def application(endpoint: str) -> dict:
    detail = client("kinesisanalyticsv2", endpoint).describe_application(
        ApplicationName="connect-metrics")["ApplicationDetail"]
    configuration = detail["ApplicationConfigurationDescription"]
    code = configuration["ApplicationCodeConfigurationDescription"]["CodeContentDescription"]
    flink = configuration["FlinkApplicationConfigurationDescription"]
    return {
        "runtime": detail["RuntimeEnvironment"],
        "code": code["S3ApplicationCodeLocationDescription"],
        "parallelism": flink["ParallelismConfigurationDescription"]["Parallelism"],
    }


def stack(endpoint: str, name: str) -> dict:
    return client("cloudformation", endpoint).describe_stacks(StackName=name)["Stacks"][0]


def test_deploy_creates_then_updates_then_leaves_the_stack_alone(moto, tmp_path):
    first = fake_zip(tmp_path / "connect-metrics.zip", "print('first')\n")
    first_key = code_key(first)
    created = deploy(tmp_path, "--bucket", "code-bucket", "--zip", str(first),
                     "--instance", INSTANCE, "--endpoint-url", moto, env=aws_env())
    assert created.returncode == 0, created.stderr
    assert "deploy: created bucket s3://code-bucket" in created.stderr
    assert f"uploading {first} (0.0 MB) to s3://code-bucket/{first_key}" in created.stderr
    assert "CREATE_COMPLETE" in created.stderr.split("creating stack connect-metrics")[1]
    assert f"stack connect-metrics: CREATE_COMPLETE, code s3://code-bucket/{first_key}" \
        in created.stdout
    for output in ("AgentEventStreamName = connect-metrics-agent-events",
                   "ApplicationName = connect-metrics", "DatabaseName = connect_metrics"):
        assert f"  {output}\n" in created.stdout
    s3 = client("s3", moto)
    assert s3.get_object(Bucket="code-bucket", Key=first_key)["Body"].read() == first.read_bytes()
    assert stack(moto, "connect-metrics")["StackStatus"] == "CREATE_COMPLETE"
    assert application(moto) == {
        "runtime": "FLINK-2_2", "parallelism": 1,
        "code": {"BucketARN": "arn:aws:s3:::code-bucket", "FileKey": first_key},
    }
    tables = client("timestream-write", moto).list_tables(DatabaseName="connect_metrics")
    assert {table["TableName"] for table in tables["Tables"]} == TABLES
    streams = client("kinesis", moto).list_streams()["StreamNames"]
    assert {f"connect-metrics-{s}" for s in ("agent-events", "contact-events", "dead-letters")} \
        <= set(streams)

    # New code and a new parallelism; the endpoint from the environment this time. The
    # instance is not given again: parameters left out keep the stack's values.
    second = fake_zip(tmp_path / "connect-metrics.zip", "print('second')\n")
    second_key = code_key(second)
    assert second_key != first_key
    updated = deploy(tmp_path, "--bucket", "code-bucket", "--zip", str(second),
                     "--parallelism", "2", env=aws_env(AWS_ENDPOINT_URL=moto))
    assert updated.returncode == 0, updated.stderr
    assert "UPDATE_COMPLETE" in updated.stderr.split("updating stack connect-metrics")[1]
    assert "stack connect-metrics: UPDATE_COMPLETE" in updated.stdout
    after = stack(moto, "connect-metrics")
    assert after["StackStatus"] == "UPDATE_COMPLETE"
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in after["Parameters"]}
    assert parameters["ConnectInstanceArn"] == INSTANCE
    assert parameters["CodeKey"] == second_key
    assert application(moto)["code"]["FileKey"] == second_key
    assert application(moto)["parallelism"] == 2
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="code-bucket")["Contents"]}
    assert keys == {first_key, second_key}

    events = client("cloudformation", moto).describe_stack_events(StackName="connect-metrics")
    again = deploy(tmp_path, "--bucket", "code-bucket", "--zip", str(second),
                   "--endpoint-url", moto, env=aws_env())
    assert again.returncode == 0, again.stderr
    assert f"s3://code-bucket/{second_key} is already there" in again.stderr
    assert "stack connect-metrics is up to date" in again.stderr
    assert "stack connect-metrics: UPDATE_COMPLETE (no changes)" in again.stdout
    assert client("cloudformation", moto).describe_stack_events(
        StackName="connect-metrics")["StackEvents"] == events["StackEvents"]


def test_creating_a_stack_needs_the_instance_and_says_so_before_uploading(moto, tmp_path):
    result = deploy(tmp_path, "--bucket", "other-bucket", "--stack-name", "no-instance",
                    "--zip", str(fake_zip(tmp_path / "app.zip", "")), "--endpoint-url", moto,
                    env=aws_env())
    assert result.returncode == 2
    assert result.stderr.strip().endswith(
        "connect-metrics: error: stack no-instance does not exist in us-east-1 yet; creating it "
        "needs --instance (the Amazon Connect instance ARN or id)"
    )
    assert "other-bucket" not in {b["Name"] for b in client("s3", moto).list_buckets()["Buckets"]}


def test_an_instance_id_becomes_the_arn_in_the_callers_account(moto, tmp_path):
    result = deploy(tmp_path, "--bucket", "code-bucket", "--stack-name", "by-id",
                    "--instance", INSTANCE.rpartition("/")[2],
                    "--parameter", "ApplicationName=by-id", "--parameter", "DatabaseName=by_id",
                    "--zip", str(fake_zip(tmp_path / "app.zip", "")), "--endpoint-url", moto,
                    env=aws_env())
    assert result.returncode == 0, result.stderr
    parameters = {
        p["ParameterKey"]: p["ParameterValue"] for p in stack(moto, "by-id")["Parameters"]
    }
    assert parameters["ConnectInstanceArn"] == INSTANCE  # moto's account is 123456789012
    assert parameters["ApplicationName"] == "by-id"


def test_plain_moto_refuses_the_template_and_deploy_says_why(stock_moto, tmp_path):
    """moto 5.1.10 skips the Timestream tables, so the role's GetAtt of their ARNs fails."""
    result = deploy(tmp_path, "--bucket", "code-bucket", "--instance", INSTANCE,
                    "--zip", str(fake_zip(tmp_path / "app.zip", "")),
                    "--endpoint-url", stock_moto, env=aws_env())
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().endswith(
        "connect-metrics: error: CreateStack failed: ValidationError: Template error: instance "
        "of Fn::GetAtt references undefined resource QueueIntervalTable"
    )

    # moto keeps the refused stack, CREATE_IN_PROGRESS for good (CloudFormation would keep
    # none): a busy stack, which the next deploy refuses before building or uploading.
    retry = fake_zip(tmp_path / "retry.zip", "print('retry')\n")
    result = deploy(tmp_path, "--bucket", "code-bucket", "--zip", str(retry),
                    "--endpoint-url", stock_moto, env=aws_env())
    assert result.returncode == 2
    assert "connect-metrics: error: stack connect-metrics is CREATE_IN_PROGRESS and cannot be " \
        "updated; wait until it finishes" in result.stderr
    keys = {o["Key"] for o in client("s3", stock_moto).list_objects_v2(
        Bucket="code-bucket")["Contents"]}
    assert keys == {code_key(tmp_path / "app.zip")}
