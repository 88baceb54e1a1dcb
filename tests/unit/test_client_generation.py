"""`make clients` fails on what a storefront developer would trip over: the generators exit 0 while they
warn, drop a model or skip an endpoint, so `clients.check` reads their output and counts operations.
Small documents here show each way of failing (and one clean pass), without the network."""

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from clients.check import (
    GeneratorFindings,
    generate_python,
    generate_typescript,
    operation_module,
    python_findings,
    typescript_findings,
)

CLEAN: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Tiny Shop", "version": "1.0.0"},
    "servers": [{"url": "http://127.0.0.1:3000"}],
    "paths": {
        "/orders": {
            "post": {
                "operationId": "createOrder",
                "tags": ["orders"],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CheckoutIn"}}},
                },
                "responses": {
                    "202": {
                        "description": "Accepted",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OrderOut"}}},
                    }
                },
            }
        }
    },
    "components": {
        "schemas": {
            "CheckoutIn": {
                "title": "CheckoutIn",
                "type": "object",
                "required": ["sku"],
                "properties": {"sku": {"type": "string"}},
            },
            "OrderOut": {
                "title": "OrderOut",
                "type": "object",
                "required": ["orderId"],
                "properties": {"orderId": {"type": "string"}},
            },
        }
    },
}


def _write(tmp_path: Path, document: dict[str, Any]) -> Path:
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps(document))
    return path


def test_a_clean_document_generates_every_operation(tmp_path: Path) -> None:
    # Given a document without a flaw
    document = _write(tmp_path, CLEAN)
    # When the Python client is generated
    package = generate_python(document, tmp_path / "out")
    # Then checkout is there, under the name the operationId gives it
    module = operation_module(CLEAN["paths"]["/orders"]["post"])
    assert module == "api.orders.create_order"
    assert "def sync_detailed(" in (package / "api" / "orders" / "create_order.py").read_text()


def test_a_renamed_schema_that_kept_its_title_fails(tmp_path: Path) -> None:
    # Given the flaw of issue 12: a schema renamed to avoid a clash that kept the other one's title
    flawed = copy.deepcopy(CLEAN)
    flawed["components"]["schemas"]["OrdersOrderOut"] = dict(flawed["components"]["schemas"]["OrderOut"])
    flawed["components"]["schemas"]["OrdersOrderOut"]["properties"] = {"orderId": {"type": "integer"}}
    flawed["paths"]["/orders"]["post"]["responses"]["202"]["content"]["application/json"]["schema"] = {
        "$ref": "#/components/schemas/OrdersOrderOut"
    }
    # When the Python client is generated (the generator itself exits 0)
    # Then the warning fails the check, naming the duplicate
    with pytest.raises(GeneratorFindings, match="duplicate models"):
        generate_python(_write(tmp_path, flawed), tmp_path / "out")


def test_an_operation_the_generator_skips_fails(tmp_path: Path) -> None:
    # Given checkout's body refers to a schema that does not exist
    flawed = copy.deepcopy(CLEAN)
    del flawed["components"]["schemas"]["CheckoutIn"]
    # Then the Python client fails (the endpoint "will not be generated")
    with pytest.raises(GeneratorFindings, match="POST /orders"):
        generate_python(_write(tmp_path, flawed), tmp_path / "out")
    # And so do the TypeScript types
    with pytest.raises(GeneratorFindings, match="openapi-typescript"):
        generate_typescript(_write(tmp_path, flawed), tmp_path / "ts")


def test_any_line_beyond_the_banners_is_a_finding() -> None:
    # Given outputs as the generators print them, clean and with a warning
    clean_ts = "✨ openapi-typescript 7.13.0\n🚀 docs/openapi.json → build/clients/typescript/openapi.ts [636.2ms]\n"
    warned_ts = clean_ts + " ⚠  Server object should not point to example.com at #/servers/0/url\n"
    clean_py = "Generating /tmp/out/storekeeper_client\n"
    warned_py = (
        clean_py + "Warning(s) encountered while generating. Client was generated, but some pieces may be missing\n"
    )
    # Then only the warnings are findings
    assert typescript_findings(clean_ts) == []
    assert typescript_findings(warned_ts) == [" ⚠  Server object should not point to example.com at #/servers/0/url"]
    assert python_findings(clean_py) == []
    assert python_findings(warned_py)[0].startswith("Warning(s) encountered")
