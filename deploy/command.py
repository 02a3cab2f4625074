"""`connect-metrics deploy`: the application zip to S3, then the stack created or updated.

Credentials, region and the Connect instance are checked before the zip is built, so a missing
setting costs seconds, not a build. AWS's own errors come back as one sentence with the fix.
boto3 is imported only when the command runs: the rest of the command line starts faster.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    ProfileNotFound,
)

from deploy import DeployError
from deploy.stack import deploy_stack, describe, require_updatable
from deploy.upload import upload_code

TEMPLATE = Path(__file__).with_name("cloudformation.yaml")
DEFAULT_ZIP = Path("dist/connect-metrics.zip")
DEFAULT_STACK = "connect-metrics"

# Options that set a template parameter. Left out, a parameter keeps the template's default when
# the stack is created and the stack's current value when it is updated.
OPTION_PARAMETERS = {
    "instance": "ConnectInstanceArn",
    "stream_mode": "StreamMode",
    "shards": "ShardCount",
    "stream_retention_hours": "StreamRetentionHours",
    "memory_retention_hours": "MemoryRetentionHours",
    "magnetic_retention_days": "MagneticRetentionDays",
    "parallelism": "Parallelism",
    "parallelism_per_kpu": "ParallelismPerKPU",
    "auto_scaling": "AutoScalingEnabled",
}

INSTANCE_ARN = re.compile(
    r"^arn:aws[a-z-]*:connect:(?P<region>[a-z0-9-]+):[0-9]{12}:instance/[0-9a-f-]+$"
)
INSTANCE_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

CREDENTIALS_FIX = (
    "no AWS credentials found; set them with `aws configure` (or `aws sso login --profile P` "
    "and AWS_PROFILE=P), or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
)
REGION_FIX = (
    "no AWS region; pass --region (the Connect instance's region), or set AWS_DEFAULT_REGION or "
    "a region in your AWS profile"
)
PERMISSIONS_HINT = (
    "the identity running deploy needs the permissions listed in README.md "
    "(Deploy to Amazon Managed Service for Apache Flink, IAM permissions)"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bucket", required=True,
                        help="S3 bucket for the application zip (created when missing)")
    parser.add_argument("--instance", metavar="ARN_OR_ID",
                        help="the Amazon Connect instance (ARN, or id in the deploy region); "
                        "needed to create the stack")
    parser.add_argument("--stack-name", default=DEFAULT_STACK,
                        help=f"CloudFormation stack name (default {DEFAULT_STACK})")
    parser.add_argument("--zip", type=Path, metavar="ZIP",
                        help="deploy this application zip instead of building "
                        f"{DEFAULT_ZIP} with `connect-metrics package`")
    parser.add_argument("--region", help="AWS region (default: the AWS default chain)")
    parser.add_argument("--endpoint-url", metavar="URL",
                        help="send the S3, CloudFormation and STS calls here (an emulator); "
                        "AWS_ENDPOINT_URL works too")
    parser.add_argument("--stream-mode", choices=["ON_DEMAND", "PROVISIONED"],
                        help="Kinesis capacity mode (template default ON_DEMAND)")
    parser.add_argument("--shards", type=int, metavar="N",
                        help="shards per event stream when PROVISIONED (default 1)")
    parser.add_argument("--stream-retention-hours", type=int, metavar="H",
                        help="Kinesis retention, 24 to 8760 (default 24)")
    parser.add_argument("--memory-retention-hours", type=int, metavar="H",
                        help="Timestream memory store retention (default 24)")
    parser.add_argument("--magnetic-retention-days", type=int, metavar="D",
                        help="Timestream magnetic store retention (default 365)")
    parser.add_argument("--parallelism", type=int, metavar="N",
                        help="Flink parallelism (default 1)")
    parser.add_argument("--parallelism-per-kpu", type=int, metavar="N",
                        help="parallel tasks per KPU, 1 to 8 (default 1)")
    parser.add_argument("--auto-scaling", action=argparse.BooleanOptionalAction, default=None,
                        help="MSF automatic scaling (default off)")
    parser.add_argument("--parameter", action="append", default=[], metavar="KEY=VALUE",
                        help="any other template parameter (e.g. LogRetentionDays=90); repeatable")


def run(args: argparse.Namespace, log: Callable[[str], None] | None = None) -> int:
    """Deploy as `args` say; progress on stderr, the stack's outputs on stdout."""
    log = log or _stderr
    with aws_errors(args.endpoint_url):
        session, region = _session(args.region)
        clients = {
            service: session.client(service, region_name=region, endpoint_url=args.endpoint_url)
            for service in ("s3", "cloudformation", "sts")
        }
        parameters = template_parameters(
            args, lambda: clients["sts"].get_caller_identity()["Account"],
            region, session.get_partition_for_region(region),
        )
        existing = describe(clients["cloudformation"], args.stack_name)
        if existing is not None:
            require_updatable(existing)
        elif "ConnectInstanceArn" not in parameters:
            raise DeployError(
                f"stack {args.stack_name} does not exist in {region} yet; creating it needs "
                "--instance (the Amazon Connect instance ARN or id)"
            )
        zip_path = args.zip if args.zip is not None else _build()
        key = upload_code(clients["s3"], zip_path, args.bucket, region, log)
        parameters.update(CodeBucket=args.bucket, CodeKey=key)
        result = deploy_stack(
            clients["cloudformation"], args.stack_name, TEMPLATE.read_text(encoding="utf-8"),
            parameters, log,
        )
    print(f"stack {args.stack_name}: {result.status}"
          f"{'' if result.changed else ' (no changes)'}, code s3://{args.bucket}/{key}")
    for name, value in result.outputs.items():
        print(f"  {name} = {value}")
    print(_next_steps(result.outputs, region))
    return 0


def template_parameters(
    args: argparse.Namespace, account: Callable[[], str], region: str, partition: str
) -> dict[str, str]:
    """The template parameters the options set, as CloudFormation's strings."""
    values: dict[str, str] = {}
    for option, parameter in OPTION_PARAMETERS.items():
        value = getattr(args, option)
        if value is not None:
            values[parameter] = str(value).lower() if isinstance(value, bool) else str(value)
    for item in args.parameter:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise DeployError(
                f"--parameter {item!r}: write it as KEY=VALUE, e.g. LogRetentionDays=90"
            )
        values[key.strip()] = value
    if "ConnectInstanceArn" in values:
        values["ConnectInstanceArn"] = instance_arn(
            values["ConnectInstanceArn"], region, account, partition
        )
    return values


def instance_arn(value: str, region: str, account: Callable[[], str], partition: str) -> str:
    """The ARN of the Connect instance `value` names; an id is taken to be in `region`.

    Connect picks its agent event stream among the Kinesis streams of its region, and its
    contact events reach EventBridge there, so the stack must be in the instance's region.
    """
    value = value.strip()
    match = INSTANCE_ARN.match(value)
    if match:
        if match["region"] != region:
            raise DeployError(
                f"--instance {value} is in {match['region']}, but the stack would go to "
                f"{region}; deploy to the instance's region (--region {match['region']})"
            )
        return value
    if INSTANCE_ID.match(value):
        return f"arn:{partition}:connect:{region}:{account()}:instance/{value}"
    raise DeployError(
        f"--instance {value!r} is neither a Connect instance ARN "
        "(arn:aws:connect:REGION:ACCOUNT:instance/ID) nor an instance id (a UUID); both are on "
        "the instance's page in the Amazon Connect console"
    )


@contextmanager
def aws_errors(endpoint_url: str | None) -> Iterator[None]:
    """AWS SDK exceptions as DeployError: what went wrong and what to do."""
    try:
        yield
    except NoCredentialsError:
        raise DeployError(CREDENTIALS_FIX) from None
    except ProfileNotFound as err:
        raise DeployError(
            f"{err}; list the profiles with `aws configure list-profiles`, or unset AWS_PROFILE"
        ) from None
    except EndpointConnectionError as err:
        where = endpoint_url or err.kwargs.get("endpoint_url", "the AWS endpoint")
        raise DeployError(
            f"cannot reach {where}; check the network, --region and --endpoint-url"
        ) from None
    except ClientError as err:
        raise DeployError(client_error_message(err)) from None


def client_error_message(err: ClientError) -> str:
    error = err.response.get("Error", {})
    code, message = error.get("Code", "Unknown"), error.get("Message", "")
    operation = err.operation_name
    if code in ("ExpiredToken", "ExpiredTokenException", "RequestExpired"):
        return f"the AWS credentials have expired ({operation}); renew them (e.g. `aws sso login`)"
    if code in ("InvalidClientTokenId", "SignatureDoesNotMatch", "UnrecognizedClientException",
                "InvalidAccessKeyId"):
        return (f"AWS does not accept these credentials ({operation}: {code}); check "
                "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_PROFILE")
    if code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "403"):
        return f"AWS refused {operation}: {message or code}; {PERMISSIONS_HINT}"
    return f"{operation} failed: {code}: {message}"


def _session(region: str | None) -> tuple[Any, str]:
    import boto3

    session = boto3.session.Session(region_name=region)
    if session.region_name is None:
        raise DeployError(REGION_FIX)
    if session.get_credentials() is None:
        raise DeployError(CREDENTIALS_FIX)
    return session, session.region_name


def _build() -> Path:
    from deploy.package import build_package
    from cli import prerequisites
    from jobs.main import CONNECTOR_JAR

    prerequisites.require_connector_jar(CONNECTOR_JAR)
    return build_package(DEFAULT_ZIP, CONNECTOR_JAR)


def _next_steps(outputs: dict[str, str], region: str) -> str:
    stream = outputs.get("AgentEventStreamName", "the stack's agent event stream")
    application = outputs.get("ApplicationName", "connect-metrics")
    return (
        "next, once:\n"
        f"  - Amazon Connect console, the instance, Data streaming: agent events to the Kinesis "
        f"stream {stream}\n"
        f"  - start the application: aws kinesisanalyticsv2 start-application --region {region} "
        f"--application-name {application}"
    )


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
