"""Customers models by owner: requests, the domain, responses. Stored items are mapped in
`customers.store`, the only module that knows their keys."""

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Self

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from common.api_models import In, Out, Page
from common.contracts import FulfillmentStatus, OrderStatus, PaymentStatus
from common.money import Money

if TYPE_CHECKING:
    from customers.recommend import Suggestion

MAX_ADDRESSES = 20

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
OptionalText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None
CustomerId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:@-]{1,128}$", description="The customer's Cognito sub")]
SuggestionLimit = Annotated[int, Query(ge=1, le=20, description="Suggestions wanted")]


# ---------------------------------------------------------------- requests


class ProfileIn(In):
    name: Text
    phone: Annotated[str, Field(pattern=r"^\+?[0-9 ()./-]{4,32}$", examples=["+49 40 1234567"])] | None = None
    marketing_consent: bool = Field(strict=True, description="May the shop send this customer offers by email")


class AddressIn(In):
    name: Text
    line1: Text
    line2: OptionalText = None
    city: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    postal_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2", examples=["DE"])]
    default: bool = Field(
        default=False, strict=True, description="Make this the default shipping address (the first one is)"
    )


class NoteIn(In):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


# ---------------------------------------------------------------- domain


class Profile(BaseModel):
    model_config = ConfigDict(frozen=True)

    customer_id: str
    email: str | None = None
    name: str | None = None
    phone: str | None = None
    marketing_consent: bool = False
    stripe_customer_id: str | None = None
    default_address_id: str | None = None
    updated_at: datetime | None = None


class Address(BaseModel):
    model_config = ConfigDict(frozen=True)

    address_id: str
    name: str
    line1: str
    line2: str | None = None
    city: str
    postal_code: str
    country: str
    created_at: datetime

    def shipping(self) -> dict[str, str]:
        """The address as checkout's `shippingAddress` takes it."""
        fields = {
            "name": self.name,
            "line1": self.line1,
            "line2": self.line2,
            "city": self.city,
            "postalCode": self.postal_code,
            "country": self.country,
        }
        return {k: v for k, v in fields.items() if v is not None}


class Summary(BaseModel):
    """What a customer's paid orders add up to, kept from order events."""

    model_config = ConfigDict(frozen=True)

    lifetime_value: dict[str, int] = Field(default_factory=dict, description="Net of refunds, per currency")
    order_count: int = 0
    last_order_at: datetime | None = None
    categories: dict[str, int] = Field(default_factory=dict, description="Units bought per category")
    version: int = 0

    def favourite_categories(self, top: int = 3) -> list[str]:
        ranked = sorted(
            ((units, name) for name, units in self.categories.items() if units > 0), key=lambda c: (-c[0], c[1])
        )
        return [name for _, name in ranked[:top]]


class RefundEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    refund_id: str
    amount: int
    at: datetime


class PurchasedLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    product_id: str
    sku: str
    name: str
    category: str
    quantity: int
    line_total: int


class OrderRecord(BaseModel):
    """One order of a customer as the order events told it. `paid` once any event proved a payment;
    `counted` while it adds to the summary (paid and not cancelled). The payment and fulfillment
    statuses are the furthest orders reported (orders decides them; events from before they were
    reported leave them None, and the record's own facts stand in)."""

    model_config = ConfigDict(frozen=True)

    order_id: str
    status: str
    currency: str
    total: int
    refunded: int = 0
    paid: bool = False
    cancelled: bool = False
    lines: tuple[PurchasedLine, ...] = ()
    refunds: tuple[RefundEntry, ...] = ()
    created_at: datetime
    version: int = 0
    reported_payment_status: PaymentStatus | None = None
    reported_fulfillment_status: FulfillmentStatus | None = None

    @property
    def counted(self) -> bool:
        return self.paid and not self.cancelled

    @property
    def payment_status(self) -> PaymentStatus:
        if self.reported_payment_status is not None:
            return self.reported_payment_status
        if self.refunded >= self.total > 0:
            return PaymentStatus.REFUNDED
        if self.refunded > 0:
            return PaymentStatus.PARTIALLY_REFUNDED
        return PaymentStatus.VOIDED if self.cancelled else PaymentStatus.PAID

    @property
    def fulfillment_status(self) -> FulfillmentStatus:
        if self.reported_fulfillment_status is not None:
            return self.reported_fulfillment_status
        if self.cancelled:
            return FulfillmentStatus.CANCELLED
        return FulfillmentStatus.SHIPPED if self.status == OrderStatus.SHIPPED else FulfillmentStatus.UNFULFILLED


class Note(BaseModel):
    model_config = ConfigDict(frozen=True)

    note_id: str
    text: str
    author: str
    at: datetime


class ProductInfo(BaseModel):
    """The projection of a catalog product recommendations need: name and status from ProductChanged,
    category from order lines (ProductChanged carries none), SKUs to look stock up."""

    model_config = ConfigDict(frozen=True)

    product_id: str
    name: str | None = None
    category: str | None = None
    active: bool = False
    skus: tuple[str, ...] = ()


# ---------------------------------------------------------------- responses


class SummaryOut(Out):
    lifetime_value: Money = Field(description="Paid orders net of refunds, in the shop's currency")
    order_count: int = Field(description="Paid orders that were not cancelled")
    last_order_at: datetime | None
    favourite_categories: list[str] = Field(description="Up to three, by units bought")

    @classmethod
    def of(cls, summary: Summary, currency: str) -> Self:
        return cls(
            lifetime_value=Money(amount=max(0, summary.lifetime_value.get(currency, 0)), currency=currency),
            order_count=summary.order_count,
            last_order_at=summary.last_order_at,
            favourite_categories=summary.favourite_categories(),
        )


class ProfileOut(Out):
    customer_id: str
    email: str | None
    name: str | None
    phone: str | None
    marketing_consent: bool
    stripe_customer_id: str | None = Field(description="Set once the customer has paid through Stripe")
    default_address_id: str | None
    summary: SummaryOut

    @classmethod
    def of(cls, profile: Profile, summary: Summary, currency: str, email: str | None = None) -> Self:
        return cls(
            customer_id=profile.customer_id,
            email=email or profile.email,
            name=profile.name,
            phone=profile.phone,
            marketing_consent=profile.marketing_consent,
            stripe_customer_id=profile.stripe_customer_id,
            default_address_id=profile.default_address_id,
            summary=SummaryOut.of(summary, currency),
        )


class AddressOut(Out):
    address_id: str
    name: str
    line1: str
    line2: str | None
    city: str
    postal_code: str
    country: str
    default: bool
    created_at: datetime

    @classmethod
    def of(cls, address: Address, default_id: str | None) -> Self:
        return cls(**address.model_dump(), default=address.address_id == default_id)


class AddressPage(Page[AddressOut]):
    pass


class RecommendationReason(StrEnum):
    BOUGHT_TOGETHER = "bought_together"
    BEST_SELLER = "best_seller"


class RecommendationOut(Out):
    product_id: str
    name: str
    category: str | None
    score: int = Field(description="Co-purchases (or units sold, for a best seller) behind the suggestion")
    reason: RecommendationReason


class RecommendationPage(Page[RecommendationOut]):
    @classmethod
    def of(cls, suggestions: Iterable["Suggestion"]) -> Self:
        """Suggestions come in one page: a client asks for up to 20 and gets no cursor."""
        items = [
            RecommendationOut(product_id=s.product_id, name=s.name, category=s.category, score=s.score, reason=s.reason)
            for s in suggestions
        ]
        return cls(items=items, next_cursor=None)


class PaymentMethodOut(Out):
    brand: str
    last4: str
    exp_month: int
    exp_year: int


class PaymentMethodPage(Page[PaymentMethodOut]):
    pass


class PurchaseRefundOut(Out):
    """A refund of a purchase, as the customer's history records it (orders' `RefundOut` has the rest)."""

    refund_id: str
    amount: Money
    created_at: datetime


class CustomerOrderOut(Out):
    order_id: str
    status: OrderStatus
    payment_status: PaymentStatus
    fulfillment_status: FulfillmentStatus
    total: Money
    refunded_total: Money
    refunds: list[PurchaseRefundOut]
    items: int = Field(description="Units in the order")
    created_at: datetime

    @classmethod
    def of(cls, order: OrderRecord) -> Self:
        def money(amount: int) -> Money:
            return Money(amount=amount, currency=order.currency)

        return cls(
            order_id=order.order_id,
            status=order.status,
            payment_status=order.payment_status,
            fulfillment_status=order.fulfillment_status,
            total=money(order.total),
            refunded_total=money(order.refunded),
            refunds=[
                PurchaseRefundOut(refund_id=r.refund_id, amount=money(r.amount), created_at=r.at) for r in order.refunds
            ],
            items=sum(line.quantity for line in order.lines),
            created_at=order.created_at,
        )


class NoteOut(Out):
    note_id: str
    text: str
    author: str
    created_at: datetime

    @classmethod
    def of(cls, note: Note) -> Self:
        return cls(note_id=note.note_id, text=note.text, author=note.author, created_at=note.at)


class CustomerMatchOut(Out):
    customer_id: str
    email: str | None = Field(description="As on the customer's profile or their first order")
    name: str | None


class CustomerMatchPage(Page[CustomerMatchOut]):
    pass


SearchQuery = Annotated[
    str,
    Query(
        min_length=2,
        max_length=100,
        pattern=r"^\s*\S.*\S\s*$",
        description="The first letters of an email or of a name (any word of it), case-insensitive",
    ),
]


class SupportViewOut(Out):
    customer_id: str
    profile: ProfileOut
    addresses: list[AddressOut]
    orders: list[CustomerOrderOut] = Field(description="Newest first, up to 50")
    notes: list[NoteOut] = Field(description="Newest first, up to 50")


class PurchasedLineOut(Out):
    product_id: str
    sku: str
    name: str
    category: str
    quantity: int
    line_total: int = Field(description="In the order's currency, minor units")


class ExportOrderOut(CustomerOrderOut):
    lines: list[PurchasedLineOut]

    @classmethod
    def of_record(cls, order: OrderRecord) -> Self:
        summary = CustomerOrderOut.of(order)
        return cls(
            **summary.model_dump(by_alias=False), lines=[PurchasedLineOut(**line.model_dump()) for line in order.lines]
        )


class ConsentsOut(Out):
    marketing_email: bool = Field(description="May the shop send offers by email")
    updated_at: datetime | None = Field(description="When the profile (and so the consent) was last saved")


class OfferOut(Out):
    deal_id: str
    code: str
    created_at: datetime
    issued_at: datetime | None = None
    emailed_at: datetime | None = None


class ExportOut(Out):
    """Everything the shop keeps about the caller in the customers domain, as one JSON document."""

    exported_at: datetime
    customer_id: str
    profile: ProfileOut
    consents: ConsentsOut
    addresses: list[AddressOut]
    orders: list[ExportOrderOut] = Field(description="Purchase history as the order events told it, newest first")
    offers: list[OfferOut] = Field(description="Win-back offers made to the customer")
