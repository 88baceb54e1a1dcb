"""Which email an event makes, for whom, and with what in it. Pure: no AWS, no clock.

Customers hear about their order (paid, shipped, refunded, cancelled — a cancellation because the payment
failed or never came is the payment-failed email, with the way back to the shop); staff hear about low
stock, orders flagged for attention, and disputes. An order event without the buyer's email (erased, or
published before orders kept it) makes no email."""

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from common.contracts import (
    AttentionRequested,
    DisputeClosed,
    OrderRefunded,
    OrderSnapshot,
    PaymentDisputed,
    PaymentStatus,
    StockLow,
)
from common.events import Received
from notifications.logic.render import render
from notifications.models import Email


@dataclass(frozen=True)
class Shop:
    """What every email may show of the shop: where to go back to, and where replies go."""

    url: str
    support_email: str


@dataclass(frozen=True)
class Draft:
    """An email before its recipients are checked: for a customer (`customer_id`, `to` their address)
    or for staff (`customer_id` None)."""

    email: Email
    customer_id: str | None


CUSTOMER_EVENTS = ("OrderPaid", "OrderShipped", "OrderRefunded", "OrderCancelled")
STAFF_EVENTS = (
    StockLow.DETAIL_TYPE,
    AttentionRequested.DETAIL_TYPE,
    PaymentDisputed.DETAIL_TYPE,
    DisputeClosed.DETAIL_TYPE,
)


def compose(received: Received, shop: Shop, staff: list[str]) -> Draft | None:
    """The email `received` makes, or None (an event this function does not mail, an order without the
    buyer's address, a staff alert with no staff address configured)."""
    match received.detail_type:
        case "OrderPaid" | "OrderShipped" | "OrderCancelled":
            order = received.payload_as(OrderSnapshot)
            return _customer(received.event_id, _template_of(received.detail_type, order), order, shop, {})
        case OrderRefunded.DETAIL_TYPE:
            refund = received.payload_as(OrderRefunded)
            extra = {"refund": refund, "names": {line.sku: line.name for line in refund.order.lines}}
            return _customer(received.event_id, "order_refunded", refund.order, shop, extra)
        case StockLow.DETAIL_TYPE:
            low = received.payload_as(StockLow)
            return _staff(f"StockLow#{low.sku}#{low.crossing}", "staff_stock_low", low, shop, staff)
        case AttentionRequested.DETAIL_TYPE:
            return _staff(received.event_id, "staff_attention", received.payload, shop, staff)
        case PaymentDisputed.DETAIL_TYPE:
            return _staff(received.event_id, "staff_dispute_opened", received.payload, shop, staff)
        case DisputeClosed.DETAIL_TYPE:
            return _staff(received.event_id, "staff_dispute_closed", received.payload, shop, staff)
    return None


def _template_of(detail_type: str, order: OrderSnapshot) -> str:
    if detail_type == "OrderCancelled":
        # The workflow cancels an order whose payment was declined, failed or did not arrive in time with
        # the payment FAILED; any other cancellation (the customer's, staff's, a sold-out item) is VOIDED
        # or refunded.
        return "payment_failed" if order.payment_status is PaymentStatus.FAILED else "order_cancelled"
    return {"OrderPaid": "order_paid", "OrderShipped": "order_shipped"}[detail_type]


def _customer(key: str, template: str, order: OrderSnapshot, shop: Shop, extra: dict[str, Any]) -> Draft | None:
    if not order.email:
        return None
    values = {"order": order, "shop": shop, **extra}
    subject, html, text = render(template, values)
    return Draft(Email(key=key, to=(order.email,), subject=subject, html=html, text=text), order.customer_id)


def _staff(key: str, template: str, payload: BaseModel, shop: Shop, staff: list[str]) -> Draft | None:
    if not staff:
        return None
    subject, html, text = render(template, {"event": payload, "shop": shop})
    return Draft(Email(key=key, to=tuple(staff), subject=subject, html=html, text=text), None)
