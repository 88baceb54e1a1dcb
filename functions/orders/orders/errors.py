"""Orders' domain errors; `common.http` maps their bases to statuses."""

from collections.abc import Sequence

from common.errors import BadRequest, Conflict, ErrorCode, NotFound, ValidationFailed


class OrderNotFound(NotFound):
    """Unknown, or not the caller's: the two are indistinguishable on purpose."""

    code = "order_not_found"

    def __init__(self, order_id: str) -> None:
        super().__init__(f"no order {order_id}")


class CouponNotFound(NotFound):
    code = ErrorCode.COUPON_NOT_FOUND.value

    def __init__(self, code: str) -> None:
        super().__init__(f"there is no coupon {code}")


class IdempotencyKeyRequired(BadRequest):
    code = "idempotency_key_required"

    def __init__(self) -> None:
        super().__init__("send an Idempotency-Key header (any unique string of 8 to 128 characters)")


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"

    def __init__(self, what: str = "order") -> None:
        super().__init__(f"this Idempotency-Key was used for a different {what}")


class UnknownSkus(ValidationFailed):
    code = "unknown_skus"

    def __init__(self, problems: Sequence[tuple[int, str, str]]) -> None:
        skus = ", ".join(sku for _, sku, _ in problems)
        super().__init__(
            f"not for sale: {skus}",
            details=[
                {"field": f"body.items.{index}.sku", "message": f"{sku} is {why}", "type": "unknown_sku"}
                for index, sku, why in problems
            ],
        )


class NotCancellable(Conflict):
    code = "not_cancellable"

    def __init__(self, order_id: str, status: str) -> None:
        super().__init__(f"order {order_id} is {status} and can no longer be cancelled; ask for a refund")


class InvalidTransition(Conflict):
    code = "invalid_transition"

    def __init__(self, order_id: str, status: str, wanted: str) -> None:
        super().__init__(f"order {order_id} is {status}; it cannot become {wanted}")


class RefundNotPossible(Conflict):
    code = "refund_not_possible"


class CouponCodeTaken(Conflict):
    """Another coupon already has this code. Named so that customers (whose win-back job issues coupons
    through `IssueCouponFunction`) recognises it by its type, not by its text."""

    code = "coupon_exists"

    def __init__(self, code: str) -> None:
        super().__init__(f"coupon {code} exists already")


class BelowMinimumCharge(ValidationFailed):
    """A total above 0 that the payment provider cannot charge (Stripe has a minimum per currency)."""

    code = "amount_below_minimum"

    def __init__(self, total: int, minimum: int, currency: str) -> None:
        super().__init__(
            f"the order's total of {total} {currency} (minor units) is below the smallest amount that can be "
            f"charged, {minimum}; add to the order, or use a coupon that covers it all",
            details=[{"field": "body", "message": f"total below {minimum} {currency}", "type": "amount_below_minimum"}],
        )


class ShippingMethodNotFound(NotFound):
    code = ErrorCode.SHIPPING_METHOD_NOT_FOUND.value

    def __init__(self, shipping_method_id: str) -> None:
        super().__init__(f"there is no shipping method {shipping_method_id}")


class ShippingMethodCurrency(ValidationFailed):
    """A shipping price in another currency than the shop's: no order could ever pay it."""

    code = ErrorCode.SHIPPING_METHOD_CURRENCY.value

    def __init__(self, currency: str, shop_currency: str) -> None:
        super().__init__(
            f"the shop charges in {shop_currency}, not {currency}",
            details=[{"field": "body.price.currency", "message": f"must be {shop_currency}", "type": self.code}],
        )


class ShippingMethodRequired(ValidationFailed):
    """The country is served by more than one method and the checkout named none: we do not pick one
    for the customer (it decides what they pay and when the goods arrive)."""

    code = ErrorCode.SHIPPING_METHOD_REQUIRED.value

    def __init__(self, country: str, choices: Sequence[str]) -> None:
        message = f"choose how to ship to {country}: one of {', '.join(choices)}"
        super().__init__(message, details=[{"field": "body.shippingMethodId", "message": message, "type": self.code}])


class ShippingMethodInvalid(ValidationFailed):
    """The method named is unknown, archived, or does not serve the address's country."""

    code = ErrorCode.SHIPPING_METHOD_INVALID.value

    def __init__(self, shipping_method_id: str, country: str) -> None:
        message = f"shipping method {shipping_method_id} does not ship to {country}"
        super().__init__(message, details=[{"field": "body.shippingMethodId", "message": message, "type": self.code}])


class CountryNotServed(ValidationFailed):
    """The shop has shipping methods, and none serves the address's country."""

    code = ErrorCode.COUNTRY_NOT_SERVED.value

    def __init__(self, country: str) -> None:
        message = f"the shop does not ship to {country}"
        super().__init__(
            message, details=[{"field": "body.shippingAddress.country", "message": message, "type": self.code}]
        )
