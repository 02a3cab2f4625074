"""moto's server, with CloudFormation support for the template's types moto 5.1.10 lacks.

moto's CloudFormation skips AWS::Timestream::Database, AWS::Timestream::Table,
AWS::Logs::LogStream, AWS::KinesisAnalyticsV2::Application and
AWS::KinesisAnalyticsV2::ApplicationCloudWatchLoggingOption, so a `Fn::GetAtt` on one of them
makes CreateStack fail (tests/e2e/test_deploy.py shows it). The models below create those
resources in moto's own Timestream Write, CloudWatch Logs and Kinesis Analytics V2 backends, so
after a deploy they can be read back through those services' APIs like the rest of the stack.

One moto fault is mended: UpdateStack with UsePreviousValue looks the value up among the
parameters given when the stack was created, so a parameter left at its template default fails
with KeyError (HTTP 500). CloudFormation uses the value the stack has, default or not.

`SERVER` is the command that runs it (moto.server's arguments follow): the models must be
imported under their module name, not as `__main__`, for moto to accept them.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.cloudformation.models import CloudFormationBackend
from moto.core.common_models import CloudFormationModel
from moto.kinesisanalyticsv2.models import kinesisanalyticsv2_backends
from moto.logs.models import logs_backends
from moto.timestreamwrite.models import timestreamwrite_backends

SERVER = ("-c", f"import {__name__}, moto.server; moto.server.main()")


class _Adapter:
    """A created resource: its name (what `Ref` gives) and its attributes (`Fn::GetAtt`).

    Each model also names CloudFormationModel as a direct base: moto finds models through
    `CloudFormationModel.__subclasses__()`, which lists direct subclasses only.
    """

    def __init__(self, name: str, **attributes: str) -> None:
        self.name = name
        self.attributes = attributes

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return True

    def get_cfn_attribute(self, attribute_name: str) -> str:
        if attribute_name not in self.attributes:
            raise UnformattedGetAttTemplateException()
        return self.attributes[attribute_name]

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: Any, new_resource_name: str, cloudformation_json: dict,
        account_id: str, region_name: str,
    ) -> Any:
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str,
    ) -> None:
        """Stacks are not deleted in the tests."""

    def is_created(self) -> bool:
        return True


class TimestreamDatabase(_Adapter, CloudFormationModel):
    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Timestream::Database"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str,
        **kwargs: Any,
    ) -> TimestreamDatabase:
        properties = cloudformation_json["Properties"]
        backend = timestreamwrite_backends[account_id][region_name]
        name = properties.get("DatabaseName", resource_name)
        if name not in backend.databases:
            backend.create_database(name, properties.get("KmsKeyId"), [])
        return cls(name, Arn=backend.databases[name].arn)


class TimestreamTable(_Adapter, CloudFormationModel):
    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Timestream::Table"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str,
        **kwargs: Any,
    ) -> TimestreamTable:
        """Created, or changed in place (CloudFormation updates retention without replacing)."""
        properties = cloudformation_json["Properties"]
        backend = timestreamwrite_backends[account_id][region_name]
        database, name = properties["DatabaseName"], properties.get("TableName", resource_name)
        retention = {key: int(value) for key, value in properties["RetentionProperties"].items()}
        magnetic = {
            "EnableMagneticStoreWrites": str(
                properties["MagneticStoreWriteProperties"]["EnableMagneticStoreWrites"]
            ).lower() == "true"
        }
        if name in backend.describe_database(database).tables:
            table = backend.update_table(database, name, retention, magnetic, None)
        else:
            table = backend.create_table(database, name, retention, [], magnetic, None)
        return cls(name, Arn=table.arn, Name=name)


class LogStream(_Adapter, CloudFormationModel):
    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Logs::LogStream"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str,
        **kwargs: Any,
    ) -> LogStream:
        properties = cloudformation_json["Properties"]
        group, name = properties["LogGroupName"], properties["LogStreamName"]
        backend = logs_backends[account_id][region_name]
        if name not in backend.groups[group].streams:
            backend.create_log_stream(group, name)
        return cls(name)


class FlinkApplication(_Adapter, CloudFormationModel):
    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::KinesisAnalyticsV2::Application"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str,
        **kwargs: Any,
    ) -> FlinkApplication:
        """Created, or replaced by one with the new configuration (moto has no update)."""
        properties = cloudformation_json["Properties"]
        backend = kinesisanalyticsv2_backends[account_id][region_name]
        name = properties.get("ApplicationName", resource_name)
        previous = backend.applications.get(name)
        backend.create_application(
            application_name=name,
            application_description=properties.get("ApplicationDescription"),
            runtime_environment=properties["RuntimeEnvironment"],
            service_execution_role=properties["ServiceExecutionRole"],
            application_configuration=properties.get("ApplicationConfiguration"),
            cloud_watch_logging_options=None,
            tags=None,
            application_mode=properties.get("ApplicationMode", "STREAMING"),
        )
        if previous is not None:
            application = backend.applications[name]
            application.application_version_id = previous.application_version_id + 1
            application.cloud_watch_logging_description = previous.cloud_watch_logging_description
        return cls(name)


class FlinkApplicationLogging(_Adapter, CloudFormationModel):
    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::KinesisAnalyticsV2::ApplicationCloudWatchLoggingOption"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str,
        **kwargs: Any,
    ) -> FlinkApplicationLogging:
        properties = cloudformation_json["Properties"]
        backend = kinesisanalyticsv2_backends[account_id][region_name]
        application = backend.applications[properties["ApplicationName"]]
        option = {"CloudWatchLoggingOptionId": "1.1", **properties["CloudWatchLoggingOption"]}
        application.cloud_watch_logging_description = [option]
        return cls(option["CloudWatchLoggingOptionId"])


def _resolve_update_parameters(self: Any, instance: Any, incoming_params: list[dict]) -> dict:
    """Given values, and the stack's current value where UsePreviousValue is set."""
    resolved = {
        p["parameter_key"]: p["parameter_value"] for p in incoming_params if "parameter_value" in p
    }
    current = instance.stack_parameters
    resolved.update({
        p["parameter_key"]: current[p["parameter_key"]]
        for p in incoming_params if p.get("use_previous_value") == "true"
    })
    return resolved


CloudFormationBackend._resolve_update_parameters = _resolve_update_parameters
