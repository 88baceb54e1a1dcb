"""Domain errors. Logic raises these; `common.http` is the only place that turns them into statuses.

`ErrorCode` lists every `code` the API can answer, so the published document carries it as one enum a
client can switch on. A new code is added here first: a class whose `code` is not listed fails at import,
and `tests/unit/test_error_codes.py` finds any literal `code="..."` the enum lacks."""

from enum import StrEnum
from typing import Any, ClassVar


class ErrorCode(StrEnum):
    """Every error `code` of the API. Stable: a code is never renamed or reused for another meaning."""

    # The generic ones, one per status (`common.http`, the gateway's own answers).
    BAD_REQUEST = "bad_request"
    MALFORMED_JSON = "malformed_json"
    MALFORMED_BODY = "malformed_body"
    INVALID_CURSOR = "invalid_cursor"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    VALIDATION_FAILED = "validation_failed"
    TOO_MANY_REQUESTS = "too_many_requests"
    INTERNAL_ERROR = "internal_error"
    SERVICE_UNAVAILABLE = "service_unavailable"
    TRANSACTION_CONFLICT = "transaction_conflict"
    DEPENDENCY_FAILED = "dependency_failed"
    # Idempotency.
    IDEMPOTENCY_KEY_REQUIRED = "idempotency_key_required"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    IDEMPOTENCY_KEY_IN_USE = "idempotency_key_in_use"
    # Catalog.
    PRODUCT_NOT_FOUND = "product_not_found"
    PRODUCT_ARCHIVED = "product_archived"
    SKU_TAKEN = "sku_taken"
    CONCURRENT_UPDATE = "concurrent_update"
    PRECONDITION_FAILED = "precondition_failed"
    # Inventory.
    OUT_OF_STOCK = "out_of_stock"
    INSUFFICIENT_STOCK = "insufficient_stock"
    STOCK_NOT_FOUND = "stock_not_found"
    TOO_MANY_SKUS = "too_many_skus"
    HOLD_NOT_FOUND = "hold_not_found"
    HOLD_RELEASED = "hold_released"
    HOLD_COMMITTED = "hold_committed"
    # Orders.
    ORDER_NOT_FOUND = "order_not_found"
    UNKNOWN_SKUS = "unknown_skus"
    NOT_CANCELLABLE = "not_cancellable"
    INVALID_TRANSITION = "invalid_transition"
    REFUND_NOT_POSSIBLE = "refund_not_possible"
    AMOUNT_BELOW_MINIMUM = "amount_below_minimum"
    AMOUNT_TOO_LARGE = "amount_too_large"
    NOT_FLAGGED = "not_flagged"
    NOTHING_TO_REDRIVE = "nothing_to_redrive"
    # Coupons.
    COUPON_EXISTS = "coupon_exists"
    COUPON_NOT_FOUND = "coupon_not_found"
    COUPON_NOT_YET_VALID = "coupon_not_yet_valid"
    COUPON_EXPIRED = "coupon_expired"
    COUPON_EXHAUSTED = "coupon_exhausted"
    COUPON_NOT_FOR_CUSTOMER = "coupon_not_for_customer"
    COUPON_USED_BY_CUSTOMER = "coupon_used_by_customer"
    COUPON_FIRST_ORDER_ONLY = "coupon_first_order_only"
    COUPON_MIN_SUBTOTAL = "coupon_min_subtotal"
    COUPON_CURRENCY = "coupon_currency"
    COUPON_NOT_APPLICABLE = "coupon_not_applicable"
    # Pricing configuration (shipping methods, tax rates).
    SHIPPING_METHOD_NOT_FOUND = "shipping_method_not_found"
    SHIPPING_METHOD_CURRENCY = "shipping_method_currency"
    # Checkout's shipping (common.pricing).
    SHIPPING_METHOD_REQUIRED = "shipping_method_required"
    SHIPPING_METHOD_INVALID = "shipping_method_invalid"
    COUNTRY_NOT_SERVED = "country_not_served"
    # Customers.
    CUSTOMER_NOT_FOUND = "customer_not_found"
    ADDRESS_NOT_FOUND = "address_not_found"
    TOO_MANY_ADDRESSES = "too_many_addresses"
    ORDERS_STILL_OPEN = "orders_still_open"
    # Payments.
    PAYMENT_NOT_FOUND = "payment_not_found"
    PAYMENT_REJECTED = "payment_rejected"
    PAYMENT_CANCELED = "payment_canceled"
    PAYMENT_PROVIDER_UNAVAILABLE = "payment_provider_unavailable"
    INVALID_SIGNATURE = "invalid_signature"
    MALFORMED_EVENT = "malformed_event"
    EVENT_IN_PROGRESS = "event_in_progress"
    # Affiliates.
    AFFILIATE_NOT_FOUND = "affiliate_not_found"
    ALREADY_APPLIED = "already_applied"
    ALREADY_APPROVED = "already_approved"


class DomainError(Exception):
    """An error the caller can act on. `code` is stable and machine-readable (one of `ErrorCode`);
    `message` is for people. `retry_after` (seconds) is sent as `Retry-After` where the answer is
    "try again later" (429, 503)."""

    code = ErrorCode.INTERNAL_ERROR.value
    retry_after: ClassVar[int | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.code not in ErrorCode._value2member_map_:
            raise TypeError(f"{cls.__name__}.code {cls.code!r} is not an ErrorCode: add it there first")

    def __init__(self, message: str, *, details: Any = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        if code is not None:
            self.code = code


class BadRequest(DomainError):
    code = ErrorCode.BAD_REQUEST.value


class Unauthorized(DomainError):
    code = ErrorCode.UNAUTHORIZED.value


class Forbidden(DomainError):
    code = ErrorCode.FORBIDDEN.value


class NotFound(DomainError):
    code = ErrorCode.NOT_FOUND.value


class Conflict(DomainError):
    code = ErrorCode.CONFLICT.value


class PreconditionFailed(DomainError):
    """A conditional request's precondition (`If-Match`) no longer holds: someone changed it first."""

    code = ErrorCode.PRECONDITION_FAILED.value


class PayloadTooLarge(DomainError):
    code = ErrorCode.PAYLOAD_TOO_LARGE.value


class ValidationFailed(DomainError):
    code = ErrorCode.VALIDATION_FAILED.value


class TooManyRequests(DomainError):
    code = ErrorCode.TOO_MANY_REQUESTS.value
    retry_after = 1


class ServiceUnavailable(DomainError):
    """Brief: a dependency was busy or slow. Clients retry after `retry_after` seconds."""

    code = ErrorCode.SERVICE_UNAVAILABLE.value
    retry_after = 1
