"""The one HTTP resolver factory and the one error mapping: every domain answers errors the same way,
`{"error": {"code", "message", "details", "requestId"}}`, and this module is the only place that knows
statuses. It also sets the headers every answer shares: the API version, `Vary: Origin` where CORS is on,
`Retry-After` on 429 and 503, and which of them a browser's script may read."""

import base64
import binascii
import json
import os
import re
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Annotated, Any, TypeVar

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares import BaseMiddlewareHandler, NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from common import errors
from common.auth import Caller, require_caller
from common.contracts import ShortSku
from common.idempotency import REPLAYED_HEADER, forget_replay, replayed
from common.links import rebase_location

STATUS_OF: dict[type[errors.DomainError], HTTPStatus] = {
    errors.BadRequest: HTTPStatus.BAD_REQUEST,
    errors.Unauthorized: HTTPStatus.UNAUTHORIZED,
    errors.Forbidden: HTTPStatus.FORBIDDEN,
    errors.NotFound: HTTPStatus.NOT_FOUND,
    errors.Conflict: HTTPStatus.CONFLICT,
    errors.PreconditionFailed: HTTPStatus.PRECONDITION_FAILED,
    errors.PayloadTooLarge: HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    errors.ValidationFailed: HTTPStatus.UNPROCESSABLE_ENTITY,
    errors.TooManyRequests: HTTPStatus.TOO_MANY_REQUESTS,
    errors.ServiceUnavailable: HTTPStatus.SERVICE_UNAVAILABLE,
}
_TRANSIENT_AWS_CODES = {
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "TransactionConflictException",
    "ServiceUnavailable",
    "InternalServerError",
}


JSON = content_types.APPLICATION_JSON
MAX_BODY_BYTES = 64 * 1024
"""The largest request body any route reads (API Gateway's own limit is 10 MB); larger ones get 413."""
MAX_JSON_DEPTH = 32
"""No body of this API nests more than a few levels; a deeper one is refused before the parser, which
recurses once per level, can run out of stack on it."""
MAX_JSON_INT_DIGITS = 32
"""Longer integers are no amount, quantity or limit of ours; Python would refuse over 4,300 digits anyway,
with an error that is not a JSON error."""
RouteFn = TypeVar("RouteFn", bound=Callable[..., Any])


API_VERSION = "1.0.0"
"""The API's version: `info.version` of the published document and the `API_VERSION_HEADER` of every
answer (see docs/api-versioning.md for what changes it)."""
API_VERSION_HEADER = "Storekeeper-Api-Version"
REQUEST_ID_HEADER = "x-amzn-RequestId"
"""API Gateway's id of the request, on every answer (its own errors too). It equals `requestContext.requestId`,
which our error bodies carry as `requestId`; the functions leave the header to the gateway (REST APIs
remap an `x-amzn-RequestId` a function sets)."""
EXPOSED_HEADERS = (REQUEST_ID_HEADER, "Location", "ETag", "Retry-After", "Idempotent-Replayed", API_VERSION_HEADER)
"""Response headers a browser's script may read (`Access-Control-Expose-Headers`); others it cannot see."""
ALLOWED_REQUEST_HEADERS = ("Idempotency-Key", "If-Match", "If-None-Match")
"""Request headers beyond the CORS-safelisted ones (and `Authorization`, `Content-Type`) a browser may send."""


class _ErrorModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)


class FieldError(_ErrorModel):
    """One invalid field of a request: the `details` of `validation_failed` and of the 422 codes that name
    a field (`unknown_skus`, `coupon_*`, `amount_too_large`, ...)."""

    field: str = Field(description="Where: `body.items.0.sku`, `query.limit`, `header.Idempotency-Key`")
    message: str = Field(description="What is wrong, for people")
    type: str = Field(description="What is wrong, for code: pydantic's error type, or the rule that failed")


class OutOfStockDetails(_ErrorModel):
    """`details` of `out_of_stock`: the SKUs there were too few of."""

    short: list[ShortSku]


class InsufficientStockDetails(_ErrorModel):
    """`details` of `insufficient_stock`: an adjustment that would take stock below zero."""

    sku: str
    delta: int
    available: int


class SkuTakenDetails(_ErrorModel):
    """`details` of `sku_taken`: the SKUs another product owns."""

    skus: list[str]


class OrdersStillOpenDetails(_ErrorModel):
    """`details` of `orders_still_open`: the orders that still need the address."""

    order_ids: list[str]


class AffiliateDetails(_ErrorModel):
    """`details` of `already_applied` and `already_approved`."""

    affiliate_id: str
    commission_rate: float | None = None


class TransactionDetails(_ErrorModel):
    """`details` of a `conflict` or `transaction_conflict` a database transaction answered: one reason per
    step, `None` for the steps that passed. Retrying is the remedy; the reasons help a bug report."""

    reasons: list[str]


ErrorDetails = Annotated[
    list[FieldError]
    | OutOfStockDetails
    | InsufficientStockDetails
    | SkuTakenDetails
    | OrdersStillOpenDetails
    | AffiliateDetails
    | TransactionDetails
    | None,
    Field(description="Depends on `code`: field errors for 422s, the facts of a conflict for some 409s, else null"),
]


class ErrorDetail(_ErrorModel):
    code: errors.ErrorCode = Field(description="Stable and machine-readable: switch on this")
    message: str = Field(description="For people; may change")
    details: ErrorDetails
    request_id: str = Field(description=f"The request's id, also in the `{REQUEST_ID_HEADER}` header: quote it")


class ErrorBody(_ErrorModel):
    """The one error shape of the whole API."""

    error: ErrorDetail


_DESCRIPTIONS = {
    400: "Malformed request",
    401: "Missing or invalid token",
    403: "The caller's role may not do this",
    404: "Unknown, or not the caller's",
    409: "Conflicts with the current state",
    412: "Changed since you read it (`If-Match` no longer matches); read it again",
    413: "Request body too large",
    422: "A field is invalid",
    429: "Too many requests; retry after `Retry-After` seconds",
    500: "Something went wrong on our side; quote the `requestId`",
    503: "A dependency is briefly unavailable; retry after `Retry-After` seconds",
}
ERROR_DESCRIPTIONS: Mapping[int, str] = _DESCRIPTIONS
RETRY_STATUSES = frozenset({HTTPStatus.TOO_MANY_REQUESTS, HTTPStatus.SERVICE_UNAVAILABLE})
"""The answers that mean "try again later", and carry `Retry-After`."""
DEFAULT_RETRY_AFTER_SECONDS = 1


def responses(*errors: int, success: int = 200, description: str = "Success") -> dict[int, OpenAPIResponse]:
    """OpenAPI `responses` of a route: its success (body from the return annotation) and the error
    statuses it may answer, all documented with `ErrorBody`."""
    documented: dict[int, OpenAPIResponse] = {success: {"description": description}}
    for status in errors:
        documented[status] = {
            "description": _DESCRIPTIONS[status],
            "content": {"application/json": {"model": ErrorBody}},
        }
    return documented


def error_response(
    status: HTTPStatus,
    code: str,
    message: str,
    details: Any = None,
    *,
    request_id: str,
    retry_after: int | None = None,
) -> Response[Any]:
    """The one error answer. The body is serialised as given, not validated against `ErrorBody` (an error
    while answering an error would lose it); `tests/unit/test_http_headers.py` holds each domain's to it.
    A 429 or 503 says when to retry: `retry_after` seconds, by default `DEFAULT_RETRY_AFTER_SECONDS`."""
    body = {"error": {"code": code, "message": message, "details": details, "requestId": request_id}}
    headers: dict[str, str] = {}
    if status in RETRY_STATUSES:
        headers["Retry-After"] = str(retry_after or DEFAULT_RETRY_AFTER_SECONDS)
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body, default=str),
        headers=headers,
    )


def _status_of(error: errors.DomainError) -> HTTPStatus:
    for cls in type(error).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]
    return HTTPStatus.INTERNAL_SERVER_ERROR


def _field_errors(error: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {
            "field": ".".join(str(part) for part in item.get("loc", ())),
            "message": item.get("msg", "invalid"),
            "type": item.get("type", "invalid"),
        }
        for item in error.errors()
    ]


def requires(*groups: str) -> Callable[[RouteFn], RouteFn]:
    """Mark a route as needing a signed-in caller, in one of `groups` if any are given. Put it under
    the route decorator. The check runs before request validation, so a caller without the role gets
    401/403 rather than a 422 that would describe the body to them."""

    def mark(route: RouteFn) -> RouteFn:
        route.required_groups = frozenset(groups)  # type: ignore[attr-defined]
        return route

    return mark


class _AuthorizeThenValidate(BaseMiddlewareHandler[Any]):
    """Wraps Powertools' request validation, which always runs first, with the `requires` check."""

    def __init__(self, validation: BaseMiddlewareHandler[Any]) -> None:
        self.validation = validation

    def handler(self, app: Any, next_middleware: NextMiddleware) -> Response[Any]:
        groups: frozenset[str] | None = getattr(app.context["_route"].func, "required_groups", None)
        if groups is not None:
            caller = require_caller(app.current_event.raw_event)
            if groups:
                caller.require(*sorted(groups))
        _check_body(app.current_event.raw_event)
        return self.validation.handler(app, next_middleware)


def _check_body(event: Mapping[str, Any]) -> None:
    """Refuse, before anything parses it, a body over `MAX_BODY_BYTES` (413) or one that is not UTF-8
    text (400: it cannot be JSON)."""
    body = event.get("body")
    if body is None:
        return
    try:
        raw = (
            base64.b64decode(body, validate=True)
            if event.get("isBase64Encoded")
            else str(body).encode("utf-8", "surrogatepass")
        )
    except binascii.Error:
        raise errors.BadRequest("the request body is not valid base64", code="malformed_body") from None
    if len(raw) > MAX_BODY_BYTES:
        raise errors.PayloadTooLarge(f"a request body is at most {MAX_BODY_BYTES} bytes")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        raise errors.BadRequest("the request body is not valid JSON", code="malformed_json") from None


_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
_INNERMOST_PAIR = re.compile(r"\[\]|\{\}")


def parse_json(text: str) -> Any:
    """`json.loads` for bodies from anyone: a body nested deeper than `MAX_JSON_DEPTH`, an integer longer
    than `MAX_JSON_INT_DIGITS` digits, or `NaN`/`Infinity` (not JSON, though Python reads them) is a
    `json.JSONDecodeError`, which the resolver answers like any other malformed body (400). The depth is
    measured without recursion: strings removed, then the innermost bracket pairs peeled off level by level."""
    brackets = _NOT_A_BRACKET.sub("", _JSON_STRING.sub("", text))
    for _ in range(MAX_JSON_DEPTH):
        if not brackets:
            break
        brackets = _INNERMOST_PAIR.sub("", brackets)
    if brackets:  # deeper than allowed, or unbalanced (not JSON either)
        raise json.JSONDecodeError(f"nested deeper than {MAX_JSON_DEPTH} levels", text, 0)
    return json.loads(text, parse_int=_bounded_int, parse_constant=_not_json)


def _bounded_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_JSON_INT_DIGITS:
        raise json.JSONDecodeError(f"an integer of more than {MAX_JSON_INT_DIGITS} digits", digits, 0)
    return int(digits)


def _not_json(constant: str) -> Any:
    raise json.JSONDecodeError(f"{constant} is not JSON", constant, 0)


def cors_config(origins: str | None = None) -> CORSConfig | None:
    """CORS of the API's answers from `ALLOWED_ORIGINS` (comma-separated, set in the template's Globals):
    a request whose `Origin` is one of them gets it echoed in `Access-Control-Allow-Origin`, any other
    origin gets no CORS header. API Gateway's preflight can name one origin only; this is how the
    others are served. None (no CORS headers at all) when no origin is configured."""
    allowed = [o.strip() for o in (os.environ.get("ALLOWED_ORIGINS", "") if origins is None else origins).split(",")]
    allowed = [o for o in allowed if o]
    if not allowed:
        return None
    return CORSConfig(
        allow_origin=allowed[0],
        extra_origins=allowed[1:],
        allow_headers=list(ALLOWED_REQUEST_HEADERS),
        expose_headers=list(EXPOSED_HEADERS),
        max_age=600,
    )


class JsonApiResolver(APIGatewayRestResolver):
    """A REST resolver for an API that speaks JSON only: a request body is read as JSON whatever its
    `Content-Type` says. Powertools would otherwise parse `curl -d '{...}'` (sent as a form) into
    nonsense field errors, and a body in another type would escape the one error shape."""

    def __init__(self) -> None:
        super().__init__(enable_validation=True, cors=cors_config(), json_body_deserializer=parse_json)
        validation = self._request_validation_middleware
        self._request_validation_middleware = _AuthorizeThenValidate(validation)  # type: ignore[assignment]

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        if event.get("body") is not None:
            headers = {k: v for k, v in (event.get("headers") or {}).items() if k.lower() != "content-type"}
            multi = {k: v for k, v in (event.get("multiValueHeaders") or {}).items() if k.lower() != "content-type"}
            headers["Content-Type"] = JSON
            multi["Content-Type"] = [JSON]
            event = {**event, "headers": headers, "multiValueHeaders": multi}
        forget_replay()
        answer = super().resolve(event, context)
        _set_header(answer, API_VERSION_HEADER, API_VERSION)
        rebase_location(event, answer)  # behind the stage or base path the client called
        if replayed() and int(answer.get("statusCode", 500)) < 300:
            _set_header(answer, REPLAYED_HEADER, "true")
        if self._cors is not None:
            # The answer depends on `Origin` (echoed, or no CORS header for a stranger): a shared cache
            # must not hand one origin's answer to another.
            _add_vary(answer, "Origin")
        return answer


def _headers_of(answer: dict[str, Any]) -> dict[str, list[str]]:
    multi: dict[str, list[str]] = answer.setdefault("multiValueHeaders", {})
    for name, value in (answer.pop("headers", None) or {}).items():
        multi.setdefault(name, [str(value)])
    return multi


def _set_header(answer: dict[str, Any], name: str, value: str) -> None:
    multi = _headers_of(answer)
    for existing in [key for key in multi if key.lower() == name.lower()]:
        del multi[existing]
    multi[name] = [value]


def _add_vary(answer: dict[str, Any], field: str) -> None:
    multi = _headers_of(answer)
    key = next((k for k in multi if k.lower() == "vary"), "Vary")
    fields = [f.strip() for value in multi.get(key, []) for f in value.split(",") if f.strip()]
    if field.lower() not in {f.lower() for f in fields}:
        fields.append(field)
    multi[key] = [", ".join(fields)]


def request_id(app: APIGatewayRestResolver) -> str:
    """The id API Gateway gave the current request (`requestContext.requestId`), else the Lambda
    invocation's (an event from a test or a direct invoke may have no request context)."""
    event = app.current_event.raw_event
    found = (event.get("requestContext") or {}).get("requestId")
    if found:
        return str(found)
    return str(getattr(app.lambda_context, "aws_request_id", None) or "unknown")


def make_resolver(logger: Logger) -> APIGatewayRestResolver:
    """A REST resolver with request validation, OpenAPI generation and the project's error mapping."""
    app = JsonApiResolver()

    def answer(status: HTTPStatus, code: str, message: str, details: Any = None) -> Response[Any]:
        return error_response(status, code, message, details, request_id=request_id(app))

    @app.exception_handler(errors.DomainError)  # type: ignore[untyped-decorator]
    def _domain_error(error: errors.DomainError) -> Response[Any]:
        return error_response(
            _status_of(error),
            error.code,
            error.message,
            error.details,
            request_id=request_id(app),
            retry_after=error.retry_after,
        )

    @app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
    def _invalid_request(error: RequestValidationError) -> Response[Any]:
        details = _field_errors(error)
        if details and all(item["field"].split(".")[0] == "response" for item in details):
            # Powertools reports a handler's own malformed answer as a request error; it is our bug.
            logger.error("response failed validation", extra={"details": details})
            return answer(HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "something went wrong on our side")
        if any(item["type"] == "json_invalid" for item in details):
            return answer(HTTPStatus.BAD_REQUEST, "malformed_json", "the request body is not valid JSON")
        return answer(HTTPStatus.UNPROCESSABLE_ENTITY, "validation_failed", "a field is invalid", details)

    @app.not_found
    def _no_route(_: NotFoundError) -> Response[Any]:
        return answer(HTTPStatus.NOT_FOUND, "not_found", "no such resource")

    @app.exception_handler(ClientError)  # type: ignore[untyped-decorator]
    def _aws_error(error: ClientError) -> Response[Any]:
        if error.response["Error"]["Code"] in _TRANSIENT_AWS_CODES:
            logger.warning("transient AWS error", extra={"aws_error": error.response["Error"]["Code"]})
            return answer(HTTPStatus.SERVICE_UNAVAILABLE, "service_unavailable", "please retry shortly")
        logger.exception("AWS call failed")
        return answer(HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "something went wrong on our side")

    @app.exception_handler(Exception)  # type: ignore[untyped-decorator]
    def _unexpected(_: Exception) -> Response[Any]:
        logger.exception("unhandled error")
        return answer(HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "something went wrong on our side")

    return app


def caller(app: APIGatewayRestResolver) -> Caller:
    """The signed-in caller of the current request (401 if the route was reached without claims)."""
    return require_caller(app.current_event.raw_event)


def created(body: BaseModel, location: str) -> Response[Any]:
    """A 201 with `Location`. The body stays a model (not a JSON string) so a route annotated
    `-> Response[Model]` passes Powertools' response validation and serialises by alias."""
    return _located(HTTPStatus.CREATED, body, location)


def accepted(body: BaseModel, location: str) -> Response[Any]:
    """A 202 with `Location`: the request was taken and continues in the background."""
    return _located(HTTPStatus.ACCEPTED, body, location)


def _located(status: HTTPStatus, body: BaseModel, location: str) -> Response[Any]:
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=body, headers={"Location": location}
    )
