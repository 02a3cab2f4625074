"""deploy/stack.py against a scripted CloudFormation: the paths moto never takes (rollbacks,
failed and busy stacks, timeouts, paged events)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from deploy import DeployError, stack
from deploy.stack import deploy_stack

NAME = "cm"
_ids = itertools.count()
_start = datetime(2026, 11, 24, 12, 0, 0, tzinfo=timezone.utc)


def event(logical: str, status: str, reason: str | None = None,
          kind: str = "AWS::Kinesis::Stream") -> dict:
    n = next(_ids)
    found = {"EventId": f"e{n}", "StackName": NAME, "LogicalResourceId": logical,
             "ResourceType": "AWS::CloudFormation::Stack" if logical == NAME else kind,
             "ResourceStatus": status, "Timestamp": _start + timedelta(seconds=n)}
    if reason:
        found["ResourceStatusReason"] = reason
    return found


def client_error(code: str, message: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


class FakeCloudFormation:
    """One stack. `script` holds (events, status) steps: the create or update call takes the
    first, each sleep of the wait the next."""

    def __init__(self, script=(), status=None, events=(), parameters=(), reason=None,
                 update_error=None, page_size=100):
        self.script, self.status, self.events = list(script), status, list(events)
        self.parameters, self.reason, self.update_error = list(parameters), reason, update_error
        self.page_size = page_size
        self.calls: list[tuple[str, dict]] = []

    def advance(self, seconds: float = 0) -> None:
        if self.script:
            new_events, self.status = self.script.pop(0)
            self.events += new_events

    def describe_stacks(self, StackName):
        if self.status is None:
            raise client_error("ValidationError", f"Stack with id {StackName} does not exist",
                               "DescribeStacks")
        found = {"StackId": "stack-id", "StackName": NAME, "StackStatus": self.status,
                 "Parameters": self.parameters,
                 "Outputs": [{"OutputKey": "ApplicationName", "OutputValue": NAME}]}
        if self.reason:
            found["StackStatusReason"] = self.reason
        return {"Stacks": [found]}

    def describe_stack_events(self, StackName, NextToken="0"):
        newest_first = self.events[::-1]
        start = int(NextToken)
        page = {"StackEvents": newest_first[start:start + self.page_size]}
        if start + self.page_size < len(newest_first):
            page["NextToken"] = str(start + self.page_size)
        return page

    def get_template_summary(self, TemplateBody):
        keys = ("ConnectInstanceArn", "CodeKey", "Parallelism", "AddedParameter")
        return {"Parameters": [{"ParameterKey": key} for key in keys]}

    def create_stack(self, **arguments):
        self.calls.append(("create_stack", arguments))
        self.advance()
        return {"StackId": "stack-id"}

    def update_stack(self, **arguments):
        self.calls.append(("update_stack", arguments))
        if self.update_error:
            raise self.update_error
        self.advance()
        return {"StackId": "stack-id"}


def run(cfn: FakeCloudFormation, monkeypatch, parameters=None, timeout_s: float = 60):
    monkeypatch.setattr(stack.time, "sleep", cfn.advance)
    lines: list[str] = []
    result = deploy_stack(cfn, NAME, "template", parameters or {"CodeKey": "k"}, lines.append,
                          poll_s=0, timeout_s=timeout_s)
    return result, lines


def test_a_new_stack_is_created_and_its_events_shown_oldest_first(monkeypatch):
    cfn = FakeCloudFormation([
        ([event(NAME, "CREATE_IN_PROGRESS", "User Initiated"),
          event("AgentEventStream", "CREATE_IN_PROGRESS")], "CREATE_IN_PROGRESS"),
        ([], "CREATE_IN_PROGRESS"),
        ([event("AgentEventStream", "CREATE_COMPLETE"), event(NAME, "CREATE_COMPLETE")],
         "CREATE_COMPLETE"),
    ])
    result, lines = run(cfn, monkeypatch, {"ConnectInstanceArn": "arn", "CodeKey": "k"})
    assert result == stack.StackResult("CREATE_COMPLETE", {"ApplicationName": NAME}, True)
    (call, arguments), = cfn.calls
    assert call == "create_stack"
    assert arguments["Capabilities"] == ["CAPABILITY_IAM"]
    assert arguments["Parameters"] == [
        {"ParameterKey": "ConnectInstanceArn", "ParameterValue": "arn"},
        {"ParameterKey": "CodeKey", "ParameterValue": "k"},
    ]
    assert lines[0] == "deploy: creating stack cm"
    shown = [line.split()[1:] for line in lines[1:]]
    assert shown == [
        ["cm", "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS:", "User", "Initiated"],
        ["AgentEventStream", "AWS::Kinesis::Stream", "CREATE_IN_PROGRESS"],
        ["AgentEventStream", "AWS::Kinesis::Stream", "CREATE_COMPLETE"],
        ["cm", "AWS::CloudFormation::Stack", "CREATE_COMPLETE"],
    ]


def test_an_update_shows_only_its_own_events_and_keeps_parameters_left_out(monkeypatch):
    old = [event(NAME, "CREATE_COMPLETE")]
    cfn = FakeCloudFormation(
        [([event(NAME, "UPDATE_IN_PROGRESS")], "UPDATE_IN_PROGRESS"),
         ([event(NAME, "UPDATE_COMPLETE")], "UPDATE_COMPLETE")],
        status="CREATE_COMPLETE", events=old,
        parameters=[{"ParameterKey": key, "ParameterValue": "v"}
                    for key in ("ConnectInstanceArn", "CodeKey", "Parallelism", "Dropped")],
    )
    result, lines = run(cfn, monkeypatch, {"CodeKey": "new"})
    assert result.status == "UPDATE_COMPLETE" and result.changed
    (call, arguments), = cfn.calls
    assert call == "update_stack"
    # Dropped is no longer in the template; AddedParameter keeps its template default.
    assert arguments["Parameters"] == [
        {"ParameterKey": "CodeKey", "ParameterValue": "new"},
        {"ParameterKey": "ConnectInstanceArn", "UsePreviousValue": True},
        {"ParameterKey": "Parallelism", "UsePreviousValue": True},
    ]
    assert lines[0] == "deploy: updating stack cm (CREATE_COMPLETE)"
    assert [line.split()[-1] for line in lines[1:]] == ["UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"]


def test_a_stack_with_nothing_to_update_is_not_an_error(monkeypatch):
    cfn = FakeCloudFormation(status="UPDATE_COMPLETE", update_error=client_error(
        "ValidationError", "No updates are to be performed.", "UpdateStack"))
    result, lines = run(cfn, monkeypatch)
    assert result == stack.StackResult("UPDATE_COMPLETE", {"ApplicationName": NAME}, False)
    assert lines[-1] == "deploy: stack cm is up to date"


def test_other_update_errors_are_not_taken_for_no_updates(monkeypatch):
    cfn = FakeCloudFormation(status="UPDATE_COMPLETE", update_error=client_error(
        "ValidationError", "Parameters: [Nope] do not exist in the template", "UpdateStack"))
    with pytest.raises(ClientError, match="Nope"):
        run(cfn, monkeypatch)


def test_a_rolled_back_creation_names_the_resource_that_failed_and_why(monkeypatch):
    cfn = FakeCloudFormation([
        ([event(NAME, "CREATE_IN_PROGRESS")], "CREATE_IN_PROGRESS"),
        ([event("AgentEventStream", "CREATE_FAILED", "Resource creation cancelled"),
          event("Database", "CREATE_FAILED", "User is not authorized to perform: "
                "timestream:CreateDatabase", kind="AWS::Timestream::Database"),
          event(NAME, "ROLLBACK_IN_PROGRESS", "The following resource(s) failed to create: "
                "[Database, AgentEventStream].")], "ROLLBACK_IN_PROGRESS"),
        ([event(NAME, "ROLLBACK_COMPLETE")], "ROLLBACK_COMPLETE"),
    ])
    with pytest.raises(DeployError) as failed:
        run(cfn, monkeypatch, {"ConnectInstanceArn": "arn", "CodeKey": "k"})
    assert str(failed.value) == (
        "stack cm ended ROLLBACK_COMPLETE: Database (AWS::Timestream::Database) CREATE_FAILED: "
        "User is not authorized to perform: timestream:CreateDatabase; fix the cause, delete the "
        "stack (`aws cloudformation delete-stack --stack-name cm`) and deploy again"
    )


def test_a_rolled_back_update_names_the_failed_resource(monkeypatch):
    cfn = FakeCloudFormation(
        [([event("Application", "UPDATE_FAILED", "Invalid code location",
                  kind="AWS::KinesisAnalyticsV2::Application")], "UPDATE_ROLLBACK_IN_PROGRESS"),
         ([event(NAME, "UPDATE_ROLLBACK_COMPLETE")], "UPDATE_ROLLBACK_COMPLETE")],
        status="UPDATE_COMPLETE",
    )
    with pytest.raises(DeployError) as failed:
        run(cfn, monkeypatch)
    assert str(failed.value) == (
        "stack cm ended UPDATE_ROLLBACK_COMPLETE: Application "
        "(AWS::KinesisAnalyticsV2::Application) UPDATE_FAILED: Invalid code location; fix the "
        "cause and deploy again"
    )


def test_without_failed_resources_the_stack_reason_is_given(monkeypatch):
    cfn = FakeCloudFormation([([], "UPDATE_ROLLBACK_COMPLETE")], status="UPDATE_COMPLETE",
                             reason="Stack was rolled back by a user")
    with pytest.raises(DeployError, match="UPDATE_ROLLBACK_COMPLETE: Stack was rolled back"):
        run(cfn, monkeypatch)


@pytest.mark.parametrize("status, fix", [
    ("ROLLBACK_COMPLETE", "its creation failed: delete it (`aws cloudformation delete-stack "
                          "--stack-name cm`), then deploy again"),
    ("ROLLBACK_FAILED", "its creation failed: delete it"),
    ("CREATE_FAILED", "its creation failed: delete it"),
    ("DELETE_FAILED", "a deletion failed: delete it again"),
    ("UPDATE_ROLLBACK_FAILED", "finish the rollback first (`aws cloudformation "
                               "continue-update-rollback --stack-name cm`), then deploy again"),
    ("REVIEW_IN_PROGRESS", "a change set that was never executed: delete it"),
    ("UPDATE_IN_PROGRESS", "wait until it finishes"),
    ("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "wait until it finishes"),
])
def test_a_stack_that_cannot_be_updated_is_named_with_the_way_out(monkeypatch, status, fix):
    cfn = FakeCloudFormation(status=status)
    with pytest.raises(DeployError) as failed:
        run(cfn, monkeypatch)
    assert str(failed.value).startswith(f"stack cm is {status} and cannot be updated; ")
    assert fix in str(failed.value)
    assert cfn.calls == []


def test_a_stack_still_busy_at_the_deadline_is_left_to_cloudformation(monkeypatch):
    cfn = FakeCloudFormation([([event(NAME, "CREATE_IN_PROGRESS")], "CREATE_IN_PROGRESS")])
    with pytest.raises(DeployError) as failed:
        run(cfn, monkeypatch, {"ConnectInstanceArn": "arn"}, timeout_s=0)
    assert str(failed.value) == (
        "stack cm is still CREATE_IN_PROGRESS after 0 min; CloudFormation goes on without us: "
        "follow it with `aws cloudformation describe-stack-events --stack-name cm`, then run "
        "deploy again"
    )


def test_events_are_read_across_pages(monkeypatch):
    many = [event(f"Table{n}", "UPDATE_COMPLETE") for n in range(5)]
    cfn = FakeCloudFormation([(many, "UPDATE_COMPLETE")], status="UPDATE_COMPLETE",
                             events=[event(NAME, "CREATE_COMPLETE")], page_size=2)
    _, lines = run(cfn, monkeypatch)
    assert [line.split()[1] for line in lines[1:]] == [f"Table{n}" for n in range(5)]


def test_a_describe_error_other_than_no_stack_is_raised():
    class Refusing:
        def describe_stacks(self, StackName):
            raise client_error("AccessDenied", "not allowed", "DescribeStacks")

    with pytest.raises(ClientError, match="not allowed"):
        stack.describe(Refusing(), NAME)
