"""The published document states the headers as they are sent (issue 12, item 3): `Idempotency-Key`
spelled so and required on checkout, accepted on the routes that change something; `Location` on every
201 and 202; `Idempotent-Replayed` on the successes of every route that takes a key; a polling interval
on checkout's 202. Read from `docs/openapi.json` (`make openapi-check` holds it equal to the code)."""

import json
from pathlib import Path
from typing import Any

import pytest

from local.openapi_headers import declare_headers

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
KEYED = {
    ("post", "/orders"),
    ("post", "/orders/{orderId}/cancel"),
    ("post", "/orders/{orderId}/shipments"),
    ("post", "/orders/{orderId}/refunds"),
    ("post", "/products"),
    ("post", "/reports/runs"),
    ("post", "/inventory/{sku}/adjustments"),
    ("post", "/affiliates/{affiliateId}/payouts"),
}


@pytest.fixture(scope="module")
def paths() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = json.loads(DOCUMENT.read_text())["paths"]
    return found


def operations(paths: dict[str, dict[str, Any]]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, ops in paths.items() for method, op in ops.items()]


def key_parameter(operation: dict[str, Any]) -> dict[str, Any] | None:
    headers = [p for p in operation.get("parameters", []) if p["in"] == "header"]
    found = [p for p in headers if p["name"].lower() == "idempotency-key"]
    return found[0] if found else None


def test_idempotency_key_is_spelled_as_sent_required_on_checkout_and_accepted_where_promised(
    paths: dict[str, dict[str, Any]],
) -> None:
    keyed = {(method, path) for method, path, op in operations(paths) if key_parameter(op)}
    assert keyed == KEYED
    for method, path, op in operations(paths):
        parameter = key_parameter(op)
        if parameter is None:
            continue
        assert parameter["name"] == "Idempotency-Key", (method, path)
        assert parameter["required"] is ((method, path) == ("post", "/orders")), (method, path)
    checkout = key_parameter(paths["/orders"]["post"])
    assert checkout is not None and checkout["schema"]["type"] == "string"  # required: no null branch


def test_every_201_and_202_names_its_location_and_keyed_successes_their_replay(
    paths: dict[str, dict[str, Any]],
) -> None:
    for method, path, op in operations(paths):
        for status, answer in op["responses"].items():
            headers = answer.get("headers", {})
            if status in ("201", "202"):
                assert "Location" in headers, (method, path, status)
            if status.startswith("2") and (method, path) in KEYED:
                assert headers["Idempotent-Replayed"]["schema"]["enum"] == ["true"], (method, path, status)


def test_checkout_says_how_often_to_poll_the_order(paths: dict[str, dict[str, Any]]) -> None:
    accepted = paths["/orders"]["post"]["responses"]["202"]
    assert accepted["headers"]["Retry-After"]["schema"]["type"] == "integer"
    assert "Retry-After" in accepted["description"]


def test_a_header_keeps_its_spelling_and_a_marked_one_becomes_required() -> None:
    # Given an operation as Powertools documents it: the header lowercased, optional in the code
    schema = {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "Idempotency-Key", "x-required": True}
    found: dict[str, dict[str, Any]] = {
        "/things": {
            "post": {
                "parameters": [{"name": "idempotency-key", "in": "header", "required": False, "schema": schema}],
                "responses": {"201": {"description": "Made"}},
            }
        }
    }

    # When the headers are declared
    declare_headers(found)

    # Then the parameter is named as sent and required, and the 201 names Location and the replay header
    operation = found["/things"]["post"]
    assert operation["parameters"][0]["name"] == "Idempotency-Key"
    assert operation["parameters"][0]["required"] is True
    assert operation["parameters"][0]["schema"] == {"title": "Idempotency-Key", "type": "string"}
    assert set(operation["responses"]["201"]["headers"]) == {"Location", "Idempotent-Replayed"}
