"""The error side of the published document (`local.openapi_errors`): every operation documents its 4xx,
429 and 5xx answers in the one `ErrorBody`, the codes each can carry, and the headers every answer has."""

from pathlib import Path
from typing import Any

import pytest

from common.errors import ErrorCode
from common.http import API_VERSION, API_VERSION_HEADER, REQUEST_ID_HEADER
from local.openapi import build
from local.openapi_errors import ROUTE_CODES
from local.template import Template

ROOT = Path(__file__).resolve().parents[2]
ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build(Template(ROOT / "template.yaml"))


def operations(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]


def test_error_codes_are_one_named_enum_of_every_code(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert set(schemas["ErrorCode"]["enum"]) == set(ErrorCode)
    assert schemas["ErrorDetail"]["properties"]["code"]["$ref"] == "#/components/schemas/ErrorCode"
    assert set(schemas["ErrorDetail"]["required"]) == {"code", "message", "details", "requestId"}
    assert set(schemas["FieldError"]["required"]) == {"field", "message", "type"}


def test_details_are_typed_per_code(document: dict[str, Any]) -> None:
    # Then `details` is one of named shapes (field errors, out-of-stock SKUs, ...) or null, never a free dict
    branches = document["components"]["schemas"]["ErrorDetail"]["properties"]["details"]["anyOf"]
    refs = {b.get("$ref", "").rsplit("/", 1)[-1] for b in branches if "$ref" in b}
    assert {"OutOfStockDetails", "SkuTakenDetails", "InsufficientStockDetails"} <= refs
    assert {"type": "array", "items": {"$ref": "#/components/schemas/FieldError"}} in branches
    assert {"type": "null"} in branches
    out_of_stock = document["components"]["schemas"]["OutOfStockDetails"]
    assert out_of_stock["properties"]["short"]["items"] == {"$ref": "#/components/schemas/ShortSku"}


def test_every_operation_documents_429_and_5xx_and_its_kind_of_4xx(document: dict[str, Any]) -> None:
    for route, operation in operations(document):
        answers = operation["responses"]
        path = route.split(" ", 1)[1]
        expected = {"429", "500", "503"}
        if operation.get("security"):
            expected.add("401")
        if "requestBody" in operation:
            expected |= {"400", "413"}
        if "{" in path:
            expected.add("404")
        assert expected <= set(answers), f"{route} lacks {sorted(expected - set(answers))}"
        for status, answer in answers.items():
            if int(status) >= 400:
                assert answer["content"]["application/json"]["schema"] == ERROR_BODY, (route, status)


def test_every_error_answer_names_its_codes(document: dict[str, Any]) -> None:
    for route, operation in operations(document):
        for status, answer in operation["responses"].items():
            if int(status) < 400:
                continue
            codes = answer["x-error-codes"]
            assert codes, (route, status)
            assert set(codes) <= set(ErrorCode), (route, status, codes)
            assert all(f"`{code}`" in answer["description"] for code in codes), (route, status)


def test_codes_particular_to_a_route_land_under_their_status(document: dict[str, Any]) -> None:
    checkout = document["paths"]["/orders"]["post"]["responses"]
    assert "coupon_expired" in checkout["422"]["x-error-codes"]
    assert "coupon_not_found" in checkout["422"]["x-error-codes"]
    assert "idempotency_key_required" in checkout["400"]["x-error-codes"]
    assert "idempotency_key_reused" in checkout["409"]["x-error-codes"]
    assert "404" not in checkout
    cancel = document["paths"]["/orders/{orderId}/cancel"]["post"]["responses"]
    assert "not_cancellable" in cancel["409"]["x-error-codes"]
    assert cancel["404"]["x-error-codes"] == ["order_not_found"]


def test_routes_with_particular_codes_exist(document: dict[str, Any]) -> None:
    routes = {route for route, _ in operations(document)}
    assert set(ROUTE_CODES) <= routes, sorted(set(ROUTE_CODES) - routes)


def test_every_answer_documents_the_request_id_and_version_and_retry_after(document: dict[str, Any]) -> None:
    headers = document["components"]["headers"]
    assert {"RequestId", "ApiVersion", "RetryAfter"} <= set(headers)
    for route, operation in operations(document):
        for status, answer in operation["responses"].items():
            names = set(answer.get("headers", {}))
            assert {REQUEST_ID_HEADER, API_VERSION_HEADER} <= names, (route, status)
            if status in ("429", "503"):
                assert "Retry-After" in names, (route, status)


def test_the_documents_version_is_the_one_the_answers_send(document: dict[str, Any]) -> None:
    assert document["info"]["version"] == API_VERSION
