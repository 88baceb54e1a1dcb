"""The other parts of the system customers calls: payments (a customer's saved cards), orders (issuing
a coupon) and the mail service. Logic sees them as these protocols; `customers.adapters` implements
them over Lambda and SES, and tests pass fakes.

The payloads that cross these borders are `common.contracts` models."""

from typing import Protocol

from common.contracts import AnonymisedOrders, ForgetCustomerResult, IssueCouponInput, SavedCards


class Payments(Protocol):
    def saved_cards(self, customer_id: str) -> SavedCards: ...
    def forget(self, customer_id: str) -> ForgetCustomerResult:
        """Delete the customer's Stripe Customer and payments' record of it; idempotent."""
        ...


class Logins(Protocol):
    def delete(self, customer_id: str) -> None:
        """Delete the customer's sign-in (their user in the pool); one already gone is not an error."""
        ...


class Coupons(Protocol):
    def issue(self, request: IssueCouponInput) -> str:
        """Issue the coupon; issuing a code that exists already (a retry) must not fail."""
        ...


class Orders(Protocol):
    def anonymise(self, customer_id: str) -> AnonymisedOrders:
        """Redact the customer's personal data from their orders; idempotent."""
        ...


class Mailer(Protocol):
    def send(self, to: str, subject: str, text: str) -> None: ...
