"""deploy/cloudformation.yaml: valid, least privilege, and in step with the code it deploys."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cfnlint.api import lint_file
from cfnlint.decode import cfn_yaml

from deploy.package import run_options
from jobs.config import Config
from jobs.metrics import load_catalogue

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "deploy" / "cloudformation.yaml"

# Actions that AWS only lets you grant on Resource "*" and that touch no data.
RESOURCE_LESS_ACTIONS = {
    "timestream:DescribeEndpoints", "ec2:DescribeVpcs", "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups", "ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces",
}
IAM_RESOURCE_TYPES = {
    "AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy",
}


@pytest.fixture(scope="module")
def template() -> dict:
    return cfn_yaml.load(str(TEMPLATE_PATH))


def resources_of_type(template: dict, type_name: str) -> dict[str, dict]:
    return {
        name: resource for name, resource in template["Resources"].items()
        if resource["Type"] == type_name
    }


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _conditional(value):
    """What a list item under a condition holds (`!If [Cond, item, !Ref AWS::NoValue]`)."""
    if isinstance(value, dict) and "Fn::If" in value:
        return value["Fn::If"][1]
    return value


def policy_statements(template: dict) -> list[tuple[str, dict]]:
    """(resource name, statement) for every statement of every IAM policy in the template."""
    found = []
    for name, resource in template["Resources"].items():
        if resource["Type"] not in IAM_RESOURCE_TYPES:
            continue
        properties = resource.get("Properties", {})
        documents = [policy["PolicyDocument"] for policy in properties.get("Policies", [])]
        if "PolicyDocument" in properties:
            documents.append(properties["PolicyDocument"])
        for document in documents:
            found += [(name, _conditional(statement))
                      for statement in _as_list(document["Statement"])]
    return found


def wildcard_grants(template: dict) -> list[str]:
    """Every Allow of an action on Resource "*" (other than the resource-less ones), and every
    wildcard action."""
    problems = []
    for name, statement in policy_statements(template):
        if statement.get("Effect") != "Allow":
            continue
        actions = _as_list(statement.get("Action", []))
        problems += [f"{name}: action {a!r} is a wildcard" for a in actions if "*" in a]
        if "*" in _as_list(statement.get("Resource", [])):
            problems += [
                f"{name}: {action} on Resource *" for action in actions
                if action not in RESOURCE_LESS_ACTIONS
            ]
    return problems


def statement_for(template: dict, role: str, action: str) -> dict:
    matches = [
        statement for name, statement in policy_statements(template)
        if name == role and action in _as_list(statement["Action"])
    ]
    assert len(matches) == 1, f"{role}: expected one statement granting {action}"
    return matches[0]


def test_template_passes_cfn_lint():
    matches = lint_file(TEMPLATE_PATH)
    assert matches == [], "\n".join(str(match) for match in matches)


def test_no_data_plane_action_is_granted_on_every_resource(template):
    assert wildcard_grants(template) == []


def test_the_wildcard_check_finds_a_data_plane_action_on_every_resource(template):
    broken = {"Resources": dict(template["Resources"])}
    broken["Resources"]["Extra"] = {
        "Type": "AWS::IAM::Policy",
        "Properties": {"PolicyDocument": {"Statement": [
            {"Effect": "Allow", "Action": ["kinesis:GetRecords", "timestream:DescribeEndpoints"],
             "Resource": "*"},
            {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::bucket/key"},
        ]}},
    }
    assert wildcard_grants(broken) == [
        "Extra: kinesis:GetRecords on Resource *",
        "Extra: action 's3:*' is a wildcard",
    ]


def test_the_job_reads_only_the_two_event_streams_and_writes_only_dead_letters(template):
    reads = statement_for(template, "ServiceRole", "kinesis:GetRecords")
    assert reads["Resource"] == [
        {"Fn::GetAtt": ["AgentEventStream", "Arn"]},
        {"Fn::GetAtt": ["ContactEventStream", "Arn"]},
    ]
    writes = statement_for(template, "ServiceRole", "kinesis:PutRecords")
    assert writes["Resource"] == {"Fn::GetAtt": ["DeadLetterStream", "Arn"]}


def test_every_metric_table_exists_and_the_job_may_write_exactly_those(template):
    tables = resources_of_type(template, "AWS::Timestream::Table")
    names = {resource["Properties"]["TableName"]: key for key, resource in tables.items()}
    metric_tables = {metric.table for metric in load_catalogue(ROOT / "sql")}
    assert set(names) == metric_tables, "add one AWS::Timestream::Table per sql/*.sql file"
    writes = statement_for(template, "ServiceRole", "timestream:WriteRecords")
    assert sorted(r["Fn::GetAtt"][0] for r in _as_list(writes["Resource"])) == sorted(
        names.values()
    )


def test_code_and_logs_are_granted_on_the_one_object_and_stream(template):
    code = statement_for(template, "ServiceRole", "s3:GetObject")
    assert code["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:s3:::${CodeBucket}/${CodeKey}"}
    logs = statement_for(template, "ServiceRole", "logs:PutLogEvents")
    assert logs["Resource"]["Fn::Sub"].endswith(":log-group:${LogGroup}:log-stream:${LogStream}")


def test_contact_events_of_the_instance_are_routed_to_the_contact_stream(template):
    rule = template["Resources"]["ContactEventRule"]["Properties"]
    assert rule["EventPattern"] == {
        "source": ["aws.connect"],
        "detail-type": ["Amazon Connect Contact Event"],
        "detail": {"instanceArn": [{"Ref": "ConnectInstanceArn"}]},
    }
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["ContactEventStream", "Arn"]}
    assert target["RoleArn"] == {"Fn::GetAtt": ["ContactEventRuleRole", "Arn"]}
    puts = statement_for(template, "ContactEventRuleRole", "kinesis:PutRecord")
    assert puts["Resource"] == {"Fn::GetAtt": ["ContactEventStream", "Arn"]}


def _property_groups(template: dict) -> dict[str, dict]:
    application = template["Resources"]["Application"]["Properties"]
    groups = application["ApplicationConfiguration"]["EnvironmentProperties"]["PropertyGroups"]
    return {_conditional(group)["PropertyGroupId"]: _conditional(group)["PropertyMap"]
            for group in groups}


def _resolve(value, parameters: dict) -> str:
    """A plain value for a property: a parameter's default, or a stand-in for other functions;
    of a condition, the value when it is false (the existing InfluxDB and token secret)."""
    if isinstance(value, dict) and "Fn::If" in value:
        return _resolve(value["Fn::If"][2], parameters)
    if isinstance(value, dict) and "Ref" in value:
        return str(parameters.get(value["Ref"], {}).get("Default", value["Ref"]))
    if isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str):
        return re.sub(r"\$\{([^}]+)\}", lambda match: match.group(1), value["Fn::Sub"])
    assert isinstance(value, str), f"unexpected property value {value!r}"
    return value


def test_run_options_match_the_package_layout(template):
    assert _property_groups(template)["kinesis.analytics.flink.run.options"] == run_options()


def _job_config(template: dict, parameters: dict) -> Config:
    """The job's configuration as the stack would pass it with these parameter values (groups
    under the UseInfluxDB condition only when Sink is influxdb)."""
    application = template["Resources"]["Application"]["Properties"]
    groups = []
    for group in application["ApplicationConfiguration"]["EnvironmentProperties"][
            "PropertyGroups"]:
        if isinstance(group, dict) and "Fn::If" in group:
            assert group["Fn::If"][0] == "UseInfluxDB"
            if parameters["Sink"]["Default"] != "influxdb":
                continue
        group = _conditional(group)
        if group["PropertyGroupId"] == "kinesis.analytics.flink.run.options":
            continue
        groups.append({"PropertyGroupId": group["PropertyGroupId"],
                       "PropertyMap": {key: _resolve(value, parameters)
                                       for key, value in group["PropertyMap"].items()}})
    return Config.from_property_groups(groups, source="cloudformation.yaml")


def test_job_property_groups_are_a_valid_configuration(template):
    parameters = template["Parameters"]
    config = _job_config(template, parameters)
    assert config.timestream.target == "timestream"
    assert config.job.dead_letter.startswith("kinesis:")
    assert config.timestream.memory_retention_hours == int(
        parameters["MemoryRetentionHours"]["Default"]
    )


def test_application_runs_on_flink_2_2_with_managed_checkpoints(template):
    application = template["Resources"]["Application"]["Properties"]
    assert application["RuntimeEnvironment"] == "FLINK-2_2"
    flink = application["ApplicationConfiguration"]["FlinkApplicationConfiguration"]
    assert flink["CheckpointConfiguration"]["CheckpointingEnabled"] is True
    assert flink["ParallelismConfiguration"]["AutoScalingEnabled"] == {"Ref": "AutoScalingEnabled"}


def test_the_influxdb_sink_is_configured_from_its_parameters(template):
    secret = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:influx-AbC"
    parameters = {**template["Parameters"], "Sink": {"Default": "influxdb"},
                  "InfluxDBUrl": {"Default": "https://influx.example:8086"},
                  "InfluxDBTokenSecretArn": {"Default": secret}}
    config = _job_config(template, parameters)
    assert config.timestream.target == "influxdb"
    assert (config.influxdb.url, config.influxdb.api, config.influxdb.org,
            config.influxdb.database, config.influxdb.token_secret_arn) == (
        "https://influx.example:8086", "v2", "connect-metrics", "connect_metrics", secret)
    url = template["Resources"]["Application"]["Properties"]["ApplicationConfiguration"][
        "EnvironmentProperties"]["PropertyGroups"]
    created = next(_conditional(g) for g in url
                   if _conditional(g)["PropertyGroupId"] == "InfluxDB")["PropertyMap"]["url"]
    assert created["Fn::If"][:2] == ["CreateInfluxDB", {"Fn::Sub":
                                                         "https://${InfluxDB.Endpoint}:8086"}]


def test_an_account_without_timestream_gets_no_timestream_resource_or_grant(template):
    timestream = {name: r for name, r in template["Resources"].items()
                  if r["Type"].startswith("AWS::Timestream::") and "InfluxDB" not in r["Type"]}
    assert len(timestream) == 1 + len(load_catalogue(Path(Config().job.sql_dir)))  # + database
    assert {r.get("Condition") for r in timestream.values()} == {"UseTimestream"}
    statements = template["Resources"]["ServiceRole"]["Properties"]["Policies"][0][
        "PolicyDocument"]["Statement"]
    conditions = {_conditional(s)["Sid"]: s["Fn::If"][0] for s in statements if "Fn::If" in s}
    assert conditions == {"WriteMetrics": "UseTimestream",
                          "DiscoverTimestreamEndpoints": "UseTimestream",
                          "ReadInfluxDBToken": "UseInfluxDB", "DescribeVpc": "UseInfluxDB",
                          "ManageApplicationNetworkInterfaces": "UseInfluxDB"}


def test_the_job_may_read_only_its_influxdb_token_secret(template):
    read = statement_for(template, "ServiceRole", "secretsmanager:GetSecretValue")
    assert read["Action"] == "secretsmanager:GetSecretValue"
    assert read["Resource"] == {"Fn::If": ["CreateTokenSecret", {"Ref": "InfluxDBTokenSecret"},
                                           {"Fn::Sub": "${InfluxDBTokenSecretArn}"}]}
    instance = template["Resources"]["InfluxDB"]
    assert instance["Condition"] == "CreateInfluxDB"
    assert instance["Properties"]["PubliclyAccessible"] is False
