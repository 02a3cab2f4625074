"""Create or update the CloudFormation stack, print its events as they arrive, return its outputs.

Creating the Flink application takes minutes, so the wait shows every stack event; a stack that
ends rolled back or failed is reported by the resource that failed first and CloudFormation's
reason, which is where the cause is (later failures are usually cancellations).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from deploy import DeployError

CAPABILITIES = ("CAPABILITY_IAM",)
SUCCESS = ("CREATE_COMPLETE", "UPDATE_COMPLETE")
POLL_S = 5.0
TIMEOUT_S = 3600.0
NO_UPDATES = "No updates are to be performed"
# Stack states an update is refused in, with the way out.
_BLOCKED = {
    "ROLLBACK_COMPLETE": "its creation failed: delete it ({delete})",
    "ROLLBACK_FAILED": "its creation failed: delete it ({delete})",
    "CREATE_FAILED": "its creation failed: delete it ({delete})",
    "DELETE_FAILED": "a deletion failed: delete it again ({delete})",
    "UPDATE_ROLLBACK_FAILED": "finish the rollback first ({resume})",
    "REVIEW_IN_PROGRESS": "it holds a change set that was never executed: delete it ({delete})",
}


@dataclass(frozen=True)
class StackResult:
    status: str
    outputs: dict[str, str]
    changed: bool


def deploy_stack(
    cfn: Any,
    name: str,
    template_body: str,
    parameters: Mapping[str, str],
    log: Callable[[str], None],
    poll_s: float = POLL_S,
    timeout_s: float = TIMEOUT_S,
) -> StackResult:
    """Create stack `name`, or update it; a stack already up to date is not an error.

    On update, template parameters not in `parameters` keep the stack's current values.
    """
    stack = describe(cfn, name)
    if stack is None:
        log(f"deploy: creating stack {name}")
        marker = None
        response = cfn.create_stack(
            StackName=name, TemplateBody=template_body, Capabilities=list(CAPABILITIES),
            Parameters=_create_parameters(parameters),
        )
        stack_id = response["StackId"]
    else:
        require_updatable(stack)
        stack_id = stack["StackId"]
        marker = _newest_event_id(cfn, stack_id)
        log(f"deploy: updating stack {name} ({stack['StackStatus']})")
        try:
            cfn.update_stack(
                StackName=stack_id, TemplateBody=template_body, Capabilities=list(CAPABILITIES),
                Parameters=_update_parameters(
                    parameters, _template_parameters(cfn, template_body), stack
                ),
            )
        except ClientError as err:
            if NO_UPDATES not in str(err):
                raise
            log(f"deploy: stack {name} is up to date")
            return StackResult(stack["StackStatus"], _outputs(stack), changed=False)
    final = wait(cfn, stack_id, name, marker, log, poll_s, timeout_s)
    return StackResult(final["StackStatus"], _outputs(final), changed=True)


def describe(cfn: Any, name: str) -> dict | None:
    """The stack called `name`, or None when there is none."""
    try:
        return cfn.describe_stacks(StackName=name)["Stacks"][0]
    except ClientError as err:
        if "does not exist" in str(err):
            return None
        raise


def wait(
    cfn: Any,
    stack_id: str,
    name: str,
    marker: str | None,
    log: Callable[[str], None],
    poll_s: float = POLL_S,
    timeout_s: float = TIMEOUT_S,
) -> dict:
    """Poll until the stack leaves *_IN_PROGRESS, logging each event newer than `marker`.

    Returns the stack when it ends created or updated; raises DeployError naming the first
    failed resource otherwise.
    """
    deadline = time.monotonic() + timeout_s
    seen = marker
    failures: list[dict] = []
    while True:
        events = _events_since(cfn, stack_id, seen)
        for event in events:
            log("  " + format_event(event))
            if event["ResourceStatus"].endswith("_FAILED"):
                failures.append(event)
        if events:
            seen = events[-1]["EventId"]
        stack = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]
        status = stack["StackStatus"]
        if not status.endswith("_IN_PROGRESS"):
            if status in SUCCESS:
                return stack
            raise DeployError(_failure_message(name, stack, failures))
        if time.monotonic() > deadline:
            raise DeployError(
                f"stack {name} is still {status} after {timeout_s / 60:.0f} min; CloudFormation "
                f"goes on without us: follow it with `aws cloudformation describe-stack-events "
                f"--stack-name {name}`, then run deploy again"
            )
        time.sleep(poll_s)


def format_event(event: dict) -> str:
    reason = event.get("ResourceStatusReason")
    line = (
        f"{event['Timestamp']:%H:%M:%S} {event['LogicalResourceId']:<28} "
        f"{event['ResourceType']:<46} {event['ResourceStatus']}"
    )
    return f"{line}: {reason}" if reason else line


def require_updatable(stack: dict) -> None:
    """Raise DeployError with the way out when CloudFormation would refuse to update `stack`."""
    status, name = stack["StackStatus"], stack["StackName"]
    fix = _BLOCKED.get(status)
    if fix is None and status.endswith("_IN_PROGRESS"):
        fix = "wait until it finishes (console, or `aws cloudformation describe-stacks`)"
    if fix is not None:
        delete = f"`aws cloudformation delete-stack --stack-name {name}`"
        resume = f"`aws cloudformation continue-update-rollback --stack-name {name}`"
        raise DeployError(
            f"stack {name} is {status} and cannot be updated; "
            + fix.format(delete=delete, resume=resume) + ", then deploy again"
        )


def _create_parameters(parameters: Mapping[str, str]) -> list[dict]:
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()]


def _template_parameters(cfn: Any, template_body: str) -> set[str]:
    summary = cfn.get_template_summary(TemplateBody=template_body)
    return {p["ParameterKey"] for p in summary.get("Parameters", [])}


def _update_parameters(
    parameters: Mapping[str, str], template_keys: set[str], stack: dict
) -> list[dict]:
    """Given values, then the stack's current value for every other template parameter."""
    current = {p["ParameterKey"] for p in stack.get("Parameters", [])}
    kept = sorted((current & template_keys) - set(parameters))
    return _create_parameters(parameters) + [
        {"ParameterKey": key, "UsePreviousValue": True} for key in kept
    ]


def _newest_event_id(cfn: Any, stack_id: str) -> str | None:
    events = cfn.describe_stack_events(StackName=stack_id)["StackEvents"]
    return events[0]["EventId"] if events else None


def _events_since(cfn: Any, stack_id: str, marker: str | None) -> list[dict]:
    """Events newer than the one with id `marker` (all when None), oldest first."""
    newer: list[dict] = []
    arguments = {"StackName": stack_id}
    while True:
        page = cfn.describe_stack_events(**arguments)
        for event in page["StackEvents"]:  # newest first
            if event["EventId"] == marker:
                return newer[::-1]
            newer.append(event)
        if not page.get("NextToken"):
            return newer[::-1]
        arguments["NextToken"] = page["NextToken"]


def _failure_message(name: str, stack: dict, failures: list[dict]) -> str:
    status = stack["StackStatus"]
    causes = [
        event for event in failures
        if event["LogicalResourceId"] != name and "cancelled" not in
        (event.get("ResourceStatusReason") or "").lower()
    ] or failures
    if causes:
        first = causes[0]
        cause = (
            f"{first['LogicalResourceId']} ({first['ResourceType']}) {first['ResourceStatus']}: "
            f"{first.get('ResourceStatusReason') or 'no reason given'}"
        )
    else:
        cause = stack.get("StackStatusReason") or "CloudFormation gave no reason"
    fix = (
        f"; fix the cause, delete the stack (`aws cloudformation delete-stack --stack-name "
        f"{name}`) and deploy again"
        if status == "ROLLBACK_COMPLETE" else "; fix the cause and deploy again"
    )
    return f"stack {name} ended {status}: {cause}{fix}"


def _outputs(stack: dict) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []}
