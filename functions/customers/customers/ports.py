"""The other parts of the system customers calls: payments (a customer's saved cards), orders (issuing
a coupon) and the mail service. Logic sees them as these protocols; `customers.adapters` implements
them over Lambda and SES, and tests pass fakes.

The payloads below cross a domain border. Until they move into `common.contracts`, the field names
here are the contract the payments and orders functions implement."""

from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from common.contracts import ForgetCustomerResult


class _Contract(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class SavedCard(_Contract):
    brand: str
    last4: str
    exp_month: int
    exp_year: int


class SavedCards(_Contract):
    """What `ListPaymentMethodsFunction` answers for `{"customerId"}`."""

    stripe_customer_id: str | None = None
    items: list[SavedCard] = Field(default_factory=list)


class CouponRequest(_Contract):
    """What `IssueCouponFunction` (orders) takes; it answers `{"code"}`."""

    code: str = Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")
    type: Literal["percent", "fixed"]
    value: int = Field(gt=0)
    currency: str | None = None
    customer_ids: list[str]
    max_redemptions: int = 1
    max_per_customer: int = 1
    valid_until: str


class AnonymisedOrders(_Contract):
    """What `AnonymiseOrdersFunction` (orders) answers for `{"customerId"}`: the orders it redacted now,
    and those it left because they are still to ship."""

    anonymised: list[str] = Field(default_factory=list)
    open: list[str] = Field(default_factory=list)


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
    def issue(self, request: CouponRequest) -> str:
        """Issue the coupon; issuing a code that exists already (a retry) must not fail."""
        ...


class Orders(Protocol):
    def anonymise(self, customer_id: str) -> AnonymisedOrders:
        """Redact the customer's personal data from their orders; idempotent."""
        ...


class Mailer(Protocol):
    def send(self, to: str, subject: str, text: str) -> None: ...
