"""What each function's role allows, read from the template, so the local stack refuses what AWS would.

moto enforces no IAM, so a call a function's role does not grant (a new `BatchGetItem`, a table another
domain owns) passes every local test and fails only once deployed, as `AccessDeniedException`. The stack
hands each worker its role's statements (`grants`) and the worker refuses any AWS call they do not allow
(`local.worker.Role`), before it is sent, with AWS's error.

Read from a function's `Policies`: inline `Statement`s and the AWS SAM policy templates the template uses,
expanded from the definitions below (`SAM_POLICY_TEMPLATES`, the same as in AWS SAM's
`samtranslator/policy_templates_data/policy_templates.json`; tests/local/test_iam.py compares them).
Only `Effect: Allow` with `Action` and `Resource` is understood: anything else (a managed policy by
name, `Deny`, `NotAction`) is refused loudly rather than read wrongly. A statement's `Condition` is left
out, which only ever grants more than AWS would: the stack never refuses what AWS allows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from local.template import Resolver, TemplateError


@dataclass(frozen=True)
class Grant:
    """One `Allow` statement: IAM action patterns (`dynamodb:GetItem`, `ssm:*`) on resource patterns."""

    actions: tuple[str, ...]
    resources: tuple[str, ...]

    def as_json(self) -> dict[str, list[str]]:
        return {"actions": list(self.actions), "resources": list(self.resources)}


def _table_arns(name: str) -> list[Any]:
    table = "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${tableName}"
    return [{"Fn::Sub": [arn, {"tableName": {"Ref": name}}]} for arn in (table, table + "/index/*")]


def _one(actions: list[str] | str, arn: str, variable: str, parameter: str) -> dict[str, Any]:
    return {"Action": actions, "Effect": "Allow", "Resource": {"Fn::Sub": [arn, {variable: {"Ref": parameter}}]}}


_ARN = "arn:${AWS::Partition}:"
SAM_POLICY_TEMPLATES: dict[str, dict[str, Any]] = {
    "DynamoDBReadPolicy": {
        "Statement": [
            {
                "Action": [
                    "dynamodb:GetItem",
                    "dynamodb:Scan",
                    "dynamodb:Query",
                    "dynamodb:BatchGetItem",
                    "dynamodb:DescribeTable",
                ],
                "Effect": "Allow",
                "Resource": _table_arns("TableName"),
            }
        ]
    },
    "DynamoDBWritePolicy": {
        "Statement": [
            {
                "Action": ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem"],
                "Effect": "Allow",
                "Resource": _table_arns("TableName"),
            }
        ]
    },
    "EventBridgePutEventsPolicy": {
        "Statement": [
            _one(
                "events:PutEvents",
                _ARN + "events:${AWS::Region}:${AWS::AccountId}:event-bus/${eventBusName}",
                "eventBusName",
                "EventBusName",
            )
        ]
    },
    "LambdaInvokePolicy": {
        "Statement": [
            _one(
                ["lambda:InvokeFunction"],
                _ARN + "lambda:${AWS::Region}:${AWS::AccountId}:function:${functionName}*",
                "functionName",
                "FunctionName",
            )
        ]
    },
    "SSMParameterReadPolicy": {
        "Statement": [
            {"Action": ["ssm:DescribeParameters"], "Effect": "Allow", "Resource": "*"},
            _one(
                ["ssm:GetParameters", "ssm:GetParameter", "ssm:GetParametersByPath"],
                _ARN + "ssm:${AWS::Region}:${AWS::AccountId}:parameter/${parameterName}",
                "parameterName",
                "ParameterName",
            ),
        ]
    },
    "StepFunctionsExecutionPolicy": {
        "Statement": [
            _one(
                ["states:StartExecution"],
                _ARN + "states:${AWS::Region}:${AWS::AccountId}:stateMachine:${stateMachineName}",
                "stateMachineName",
                "StateMachineName",
            )
        ]
    },
}


def grants(logical_id: str, props: Mapping[str, Any], resolver: Resolver) -> tuple[Grant, ...]:
    """Every statement of the function's role, its intrinsics resolved to the local stack's names."""
    found: list[Grant] = []
    for policy in props.get("Policies") or []:
        if not isinstance(policy, dict) or len(policy) != 1:
            raise TemplateError(f"{logical_id}: the local stack reads only inline and SAM template policies")
        ((name, arguments),) = policy.items()
        if name == "Statement":
            statements = arguments
        elif name in SAM_POLICY_TEMPLATES:
            statements = _bind(SAM_POLICY_TEMPLATES[name]["Statement"], arguments or {})
        else:
            raise TemplateError(f"{logical_id}: policy {name!r} is unknown to local.iam (add its definition)")
        for statement in statements if isinstance(statements, list) else [statements]:
            found.append(_grant(logical_id, resolver.resolve(statement)))
    return tuple(found)


def _bind(value: Any, arguments: Mapping[str, Any]) -> Any:
    """A SAM policy template's definition with `{"Ref": parameter}` replaced by the argument given."""
    if isinstance(value, list):
        return [_bind(v, arguments) for v in value]
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in arguments:
            return arguments[value["Ref"]]
        return {k: _bind(v, arguments) for k, v in value.items()}
    return value


def _grant(logical_id: str, statement: Mapping[str, Any]) -> Grant:
    if statement.get("Effect") != "Allow" or set(statement) - {"Effect", "Action", "Resource", "Sid", "Condition"}:
        raise TemplateError(f"{logical_id}: only Allow statements of Action and Resource are read: {statement}")
    actions, resources = statement["Action"], statement["Resource"]
    return Grant(
        tuple(actions if isinstance(actions, list) else [actions]),
        tuple(str(r) for r in (resources if isinstance(resources, list) else [resources])),
    )
