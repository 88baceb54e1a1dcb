"""What each event adds to the aggregates: pure functions from an event, read through its contract model,
to increments; and applying them. Every figure is a sum, so events may come in any order; each is
applied once (the store dedupes by event id).

Days are the shop's days (`SHOP_TIMEZONE`): an order counts on the day it was paid, a refund on the day
it was made. Money is in minor units of the shop's currency.

Items (partition / sort):
- `DAY#<date> / TOTAL`: orders, units, gross (before discounts), discounts, refunds
- `DAY#<date> / PRODUCT#<id>`: units, gross, views (visiting sessions), name, category
- `DAY#<date> / CUSTOMER#<id>`: orders, spent (after discounts), refunds
- `DAY#<date> / CAMPAIGN#<source|medium|campaign>`: orders, revenue, refunds, sessions
- `DAY#<date> / PAYMENT#<orderId>`: gross, fee (Stripe's, from `PaymentSucceeded`; `feeUnknown` 1 when it
  came without), feeReturned (of refunds, `RefundSucceeded`), commission, refunds, disputed, disputeLost
- `MONTH#<yyyy-mm> / AFFILIATE#<id>`: earned, reversed, paid (and the statement's address)
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from common.contracts import (
    CommissionEarned,
    CommissionPaid,
    CommissionReversed,
    DisputeClosed,
    DisputeStatus,
    OrderRefunded,
    OrderSnapshot,
    PaymentDisputed,
    PaymentSucceeded,
    RefundSucceeded,
)
from common.events import Received
from reports.models import Increment
from reports.store import ReportsStore

Commission = CommissionEarned | CommissionReversed | CommissionPaid


def day_of(at: datetime, zone: ZoneInfo) -> date:
    return at.astimezone(zone).date()


def campaign_key(source: str | None, medium: str | None, campaign: str | None) -> str | None:
    """`source|medium|campaign`, or None for an order or a visit that came without attribution."""
    labels = (source, medium, campaign)
    return "|".join(label or "-" for label in labels) if any(labels) else None


def apply(store: ReportsStore, event: Received, zone: ZoneInfo) -> bool:
    """Apply one event to the aggregates, once; False for a duplicate or an event that adds nothing."""
    found = increments(event, zone)
    return bool(found) and store.apply(event.event_id, found)


def increments(event: Received, zone: ZoneInfo) -> list[Increment]:
    """What `event` adds, by the model its detail type carries (`common.contracts.EVENTS`)."""
    day = f"DAY#{day_of(event.occurred_at, zone).isoformat()}"
    match event.payload:
        case OrderSnapshot() as order if event.detail_type == "OrderPaid":
            return _paid(order, day)
        case OrderSnapshot() as order if event.detail_type == "OrderCancelled":
            # Only a paid order cancelled before shipment carries money: the workflow refunded it in full.
            return _refund(order, order.refunded_total.amount, day) if order.refunded_total.amount else []
        case OrderRefunded() as refunded:
            return _refund(refunded.order, refunded.amount.amount, day)
        case CommissionEarned() | CommissionReversed() | CommissionPaid() as commission:
            return _commission(commission, event.occurred_at, zone, day)
        case PaymentSucceeded() | RefundSucceeded() | PaymentDisputed() | DisputeClosed() as payment:
            return _payment(payment, day)
        case _:
            return []


def _campaign_of(order: OrderSnapshot) -> str | None:
    if order.attribution is None:
        return None
    return campaign_key(order.attribution.source, order.attribution.medium, order.attribution.campaign)


def _paid(order: OrderSnapshot, day: str) -> list[Increment]:
    spent = order.total.amount
    found = [
        Increment(
            day,
            "TOTAL",
            {
                "orders": 1,
                "units": sum(line.quantity for line in order.lines),
                "gross": order.subtotal.amount,
                "discounts": order.discount.amount,
            },
        ),
        Increment(day, f"CUSTOMER#{order.customer_id}", {"orders": 1, "spent": spent}),
        Increment(day, f"PAYMENT#{order.order_id}", {"gross": spent}),
    ]
    per_product: dict[str, Increment] = {}
    for line in order.lines:
        seen = per_product.get(line.product_id)
        units = line.quantity + (seen.add["units"] if seen else 0)
        gross = line.line_total.amount + (seen.add["gross"] if seen else 0)
        per_product[line.product_id] = Increment(
            day,
            f"PRODUCT#{line.product_id}",
            {"units": units, "gross": gross},
            {"name": line.name, "category": line.category},
        )
    found += per_product.values()
    key = _campaign_of(order)
    if key:
        found.append(Increment(day, f"CAMPAIGN#{key}", {"orders": 1, "revenue": spent}))
    return found


def _refund(order: OrderSnapshot, amount: int, day: str) -> list[Increment]:
    found = [
        Increment(day, "TOTAL", {"refunds": amount}),
        Increment(day, f"CUSTOMER#{order.customer_id}", {"refunds": amount}),
        Increment(day, f"PAYMENT#{order.order_id}", {"refunds": amount}),
    ]
    key = _campaign_of(order)
    if key:
        found.append(Increment(day, f"CAMPAIGN#{key}", {"refunds": amount}))
    return found


def _payment(event: PaymentSucceeded | RefundSucceeded | PaymentDisputed | DisputeClosed, day: str) -> list[Increment]:
    """What Stripe did to the order's money, on the payments report's row of the day it happened. A fee
    that could not be read is counted as unknown (`feeUnknown`), never as 0; a refund's `fee` is what
    Stripe gave back of its fee (usually nothing). A dispute's amount counts when opened (`disputed`) and,
    if the shop lost it, again when closed (`disputeLost`): the money lost, which the net subtracts."""
    payment = f"PAYMENT#{event.order_id}"
    match event:
        case PaymentSucceeded(fee=None):
            return [Increment(day, payment, {"feeUnknown": 1})]
        case PaymentSucceeded(fee=fee) if fee is not None:
            return [Increment(day, payment, {"fee": fee.amount})]
        case RefundSucceeded(fee=fee) if fee is not None and fee.amount:
            return [Increment(day, payment, {"feeReturned": fee.amount})]
        case PaymentDisputed():
            return [Increment(day, payment, {"disputed": event.amount.amount})]
        case DisputeClosed(status=DisputeStatus.LOST):
            return [Increment(day, payment, {"disputeLost": event.amount.amount})]
    return []


def _commission(commission: Commission, occurred_at: datetime, zone: ZoneInfo, day: str) -> list[Increment]:
    value = commission.amount.amount
    month = f"MONTH#{day_of(occurred_at, zone).strftime('%Y-%m')}"
    affiliate = f"AFFILIATE#{commission.affiliate_id}"
    match commission:
        case CommissionEarned():
            statement = {"email": commission.payout_email} if commission.payout_email else {}
            return [
                Increment(month, affiliate, {"earned": value}, statement),
                Increment(day, f"PAYMENT#{commission.order_id}", {"commission": value}),
            ]
        case CommissionReversed():
            return [
                Increment(month, affiliate, {"reversed": value}),
                Increment(day, f"PAYMENT#{commission.order_id}", {"commission": -value}),
            ]
        case CommissionPaid():
            return [Increment(month, affiliate, {"paid": value})]
