"""The application zip in S3, under a key that names its content.

The key carries the zip's SHA-256, so new code is a new key: CloudFormation then sees a changed
`CodeKey` and updates the application, while the same zip deployed twice is neither uploaded
again nor an update.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from deploy import DeployError

KEY_PREFIX = "connect-metrics/"
HASH_CHARS = 16


def code_key(zip_path: Path, prefix: str = KEY_PREFIX) -> str:
    """`<prefix><zip stem>-<first 16 hex digits of its SHA-256>.zip`."""
    digest = hashlib.sha256()
    with Path(zip_path).open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return f"{prefix}{Path(zip_path).stem}-{digest.hexdigest()[:HASH_CHARS]}.zip"


def ensure_bucket(s3: Any, bucket: str, region: str, log: Callable[[str], None]) -> None:
    """Create `bucket` in `region` unless this account can already use it."""
    try:
        s3.head_bucket(Bucket=bucket)
        return
    except ClientError as err:
        status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status == 403:
            raise DeployError(
                f"bucket {bucket} exists but this account may not use it (it belongs to another "
                "account, or you lack s3:ListBucket on it); choose another --bucket"
            ) from None
        if status != 404:
            raise
    arguments: dict[str, Any] = {"Bucket": bucket}
    if region != "us-east-1":
        arguments["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**arguments)
    log(f"deploy: created bucket s3://{bucket} in {region}")


def upload_code(
    s3: Any, zip_path: Path, bucket: str, region: str, log: Callable[[str], None]
) -> str:
    """Put the zip in `bucket` under its content key (once); return the key."""
    zip_path = Path(zip_path)
    if not zip_path.is_file():
        raise DeployError(
            f"{zip_path}: no such file; build it with `connect-metrics package` or leave --zip out"
        )
    ensure_bucket(s3, bucket, region, log)
    key = code_key(zip_path)
    try:
        s3.head_object(Bucket=bucket, Key=key)
        log(f"deploy: s3://{bucket}/{key} is already there")
        return key
    except ClientError as err:
        if err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") != 404:
            raise
    size_mb = zip_path.stat().st_size / 1_000_000
    log(f"deploy: uploading {zip_path} ({size_mb:.1f} MB) to s3://{bucket}/{key}")
    s3.upload_file(str(zip_path), bucket, key)
    return key
