"""What CloudFormation deploys is SAM's translation of template.yaml, not the file itself: these tests
translate it offline (the SAM translator of the SAM CLI's venv, `.tools/sam`) and check the resources AWS
would create, plus template rules that only a deploy would otherwise reveal."""

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.template import Template

ROOT = Path(__file__).resolve().parents[2]
SAM_PYTHON = ROOT / ".tools" / "sam" / "bin" / "python"

# Local code folders become S3 locations, as `sam validate` and `sam deploy` do; the translator checks
# them only for their shape. A region is all it needs of AWS.
_TRANSLATE = """
import json, os, sys
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

class NoManagedPolicies:
    def load(self):
        return {}

os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
template = yaml_parse(open(sys.argv[1]).read())
for logical_id, resource in template["Resources"].items():
    props = resource.get("Properties") or {}
    for key in ("CodeUri", "ContentUri", "DefinitionUri"):
        if isinstance(props.get(key), str) and not props[key].startswith("s3://"):
            props[key] = f"s3://offline/{logical_id}"
json.dump(transform(template, {}, NoManagedPolicies()), sys.stdout, default=str)
"""


@pytest.fixture(scope="module")
def template() -> Template:
    return Template(ROOT / "template.yaml")


@pytest.fixture(scope="module")
def deployed() -> dict[str, dict[str, Any]]:
    """The resources of the translated template (logical id → resource)."""
    if not SAM_PYTHON.exists():
        pytest.fail("the SAM CLI's venv is missing: run `make install`")
    done = subprocess.run(
        [str(SAM_PYTHON), "-c", _TRANSLATE, str(ROOT / "template.yaml")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    resources: dict[str, dict[str, Any]] = json.loads(done.stdout)["Resources"]
    return resources


def _of_type(resources: dict[str, dict[str, Any]], rtype: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical_id, resource in resources.items():
        if resource["Type"] == rtype:
            yield logical_id, resource


def _statements(policy_document: dict[str, Any]) -> list[dict[str, Any]]:
    statements = policy_document.get("Statement") or []
    return statements if isinstance(statements, list) else [statements]


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement.get("Action") or []
    return {action} if isinstance(action, str) else set(action)


# What SAM's DynamoDBReadPolicy grants: acceptable for a function that only reads.
_READ_ONLY = {"dynamodb:GetItem", "dynamodb:Scan", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:DescribeTable"}


def _resources(statement: dict[str, Any]) -> list[Any]:
    resource = statement.get("Resource") or []
    return resource if isinstance(resource, list) else [resource]


# ---------------------------------------------------------------- the translated template


def test_the_api_has_exactly_one_stage(deployed: dict[str, dict[str, Any]]) -> None:
    """A deployment that names a stage creates it: SAM's default `Stage` stage had neither the throttling
    nor the tracing nor the access logs of the real one, so its URL bypassed the per-route limits."""
    stages = [logical_id for logical_id, _ in _of_type(deployed, "AWS::ApiGateway::Stage")]
    stages += [
        f"{logical_id} (StageName {resource['Properties']['StageName']})"
        for logical_id, resource in _of_type(deployed, "AWS::ApiGateway::Deployment")
        if "StageName" in resource["Properties"]
    ]
    assert len(stages) == 1, stages


def test_every_on_failure_destination_is_granted_before_lambda_checks_it(
    deployed: dict[str, dict[str, Any]],
) -> None:
    """Lambda checks the function's role may send to the destination when the invoke config is created.
    A grant in a separate `AWS::IAM::Policy` that the config does not depend on may come later, and the
    stack's first create rolls back. Inline `EventInvokeConfig` puts the grant into the role itself."""
    for logical_id, config in _of_type(deployed, "AWS::Lambda::EventInvokeConfig"):
        props = config["Properties"]
        destination = ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
        if destination is None:
            continue
        function = deployed[props["FunctionName"]["Ref"]]
        role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
        documents = [p["PolicyDocument"] for p in deployed[role_id]["Properties"].get("Policies") or []]
        depends_on = config.get("DependsOn") or []
        depends_on = [depends_on] if isinstance(depends_on, str) else depends_on
        documents += [
            deployed[d]["Properties"]["PolicyDocument"]
            for d in depends_on
            if deployed[d]["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in deployed[d]["Properties"]["Roles"]
        ]
        granted = any(
            "sqs:SendMessage" in _actions(s) and destination in _resources(s)
            for document in documents
            for s in _statements(document)
        )
        assert granted, f"{logical_id}: the role may not yet send to {destination} when Lambda checks it"


def test_the_api_writes_json_access_logs_to_a_group_with_retention(
    deployed: dict[str, dict[str, Any]],
) -> None:
    [(_, stage)] = _of_type(deployed, "AWS::ApiGateway::Stage")
    setting = stage["Properties"]["AccessLogSetting"]
    line = json.loads(setting["Format"])  # one JSON object per request
    for field in ("requestId", "ip", "caller", "method", "path", "status", "latency"):
        assert field in line, field
    assert line["requestId"] == "$context.requestId"
    group = deployed[setting["DestinationArn"]["Fn::GetAtt"][0]]
    assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    # API Gateway logs through the account's CloudWatch role; the stage must not come before it.
    [(account_id, _)] = _of_type(deployed, "AWS::ApiGateway::Account")
    [(_, api)] = _of_type(deployed, "AWS::ApiGateway::RestApi")
    assert account_id in (api.get("DependsOn") or [])


def test_the_order_workflow_logs_errors_without_execution_data(deployed: dict[str, dict[str, Any]]) -> None:
    """An execution's input carries the PaymentIntent's client secret: logs get failures, never data."""
    for logical_id, machine in _of_type(deployed, "AWS::StepFunctions::StateMachine"):
        logging = machine["Properties"]["LoggingConfiguration"]
        assert logging["Level"] == "ERROR", logical_id
        assert logging["IncludeExecutionData"] is False, logical_id
        [destination] = logging["Destinations"]
        group = deployed[destination["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]]
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        role = deployed[machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]]
        statements = [s for p in role["Properties"]["Policies"] for s in _statements(p["PolicyDocument"])]
        actions = {a for s in statements for a in _actions(s)}
        assert {"logs:CreateLogDelivery", "logs:PutResourcePolicy", "logs:DescribeLogGroups"} <= actions, logical_id


def test_no_role_gets_more_of_dynamodb_s3_or_ses_than_the_code_calls(deployed: dict[str, dict[str, Any]]) -> None:
    """SAM's CRUD policy templates grant scans, table descriptions, bucket lifecycles, ACLs and SES identity
    verification that no function calls; a role that writes lists the actions its code makes instead
    (read-only roles keep `DynamoDBReadPolicy`)."""
    writes = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}
    never = {"dynamodb:Scan", "dynamodb:DescribeTable", "dynamodb:*", "s3:*", "s3:PutLifecycleConfiguration"}
    never |= {"s3:PutObjectAcl", "s3:DeleteObject", "s3:ListBucket", "ses:VerifyEmailIdentity", "ses:*"}
    for logical_id, role in _of_type(deployed, "AWS::IAM::Role"):
        for policy in role["Properties"].get("Policies") or []:
            for statement in _statements(policy["PolicyDocument"]):
                actions = _actions(statement)
                too_much = actions & never if actions & writes or not actions <= _READ_ONLY else set()
                assert not too_much, f"{logical_id}: {sorted(too_much)}"


def test_functions_anonymous_readers_reach_can_only_read(
    template: Template, deployed: dict[str, dict[str, Any]]
) -> None:
    """docs/decisions.md: an anonymous `GET` reaches only a read-only function. A function serving one (the
    catalog's public reads, customers' "bought together", quotes) may read its tables and nothing more: no
    write, no erasure, whatever else it serves; and it may invoke only functions that are themselves
    read-only by this same rule (quotes ask `PriceSkusFunction`, which reads the catalog), never one that
    writes or invokes further."""
    anonymous_readers = {r.function for r in template.routes() if r.method == "GET" and r.authorizer is None}
    assert {"CatalogPublicFunction", "CustomersPublicFunction", "QuotesFunction"} <= anonymous_readers
    for logical_id in sorted(anonymous_readers):
        for invoked in _invoked_read_only(deployed, logical_id):
            assert not _invoked_read_only(deployed, invoked), f"{logical_id} -> {invoked}: invokes further"


def _invoked_read_only(deployed: dict[str, dict[str, Any]], logical_id: str) -> set[str]:
    """Assert the function's role only reads (and invokes named functions); the functions it may invoke."""
    role = deployed[deployed[logical_id]["Properties"]["Role"]["Fn::GetAtt"][0]]
    invoked: set[str] = set()
    for policy in role["Properties"].get("Policies") or []:
        for statement in _statements(policy["PolicyDocument"]):
            if _actions(statement) == {"lambda:InvokeFunction"}:
                for resource in _resources(statement):
                    assert isinstance(resource, dict) and "Fn::Sub" in resource, f"{logical_id}: invokes {resource}"
                    invoked.add(resource["Fn::Sub"][1]["functionName"]["Ref"])
                continue
            assert _actions(statement) <= _READ_ONLY, f"{logical_id}: {sorted(_actions(statement) - _READ_ONLY)}"
    managed = {str(arn) for arn in role["Properties"].get("ManagedPolicyArns") or []}
    assert all("AWSLambdaBasicExecutionRole" in arn or "AWSXrayWriteOnlyAccess" in arn for arn in managed), managed
    return invoked


# ---------------------------------------------------------------- template rules


def test_functions_that_email_customers_link_to_the_shop(template: Template) -> None:
    """Without `SHOP_URL` the settings fall back to a placeholder domain, and real emails link to it."""
    for logical_id, props in template.functions():
        variables = (props.get("Environment") or {}).get("Variables") or {}
        if "SHOP_SENDER_EMAIL" in variables:
            assert variables.get("SHOP_URL") == {"Ref": "ShopUrl"}, logical_id


def test_the_user_pool_sends_through_the_shops_ses_identity(template: Template) -> None:
    """Cognito's own sender allows 50 emails a day: too few for a shop's sign-ups and password resets."""
    for logical_id, props in template.of_type("AWS::Cognito::UserPool"):
        email = props.get("EmailConfiguration") or {}
        assert email.get("EmailSendingAccount") == "DEVELOPER", logical_id
        assert email.get("From") == {"Ref": "ShopSenderEmail"}, logical_id
        assert ":ses:" in json.dumps(email["SourceArn"]), logical_id


def _ships_matplotlib(template: Template, props: dict[str, Any]) -> bool:
    layers = {
        logical_id: layer["ContentUri"] for logical_id, layer in template.of_type("AWS::Serverless::LayerVersion")
    }
    folders = [props["CodeUri"]] + [layers[layer["Ref"]] for layer in props.get("Layers") or [] if "Ref" in layer]
    for folder in folders:
        requirements = ROOT / folder / "requirements.txt"
        if requirements.exists() and re.search(r"^matplotlib\b", requirements.read_text(), re.M):
            return True
    return False


def test_functions_with_matplotlib_keep_its_cache_in_tmp(template: Template) -> None:
    """matplotlib writes a config and font cache on import; Lambda's file system is read-only outside
    /tmp, so without MPLCONFIGDIR every cold start warns and rebuilds the cache in a new temporary dir."""
    shipping = [(logical_id, props) for logical_id, props in template.functions() if _ships_matplotlib(template, props)]
    assert shipping, "no function ships matplotlib: the report runner draws charts with it"
    for logical_id, props in shipping:
        variables = (props.get("Environment") or {}).get("Variables") or {}
        assert str(variables.get("MPLCONFIGDIR", "")).startswith("/tmp/"), logical_id


def _retry_seconds(definition: Any) -> float:
    """The longest all of a definition's retriers could wait in total (an upper bound for any path)."""
    total = 0.0
    if isinstance(definition, dict):
        for retrier in definition.get("Retry") or []:
            interval, rate = retrier.get("IntervalSeconds", 1), retrier.get("BackoffRate", 2.0)
            cap = retrier.get("MaxDelaySeconds", float("inf"))
            total += sum(min(interval * rate**i, cap) for i in range(retrier.get("MaxAttempts", 3)))
        total += sum(_retry_seconds(value) for value in definition.values())
    elif isinstance(definition, list):
        total += sum(_retry_seconds(value) for value in definition)
    return total


def test_the_longest_order_workflow_fits_a_standard_execution(template: Template) -> None:
    """A Standard execution ends after one year. The workflow waits for the payment (up to HoldSeconds)
    and then for the shipment (up to ShipmentDays), and its retries wait on top of that."""
    parameters = template.raw["Parameters"]
    waits = int(parameters["ShipmentDays"]["MaxValue"]) * 86400 + int(parameters["HoldSeconds"]["MaxValue"])
    for _, props in template.of_type("AWS::Serverless::StateMachine"):
        if props.get("Type", "STANDARD") == "STANDARD":
            retries = _retry_seconds(json.loads((ROOT / props["DefinitionUri"]).read_text()))
            assert waits + retries < 365 * 86400, f"{(waits + retries) / 86400:.1f} days"
