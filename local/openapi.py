"""`python -m local.openapi`: the one OpenAPI 3.1 document of the whole API, generated from the code.

Each API function's Powertools resolver describes its own routes; this merges them, checks that the
code and `template.yaml` agree on every route (a route in one and not the other fails), marks the routes
behind the Cognito authorizer with a bearer security requirement and the others with `security: []`.
Output is deterministic, so `make openapi-check` can diff it against the committed `docs/openapi.json`.

The document is what client generators (`openapi-python-client`, `openapi-typescript`) read, so it is
held to what they need: a schema's name is its class name and its `title` (two different schemas with
one name fail the build: name the model after what it is, never prefix it here); one schema reached
from two functions is one schema; every operation has an `operationId` a person would call and one of
the tags below. `tests/local/test_openapi_document.py` holds the rest (typed objects, timestamps)."""

from __future__ import annotations

import importlib
import json
import os
import re
import sys
from typing import Any

from local.lambdas import add_code_paths, function_specs
from local.openapi_errors import HEADERS as COMMON_HEADERS
from local.openapi_errors import api_version, document_errors
from local.openapi_headers import declare_headers
from local.stack import DEFAULT_TEMPLATE
from local.template import Resolver, Template, TemplateError

TITLE = "Storekeeper API"
SECURITY_SCHEME = "cognitoIdToken"
LOCAL_SERVER = "http://127.0.0.1:3000"
_METHODS = ("get", "put", "post", "delete", "patch", "options", "head")
SCHEMA_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*$")
OPERATION_ID = re.compile(r"^[a-z][a-zA-Z0-9]*$")

TAGS = {
    "catalog": "Products and categories: public reads, admin writes",
    "inventory": "Stock per SKU, adjustments and their ledger (staff)",
    "orders": "Checkout, reading and cancelling orders; staff's lists, shipments and refunds",
    "coupons": "Discount codes (admin)",
    "pricing": "Quotes of what a cart costs; shipping methods and tax rates (admin writes)",
    "customers": "The signed-in customer's profile, addresses, payment methods and recommendations; "
    "support's view of a customer",
    "affiliates": "Affiliate accounts, their commissions and payouts",
    "payments": "Stripe's webhook and payment reconciliation",
    "reports": "Sales and marketing reports, and report runs delivered by email (admin)",
    "analytics": "The storefront's visit beacon",
}
"""Tags by resource, not by caller: a client generator makes one module per tag, so an admin's call
sits beside the customer's call on the same thing (who may call is in `security` and the summary)."""


class DocumentError(TemplateError):
    """The code describes an API the document cannot state unambiguously (two schemas, one name)."""


class _PlaceholderResolver(Resolver):
    """Names of resources that exist only once deployed (Cognito ids) do not matter for the document."""

    def physical(self, logical_id: str) -> Any:
        try:
            return super().physical(logical_id)
        except TemplateError:
            from local.template import Physical

            return Physical(logical_id, {"Arn": logical_id})


def build(template: Template) -> dict[str, Any]:
    resolver = _PlaceholderResolver(template, template.parameter_defaults())
    specs = function_specs(template, resolver)
    add_code_paths(template, specs)
    for spec in specs.values():
        for key, value in spec.environment.items():
            os.environ.setdefault(key, value)
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Storekeeper")

    # CORS preflight (`OPTIONS`, answered by PreflightFunction) is no operation of the API.
    routes = [route for route in template.routes() if route.method != "OPTIONS"]
    protected = {(r.method.lower(), r.path) for r in routes if r.authorizer}
    declared = {(r.method.lower(), r.path) for r in routes}
    api_functions = {r.function for r in routes}

    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {}
    for spec in sorted(specs.values(), key=lambda s: s.logical_id):
        if spec.logical_id not in api_functions:
            continue
        module = importlib.import_module(spec.handler.rpartition(".")[0])
        document = json.loads(module.app.get_openapi_json_schema(title=TITLE, version=api_version()))
        _merge_schemas(schemas, document.get("components", {}).get("schemas", {}), origin=spec.logical_id)
        for path, operations in document.get("paths", {}).items():
            for method, operation in operations.items():
                if method not in _METHODS:
                    continue
                if (method, path) not in declared:
                    raise TemplateError(f"{spec.logical_id} serves {method.upper()} {path}, which template.yaml lacks")
                # Public routes say so (`[]`), so a client does not send a token the route ignores.
                operation["security"] = [{SECURITY_SCHEME: []}] if (method, path) in protected else []
                paths.setdefault(path, {})[method] = operation
    _optional_bodies_by_reference(paths)
    document_errors(paths)  # local.openapi_errors: error answers, codes, request id, version, Retry-After
    declare_headers(paths)  # local.openapi_headers: header spelling, Location, Idempotent-Replayed
    schemas = _referenced(schemas, paths)
    _check_operations(paths)
    for name, schema in schemas.items():
        schema["title"] = name
    documented = {(m, p) for p, ops in paths.items() for m in ops}
    missing = sorted(declared - documented)
    if missing:
        raise TemplateError(f"template.yaml routes no code serves: {missing}")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": api_version(),
            "description": "The backend of an online store. Errors share one shape: ErrorBody.",
        },
        "servers": _servers(template),
        "tags": [{"name": name, "description": description} for name, description in TAGS.items()],
        "paths": {path: paths[path] for path in sorted(paths)},
        "components": {
            "schemas": {name: schemas[name] for name in sorted(schemas)},
            "headers": COMMON_HEADERS,
            "securitySchemes": {
                SECURITY_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "A Cognito ID token of the shop's user pool",
                }
            },
        },
    }


def _optional_bodies_by_reference(paths: dict[str, dict[str, Any]]) -> None:
    """An optional body is `required: false` with the model's plain `$ref`, not `anyOf [model, null]`:
    generated clients read the `anyOf` as "send whatever was passed" and serialise their own `UNSET`
    marker when the caller leaves the body out (openapi-python-client's cancel without a reason)."""
    for operations in paths.values():
        for operation in operations.values():
            body = operation.get("requestBody")
            if not body or body.get("required"):
                continue
            for media in body.get("content", {}).values():
                options = media.get("schema", {}).get("anyOf", [])
                refs = [option for option in options if "$ref" in option]
                if len(refs) == 1 and len(options) == 2 and {"type": "null"} in options:
                    media["schema"] = refs[0]
            body["required"] = False


def _merge_schemas(known: dict[str, Any], found: dict[str, Any], *, origin: str) -> None:
    """Adds one function's schemas to those already known. A model shared through the layer (`Money`,
    `ErrorBody`) arrives from several functions alike and stays one schema; two different schemas
    under one name would leave a client with two classes of one name (or a renamed copy whose title
    still says the old name), so that fails: rename the model at its source."""
    for name, schema in found.items():
        if not SCHEMA_NAME.match(name):
            raise DocumentError(
                f"{origin}: schema {name!r} is no class name a client can use: name the model "
                "(subclass a generic one, e.g. `class SalesPage(Page[SalesRow])`)"
            )
        if name in known and _without_title(known[name]) != _without_title(schema):
            raise DocumentError(
                f"{origin}: two different schemas are both named {name!r}: rename one model after what it is"
            )
        known[name] = schema


def _without_title(schema: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in schema.items() if key != "title"}


def _check_operations(paths: dict[str, dict[str, Any]]) -> None:
    """Every operation has an explicit camelCase `operationId` (Powertools' default, `place_order_orders_post`,
    is what a generated client would make people call) used once, and exactly one known tag."""
    seen: dict[str, str] = {}
    for path, operations in paths.items():
        for method, operation in operations.items():
            route = f"{method.upper()} {path}"
            operation_id = operation.get("operationId", "")
            if not OPERATION_ID.match(operation_id):
                raise DocumentError(f"{route}: give the route an `operation_id=` in camelCase (has {operation_id!r})")
            if operation_id in seen:
                raise DocumentError(f"{route}: operationId {operation_id!r} is taken by {seen[operation_id]}")
            seen[operation_id] = route
            tags = operation.get("tags", [])
            if len(tags) != 1 or tags[0] not in TAGS:
                raise DocumentError(f"{route}: tags {tags} must be one of {sorted(TAGS)}")


def _servers(template: Template) -> list[dict[str, Any]]:
    """The local stack, and the deployed stage (API Gateway serves the API under the stage's name)."""
    stage = (template.raw.get("Parameters") or {}).get("Stage", {})
    return [
        {"url": LOCAL_SERVER, "description": "The local stack (`make run`)"},
        {
            "url": "https://{restApiId}.execute-api.{region}.amazonaws.com/{stage}",
            "description": "A deployed stage (`make deploy` prints the URL)",
            "variables": {
                "restApiId": {"default": "restApiId", "description": "The StoreApi's id, from the stack outputs"},
                "region": {"default": "eu-west-1", "description": "The AWS region the stack runs in"},
                "stage": {
                    "default": str(stage.get("Default", "dev")),
                    "enum": [str(value) for value in stage.get("AllowedValues", [stage.get("Default", "dev")])],
                },
            },
        },
    ]


def _referenced(schemas: dict[str, Any], paths: dict[str, Any]) -> dict[str, Any]:
    """Only the schemas the paths reach, directly or through other schemas."""
    keep: set[str] = set()
    todo = [json.dumps(paths)]
    while todo:
        text = todo.pop()
        for name in schemas:
            if name not in keep and f'"#/components/schemas/{name}"' in text:
                keep.add(name)
                todo.append(json.dumps(schemas[name]))
    return {name: schema for name, schema in schemas.items() if name in keep}


def main() -> None:
    document = build(Template(DEFAULT_TEMPLATE))
    sys.stdout.write(json.dumps(document, indent=2, sort_keys=False) + "\n")


if __name__ == "__main__":
    main()
