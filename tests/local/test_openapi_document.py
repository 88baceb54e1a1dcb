"""The OpenAPI document as client generators read it (issue 12, item 1): one name per schema and that
name as its title, an operationId a person would call on every route, `security: []` on the public ones,
no free-form objects in answers, every shared enum a named schema, and every timestamp a UTC
`date-time` named `...At`. Built from the code here (not read from `docs/openapi.json`, whose drift
`make openapi-check` catches), so a model that breaks a rule fails this test where it was written."""

import json
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from common.api_models import Out
from local.openapi import LOCAL_SERVER, SECURITY_SCHEME, TAGS, DocumentError, _merge_schemas, build
from local.stack import DEFAULT_TEMPLATE
from local.template import Template

Document = dict[str, Any]
Operation = tuple[str, str, dict[str, Any]]

# Interval bounds are timestamps named for the side they bound, not for an event.
BOUNDS = {"validFrom", "validUntil", "since", "until"}


@pytest.fixture(scope="module")
def document() -> Iterator[Document]:
    saved = dict(os.environ)  # the build applies the functions' template environment; keep it out of other tests
    try:
        yield build(Template(DEFAULT_TEMPLATE))
    finally:
        os.environ.clear()
        os.environ.update(saved)


def operations(document: Document) -> list[Operation]:
    return [(method.upper(), path, op) for path, ops in document["paths"].items() for method, op in ops.items()]


def schemas(document: Document) -> dict[str, Any]:
    found: dict[str, Any] = document["components"]["schemas"]
    return found


def walk(node: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema object under `node`, with a path a person can follow."""
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from walk(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, f"{where}[{index}]")


def reachable_from_responses(document: Document) -> set[str]:
    """Names of the schemas an answer can contain, directly or nested."""
    names: set[str] = set()
    todo = [json.dumps(op.get("responses", {})) for _, _, op in operations(document)]
    while todo:
        for name in re.findall(r'"#/components/schemas/([^"]+)"', todo.pop()):
            if name not in names:
                names.add(name)
                todo.append(json.dumps(schemas(document)[name]))
    return names


def test_every_schema_has_one_name_and_that_name_as_its_title(document: Document) -> None:
    # Given the merged document's schemas
    found = schemas(document)

    # Then each is named like a class, titled with its name, and no two are the same schema twice
    assert [name for name in found if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", name)] == []
    assert {name: s.get("title") for name, s in found.items() if s.get("title") != name} == {}
    bodies: dict[str, str] = {}
    for name, schema in found.items():
        body = json.dumps({k: v for k, v in schema.items() if k != "title"}, sort_keys=True)
        assert body not in bodies, f"{name} and {bodies.get(body)} are one schema under two names"
        bodies[body] = name


def test_two_different_schemas_under_one_name_fail_and_identical_ones_merge() -> None:
    # Given the schemas one function already brought
    known: dict[str, Any] = {"RefundOut": {"type": "object", "properties": {"at": {"type": "string"}}}}

    # When another function brings the same schema, and then a different one under the same name
    _merge_schemas(known, {"RefundOut": dict(known["RefundOut"])}, origin="CustomersFunction")
    with pytest.raises(DocumentError, match="RefundOut"):
        _merge_schemas(known, {"RefundOut": {"type": "object", "properties": {}}}, origin="OrdersFunction")

    # Then the identical one is one schema, and a generic's name is refused too
    assert list(known) == ["RefundOut"]
    with pytest.raises(DocumentError, match="ListReport_ProductRow_"):
        _merge_schemas(known, {"ListReport_ProductRow_": {"type": "object"}}, origin="ReportsFunction")


def test_every_operation_has_an_operation_id_a_person_would_call(document: Document) -> None:
    # Given every operation
    ids = {(method, path): op.get("operationId", "") for method, path, op in operations(document)}

    # Then each id is camelCase and used once, and the ones the storefront calls read as they should
    assert {route: op_id for route, op_id in ids.items() if not re.fullmatch(r"[a-z][a-zA-Z0-9]*", op_id)} == {}
    assert len(set(ids.values())) == len(ids)
    named = {
        ("GET", "/products"): "listProducts",
        ("GET", "/products/{productId}"): "getProduct",
        ("POST", "/orders"): "createOrder",
        ("GET", "/orders/{orderId}"): "getOrder",
        ("POST", "/orders/{orderId}/cancel"): "cancelOrder",
        ("POST", "/orders/{orderId}/shipments"): "shipOrder",
        ("POST", "/orders/{orderId}/refunds"): "refundOrder",
        ("GET", "/reports/sales"): "getSalesReport",
    }
    assert {route: ids[route] for route in named} == named


def test_tags_are_by_resource(document: Document) -> None:
    # Given the declared tags and every operation's tags
    declared = [tag["name"] for tag in document["tags"]]
    used: dict[tuple[str, str], list[str]] = {(m, path): op.get("tags") or [] for m, path, op in operations(document)}

    # Then every operation has exactly one declared tag, coupons are with coupons, and none is unused
    assert declared == list(TAGS)
    assert {route: tags for route, tags in used.items() if len(tags) != 1 or tags[0] not in TAGS} == {}
    assert {tags[0] for route, tags in used.items() if route[1].startswith("/coupons")} == {"coupons"}
    assert {tags[0] for tags in used.values() if tags} == set(TAGS)


def test_public_routes_say_they_need_no_token(document: Document) -> None:
    # Given the routes template.yaml puts behind no authorizer
    routes = Template(DEFAULT_TEMPLATE).routes()
    public = {(r.method, r.path) for r in routes if r.authorizer is None and r.method != "OPTIONS"}

    # Then exactly those say `security: []`, and the others ask for the Cognito token
    security = {(method, path): op.get("security") for method, path, op in operations(document)}
    assert {route for route, needs in security.items() if needs == []} == public
    assert all(needs in ([], [{SECURITY_SCHEME: []}]) for needs in security.values())
    assert ("GET", "/products") in public and ("POST", "/payments/webhook") in public


def test_servers_name_the_local_stack_and_a_deployed_stage(document: Document) -> None:
    urls = [server["url"] for server in document["servers"]]
    assert urls[0] == LOCAL_SERVER
    assert any("{stage}" in url and url.startswith("https://") for url in urls[1:])


def test_no_free_form_object_in_an_answer(document: Document) -> None:
    # Given every schema an answer can hold, and the answers' inline schemas
    found = schemas(document)
    roots = {f"#/components/schemas/{name}": found[name] for name in reachable_from_responses(document)}
    roots |= {f"{method} {path}": op.get("responses", {}) for method, path, op in operations(document)}

    # Then no object in them leaves its fields open (a map says what its values are)
    free_form = [
        where
        for root, schema in roots.items()
        for where, node in walk(schema, root)
        if node.get("type") == "object"
        and "properties" not in node
        and not isinstance(node.get("additionalProperties"), dict)
    ]
    assert free_form == []


def test_every_enum_is_a_named_schema(document: Document) -> None:
    # Given the properties and parameters of the document
    inline = [
        where
        for root, node in [("#/components/schemas", schemas(document)), ("#/paths", document["paths"])]
        for where, schema in walk(node, root)
        if len(schema.get("enum", [])) > 1 and where.count("/") > 3
    ]

    # Then no enum is spelled out in place: each is a schema of its own, defined once (a one-value enum
    # is a constant, such as `Idempotent-Replayed: true`, not a set a client switches on)
    assert inline == []


def test_every_timestamp_is_a_date_time_named_at(document: Document) -> None:
    # Given every property of every schema, with the formats it may take
    stamps: dict[str, set[str]] = {}
    for name, schema in schemas(document).items():
        for field, spec in schema.get("properties", {}).items():
            formats = {s.get("format", s.get("type", "")) for s in spec.get("anyOf", [spec])} - {"null"}
            stamps[f"{name}.{field}"] = formats

    # Then every `...At` is a date-time, and every date-time is an `...At` (or an interval's bound)
    assert {where: f for where, f in stamps.items() if where.endswith("At") and f != {"date-time"}} == {}
    named_otherwise = [
        where
        for where, f in stamps.items()
        if "date-time" in f and not where.endswith("At") and where.rpartition(".")[2] not in BOUNDS
    ]
    assert named_otherwise == []


def test_answers_write_every_time_in_utc_with_z() -> None:
    # Given a response model handed a time in another zone, and a naive one
    class Stamped(Out):
        created_at: datetime
        shipped_at: datetime | None = None

    berlin = datetime(2026, 12, 1, 10, 30, tzinfo=timezone(timedelta(hours=1)))

    # When they are written as JSON
    body = json.loads(Stamped(created_at=berlin, shipped_at=datetime(2026, 12, 1, 9, 0)).model_dump_json())

    # Then both are UTC, with `Z`
    assert body == {"createdAt": "2026-12-01T09:30:00Z", "shippedAt": "2026-12-01T09:00:00Z"}
    assert Stamped(created_at=berlin).created_at.tzinfo is UTC


def test_optional_bodies_reference_their_model_without_a_null_option(document: Document) -> None:
    """`anyOf [Model, null]` makes openapi-python-client send its own UNSET marker when the body is left
    out (a cancel without a reason crashed the generated client); `required: false` says it instead."""
    nullable = [
        f"{method} {path}"
        for method, path, op in operations(document)
        for media in op.get("requestBody", {}).get("content", {}).values()
        if {"type": "null"} in media.get("schema", {}).get("anyOf", [])
    ]
    assert not nullable, f"request bodies offered as null: {nullable}"
    cancel = document["paths"]["/orders/{orderId}/cancel"]["post"]["requestBody"]
    assert cancel["required"] is False
