"""Domain errors. Logic raises these; `common.http` is the only place that turns them into statuses."""

from typing import Any


class DomainError(Exception):
    """An error the caller can act on. `code` is stable and machine-readable; `message` is for people."""

    code = "error"

    def __init__(self, message: str, *, details: Any = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        if code is not None:
            self.code = code


class BadRequest(DomainError):
    code = "bad_request"


class Unauthorized(DomainError):
    code = "unauthorized"


class Forbidden(DomainError):
    code = "forbidden"


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class PayloadTooLarge(DomainError):
    code = "payload_too_large"


class ValidationFailed(DomainError):
    code = "validation_failed"


class TooManyRequests(DomainError):
    code = "too_many_requests"


class ServiceUnavailable(DomainError):
    code = "service_unavailable"
