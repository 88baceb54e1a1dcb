"""Payments' domain errors. Class names double as the workflow's `Error` names for Retry and Catch."""

from common.errors import BadRequest, Conflict, NotFound, ServiceUnavailable


class PaymentProviderUnavailable(ServiceUnavailable):
    """Stripe could not be reached, timed out, rate-limited us or failed on its side: retry."""

    code = "payment_provider_unavailable"


class PaymentRejected(Conflict):
    """Stripe refused the request itself (not a card decline): retrying the same request will not help."""

    code = "payment_rejected"


class PaymentCanceled(Conflict):
    """The order's payment was cancelled (by the customer, or because the order was) before it was taken."""

    code = "payment_canceled"

    def __init__(self, order_id: str) -> None:
        super().__init__(f"the payment of order {order_id} was cancelled")


class PaymentNotFound(NotFound):
    code = "payment_not_found"

    def __init__(self, order_id: str) -> None:
        super().__init__(f"no payment for order {order_id}")


class InvalidSignature(BadRequest):
    code = "invalid_signature"


class MalformedEvent(BadRequest):
    """A Stripe event whose signature is good but whose content is not an event we can read."""

    code = "malformed_event"


class EventInProgress(ServiceUnavailable):
    """Another delivery of the same Stripe event holds its lease: Stripe retries, and by then it is done
    (or its lease has run out)."""

    code = "event_in_progress"
