"""Event payloads that cross domain borders. The publisher and every consumer import the same model,
so a change to an event's shape is one change, seen by mypy everywhere."""

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from common.ids import Sku
from common.money import Money
from common.pricing import PricedLine

PercentText = Annotated[
    str, Field(pattern=r"^\d{1,3}(\.\d{1,4})?$", description="Percent, as a decimal string", examples=["19"])
]


def percent_text(rate: Decimal) -> str:
    """A rate as the API and events write it: '19', '7', '5.5' (no exponent, no trailing zeros)."""
    return format(rate.normalize(), "f")


class _Contract(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class VariantPrice(_Contract):
    sku: Sku
    price: Money = Field(description="The variant's effective price")


class ProductChanged(_Contract):
    """Published by catalog on every create, update and archive. Inventory creates stock for SKUs it
    has not seen; the envelope's eventId is `ProductChanged#{productId}#{version}`."""

    DETAIL_TYPE: ClassVar[str] = "ProductChanged"

    product_id: str
    name: str
    status: Literal["ACTIVE", "ARCHIVED"]
    version: int = Field(ge=1)
    variants: list[VariantPrice]


# ---------------------------------------------------------------- inventory: workflow tasks and events

MAX_LINE_QUANTITY = 1000


class OrderLine(_Contract):
    sku: Sku
    quantity: int = Field(ge=1, le=MAX_LINE_QUANTITY)


class ReserveStockInput(_Contract):
    """ReserveStock: hold the lines of an order. Lines may repeat a SKU; inventory sums them."""

    order_id: str = Field(min_length=1, max_length=64)
    lines: list[OrderLine] = Field(min_length=1, max_length=500)


class HoldRef(_Contract):
    """CommitStock and ReleaseStock act on the hold of one order."""

    order_id: str = Field(min_length=1, max_length=64)
    reason: str | None = Field(default=None, max_length=200, description="Why a hold is released")


class ShortSku(_Contract):
    sku: str
    requested: int
    available: int


class OutOfStockDetail(_Contract):
    """The `errorMessage` of ReserveStock's `OutOfStock` error (JSON, written by inventory's error), which
    the workflow hands to orders' MarkRejected: the order records the short SKUs without parsing prose."""

    message: str | None = None
    short: list[ShortSku] | None = None


class HoldResult(_Contract):
    """What every inventory task answers: the hold's state after the call."""

    order_id: str
    status: Literal["HELD", "COMMITTED", "RELEASED"]
    lines: list[OrderLine]
    expires_at: str | None = None
    changed: bool = Field(description="False when the call found the hold already in this state (a retry)")


class StockLow(_Contract):
    """Published by inventory when a SKU's available stock falls to or below its threshold, once per
    crossing; the envelope's eventId is `StockLow#{sku}#{crossing}`."""

    DETAIL_TYPE: ClassVar[str] = "StockLow"

    sku: str
    available: int
    threshold: int
    crossing: int = Field(ge=1)


class StockLevel(_Contract):
    """Inventory's read model: how much of a SKU is on sale, as the catalog's product page and customers'
    recommendations read it from inventory's table (read-only, through `common.stock.StockReader`).
    Field names are the stored attribute names; inventory's store writes them, and a test holds the two
    ends together."""

    sku: str
    available: int = Field(description="Units that can be ordered now")
    threshold: int = Field(description="At or below it the SKU is low (a page shows the count)")

    @property
    def in_stock(self) -> bool:
        return self.available > 0

    @property
    def is_low(self) -> bool:
        return self.available <= self.threshold


class AffiliateDay(_Contract):
    """Affiliates' read model: one affiliate's day (the shop's days), as its `GET /affiliates/me/stats`
    and reports' monthly statement read it from affiliates' table (read-only, through
    `common.affiliate_stats.AffiliateStatsReader`). Field names are the stored attribute names."""

    day: str = Field(description="YYYY-MM-DD")
    clicks: int = Field(default=0, description="Visitors who arrived with the affiliate's code (once a day each)")
    orders: int = Field(default=0, description="Orders that earned the affiliate a commission that day")
    earned: int = Field(default=0, description="Commissions earned that day, minor units")
    reversed: int = Field(default=0, description="Commissions refunds took back that day, minor units")


# ---------------------------------------------------------------- payments: workflow tasks and events


class CreatePaymentIntentInput(_Contract):
    order_id: str = Field(min_length=1, max_length=64)
    amount: Money
    customer_id: str | None = Field(default=None, max_length=128)


class PaymentIntentRef(_Contract):
    payment_intent_id: str
    client_secret: str = Field(description="For the browser's Stripe.js; never logged, never stored by payments")
    amount: Money


class AwaitPaymentInput(_Contract):
    order_id: str = Field(min_length=1, max_length=64)
    task_token: str = Field(min_length=1, max_length=2048)


class PaymentOutcome(_Contract):
    """What AwaitPayment resumes the workflow with once Stripe said the payment succeeded."""

    order_id: str
    payment_intent_id: str
    amount_received: int


class CancelPaymentInput(_Contract):
    order_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(default="cancelled", max_length=200)
    refund_if_paid: bool = Field(
        default=True, description="A compensation refunds a payment that was taken; a customer's request does not"
    )


class CancelPaymentResult(_Contract):
    order_id: str
    cancelled: bool = Field(description="False when the payment had already succeeded")
    refunded: Money | None = Field(default=None, description="Set when a succeeded payment was refunded instead")
    pending: bool = Field(
        default=False, description="Stripe could not confirm the cancel yet: the workflow's compensation finishes it"
    )


class RefundInput(_Contract):
    order_id: str = Field(min_length=1, max_length=64)
    refund_id: str = Field(min_length=1, max_length=64, description="The order's own id for this refund (idempotency)")
    amount: Money | None = Field(default=None, description="None refunds what is left")
    reason: str = Field(max_length=200)


class RefundResult(_Contract):
    order_id: str
    refund_id: str
    provider_refund_id: str
    amount: Money
    refunded_total: Money


class PaymentSucceeded(_Contract):
    DETAIL_TYPE: ClassVar[str] = "PaymentSucceeded"

    order_id: str
    payment_intent_id: str
    amount: Money
    # From Stripe's balance transaction for the charge; None when it could not be read (reports show
    # the fee as unknown, `feeUnknown`) and in events before 2026-12.
    fee: Money | None = Field(default=None, description="What Stripe kept")
    net: Money | None = Field(default=None, description="What the shop receives: amount - fee")
    charge_id: str | None = None
    balance_transaction_id: str | None = None


class PaymentFailed(_Contract):
    DETAIL_TYPE: ClassVar[str] = "PaymentFailed"

    order_id: str
    payment_intent_id: str
    reason: str


class RefundSucceeded(_Contract):
    DETAIL_TYPE: ClassVar[str] = "RefundSucceeded"

    order_id: str
    payment_intent_id: str
    refunded_total: Money
    # The refund's own balance transaction (None when unread, and in events before 2026-12): `amount` is
    # what went back to the customer, `fee` what Stripe returned of its fee (0 when it keeps it).
    refund_id: str | None = None
    amount: Money | None = None
    fee: Money | None = None
    net: Money | None = Field(
        default=None, description="What the refund takes off the shop's balance: amount - fee (Money is never negative)"
    )


class DisputeStatus(StrEnum):
    OPEN = "OPEN"
    WON = "WON"
    LOST = "LOST"


class PaymentDisputed(_Contract):
    """A customer's bank disputes a charge (`charge.dispute.created`): the amount is held by Stripe
    until the dispute closes."""

    DETAIL_TYPE: ClassVar[str] = "PaymentDisputed"

    order_id: str
    payment_intent_id: str
    dispute_id: str
    amount: Money
    reason: str = Field(max_length=200)
    opened_at: str
    # From the dispute's withdrawal balance transaction: Stripe's dispute fee, taken with the amount. 0 when
    # nothing was withdrawn (an inquiry); None when Stripe did not say, and in events before 2026-12.
    fee: Money | None = Field(default=None, description="What Stripe charged for the dispute")


class DisputeClosed(_Contract):
    """A dispute's outcome (`charge.dispute.closed`): WON gives the money back to the shop, LOST keeps
    it with the customer."""

    DETAIL_TYPE: ClassVar[str] = "DisputeClosed"

    order_id: str
    payment_intent_id: str
    dispute_id: str
    amount: Money
    status: DisputeStatus
    closed_at: str
    # From the reinstatement balance transaction of a dispute won: what Stripe gave back of its dispute
    # fee (0 where it keeps it, and when the shop lost); None when Stripe did not say, and before 2026-12.
    fee_returned: Money | None = Field(default=None, description="What Stripe gave back of the dispute fee")


class AttentionSource(StrEnum):
    """Who flagged an order for staff."""

    WORKFLOW = "workflow"
    RECONCILIATION = "reconciliation"
    WEBHOOK = "webhook"


class AttentionRequested(_Contract):
    """A domain found an order whose money or stock it could not put right by itself (a compensation
    that failed after every retry, a payment that reconciliation cannot explain). Orders flags the order
    for staff (`GET /admin/orders?attention=true`); staff re-drive it or settle it by hand."""

    DETAIL_TYPE: ClassVar[str] = "AttentionRequested"

    order_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=500)
    source: AttentionSource
    payment_intent_id: str | None = None


# ---------------------------------------------------------------- catalog: pricing for checkout


class PriceSkusInput(_Contract):
    skus: list[Sku] = Field(min_length=1, max_length=100)


class PricedSku(_Contract):
    sku: str
    product_id: str
    name: str
    category: str
    price: Money
    active: bool


class PriceSkusOutput(_Contract):
    """Prices as the catalog has them now; SKUs the catalog never had are in `unknown`."""

    items: list[PricedSku]
    unknown: list[str]


# ---------------------------------------------------------------- inventory: restock after a return


class RestockInput(_Contract):
    order_id: str = Field(min_length=1, max_length=64)
    lines: list[OrderLine] = Field(min_length=1, max_length=500)
    reason: str = Field(default="return", max_length=200)
    restock_id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="A return of some units (orders' refund id): restocked once per id; None: the whole order, once",
    )


class RestockResult(_Contract):
    order_id: str
    restocked: list[OrderLine]


# ---------------------------------------------------------------- orders: the events every other domain reads


class Attribution(_Contract):
    source: str | None = Field(default=None, max_length=100)
    medium: str | None = Field(default=None, max_length=100)
    campaign: str | None = Field(default=None, max_length=100)
    visitor_id: str | None = Field(
        default=None,
        max_length=64,
        description="The storefront's long-lived random visitor id, as its visit beacon sent it: ties the "
        "order to that visitor's affiliate click (None in orders before 2026-12 and from API clients)",
    )


class OrderedLine(_Contract):
    sku: str
    product_id: str
    name: str
    category: str
    quantity: int
    unit_price: Money
    line_total: Money
    # Set by pricing (common.pricing.PricedLine); None on lines of orders placed before 2026-12.
    discount: Money | None = Field(default=None, description="The line's share of the order's discount")
    tax_rate: PercentText | None = Field(default=None, description="The rate the line was taxed at, in percent")
    tax: Money | None = Field(default=None, description="The line's tax (in the line, or on top of it)")
    net: Money | None = Field(
        default=None, description="What the line comes to without tax, after its share of the discount"
    )

    @classmethod
    def of(cls, priced: PricedSku, quantity: int) -> "OrderedLine":
        """`quantity` units of a SKU at the catalog's price (`AmountTooLarge` past the largest amount):
        the one way quotes and checkout build a line, so the two cannot price it differently."""
        return cls(
            sku=priced.sku,
            product_id=priced.product_id,
            name=priced.name,
            category=priced.category,
            quantity=quantity,
            unit_price=priced.price,
            line_total=priced.price.times(quantity),
        )

    def priced_as(self, line: PricedLine) -> "OrderedLine":
        """This line with what pricing decided for it: its discount share, tax rate, tax and net."""
        currency = self.line_total.currency
        return self.model_copy(
            update={
                "discount": Money(amount=line.discount, currency=currency),
                "tax_rate": percent_text(line.tax_rate),
                "tax": Money(amount=line.tax, currency=currency),
                "net": Money(amount=line.net, currency=currency),
            }
        )


class TaxAtRate(_Contract):
    """Tax at one rate (`common.pricing.TaxLine`): `base` is what was taxed at `rate`, without tax and
    after the discount, `amount` the tax."""

    rate: PercentText
    base: Money
    amount: Money


class OrderStatus(StrEnum):
    """Where an order is in its workflow (orders' saga). Events carry it as text (`OrderSnapshot.status`);
    answers of orders and customers name it with this enum."""

    PENDING = "PENDING"
    AWAITING_PAYMENT = "AWAITING_PAYMENT"
    PAID = "PAID"
    SHIPPED = "SHIPPED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"
    REFUNDED = "REFUNDED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"


class PaymentStatus(StrEnum):
    """Where an order's money stands, derived by orders from the order's facts: PENDING (not paid yet),
    PAID (in full; an order a coupon covers entirely is paid with nothing to charge), PARTIALLY_REFUNDED,
    REFUNDED (everything paid was given back), FAILED (the payment was declined, could not be taken or
    did not arrive in time, so the order was cancelled), VOIDED (no money was taken and none will be:
    rejected, or cancelled before payment). Clients must tolerate values added later."""

    PENDING = "PENDING"
    PAID = "PAID"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
    REFUNDED = "REFUNDED"
    FAILED = "FAILED"
    VOIDED = "VOIDED"


class FulfillmentStatus(StrEnum):
    """Where an order's goods stand, derived by orders from the order's facts: UNFULFILLED (not shipped
    yet, and it still may be), SHIPPED, RETURNED (shipped, then refunded with its units put back on
    sale), CANCELLED (will never ship: rejected, cancelled, or refunded in full before shipment).
    Clients must tolerate values added later."""

    UNFULFILLED = "UNFULFILLED"
    SHIPPED = "SHIPPED"
    RETURNED = "RETURNED"
    CANCELLED = "CANCELLED"


class ShipmentInfo(_Contract):
    """How an order was shipped, as staff recorded it (`POST /orders/{id}/shipments`)."""

    carrier: str
    tracking_number: str
    shipped_at: str | None = None


class OrderSnapshot(_Contract):
    """The order as every order event carries it, so consumers (reports, customers, affiliates) never
    need to read the orders table."""

    order_id: str
    customer_id: str
    status: str
    lines: list[OrderedLine]
    subtotal: Money
    discount: Money
    # The defaults are for type checkers: a snapshot without them gets 0 in its total's currency (below).
    shipping: Money = Field(
        default=Money(amount=0, currency="EUR"),
        description="As charged (with tax when prices include it); 0 in events before 2026-12",
    )
    tax: Money = Field(
        default=Money(amount=0, currency="EUR"),
        description="The order's tax (in `total`, or on top of it); 0 in events before 2026-12",
    )
    total: Money
    refunded_total: Money
    # Pricing detail, for reports and commissions; empty/None in events published before 2026-12.
    shipping_tax: Money | None = Field(default=None, description="The part of `tax` that is on shipping")
    tax_lines: list[TaxAtRate] = Field(default_factory=list, description="The order's tax by rate")
    country: str | None = Field(default=None, description="Where it ships (ISO 3166-1 alpha-2): whose tax it is")
    merchandise_net: Money | None = Field(
        default=None, description="The lines without tax after the discount: what commissions are earned on"
    )
    refunded_merchandise_net: Money | None = Field(
        default=None, description="How much of `merchandise_net` refunds have given back so far"
    )
    email: str | None = Field(
        default=None, description="The buyer's email (from the token at checkout); None once erased"
    )
    shipping_address: "ShippingAddress | None" = Field(
        default=None, description="Where the order goes; None once erased, and in events before 2026-12"
    )
    shipment: ShipmentInfo | None = Field(default=None, description="Set once the order shipped")
    coupon_code: str | None = None
    affiliate_code: str | None = None
    attribution: Attribution | None = None
    created_at: str
    reason: str | None = None
    payment_status: PaymentStatus | None = Field(default=None, description="None in events published before 2026-12")
    fulfillment_status: FulfillmentStatus | None = Field(
        default=None, description="None in events published before 2026-12"
    )

    @model_validator(mode="before")
    @classmethod
    def _published_before_tax(cls, data: Any) -> Any:
        return charged_no_shipping_or_tax(data)


def charged_no_shipping_or_tax(data: Any) -> Any:
    """Orders and snapshots written before shipping and tax existed charged neither: 0 in the total's
    currency (a `mode="before"` validator's body, shared by `OrderSnapshot` and orders' `Order`)."""
    if isinstance(data, dict) and ("shipping" not in data or "tax" not in data):
        total = data.get("total")
        currency = (
            total.currency
            if isinstance(total, Money)
            else total.get("currency", "EUR")
            if isinstance(total, dict)
            else "EUR"
        )
        zero = {"amount": 0, "currency": currency}
        data = {"shipping": zero, "tax": zero} | data
    return data


class RefundedLine(_Contract):
    """Units of one order line that a refund by line gave back, with what they came to."""

    sku: str
    quantity: int = Field(ge=1)
    amount: Money = Field(description="What the units were paid: with their tax, after their discount share")
    tax: Money
    net: Money = Field(description="Without tax, after the discount share")


class OrderRefunded(_Contract):
    DETAIL_TYPE: ClassVar[str] = "OrderRefunded"

    order: OrderSnapshot
    refund_id: str
    amount: Money
    restocked: bool
    # What the refund gave back, split as the order was priced; empty/None in events before 2026-12.
    lines: list[RefundedLine] = Field(default_factory=list, description="Set on a refund by line")
    shipping: Money | None = Field(default=None, description="Shipping given back (as charged), if any")
    tax_lines: list[TaxAtRate] = Field(default_factory=list, description="The refund's tax by rate")
    merchandise_net: Money | None = Field(
        default=None, description="The refund's part of the order's `merchandise_net`"
    )


ORDER_EVENTS = ("OrderPlaced", "OrderPaid", "OrderRejected", "OrderCancelled", "OrderShipped")
"""Detail types whose detail data is an `OrderSnapshot` (OrderRefunded carries one inside)."""


# ---------------------------------------------------------------- orders: order states for payments' reconciliation

MAX_ORDER_STATES = 100


class OrderStatesInput(_Contract):
    """`OrderStatesFunction`'s input: payments' reconciliation asks how the orders its Stripe payments
    name stand, never reading the orders table itself."""

    order_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=MAX_ORDER_STATES
    )


class OrderState(_Contract):
    order_id: str
    status: str = Field(description="The order's status (orders' `OrderStatus` value)")
    total: Money
    refunded_total: Money
    payment_intent_id: str | None = Field(description="None until the order's PaymentIntent is recorded")


class OrderStatesOutput(_Contract):
    """The orders that exist, and the ids asked for that orders does not know (no such order)."""

    items: list[OrderState]
    unknown: list[str]


# ---------------------------------------------------------------- payments: erasure of a customer


class ForgetCustomerInput(_Contract):
    """`ForgetCustomerFunction`'s input: customers' `DELETE /me` asks payments to forget one of our
    customers (their Cognito sub)."""

    customer_id: str = Field(min_length=1, max_length=128)


class ForgetCustomerResult(_Contract):
    customer_id: str
    stripe_customer_deleted: bool = Field(description="False when there was no Stripe Customer (left) to delete")


# ---------------------------------------------------------------- affiliates: commissions, read by reports


class CommissionEarned(_Contract):
    """Published when an order's commission is first recorded; the envelope's eventId is
    `CommissionEarned#{orderId}` (an order has at most one affiliate), so a re-publication is a duplicate
    consumers drop."""

    DETAIL_TYPE: ClassVar[str] = "CommissionEarned"

    affiliate_id: str
    code: str
    order_id: str
    amount: Money = Field(description="rate times the order's net total")
    order_total: Money
    commission_rate: float
    status: str = Field(description="The commission's status when it was recorded (REVERSED if a refund came first)")
    payout_email: str | None = Field(default=None, description="Where the affiliate's monthly statement goes")


class AffiliateClicked(_Contract):
    """A storefront visit that arrived with an affiliate's code (`?ref=`), from reports' visit beacon;
    affiliates records it (the click that starts the attribution window, and the day's click count).
    No personal data: random ids the browser made, a code, a time."""

    DETAIL_TYPE: ClassVar[str] = "AffiliateClicked"

    code: str = Field(max_length=40, description="As the visit carried it; affiliates normalises it")
    visitor_id: str = Field(
        max_length=64, description="The long-lived visitor id, or the session id when the beacon sent none"
    )
    session_id: str = Field(max_length=64)
    clicked_at: str = Field(description="ISO 8601, when the beacon counted the visit")


class CommissionReversed(_Contract):
    """Published when refunds take back (more of) a commission; the envelope's eventId is
    `CommissionReversed#{orderId}#{reversedSoFar}`, so each step is one fact."""

    DETAIL_TYPE: ClassVar[str] = "CommissionReversed"

    affiliate_id: str
    order_id: str
    amount: Money = Field(description="What this step reversed")
    reversed_total: Money


class CommissionPaid(_Contract):
    """Published when a payout is complete; the envelope's eventId is `CommissionPaid#{payoutId}`."""

    DETAIL_TYPE: ClassVar[str] = "CommissionPaid"

    affiliate_id: str
    payout_id: str
    amount: Money = Field(description="The payout's total")
    commissions: int


# ---------------------------------------------------------------- customers' calls: cards, erasure, coupons


class CustomerRef(_Contract):
    """The input of the functions that act for one customer (their Cognito sub)."""

    customer_id: str = Field(pattern=r"^[A-Za-z0-9_.:@-]{1,128}$")


class SavedCard(_Contract):
    brand: str
    last4: str
    exp_month: int
    exp_year: int


class SavedCards(_Contract):
    """What payments' `ListPaymentMethodsFunction` answers: the cards Stripe keeps for the customer."""

    stripe_customer_id: str | None = Field(default=None, description="None until the customer's first payment")
    items: list[SavedCard] = Field(default_factory=list)


class AnonymisedOrders(_Contract):
    """What orders' `AnonymiseOrdersFunction` answers: the orders it redacted now, and those it left
    because they are still to ship."""

    anonymised: list[str] = Field(default_factory=list)
    open: list[str] = Field(default_factory=list)


class CouponType(StrEnum):
    """What a coupon's `value` is: a percentage of the eligible lines, or a fixed amount off them."""

    PERCENT = "percent"
    FIXED = "fixed"


class IssueCouponInput(_Contract):
    """What orders' `IssueCouponFunction` takes (customers' win-back deals). Its error `CouponCodeTaken`
    means a coupon with the code exists."""

    code: str = Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")
    type: CouponType
    value: int = Field(gt=0)
    currency: str | None = None
    customer_ids: list[str]
    max_redemptions: int = 1
    max_per_customer: int = 1
    valid_until: str


class IssuedCoupon(_Contract):
    code: str


class ShippingAddress(_Contract):
    """An address in checkout's `shippingAddress` shape."""

    name: str
    line1: str
    line2: str | None = None
    city: str
    postal_code: str
    country: str = Field(pattern=r"^[A-Z]{2}$")


OrderSnapshot.model_rebuild()  # its `shipping_address` names ShippingAddress, defined above
OrderRefunded.model_rebuild()


class DefaultAddress(_Contract):
    """What customers' `DefaultAddressFunction` answers: the customer's default shipping address, if any."""

    address: ShippingAddress | None


class CustomerErasure(_Contract):
    """Customers' read model of a right to be forgotten: the marker customers leaves when it erases a
    customer (`common.contacts`), read by notifications so that an erased customer is never emailed.
    The field's alias (`erasedAt`) is the stored attribute name; customers' store writes it."""

    erased_at: str


# ---------------------------------------------------------------- the registry the contract test reads

EVENTS: dict[str, type[_Contract]] = {
    **dict.fromkeys(ORDER_EVENTS, OrderSnapshot),
    OrderRefunded.DETAIL_TYPE: OrderRefunded,
    ProductChanged.DETAIL_TYPE: ProductChanged,
    StockLow.DETAIL_TYPE: StockLow,
    PaymentSucceeded.DETAIL_TYPE: PaymentSucceeded,
    PaymentFailed.DETAIL_TYPE: PaymentFailed,
    RefundSucceeded.DETAIL_TYPE: RefundSucceeded,
    PaymentDisputed.DETAIL_TYPE: PaymentDisputed,
    DisputeClosed.DETAIL_TYPE: DisputeClosed,
    AttentionRequested.DETAIL_TYPE: AttentionRequested,
    CommissionEarned.DETAIL_TYPE: CommissionEarned,
    CommissionReversed.DETAIL_TYPE: CommissionReversed,
    CommissionPaid.DETAIL_TYPE: CommissionPaid,
    AffiliateClicked.DETAIL_TYPE: AffiliateClicked,
}
"""Every event on the bus, by detail type: the model its `data` is, for the publisher and every consumer."""


@dataclass(frozen=True)
class Call:
    """A function another domain calls (a workflow task or a synchronous invoke): what it takes, what it
    answers, and the error types (exception class names) a caller may catch by name."""

    input: type[_Contract]
    output: type[_Contract]
    errors: tuple[str, ...] = ()


CALLS: dict[str, Call] = {
    "ReserveStockFunction": Call(ReserveStockInput, HoldResult, ("OutOfStock", "HoldReleased")),
    "CommitStockFunction": Call(HoldRef, HoldResult, ("OutOfStock", "HoldReleased")),
    "ReleaseStockFunction": Call(HoldRef, HoldResult, ("HoldCommitted",)),
    "RestockFunction": Call(RestockInput, RestockResult),
    "CreatePaymentIntentFunction": Call(CreatePaymentIntentInput, PaymentIntentRef, ("PaymentCanceled",)),
    "AwaitPaymentFunction": Call(
        AwaitPaymentInput, PaymentOutcome, ("PaymentFailed", "CancelRequested", "PaymentCanceled")
    ),
    "CancelPaymentFunction": Call(CancelPaymentInput, CancelPaymentResult),
    "RefundPaymentFunction": Call(RefundInput, RefundResult, ("PaymentRejected", "PaymentNotFound")),
    "PriceSkusFunction": Call(PriceSkusInput, PriceSkusOutput),
    "OrderStatesFunction": Call(OrderStatesInput, OrderStatesOutput),
    "ForgetCustomerFunction": Call(ForgetCustomerInput, ForgetCustomerResult),
    "ListPaymentMethodsFunction": Call(CustomerRef, SavedCards),
    "AnonymiseOrdersFunction": Call(CustomerRef, AnonymisedOrders),
    "IssueCouponFunction": Call(IssueCouponInput, IssuedCoupon, ("CouponCodeTaken",)),
    "DefaultAddressFunction": Call(CustomerRef, DefaultAddress),
}
"""Cross-domain functions by their logical id in `template.yaml`."""

READS: dict[str, type[_Contract]] = {
    "InventoryTable": StockLevel,
    "CustomersTable": CustomerErasure,
    "AffiliatesTable": AffiliateDay,
}
"""Tables another domain may read (logical id in `template.yaml`) → the owner's read model it reads
them through: the owner's key function and attribute names live with the model (`common.stock`)."""
