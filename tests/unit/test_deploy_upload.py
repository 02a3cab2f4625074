"""deploy/upload.py: the zip in S3 under its content key, once; a bucket created when missing."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

from deploy import DeployError
from deploy.upload import code_key, upload_code


def s3_client(region: str = "us-east-1"):
    return boto3.client("s3", region_name=region, aws_access_key_id="test",
                        aws_secret_access_key="test")


@pytest.fixture
def zip_path(tmp_path):
    path = tmp_path / "connect-metrics.zip"
    path.write_bytes(b"PK first")
    return path


def test_the_key_follows_the_content(zip_path, tmp_path):
    key = code_key(zip_path)
    assert key.startswith("connect-metrics/connect-metrics-") and key.endswith(".zip")
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "connect-metrics.zip").write_bytes(zip_path.read_bytes())
    assert code_key(copy / "connect-metrics.zip") == key
    zip_path.write_bytes(b"PK second")
    assert code_key(zip_path) != key


@mock_aws
@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1"])
def test_a_missing_bucket_is_created_in_the_region_and_the_zip_uploaded_once(zip_path, region):
    s3 = s3_client(region)
    lines: list[str] = []
    key = upload_code(s3, zip_path, "code", region, lines.append)
    assert s3.get_object(Bucket="code", Key=key)["Body"].read() == b"PK first"
    assert (s3.get_bucket_location(Bucket="code")["LocationConstraint"] or "us-east-1") == region
    assert lines == [f"deploy: created bucket s3://code in {region}",
                     f"deploy: uploading {zip_path} (0.0 MB) to s3://code/{key}"]
    lines.clear()
    assert upload_code(s3, zip_path, "code", region, lines.append) == key
    assert lines == [f"deploy: s3://code/{key} is already there"]


def test_a_bucket_this_account_may_not_use_is_named_with_the_fix(zip_path):
    s3 = s3_client()
    with Stubber(s3) as stub:
        stub.add_client_error("head_bucket", "403", http_status_code=403)
        with pytest.raises(DeployError) as refused:
            upload_code(s3, zip_path, "theirs", "us-east-1", print)
    assert str(refused.value) == (
        "bucket theirs exists but this account may not use it (it belongs to another account, "
        "or you lack s3:ListBucket on it); choose another --bucket"
    )


@pytest.mark.parametrize("failing", ["head_bucket", "head_object"])
def test_other_s3_errors_are_not_taken_for_a_missing_bucket_or_object(zip_path, failing):
    s3 = s3_client()
    with Stubber(s3) as stub:
        if failing == "head_object":
            stub.add_response("head_bucket", {})
        stub.add_client_error(failing, "500", http_status_code=500)
        with pytest.raises(ClientError):
            upload_code(s3, zip_path, "code", "us-east-1", print)


def test_a_missing_zip_names_the_fix(tmp_path):
    with pytest.raises(DeployError, match="no such file; build it with `connect-metrics package`"):
        upload_code(s3_client(), tmp_path / "absent.zip", "code", "us-east-1", print)
