"""The one HTTP resolver factory and the one error mapping: every domain answers errors the same way,
`{"error": {"code", "message", "details"}}`, and this module is the only place that knows statuses."""

import base64
import binascii
import json
import os
import re
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any, TypeVar

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares import BaseMiddlewareHandler, NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from botocore.exceptions import ClientError
from pydantic import BaseModel

from common import errors
from common.auth import Caller, require_caller

STATUS_OF: dict[type[errors.DomainError], HTTPStatus] = {
    errors.BadRequest: HTTPStatus.BAD_REQUEST,
    errors.Unauthorized: HTTPStatus.UNAUTHORIZED,
    errors.Forbidden: HTTPStatus.FORBIDDEN,
    errors.NotFound: HTTPStatus.NOT_FOUND,
    errors.Conflict: HTTPStatus.CONFLICT,
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


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorBody(BaseModel):
    """The one error shape of the whole API."""

    error: ErrorDetail


_DESCRIPTIONS = {
    400: "Malformed request",
    401: "Missing or invalid token",
    403: "The caller's role may not do this",
    404: "Unknown, or not the caller's",
    409: "Conflicts with the current state",
    413: "Request body too large",
    422: "A field is invalid",
    429: "Too many requests",
    503: "A dependency is briefly unavailable; retry",
}


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


def error_response(status: HTTPStatus, code: str, message: str, details: Any = None) -> Response[Any]:
    body = ErrorBody(error=ErrorDetail(code=code, message=message, details=details))
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=body.model_dump_json(),
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
        allow_headers=["Idempotency-Key"],
        expose_headers=["Location"],
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
        return super().resolve(event, context)


def make_resolver(logger: Logger) -> APIGatewayRestResolver:
    """A REST resolver with request validation, OpenAPI generation and the project's error mapping."""
    app = JsonApiResolver()

    @app.exception_handler(errors.DomainError)  # type: ignore[untyped-decorator]
    def _domain_error(error: errors.DomainError) -> Response[Any]:
        return error_response(_status_of(error), error.code, error.message, error.details)

    @app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
    def _invalid_request(error: RequestValidationError) -> Response[Any]:
        details = _field_errors(error)
        if details and all(item["field"].split(".")[0] == "response" for item in details):
            # Powertools reports a handler's own malformed answer as a request error; it is our bug.
            logger.error("response failed validation", extra={"details": details})
            return error_response(
                HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "something went wrong on our side"
            )
        if any(item["type"] == "json_invalid" for item in details):
            return error_response(HTTPStatus.BAD_REQUEST, "malformed_json", "the request body is not valid JSON")
        return error_response(HTTPStatus.UNPROCESSABLE_ENTITY, "validation_failed", "a field is invalid", details)

    @app.not_found
    def _no_route(_: NotFoundError) -> Response[Any]:
        return error_response(HTTPStatus.NOT_FOUND, "not_found", "no such resource")

    @app.exception_handler(ClientError)  # type: ignore[untyped-decorator]
    def _aws_error(error: ClientError) -> Response[Any]:
        if error.response["Error"]["Code"] in _TRANSIENT_AWS_CODES:
            logger.warning("transient AWS error", extra={"aws_error": error.response["Error"]["Code"]})
            return error_response(HTTPStatus.SERVICE_UNAVAILABLE, "service_unavailable", "please retry shortly")
        logger.exception("AWS call failed")
        return error_response(HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "something went wrong on our side")

    @app.exception_handler(Exception)  # type: ignore[untyped-decorator]
    def _unexpected(_: Exception) -> Response[Any]:
        logger.exception("unhandled error")
        return error_response(HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "something went wrong on our side")

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
