"""The error side of the published document: what every operation may answer besides its success.

`local.openapi` calls `document_errors(paths)` once the routes are merged. Each operation then lists
- the statuses it can answer: those its route states (`common.http.responses`), 401 behind the authorizer,
  400/413 where it reads a body, 400 where it takes a `cursor`, 404 where its path names a resource, and
  429/500/503 everywhere (the gateway throttles any route; any route's DynamoDB call can be throttled);
- each in the one `ErrorBody` shape, with the `code`s a client may meet there: the enum `ErrorCode` is
  one schema, and per status the codes that status carries on that route (`x-error-codes`, also named
  in the description), from the generic ones plus `ROUTE_CODES`;
- the headers every answer carries (`x-amzn-RequestId`, the API version) and `Retry-After` on 429/503.

Which status a code answers is read from the code itself (`code_statuses`: the domain error class it is the
`code` of, and that class's base in `common.http.STATUS_OF`), so a code declared on a route lands under
the status it is actually answered with. The same scan backs `tests/unit/test_error_codes.py`: a code
raised anywhere in `functions/` or `layers/` that `ErrorCode` lacks fails it."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CODE_ROOTS = (ROOT / "functions", ROOT / "layers")
ERROR_BODY = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}

HEADERS: dict[str, Any] = {
    "RequestId": {
        "description": "API Gateway's id of this request; error bodies carry it as `requestId`. Quote it.",
        "schema": {"type": "string"},
    },
    "ApiVersion": {
        "description": "The API version that answered (`info.version`); see docs for the versioning policy.",
        "schema": {"type": "string"},
    },
    "RetryAfter": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer", "minimum": 0},
    },
}
"""`components.headers` of the document."""

GENERIC_CODES: Mapping[int, tuple[str, ...]] = {
    401: ("unauthorized",),
    403: ("forbidden",),
    404: ("not_found",),
    409: ("conflict",),
    412: ("precondition_failed",),
    413: ("payload_too_large",),
    422: ("validation_failed",),
    429: ("too_many_requests",),
    500: ("internal_error",),
    503: ("service_unavailable", "transaction_conflict", "dependency_failed"),
}
"""The codes a status carries on any route that answers it."""

ROUTE_CODES: Mapping[str, tuple[str, ...]] = {
    "POST /orders": (
        "idempotency_key_required",
        "idempotency_key_reused",
        "unknown_skus",
        "amount_below_minimum",
        "amount_too_large",
        "coupon_not_found@422",
        "coupon_not_yet_valid",
        "coupon_expired",
        "coupon_exhausted",
        "coupon_not_for_customer",
        "coupon_used_by_customer",
        "coupon_first_order_only",
        "coupon_min_subtotal",
        "coupon_currency",
        "coupon_not_applicable",
        "shipping_method_required",
        "shipping_method_invalid",
        "country_not_served",
    ),
    "GET /orders/{orderId}": ("order_not_found",),
    "POST /orders/{orderId}/cancel": (
        "order_not_found",
        "not_cancellable",
        "idempotency_key_reused",
        "idempotency_key_in_use",
    ),
    "POST /orders/{orderId}/shipments": (
        "order_not_found",
        "invalid_transition",
        "idempotency_key_reused",
        "idempotency_key_in_use",
    ),
    "POST /orders/{orderId}/refunds": ("order_not_found", "refund_not_possible", "idempotency_key_reused"),
    "POST /admin/orders/{orderId}/redrive": ("order_not_found", "not_flagged", "nothing_to_redrive"),
    "POST /admin/orders/{orderId}/attention/clear": ("order_not_found", "not_flagged"),
    "POST /coupons": ("coupon_exists",),
    "GET /coupons/{code}": ("coupon_not_found@404",),
    "POST /shipping-methods": ("shipping_method_currency",),
    "GET /shipping-methods/{shippingMethodId}": ("shipping_method_not_found",),
    "PUT /shipping-methods/{shippingMethodId}": ("shipping_method_not_found", "shipping_method_currency"),
    "DELETE /shipping-methods/{shippingMethodId}": ("shipping_method_not_found",),
    "POST /products": ("sku_taken", "idempotency_key_reused", "idempotency_key_in_use"),
    "PUT /products/{productId}": ("product_archived", "sku_taken", "concurrent_update"),
    "DELETE /products/{productId}": ("product_archived",),
    "GET /products/{productId}/recommendations": ("product_not_found",),
    "GET /inventory/{sku}": ("stock_not_found",),
    "GET /inventory/{sku}/ledger": ("stock_not_found",),
    "POST /inventory/{sku}/adjustments": ("stock_not_found", "insufficient_stock", "idempotency_key_reused"),
    "DELETE /me": ("orders_still_open",),
    "POST /me/addresses": ("too_many_addresses",),
    "GET /me/addresses/{addressId}": ("address_not_found",),
    "DELETE /me/addresses/{addressId}": ("address_not_found",),
    "GET /admin/customers/{customerId}": ("customer_not_found",),
    "POST /admin/customers/{customerId}/notes": ("customer_not_found",),
    "POST /affiliates": ("already_applied",),
    "GET /affiliates/me": ("affiliate_not_found",),
    "GET /affiliates/me/commissions": ("affiliate_not_found",),
    "GET /affiliates/me/stats": ("affiliate_not_found",),
    "POST /affiliates/{affiliateId}/approve": ("affiliate_not_found", "already_approved"),
    "POST /affiliates/{affiliateId}/payouts": ("affiliate_not_found",),
    "POST /payments/webhook": ("invalid_signature", "malformed_event", "event_in_progress"),
    "POST /reports/runs": ("idempotency_key_reused", "idempotency_key_in_use"),
}
"""Codes particular to a route, beyond `GENERIC_CODES` (a route missing here answers the generic ones).
A code answered with different statuses on different routes (`coupon_not_found`: a field of checkout's
body, 422; the coupon of `GET /coupons/{code}`, 404) is pinned to its status here: `code@status`."""

IDEMPOTENCY_CODES = ("idempotency_key_reused", "idempotency_key_in_use")
"""What a route that takes an `Idempotency-Key` may answer about it (`common.idempotency`)."""

EVERY_ROUTE = (429, 500, 503)


def api_version() -> str:
    """`common.http.API_VERSION`: the one version, in `info.version` and every answer's header. Read
    when the document is built (the layer is on `sys.path` only then)."""
    from common.http import API_VERSION as VERSION

    return VERSION


def document_errors(paths: dict[str, dict[str, Any]]) -> None:
    """Give every operation of `paths` its error answers, codes and common headers (in place)."""
    from common.http import API_VERSION_HEADER, REQUEST_ID_HEADER
    from common.http import ERROR_DESCRIPTIONS as described

    statuses = code_statuses()
    for path, operations in paths.items():
        for method, operation in operations.items():
            answers: dict[str, Any] = operation.setdefault("responses", {})
            _errors_in_one_shape(answers, described[422])
            for status in _statuses_every_route_may_answer(path, operation):
                answers.setdefault(str(status), {"description": described[status], "content": ERROR_BODY})
            if "204" in answers:  # Powertools documents `-> Response[None]` as a JSON null; 204 has no body
                answers["204"].pop("content", None)
            declared = route_codes(f"{method.upper()} {path}", statuses)
            if any(str(p.get("name", "")).lower() == "idempotency-key" for p in operation.get("parameters", [])):
                for code in IDEMPOTENCY_CODES:  # `common.idempotency`, on every route that takes a key
                    declared.setdefault(code, set(statuses.get(code, set())))
            for status in sorted({status for pinned in declared.values() for status in pinned}):
                # a code the route answers brings its status along
                answers.setdefault(str(status), {"description": described[status], "content": ERROR_BODY})
            for status_text, answer in answers.items():
                status = int(status_text)
                headers = answer.setdefault("headers", {})
                headers.setdefault(REQUEST_ID_HEADER, {"$ref": "#/components/headers/RequestId"})
                headers.setdefault(API_VERSION_HEADER, {"$ref": "#/components/headers/ApiVersion"})
                if status in (429, 503):
                    headers.setdefault("Retry-After", {"$ref": "#/components/headers/RetryAfter"})
                if status >= 400:
                    codes = _codes_for(status, declared, operation)
                    answer["x-error-codes"] = codes
                    base = (answer.get("description") or described.get(status, "Error")).split(" Codes: ")[0]
                    listed = ", ".join(f"`{code}`" for code in codes)
                    answer["description"] = f"{base.rstrip('.')}. Codes: {listed}."
            operation["responses"] = {status: answers[status] for status in sorted(answers)}


def route_codes(route: str, statuses: Mapping[str, set[int]]) -> dict[str, set[int]]:
    """The codes `ROUTE_CODES` declares for `route` ("POST /orders"), each with the statuses it is
    answered with there: the one pinned (`code@422`), else every status the code is answered with."""
    declared: dict[str, set[int]] = {}
    for entry in ROUTE_CODES.get(route, ()):
        code, _, pinned = entry.partition("@")
        declared[code] = {int(pinned)} if pinned else set(statuses.get(code, set()))
    return declared


def _codes_for(status: int, declared: Mapping[str, set[int]], operation: Mapping[str, Any]) -> list[str]:
    """The codes `status` carries on one route: the route's own, and the generic ones (`not_found` and
    `conflict` only where the route names no particular code of that status)."""
    codes = {code for code, pinned in declared.items() if status in pinned}
    if status == 400:
        if "requestBody" in operation:
            codes |= {"malformed_json", "malformed_body"}
        if any(p.get("name") == "cursor" for p in operation.get("parameters", [])):
            codes.add("invalid_cursor")
        return sorted(codes or {"bad_request"})
    if status in (404, 409) and codes:
        return sorted(codes)
    return sorted(codes | set(GENERIC_CODES.get(status, ())))


def _errors_in_one_shape(answers: dict[str, Any], description: str) -> None:
    """Powertools documents its own 422 body (`HTTPValidationError`); `common.http` answers every
    validation failure in the one error shape, so the document says that instead."""
    invalid = answers.get("422")
    if invalid is not None and "HTTPValidationError" in json.dumps(invalid):
        answers["422"] = {"description": description, "content": ERROR_BODY}


def _statuses_every_route_may_answer(path: str, operation: Mapping[str, Any]) -> list[int]:
    """Statuses no route's code states but every route of a kind can answer: 401 from the gateway's
    authorizer on a protected route; 400/413 from `common.http` on a route that reads a body; 400 for a
    cursor that is not ours; 404 for a resource its path names; 429, 500 and 503 on any route."""
    statuses: list[int] = []
    if operation.get("security"):
        statuses.append(401)
    if "requestBody" in operation:
        statuses += [400, 413]
    if any(p.get("name") == "cursor" for p in operation.get("parameters", [])):
        statuses.append(400)
    if "{" in path:
        statuses.append(404)
    return [*statuses, *EVERY_ROUTE]


# --- which code is answered with which status, read from the code ---------------------------------

_CODE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")


def code_statuses(roots: Iterable[Path] = CODE_ROOTS) -> dict[str, set[int]]:
    """Every error code a literal in the code under `roots` can answer, with the statuses it answers
    with (empty when the scan cannot tell). Finds `code = "..."` in an error class (or `self.code = "..."`
    in its methods), `SomeError(..., code="...")`, a call of a function that passes one of its parameters
    on as `code=` (`rejected("coupon_expired", ...)`), and `error_response(HTTPStatus.X, "code", ...)`."""
    from common.errors import ErrorCode
    from common.http import STATUS_OF

    trees = [ast.parse(path.read_text(), str(path)) for path in _sources(roots)]
    bases: dict[str, list[str]] = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases.setdefault(node.name, []).extend(_name(base) for base in node.bases)
    root_status = {cls.__name__: int(status) for cls, status in STATUS_OF.items()}

    def status_of(class_name: str, seen: frozenset[str] = frozenset()) -> set[int]:
        if class_name in root_status:
            return {root_status[class_name]}
        if class_name in seen:
            return set()
        found: set[int] = set()
        for base in bases.get(class_name, []):
            found |= status_of(base, seen | {class_name})
        if not found and _is_error_class(class_name, bases):
            found = {500}  # a bare DomainError
        return found

    found: dict[str, set[int]] = {}

    def note(code: str, statuses: set[int]) -> None:
        if _CODE.match(code):
            found.setdefault(code, set()).update(statuses)

    forwarders: dict[str, tuple[int, str, set[int]]] = {}
    for tree in trees:
        for cls, function in _functions(tree):
            params = [a.arg for a in function.args.args]
            for call in _calls(function):
                target = _called_class(call, cls)
                for keyword in call.keywords:
                    if keyword.arg == "code" and isinstance(keyword.value, ast.Name) and keyword.value.id in params:
                        index = params.index(keyword.value.id) - (1 if cls else 0)
                        if function.name != "__init__" and target is not None:
                            forwarders[function.name] = (index, keyword.value.id, status_of(target))
    for tree in trees:
        for cls, code in _class_code_assignments(tree):
            note(ErrorCode[code[len("ErrorCode.") :]].value if code.startswith("ErrorCode.") else code, status_of(cls))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            callee = _name(node.func)
            if callee in bases and _is_error_class(callee, bases):
                for keyword in node.keywords:
                    if keyword.arg == "code" and isinstance(keyword.value, ast.Constant):
                        note(str(keyword.value.value), status_of(callee))
            if callee in forwarders:
                index, param, statuses = forwarders[callee]
                value = node.args[index] if index < len(node.args) else None
                value = next((k.value for k in node.keywords if k.arg == param), value)
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    note(value.value, statuses)
            if (
                len(node.args) >= 2
                and isinstance(node.args[0], ast.Attribute)
                and _name(node.args[0].value) == "HTTPStatus"
                and isinstance(node.args[1], ast.Constant)
                and isinstance(node.args[1].value, str)
            ):
                from http import HTTPStatus

                note(node.args[1].value, {int(HTTPStatus[node.args[0].attr])})
    return found


def _sources(roots: Iterable[Path]) -> Iterator[Path]:
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            if "__pycache__" not in path.parts and ".aws-sam" not in path.parts:
                yield path


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript):
        return _name(node.value)
    return ""


def _is_error_class(name: str, bases: Mapping[str, list[str]], seen: frozenset[str] = frozenset()) -> bool:
    if name == "DomainError":
        return True
    if name in seen:
        return False
    return any(_is_error_class(base, bases, seen | {name}) for base in bases.get(name, []))


def _functions(tree: ast.Module) -> Iterator[tuple[str | None, ast.FunctionDef]]:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            yield None, node
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    yield node.name, item


def _calls(function: ast.FunctionDef) -> Iterator[ast.Call]:
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            yield node


def _called_class(call: ast.Call, cls: str | None) -> str | None:
    """The class a call constructs: `Name(...)`, `module.Name(...)`, or `super().__init__(...)` (the
    enclosing class itself, whose code the call sets)."""
    func = call.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call) and _name(func.value.func) == "super":
        return cls
    name = _name(func)
    return name or None


def _class_code_assignments(tree: ast.Module) -> Iterator[tuple[str, str]]:
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        for item in node.body:
            if isinstance(item, ast.Assign | ast.AnnAssign):
                targets = item.targets if isinstance(item, ast.Assign) else [item.target]
                value = item.value
                if any(_name(t) == "code" for t in targets) and isinstance(value, ast.Constant):
                    yield node.name, str(value.value)
                elif any(_name(t) == "code" for t in targets) and _enum_member(value):
                    yield node.name, f"ErrorCode.{_enum_member(value)}"
            if isinstance(item, ast.FunctionDef):
                for inner in ast.walk(item):
                    if (
                        isinstance(inner, ast.Assign)
                        and any(
                            isinstance(t, ast.Attribute) and t.attr == "code" and _name(t.value) == "self"
                            for t in inner.targets
                        )
                        and isinstance(inner.value, ast.Constant)
                    ):
                        yield node.name, str(inner.value.value)


def _enum_member(value: ast.expr | None) -> str | None:
    """`NAME` of `ErrorCode.NAME.value` (or `ErrorCode.NAME`)."""
    if isinstance(value, ast.Attribute) and value.attr == "value":
        value = value.value
    if isinstance(value, ast.Attribute) and _name(value.value) == "ErrorCode":
        return value.attr
    return None
