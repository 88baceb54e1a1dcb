"""Orders models by owner: requests, the domain, responses. Stored items are mapped in `orders.store`."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic.alias_generators import to_camel

from common.api_models import In, Out, Page
from common.auth import Caller
from common.contracts import (
    MAX_LINE_QUANTITY,
    AttentionSource,
    Attribution,
    DisputeStatus,
    FulfillmentStatus,
    OrderedLine,
    OrderLine,
    OrderSnapshot,
    PaymentStatus,
    RefundedLine,
    ShipmentInfo,
    ShippingAddress,
    ShortSku,
    TaxAtRate,
    charged_no_shipping_or_tax,
    percent_text,
)
from common.contracts import OrderStatus as OrderStatus  # shared with customers' answers; orders' code imports it here
from common.ids import Sku
from common.money import Money, MoneyIn
from common.store import iso

MAX_ITEMS = 50


# Which statuses each status may be reached from. A transition to the status an order already has is
# a no-op (a retried task), never an error.
ALLOWED_FROM: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.AWAITING_PAYMENT: frozenset({OrderStatus.PENDING}),
    OrderStatus.PAID: frozenset({OrderStatus.AWAITING_PAYMENT, OrderStatus.PENDING}),
    # A partial refund before shipment does not stop the rest of the order from shipping.
    OrderStatus.SHIPPED: frozenset({OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED}),
    OrderStatus.REJECTED: frozenset({OrderStatus.PENDING}),
    OrderStatus.CANCELLED: frozenset({OrderStatus.PENDING, OrderStatus.AWAITING_PAYMENT, OrderStatus.PAID}),
    OrderStatus.REFUNDED: frozenset({OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.PARTIALLY_REFUNDED}),
    OrderStatus.PARTIALLY_REFUNDED: frozenset({OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.PARTIALLY_REFUNDED}),
}
OPEN = frozenset({OrderStatus.PENDING, OrderStatus.AWAITING_PAYMENT, OrderStatus.PAID})
MAY_SHIP = OPEN | {OrderStatus.PARTIALLY_REFUNDED}
"""Statuses from which an order that has not shipped still may (see `ALLOWED_FROM`)."""
REFUNDABLE = frozenset({OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.PARTIALLY_REFUNDED})

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Stamp = Annotated[datetime, PlainSerializer(iso, return_type=str, when_used="json")]
"""A time the domain stores: written in the one stored format (`common.store.iso`)."""


# ---------------------------------------------------------------- requests


class ItemIn(In):
    sku: Sku
    quantity: int = Field(strict=True, ge=1, le=MAX_LINE_QUANTITY)


class CheckoutAddressIn(In):
    """Where this order goes, given at checkout (a saved address is customers' `AddressIn`)."""

    name: Text
    line1: Text
    line2: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    city: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    postal_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2", examples=["DE"])]


class AttributionIn(In):
    source: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    medium: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    campaign: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    visitor_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{8,64}$")] | None = Field(
        default=None,
        description="The visitor id the storefront keeps and sends with its visit beacon: an `affiliateCode` "
        "earns only if this visitor's first click with that code is within the attribution window",
    )


class CheckoutIn(In):
    items: Annotated[list[ItemIn], Field(min_length=1, max_length=MAX_ITEMS)]
    shipping_address: CheckoutAddressIn | None = Field(
        default=None, description="Omit to use the saved default address"
    )
    coupon_code: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")] | None = None
    affiliate_code: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")] | None = None
    attribution: AttributionIn | None = None
    shipping_method_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")] | None = Field(
        default=None,
        description="How to ship (`GET /shipping-methods?country=`); required when more than one method "
        "serves the address's country",
    )


class ShipmentIn(In):
    carrier: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
    tracking_number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class RefundLineIn(In):
    sku: Sku
    quantity: int = Field(strict=True, ge=1, le=MAX_LINE_QUANTITY, description="Units of the order's line")


class RefundIn(In):
    amount: MoneyIn | None = Field(
        default=None, description="Omit (with no `lines`) to refund everything not yet refunded; not with `lines`"
    )
    lines: Annotated[list[RefundLineIn], Field(min_length=1, max_length=MAX_ITEMS)] | None = Field(
        default=None,
        description="Refund these units of the order's lines: what they were paid (their share of the discount "
        "off, their tax in), computed from the order; each SKU once, at most what is left of its line",
    )
    refund_shipping: bool = Field(
        default=False,
        strict=True,
        description="Also give back the shipping as charged (with its tax), once per order; alone or with `lines`",
    )
    restock: bool = Field(
        default=False,
        strict=True,
        description="The goods came back: put them on sale again (with `lines`: those units; else the whole order)",
    )
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class AttentionNoteIn(In):
    note: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class CancelIn(In):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None


# ---------------------------------------------------------------- the order workflow's own shapes


class PaymentRef(BaseModel):
    """The PaymentIntent the workflow selected from CreatePaymentIntent's answer for MarkAwaitingPayment."""

    model_config = ConfigDict(frozen=True, alias_generator=to_camel, populate_by_name=True)

    payment_intent_id: str = Field(min_length=1, max_length=255)
    client_secret: str = Field(min_length=1, max_length=500)


class CaughtError(BaseModel):
    """A Catch's `{Error, Cause}`: the error's name, and for a Lambda task its error as JSON."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    error: str = Field(default="", alias="Error", max_length=500)
    cause: str = Field(default="", alias="Cause", max_length=32768)

    def message(self) -> str:
        """The failed function's `errorMessage` when the Cause is Lambda's error JSON; else the Cause."""
        try:
            return LambdaError.model_validate_json(self.cause).error_message or self.cause
        except ValueError:
            return self.cause


class LambdaError(BaseModel):
    error_message: str = Field(default="", alias="errorMessage")


# ---------------------------------------------------------------- domain


class Actor(BaseModel):
    """The staff member behind a change of an order: their token's `sub` and email."""

    model_config = ConfigDict(frozen=True)

    id: str
    email: str | None = None

    @classmethod
    def of(cls, caller: Caller) -> Self:
        return cls(id=caller.sub, email=caller.email)


class StatusChange(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: OrderStatus
    at: Stamp
    reason: str | None = None
    refund_id: str | None = Field(default=None, description="Set on a refund's change")
    lines: tuple[OrderLine, ...] | None = Field(default=None, description="The units a refund by line gave back")
    actor: Actor | None = None


class Refund(BaseModel):
    """A refund made. `lines`, `shipping`, `tax`, `tax_lines` and `merchandise_net` split it as the order
    was priced (`common.pricing`); refunds recorded before 2026-12 have none of them."""

    model_config = ConfigDict(frozen=True)

    refund_id: str
    amount: Money
    reason: str
    restock: bool
    at: Stamp
    request_hash: str | None = Field(default=None, description="None on refunds recorded before keys were checked")
    lines: tuple[RefundedLine, ...] = ()
    shipping: Money | None = Field(default=None, description="Shipping given back, as charged")
    tax: Money | None = None
    tax_lines: tuple[TaxAtRate, ...] = ()
    merchandise_net: Money | None = None


class RefundHold(BaseModel):
    """An amount (and, for a refund by line, units and the shipping) set aside for a refund while
    payments makes it: refunds racing for the same money or units cannot both have them. Released if
    payments refuses; replaced by the `Refund` once it is made. A refund by line keeps the split it was
    computed with, so its retry records exactly what was set aside."""

    model_config = ConfigDict(frozen=True)

    amount: Money
    request_hash: str
    at: Stamp
    lines: tuple[RefundedLine, ...] = ()
    shipping: Money | None = None
    shipping_tax: TaxAtRate | None = Field(default=None, description="The shipping's tax, at its rate")


class OrderTaxLine(BaseModel):
    """Tax at one rate on an order (`common.pricing.TaxLine`): `base` is what was taxed at `rate`,
    without tax and after the discount (lines and shipping), `amount` the tax."""

    model_config = ConfigDict(frozen=True)

    rate: Decimal
    base: Money
    amount: Money


class ShippingMethodRef(BaseModel):
    """The shipping method an order was priced with, as it was named then."""

    model_config = ConfigDict(frozen=True)

    shipping_method_id: str
    name: str


class Order(BaseModel):
    model_config = ConfigDict(frozen=True)

    order_id: str
    customer_id: str
    status: OrderStatus
    lines: tuple[OrderedLine, ...]
    subtotal: Money
    discount: Money
    # The defaults are for type checkers: an order read without them gets 0 in its total's currency.
    shipping: Money = Field(
        default=Money(amount=0, currency="EUR"), description="As charged: with tax when the shop's prices include tax"
    )
    tax: Money = Field(
        default=Money(amount=0, currency="EUR"),
        description="Included in `total`, or added to it when prices exclude tax",
    )
    tax_lines: tuple[OrderTaxLine, ...] = ()
    shipping_tax: Money | None = Field(default=None, description="The part of `tax` on shipping; None before 2026-12")
    shipping_method: ShippingMethodRef | None = Field(default=None, description="None: the shop ships for free")
    total: Money
    refunded_total: Money
    refunded_merchandise_net: Money | None = Field(
        default=None, description="How much of the lines' net refunds gave back; None until the first refund"
    )
    shipping_address: dict[str, Any]
    email: str | None = Field(
        default=None, description="The buyer's email from their token at checkout (notifications); None once erased"
    )
    coupon_code: str | None = None
    coupon_shard: int | None = Field(
        default=None,
        description="The coupon's allowance item this order's use was taken from, where a cancellation gives it "
        "back; None: the coupon's own item (orders and coupons made before December 2026)",
    )
    affiliate_code: str | None = None
    attribution: Attribution | None = None
    history: tuple[StatusChange, ...]
    payment_intent_id: str | None = None
    client_secret: str | None = None
    short: tuple[dict[str, Any], ...] = ()
    reason: str | None = None
    shipment: dict[str, Any] | None = None
    refunds: tuple[Refund, ...] = ()
    cancellation: dict[str, Any] | None = None
    ship_token: str | None = None
    anonymised: bool = False
    restocked: bool = False
    refund_holds: dict[str, RefundHold] = Field(default_factory=dict)
    returned_units: dict[str, int] = Field(
        default_factory=dict, description="Units by SKU that refunds by line gave back or hold"
    )
    shipping_refunded: str | None = Field(default=None, description="The refund that gave the shipping back")
    attention: dict[str, Any] | None = None
    dispute: dict[str, Any] | None = None
    dispute_closed: dict[str, Any] | None = None
    redrives: int = 0
    created_at: Stamp
    updated_at: Stamp

    @model_validator(mode="before")
    @classmethod
    def _written_before_tax(cls, data: Any) -> Any:
        return charged_no_shipping_or_tax(data)

    def merchandise_net(self) -> Money | None:
        """The lines without tax after the discount (what commissions are earned on); None for orders
        placed before lines carried their net."""
        nets = [line.net for line in self.lines]
        if not nets or any(net is None for net in nets):
            return None
        return Money(amount=sum(net.amount for net in nets if net), currency=self.total.currency)

    def prices_include_tax(self) -> bool:
        """Whether the order was priced with tax in its prices: its total then adds no tax on top."""
        added = self.subtotal.amount - self.discount.amount + self.shipping.amount + self.tax.amount
        return self.tax.amount == 0 or self.total.amount != added

    def shipping_paid(self) -> int:
        """What the customer paid for shipping: with its tax, whether prices include it or not."""
        shipping_tax = self.shipping_tax.amount if self.shipping_tax else 0
        return self.shipping.amount + (0 if self.prices_include_tax() else shipping_tax)

    def snapshot(self) -> OrderSnapshot:
        payment_status, fulfillment_status = statuses_of(self)
        merchandise_net = self.merchandise_net()
        return OrderSnapshot(
            order_id=self.order_id,
            customer_id=self.customer_id,
            status=self.status.value,
            lines=list(self.lines),
            subtotal=self.subtotal,
            discount=self.discount,
            shipping=self.shipping,
            tax=self.tax,
            total=self.total,
            refunded_total=self.refunded_total,
            shipping_tax=self.shipping_tax,
            tax_lines=[TaxAtRate(rate=percent_text(t.rate), base=t.base, amount=t.amount) for t in self.tax_lines],
            country=self.shipping_address.get("country"),
            merchandise_net=merchandise_net,
            refunded_merchandise_net=self.refunded_merchandise_net
            or (Money(amount=0, currency=self.total.currency) if merchandise_net else None),
            email=self.email,
            shipping_address=self._address(),
            shipment=self._shipment(),
            coupon_code=self.coupon_code,
            affiliate_code=self.affiliate_code,
            attribution=self.attribution,
            created_at=iso(self.created_at),
            reason=self.reason,
            payment_status=payment_status,
            fulfillment_status=fulfillment_status,
        )

    def _address(self) -> ShippingAddress | None:
        """The address for the customer's emails; None once erased (it keeps only the country)."""
        if self.anonymised:
            return None
        try:
            return ShippingAddress.model_validate(self.shipping_address)
        except ValidationError:
            return None

    def _shipment(self) -> ShipmentInfo | None:
        if not self.shipment:
            return None
        try:
            return ShipmentInfo.model_validate(self.shipment)
        except ValidationError:
            return None


def statuses_of(order: Order) -> tuple[PaymentStatus, FulfillmentStatus]:
    """Where the order's money and goods stand, derived from its facts alone — the saga's status, the
    refunded total, the shipment, the restock, a cancellation asked for and whether a payment was ever
    asked of the customer — so a client reads both facts that one `status` cannot hold (a shipped order
    with a partial refund is `SHIPPED` and `PARTIALLY_REFUNDED`; its `status` says only the latter).
    The one place these are decided: every answer and event takes them from here."""
    shipped = order.shipment is not None
    if not shipped:
        fulfillment = FulfillmentStatus.UNFULFILLED if order.status in MAY_SHIP else FulfillmentStatus.CANCELLED
    else:
        fulfillment = FulfillmentStatus.RETURNED if order.restocked else FulfillmentStatus.SHIPPED
    return _payment_status(order), fulfillment


def _payment_status(order: Order) -> PaymentStatus:
    refunded, total = order.refunded_total.amount, order.total.amount
    if refunded > 0:
        return PaymentStatus.REFUNDED if refunded >= total else PaymentStatus.PARTIALLY_REFUNDED
    match order.status:
        case OrderStatus.PENDING | OrderStatus.AWAITING_PAYMENT:
            return PaymentStatus.PENDING
        case OrderStatus.REJECTED:
            return PaymentStatus.VOIDED
        case OrderStatus.CANCELLED:
            # The workflow cancels an order whose payment was asked for, and not called off, only when
            # the payment was declined, could not be completed or did not arrive in time. A payment that
            # was taken is refunded on the way (refunded > 0 above).
            asked = order.payment_intent_id is not None or any(
                h.status is OrderStatus.AWAITING_PAYMENT for h in order.history
            )
            return PaymentStatus.FAILED if asked and order.cancellation is None else PaymentStatus.VOIDED
        case _:  # PAID, SHIPPED, and REFUNDED / PARTIALLY_REFUNDED of an order with nothing to charge
            return PaymentStatus.PAID


# ---------------------------------------------------------------- responses


class PaymentOut(Out):
    payment_intent_id: str
    client_secret: str = Field(description="For Stripe.js in the browser; present while the order awaits payment")


class ReturnedLineOut(Out):
    sku: str
    quantity: int


class ActorOut(Out):
    id: str = Field(description="The staff member's id (their token's `sub`)")
    email: str | None


class StatusChangeOut(Out):
    status: OrderStatus
    changed_at: datetime
    reason: str | None
    refund_id: str | None = Field(description="The refund that made this change, if one did")
    lines: list[ReturnedLineOut] | None = Field(
        description="The units a refund by line gave back; None on other changes"
    )
    actor: ActorOut | None = Field(
        description="The staff member who made the change; null for the workflow or the customer"
    )

    @classmethod
    def of(cls, change: StatusChange) -> Self:
        return cls(
            status=change.status,
            changed_at=change.at,
            reason=change.reason,
            refund_id=change.refund_id,
            lines=[ReturnedLineOut(sku=line.sku, quantity=line.quantity) for line in change.lines]
            if change.lines is not None
            else None,
            actor=ActorOut(id=change.actor.id, email=change.actor.email) if change.actor else None,
        )


class RefundOut(Out):
    refund_id: str
    amount: Money
    reason: str
    restock: bool
    created_at: datetime = Field(description="When the refund was made")
    lines: list[RefundedLine] = Field(description="The units a refund by line gave back; empty on other refunds")
    shipping: Money | None = Field(description="Shipping given back (as paid, with its tax), if any")
    tax: Money | None = Field(description="The refund's tax; None on refunds made before 2026-12")

    @classmethod
    def of(cls, refund: Refund) -> Self:
        return cls(
            refund_id=refund.refund_id,
            amount=refund.amount,
            reason=refund.reason,
            restock=refund.restock,
            created_at=refund.at,
            lines=list(refund.lines),
            shipping=refund.shipping,
            tax=refund.tax,
        )


class AttentionOut(Out):
    reason: str = Field(description="What could not be put right automatically")
    source: AttentionSource = Field(description="Who raised the flag")
    flagged_at: datetime


class ShippingAddressOut(Out):
    """Where the order goes. After the customer erased their data, the fields but the country read
    `[erased]` (the books keep the country: it decided the tax)."""

    name: str
    line1: str
    line2: str | None = None
    city: str
    postal_code: str
    country: str = Field(description="ISO 3166-1 alpha-2")


class TaxLineOut(Out):
    rate: str = Field(pattern=r"^\d{1,3}(\.\d{1,4})?$", description="Percent, as a decimal string", examples=["19"])
    base: Money = Field(description="What was taxed at this rate, without tax, after the discount")
    amount: Money


class ShippingMethodRefOut(Out):
    shipping_method_id: str
    name: str


class ShipmentOut(Out):
    carrier: str
    tracking_number: str
    shipped_at: datetime


class DisputeOut(Out):
    """A dispute of the order's payment by the customer's bank, and its outcome once decided."""

    dispute_id: str
    amount: Money = Field(description="What the bank claims back (Stripe holds it until the dispute closes)")
    reason: str | None = Field(description="The bank's reason (Stripe's), e.g. fraudulent; None until known")
    status: DisputeStatus = Field(description="OPEN, then WON (the shop keeps the money) or LOST")
    opened_at: datetime | None = None
    closed_at: datetime | None = None


def _dispute(opened: dict[str, Any] | None, closed: dict[str, Any] | None) -> DisputeOut | None:
    """The two halves as one; a closing of another (older) dispute than the one opened last is not shown."""
    if closed and opened and closed["disputeId"] != opened["disputeId"]:
        closed = None
    first = opened or closed
    if not first:
        return None
    return DisputeOut(
        dispute_id=first["disputeId"],
        amount=Money.model_validate(first["amount"]),
        reason=(opened or {}).get("reason"),
        status=DisputeStatus(closed["status"]) if closed else DisputeStatus.OPEN,
        opened_at=(opened or {}).get("openedAt"),
        closed_at=(closed or {}).get("closedAt"),
    )


def _attention(flag: dict[str, Any] | None) -> AttentionOut | None:
    """The stored flag (`{reason, source, since}`) as the API names it."""
    if not flag:
        return None
    return AttentionOut(reason=flag["reason"], source=flag["source"], flagged_at=flag["since"])


PAYMENT_STATUS = "Where the order's money stands, beside `status`"
FULFILLMENT_STATUS = "Where the order's goods stand, beside `status`"


class OrderOut(Out):
    order_id: str
    customer_id: str
    status: OrderStatus
    payment_status: PaymentStatus = Field(description=PAYMENT_STATUS)
    fulfillment_status: FulfillmentStatus = Field(description=FULFILLMENT_STATUS)
    lines: list[OrderedLine]
    subtotal: Money
    discount: Money
    shipping: Money = Field(description="As charged: with tax when the shop's prices include tax")
    tax: Money = Field(description="Included in `total` when prices include tax, else added to it")
    tax_lines: list[TaxLineOut] = Field(description="The tax by rate; empty where the country has no rates")
    shipping_method: ShippingMethodRefOut | None = Field(description="None: the shop ships for free")
    total: Money = Field(description="subtotal - discount + shipping (+ tax when prices exclude it)")
    refunded_total: Money
    shipping_address: ShippingAddressOut
    coupon_code: str | None
    affiliate_code: str | None
    attribution: Attribution | None
    history: list[StatusChangeOut]
    payment: PaymentOut | None = Field(description="Only while the order awaits payment")
    short_skus: list[ShortSku] = Field(description="Why a REJECTED order was rejected: the SKUs short of stock")
    reason: str | None = Field(description="Why the order was rejected or cancelled")
    shipment: ShipmentOut | None = Field(description="Set once the order has shipped")
    refunds: list[RefundOut]
    cancellation_requested: bool
    attention: AttentionOut | None = Field(
        description="Set while the order needs staff: a step failed after all its retries, or reconciliation "
        "found money that does not add up. Staff re-drive it (`POST /admin/orders/{orderId}/redrive`)."
    )
    dispute: DisputeOut | None = Field(
        default=None, description="Set once the customer's bank disputes the payment, with its outcome once closed"
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, order: Order) -> Self:
        payment = None
        if order.status is OrderStatus.AWAITING_PAYMENT and order.payment_intent_id and order.client_secret:
            payment = PaymentOut(payment_intent_id=order.payment_intent_id, client_secret=order.client_secret)
        payment_status, fulfillment_status = statuses_of(order)
        return cls(
            order_id=order.order_id,
            customer_id=order.customer_id,
            status=order.status,
            payment_status=payment_status,
            fulfillment_status=fulfillment_status,
            lines=list(order.lines),
            subtotal=order.subtotal,
            discount=order.discount,
            shipping=order.shipping,
            tax=order.tax,
            tax_lines=[TaxLineOut(rate=str(t.rate), base=t.base, amount=t.amount) for t in order.tax_lines],
            shipping_method=(
                ShippingMethodRefOut(
                    shipping_method_id=order.shipping_method.shipping_method_id, name=order.shipping_method.name
                )
                if order.shipping_method
                else None
            ),
            total=order.total,
            refunded_total=order.refunded_total,
            shipping_address=ShippingAddressOut.model_validate(order.shipping_address),
            coupon_code=order.coupon_code,
            affiliate_code=order.affiliate_code,
            attribution=order.attribution,
            history=[StatusChangeOut.of(h) for h in order.history],
            payment=payment,
            short_skus=[ShortSku.model_validate(short) for short in order.short],
            reason=order.reason,
            shipment=ShipmentOut.model_validate(order.shipment) if order.shipment else None,
            refunds=[RefundOut.of(r) for r in order.refunds],
            cancellation_requested=order.cancellation is not None,
            attention=_attention(order.attention),
            dispute=_dispute(order.dispute, order.dispute_closed),
            created_at=order.created_at,
            updated_at=order.updated_at,
        )


class OrderSummary(Out):
    order_id: str
    status: OrderStatus
    payment_status: PaymentStatus = Field(description=PAYMENT_STATUS)
    fulfillment_status: FulfillmentStatus = Field(description=FULFILLMENT_STATUS)
    total: Money
    items: int = Field(description="Units in the order")
    needs_attention: bool = Field(description="Flagged for staff (see the order's `attention`)")
    created_at: datetime

    @classmethod
    def of(cls, order: Order) -> Self:
        payment_status, fulfillment_status = statuses_of(order)
        return cls(
            order_id=order.order_id,
            status=order.status,
            payment_status=payment_status,
            fulfillment_status=fulfillment_status,
            total=order.total,
            items=sum(line.quantity for line in order.lines),
            needs_attention=order.attention is not None,
            created_at=order.created_at,
        )


class OrderPage(Page[OrderSummary]):
    pass
