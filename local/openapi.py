"""`python -m local.openapi`: the one OpenAPI 3.1 document of the whole API, generated from the code.

Each API function's Powertools resolver describes its own routes; this merges them, checks that the
code and `template.yaml` agree on every route (a route in one and not the other fails), and marks the
routes behind the Cognito authorizer with a bearer security requirement. Output is deterministic, so
`make openapi-check` can diff it against the committed `docs/openapi.json`."""

from __future__ import annotations

import importlib
import json
import os
import sys
from typing import Any

from local.lambdas import add_code_paths, function_specs
from local.stack import DEFAULT_TEMPLATE
from local.template import Resolver, Template, TemplateError

TITLE = "Storekeeper API"
VERSION = "1.0.0"
SECURITY_SCHEME = "cognitoIdToken"
_METHODS = ("get", "put", "post", "delete", "patch", "options", "head")


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
        document = json.loads(module.app.get_openapi_json_schema(title=TITLE, version=VERSION))
        document = _rename_clashes(document, schemas, prefix=spec.handler.split(".", 1)[0].title())
        for name, schema in document.get("components", {}).get("schemas", {}).items():
            schemas[name] = schema
        for path, operations in document.get("paths", {}).items():
            for method, operation in operations.items():
                if method not in _METHODS:
                    continue
                if (method, path) not in declared:
                    raise TemplateError(f"{spec.logical_id} serves {method.upper()} {path}, which template.yaml lacks")
                if (method, path) in protected:
                    operation["security"] = [{SECURITY_SCHEME: []}]
                paths.setdefault(path, {})[method] = operation
    _errors_in_one_shape(paths)
    _errors_every_route_may_answer(paths)
    schemas = _referenced(schemas, paths)
    documented = {(m, p) for p, ops in paths.items() for m in ops}
    missing = sorted(declared - documented)
    if missing:
        raise TemplateError(f"template.yaml routes no code serves: {missing}")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": VERSION,
            "description": "The backend of an online store. Errors share one shape: ErrorBody.",
        },
        "paths": {path: paths[path] for path in sorted(paths)},
        "components": {
            "schemas": {name: schemas[name] for name in sorted(schemas)},
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


def _rename_clashes(document: dict[str, Any], known: dict[str, Any], *, prefix: str) -> dict[str, Any]:
    """Two domains may name different models alike (`RefundOut`): the later one's schema is renamed
    `<Domain><Name>` in its own document, references included, so the merged document has both."""
    clashes = [
        name
        for name, schema in document.get("components", {}).get("schemas", {}).items()
        if name in known and known[name] != schema
    ]
    if not clashes:
        return document
    text = json.dumps(document)
    for name in clashes:
        text = text.replace(f'"#/components/schemas/{name}"', f'"#/components/schemas/{prefix}{name}"')
    renamed: dict[str, Any] = json.loads(text)
    schemas = renamed["components"]["schemas"]
    for name in clashes:
        schemas[f"{prefix}{name}"] = schemas.pop(name)
    return renamed


def _errors_in_one_shape(paths: dict[str, dict[str, Any]]) -> None:
    """Powertools documents its own 422 body (`HTTPValidationError`); `common.http` answers every
    validation failure in the one error shape, so the document says that instead."""
    error_body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    for operations in paths.values():
        for operation in operations.values():
            invalid = operation.get("responses", {}).get("422")
            if invalid is not None and "HTTPValidationError" in json.dumps(invalid):
                operation["responses"]["422"] = {"description": "A field is invalid", "content": error_body}


_SHARED_ERRORS = {
    "400": "Malformed request",
    "401": "Missing or invalid token",
    "413": "Request body too large",
}


def _errors_every_route_may_answer(paths: dict[str, dict[str, Any]]) -> None:
    """Statuses no route's code states but every route of a kind can answer: 401 from the gateway's
    authorizer on a protected route, and 400/413 from `common.http` on a route that reads a body.
    And a 204 is documented without content, as it is sent."""
    error_body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    for operations in paths.values():
        for operation in operations.values():
            statuses = ["401"] if "security" in operation else []
            if "requestBody" in operation:
                statuses += ["400", "413"]
            answers = operation.setdefault("responses", {})
            for status in statuses:
                answers.setdefault(status, {"description": _SHARED_ERRORS[status], "content": error_body})
            if "204" in answers:  # Powertools documents `-> Response[None]` as a JSON null; 204 has no body
                answers["204"].pop("content", None)


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
