"""DynamoDB tables exactly as `template.yaml` declares them (keys, attributes, indexes, billing, stream),
built with the local stack's own request (`local.aws.table_request`), and a scan for tests to look behind
a store's back. The one table builder of the tests: a key or an index changed in the template is changed
in every suite."""

from typing import Any

from local.aws import table_request
from local.template import Resolver, TemplateError
from tests.template import load


def table_definition(logical_id: str, resolver: Resolver | None = None, *, name: str | None = None) -> dict[str, Any]:
    """The `CreateTable` request for the template's table `logical_id`, named as the template names it
    (under `resolver`'s parameters; the defaults when none is given) unless `name` is given."""
    resolver = resolver or load()[1]
    resource = resolver.template.resources.get(logical_id)
    if resource is None or resource.get("Type") != "AWS::DynamoDB::Table":
        raise TemplateError(f"the template has no table {logical_id}")
    props = resolver.resolve(resource["Properties"])
    return table_request(name or str(resolver.ref(logical_id)), props)


def create_table(dynamodb: Any, logical_id: str, resolver: Resolver | None = None, *, name: str | None = None) -> str:
    """Create the template's table `logical_id` with `dynamodb` (moto); returns its name."""
    request = table_definition(logical_id, resolver, name=name)
    dynamodb.create_table(**request)
    return str(request["TableName"])


def create_tables(dynamodb: Any, resolver: Resolver) -> list[str]:
    """Create every table of the template under its resolved name; returns the names."""
    return [
        create_table(dynamodb, logical_id, resolver)
        for logical_id, _ in resolver.template.of_type("AWS::DynamoDB::Table")
    ]


def scan(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    """Every item of a table, read consistently (a test may scan; the product may not)."""
    found: list[dict[str, Any]] = []
    request: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = dynamodb.scan(**request)
        found += page["Items"]
        if "LastEvaluatedKey" not in page:
            return found
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
