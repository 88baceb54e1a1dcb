"""The one HTTP resolver factory and the one error mapping: every domain answers errors the same way,
`{"error": {"code", "message", "details"}}`, and this module is the only place that knows statuses."""

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
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


def error_responses(*statuses: int) -> dict[int, dict[str, Any]]:
    """OpenAPI `responses` entries for the given error statuses, all documented with `ErrorBody`."""
    return {
        status: {"description": _DESCRIPTIONS[status], "content": {"application/json": {"model": ErrorBody}}}
        for status in statuses
    }


def error_response(status: HTTPStatus, code: str, message: str, details: Any = None) -> Response:
    body = ErrorBody(error=ErrorDetail(code=code, message=message, details=details))
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=body.model_dump_json(),
    )


def _status_of(error: errors.DomainError) -> HTTPStatus:
    for cls in type(error).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]  # type: ignore[index]
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


def make_resolver(logger: Logger) -> APIGatewayRestResolver:
    """A REST resolver with request validation, OpenAPI generation and the project's error mapping."""
    app = APIGatewayRestResolver(enable_validation=True)

    @app.exception_handler(errors.DomainError)
    def _domain_error(error: errors.DomainError) -> Response:
        return error_response(_status_of(error), error.code, error.message, error.details)

    @app.exception_handler(RequestValidationError)
    def _invalid_request(error: RequestValidationError) -> Response:
        details = _field_errors(error)
        if any(item["type"] == "json_invalid" for item in details):
            return error_response(HTTPStatus.BAD_REQUEST, "malformed_json", "the request body is not valid JSON")
        return error_response(HTTPStatus.UNPROCESSABLE_ENTITY, "validation_failed", "a field is invalid", details)

    @app.not_found
    def _no_route(_: NotFoundError) -> Response:
        return error_response(HTTPStatus.NOT_FOUND, "not_found", "no such resource")

    @app.exception_handler(ClientError)
    def _aws_error(error: ClientError) -> Response:
        if error.response["Error"]["Code"] in _TRANSIENT_AWS_CODES:
            logger.warning("transient AWS error", extra={"aws_error": error.response["Error"]["Code"]})
            return error_response(HTTPStatus.SERVICE_UNAVAILABLE, "service_unavailable", "please retry shortly")
        logger.exception("AWS call failed")
        return error_response(HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "something went wrong on our side")

    @app.exception_handler(Exception)
    def _unexpected(_: Exception) -> Response:
        logger.exception("unhandled error")
        return error_response(HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "something went wrong on our side")

    return app


def caller(app: APIGatewayRestResolver) -> Caller:
    """The signed-in caller of the current request (401 if the route was reached without claims)."""
    return require_caller(app.current_event.raw_event)


def created(body: BaseModel, location: str) -> Response:
    return Response(
        status_code=HTTPStatus.CREATED,
        content_type=content_types.APPLICATION_JSON,
        body=body.model_dump_json(by_alias=True),
        headers={"Location": location},
    )
