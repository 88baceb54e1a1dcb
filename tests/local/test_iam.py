"""The local stack applies each function's role as AWS does: a call the template does not grant is refused
with `AccessDeniedException`, before it reaches the local AWS (moto applies no IAM)."""

import json
import os
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.aws import FAKE_CREDENTIALS, MotoServer
from local.iam import SAM_POLICY_TEMPLATES, Grant, grants
from local.lambdas import function_specs, worker_environments
from local.template import ACCOUNT_ID, REGION, Physical, Resolver, Template, arn
from local.worker import Role
from local.workers import Environment, Pools

ROOT = Path(__file__).resolve().parents[2]
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:shop-orders"

HANDLER = """
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError


def get(event, context):
    # The local AWS has no tables: a call the role lets through is answered ResourceNotFoundException
    # there, a refused one never reaches it.
    client = boto3.client("dynamodb", config=Config(retries={"max_attempts": 1}))
    try:
        client.get_item(TableName=event["table"], Key={"PK": {"S": "order#1"}})
    except ClientError as error:
        return {"code": error.response["Error"]["Code"], "message": error.response["Error"]["Message"]}
    except Exception as error:
        return {"code": type(error).__name__}
"""


def _table(name: str) -> str:
    return arn("dynamodb", f"table/{name}")


def _role(*grants: Grant, function_arn: str = FUNCTION_ARN) -> Role:
    return Role([grant.as_json() for grant in grants], function_arn)


@pytest.fixture(scope="module")
def template() -> Template:
    return Template(ROOT / "template.yaml")


@pytest.fixture(scope="module")
def resolver(template: Template) -> Resolver:
    """The template's names, with the Cognito resources the stack would have created bound to local ids."""
    resolver = Resolver(template, template.parameter_defaults())
    for logical_id, _ in template.of_type("AWS::Cognito::UserPool", "AWS::Cognito::UserPoolClient"):
        resolver.bind(
            logical_id, Physical(f"{REGION}_{logical_id}", {"Arn": arn("cognito-idp", f"userpool/{logical_id}")})
        )
    return resolver


def test_sam_policy_templates_are_read_as_aws_sam_defines_them() -> None:
    """The definitions the local stack expands are AWS SAM's own (from the SAM CLI's venv that make test
    installs), so a template's `DynamoDBReadPolicy` grants locally exactly what it grants on AWS."""
    sam = ROOT / ".tools" / "sam" / "lib"
    [data] = sorted(sam.glob("python3*/site-packages/samtranslator/policy_templates_data/policy_templates.json"))
    definitions = json.loads(data.read_text())["Templates"]
    for name, definition in SAM_POLICY_TEMPLATES.items():
        assert definition == definitions[name]["Definition"], name


def test_every_functions_policies_are_read_with_their_resources_resolved(
    template: Template, resolver: Resolver
) -> None:
    specs = {spec.logical_id: spec for spec in function_specs(template, resolver).values()}
    # Every function calls AWS but the preflight, which answers CORS from its environment alone.
    assert {name for name, spec in specs.items() if not spec.grants} == {"PreflightFunction"}
    orders = str(resolver.ref("OrdersTable"))
    admin = _role(*specs["OrdersAdminFunction"].grants, function_arn=specs["OrdersAdminFunction"].arn)
    assert admin.allows("dynamodb:BatchGetItem", _table(orders))  # a page of coupons reads them in one batch
    public = _role(*specs["CatalogPublicFunction"].grants, function_arn=specs["CatalogPublicFunction"].arn)
    assert public.allows("dynamodb:GetItem", _table(str(resolver.ref("InventoryTable"))))
    assert not public.allows("dynamodb:PutItem", _table(str(resolver.ref("CatalogTable"))))
    assert not public.allows("dynamodb:GetItem", _table(orders))


def test_the_stack_hands_each_worker_its_roles_statements(template: Template, resolver: Resolver) -> None:
    specs = function_specs(template, resolver)
    environments = {env.name: env for env in worker_environments(template, specs, endpoint="http://127.0.0.1:1")}
    for spec in specs.values():
        assert environments[spec.name].permissions == tuple(g.as_json() for g in spec.grants)


def test_a_role_matches_actions_and_the_resources_a_call_names() -> None:
    role = _role(
        Grant(("dynamodb:GetItem", "dynamodb:Query"), (_table("orders"), _table("orders") + "/index/*")),
        Grant(("events:PutEvents",), (arn("events", "event-bus/store"),)),
    )
    assert role.refusal("dynamodb", "GetItem", {"TableName": "orders"}) is None
    assert role.refusal("dynamodb", "Query", {"TableName": "orders", "IndexName": "byCustomer"}) is None
    refused = role.refusal("dynamodb", "GetItem", {"TableName": "catalog"})
    assert refused is not None
    assert f"not authorized to perform: dynamodb:GetItem on resource: {_table('catalog')}" in refused
    assert role.refusal("dynamodb", "PutItem", {"TableName": "orders"}) is not None
    assert role.refusal("events", "PutEvents", {"Entries": [{"EventBusName": "store"}]}) is None
    assert role.refusal("events", "PutEvents", {"Entries": [{"EventBusName": "other"}]}) is not None
    # A call may name its resource by ARN instead of by name: the same resource, the same answer.
    by_arn = {"Entries": [{"EventBusName": arn("events", "event-bus/store")}]}
    assert role.refusal("events", "PutEvents", by_arn) is None


def test_a_transaction_needs_the_action_of_each_of_its_parts_on_its_table() -> None:
    """As on AWS: there is no `TransactWriteItems` permission; a Put needs PutItem, a ConditionCheck needs
    ConditionCheckItem, each on the table it names."""
    role = _role(Grant(("dynamodb:PutItem", "dynamodb:UpdateItem"), (_table("orders"),)))
    put = {"Put": {"TableName": "orders", "Item": {}}}
    check = {"ConditionCheck": {"TableName": "orders", "Key": {}, "ConditionExpression": "attribute_exists(PK)"}}
    assert role.refusal("dynamodb", "TransactWriteItems", {"TransactItems": [put]}) is None
    refused = role.refusal("dynamodb", "TransactWriteItems", {"TransactItems": [put, check]})
    assert refused is not None and "dynamodb:ConditionCheckItem" in refused
    elsewhere = {"Update": {"TableName": "inventory", "Key": {}}}
    assert role.refusal("dynamodb", "TransactWriteItems", {"TransactItems": [put, elsewhere]}) is not None


def test_operations_are_matched_by_their_iam_action_names() -> None:
    role = _role(Grant(("lambda:InvokeFunction",), (arn("lambda", "function:pricing*"),)))
    assert role.refusal("lambda", "Invoke", {"FunctionName": "pricing-local"}) is None
    assert role.refusal("lambda", "Invoke", {"FunctionName": "reports-local"}) is not None
    assert role.refusal("lambda", "Invoke", {"FunctionName": arn("lambda", "function:pricing-local")}) is None


@pytest.fixture(scope="module")
def local_aws() -> Iterator[MotoServer]:
    server = MotoServer(port=0)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def pools(tmp_path: Path, local_aws: MotoServer) -> Iterator[Pools]:
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("")
    (tmp_path / "shop" / "aws.py").write_text(textwrap.dedent(HANDLER))
    grant = Grant(("dynamodb:GetItem",), (_table("orders"),))
    environment = Environment(
        name="shop-orders",
        arn=FUNCTION_ARN,
        handler="shop.aws.get",
        paths=(str(tmp_path),),
        variables={
            "PATH": os.environ["PATH"],
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ENDPOINT_URL": local_aws.endpoint,
            **FAKE_CREDENTIALS,
        },
        timeout=10,
        memory=128,
        permissions=(grant.as_json(),),
    )
    running = Pools([environment], size=1)
    yield running
    running.stop()


def test_a_worker_refuses_a_call_its_role_does_not_grant_as_aws_does(pools: Pools) -> None:
    refused = pools.invoke("shop-orders", {"table": "catalog"})
    assert refused["code"] == "AccessDeniedException"
    assert "dynamodb:GetItem on resource: " + _table("catalog") in refused["message"]
    # The granted one goes out to the local AWS (which has no such table).
    assert pools.invoke("shop-orders", {"table": "orders"})["code"] == "ResourceNotFoundException"


def _tasks(states: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for state in states.values():
        if state.get("Type") == "Task":
            yield state
        for branch in state.get("Branches", []) + ([state["Iterator"]] if "Iterator" in state else []):
            yield from _tasks(branch["States"])


def test_each_workflow_may_invoke_every_function_its_definition_calls(template: Template, resolver: Resolver) -> None:
    """Step Functions calls a task's function with the state machine's role: each function a Task names
    must be granted to it (the local stack's Step Functions does not ask)."""
    for logical_id, props in template.of_type("AWS::Serverless::StateMachine"):
        role = _role(*grants(logical_id, props, resolver))
        definition = json.loads((ROOT / props["DefinitionUri"]).read_text())
        substitutions = props.get("DefinitionSubstitutions", {})
        tasks = list(_tasks(definition["States"]))
        assert tasks, logical_id
        for task in tasks:
            assert task["Resource"].startswith("arn:aws:states:::lambda:invoke"), task["Resource"]
            placeholder = task["Parameters"]["FunctionName"].removeprefix("${").removesuffix("}")
            function_arn = str(resolver.resolve(substitutions[placeholder]))
            assert role.allows("lambda:InvokeFunction", function_arn), (logical_id, placeholder)
