"""What customers bought, from the orders domain's events, each applied exactly once.

An event changes the customer's own items (the order as the events told it, the summary, what they
bought), written in one transaction with the event's `CUSTOMER` marker and guarded by the versions read;
a `DONE` marker makes a plain duplicate cost one read. The shop-wide ranked counters an `OrderPaid` moves
(co-purchases, best sellers) are not moved here: they are hot items every order writes, so they are
counted from their own queue in batches (`customers.counters`).

Out of order: a refund (or a cancellation that refunded) proves the order was paid, so whichever of
`OrderPaid` and `OrderRefunded` comes first, the order ends counted once with its net value; the
refunded total only grows (the largest seen wins) and a cancellation is final. The payment and
fulfillment statuses orders reports only move forward too (the furthest seen wins). `OrderShipped` is
read for those alone: it counts nothing.
"""

from collections import Counter as Tally
from datetime import UTC, datetime
from typing import Literal

from common.contracts import FulfillmentStatus, OrderRefunded, OrderSnapshot, PaymentStatus
from common.errors import ServiceUnavailable
from common.events import Received
from customers.models import OrderRecord, PurchasedLine, RefundEntry, Summary
from customers.store import AlreadyApplied, Contended, CustomersStore

ORDER_PAID, ORDER_REFUNDED, ORDER_CANCELLED = "OrderPaid", "OrderRefunded", "OrderCancelled"
ORDER_SHIPPED = "OrderShipped"
HANDLED = (ORDER_PAID, ORDER_REFUNDED, ORDER_CANCELLED, ORDER_SHIPPED)
_ATTEMPTS = 8
_RANK = {"PENDING": 0, "AWAITING_PAYMENT": 1, "PAID": 2, "SHIPPED": 3, "PARTIALLY_REFUNDED": 4, "REFUNDED": 5}
# How far along each status is; an order never moves back. Values of one rank exclude each other.
_PAYMENT_RANK = {
    PaymentStatus.PENDING: 0,
    PaymentStatus.PAID: 1,
    PaymentStatus.FAILED: 1,
    PaymentStatus.VOIDED: 1,
    PaymentStatus.PARTIALLY_REFUNDED: 2,
    PaymentStatus.REFUNDED: 3,
}
_FULFILLMENT_RANK = {
    FulfillmentStatus.UNFULFILLED: 0,
    FulfillmentStatus.SHIPPED: 1,
    FulfillmentStatus.CANCELLED: 1,
    FulfillmentStatus.RETURNED: 2,
}

Outcome = Literal["applied", "duplicate", "ignored"]


def apply(store: CustomersStore, received: Received, *, now: datetime | None = None) -> Outcome:
    """Apply one order event (read through its contract by `common.events.receive`)."""
    detail_type = received.detail_type
    if detail_type not in HANDLED:
        return "ignored"
    at = now or datetime.now(UTC)
    event_id = received.event_id
    if store.is_applied(event_id, "DONE"):
        return "duplicate"
    refund: RefundEntry | None = None
    if detail_type == ORDER_REFUNDED:
        refunded = received.payload_as(OrderRefunded)
        snapshot = refunded.order
        refund = RefundEntry(refund_id=refunded.refund_id, amount=refunded.amount.amount, at=received.occurred_at)
    else:
        snapshot = received.payload_as(OrderSnapshot)
    erased = store.erased_at(snapshot.customer_id)
    forgotten = erased is not None and _created(snapshot) <= erased
    fresh = not forgotten and _apply_to_customer(store, event_id, detail_type, snapshot, refund, at)
    if not forgotten and detail_type == ORDER_PAID:
        _index_buyer(store, snapshot)
    if detail_type == ORDER_PAID:
        for line in snapshot.lines:
            store.note_category(line.product_id, name=line.name, category=line.category, at=_created(snapshot))
    store.mark_applied(event_id, "DONE", at)
    return "applied" if fresh else "duplicate"


# ---------------------------------------------------------------- the customer's items


def _index_buyer(store: CustomersStore, snapshot: OrderSnapshot) -> None:
    """Make a paying customer findable by support even if they never saved a profile: by the email of
    their token at checkout (`OrderSnapshot.email`); a profile's own email and name win where there is one."""
    profile = store.get_profile(snapshot.customer_id)
    email = (profile.email if profile else None) or snapshot.email
    name = profile.name if profile else None
    if email or name:
        store.index_customer(snapshot.customer_id, email=email, name=name)


def _apply_to_customer(
    store: CustomersStore,
    event_id: str,
    detail_type: str,
    snapshot: OrderSnapshot,
    refund: RefundEntry | None,
    now: datetime,
) -> bool:
    sub = snapshot.customer_id
    for _ in range(_ATTEMPTS):
        old_order = store.get_order(sub, snapshot.order_id)
        old_summary = store.get_summary(sub)
        order = merged(old_order, detail_type, snapshot, refund)
        summary = reshaped(old_summary or Summary(), old_order, order)
        try:
            store.apply_order(
                sub,
                event_id,
                before=(old_order, old_summary),
                after=(order, summary),
                bought=_units_delta(old_order, order),
                now=now,
            )
        except AlreadyApplied:
            return False
        except Contended:
            continue
        return True
    raise ServiceUnavailable("the customer's history is busy; the event will be retried")


def _created(snapshot: OrderSnapshot) -> datetime:
    created = datetime.fromisoformat(snapshot.created_at)
    return created if created.tzinfo else created.replace(tzinfo=UTC)


def merged(
    old: OrderRecord | None, detail_type: str, snapshot: OrderSnapshot, refund: RefundEntry | None
) -> OrderRecord:
    """The order after one more event, whatever order the events come in."""
    base = old or OrderRecord(
        order_id=snapshot.order_id,
        status=snapshot.status,
        currency=snapshot.total.currency,
        total=snapshot.total.amount,
        lines=tuple(
            PurchasedLine(
                product_id=line.product_id,
                sku=line.sku,
                name=line.name,
                category=line.category,
                quantity=line.quantity,
                line_total=line.line_total.amount,
            )
            for line in snapshot.lines
        ),
        created_at=_created(snapshot),
    )
    refunded = max(base.refunded, snapshot.refunded_total.amount)
    paid = (
        base.paid
        or detail_type in (ORDER_PAID, ORDER_REFUNDED)
        or (detail_type == ORDER_CANCELLED and snapshot.refunded_total.amount > 0)
    )
    cancelled = base.cancelled or detail_type == ORDER_CANCELLED
    if cancelled:
        status = "CANCELLED"
    elif _RANK.get(snapshot.status, 0) >= _RANK.get(base.status, 0):
        status = snapshot.status
    else:
        status = base.status
    refunds = base.refunds
    if refund is not None and all(r.refund_id != refund.refund_id for r in refunds):
        refunds = (*refunds, refund)
    return base.model_copy(
        update={
            "status": status,
            "refunded": refunded,
            "paid": paid,
            "cancelled": cancelled,
            "refunds": refunds,
            "version": base.version + 1,
            "reported_payment_status": _furthest(base.reported_payment_status, snapshot.payment_status, _PAYMENT_RANK),
            "reported_fulfillment_status": _furthest(
                base.reported_fulfillment_status, snapshot.fulfillment_status, _FULFILLMENT_RANK
            ),
        }
    )


def _furthest[S: (PaymentStatus, FulfillmentStatus)](
    known: S | None, reported: S | None, rank: dict[S, int]
) -> S | None:
    """The status further along of the one known and the one an event reports (None: not reported)."""
    if known is None or (reported is not None and rank[reported] > rank[known]):
        return reported
    return known


def _contribution(order: OrderRecord | None) -> tuple[int, int, Tally[str]]:
    """What an order adds to its customer's summary: (orders, net value, units per category)."""
    if order is None or not order.counted:
        return 0, 0, Tally()
    categories: Tally[str] = Tally()
    for line in order.lines:
        categories[line.category] += line.quantity
    return 1, order.total - order.refunded, categories


def reshaped(summary: Summary, old: OrderRecord | None, new: OrderRecord) -> Summary:
    """The summary with the old contribution of the order replaced by its new one."""
    old_count, old_net, old_categories = _contribution(old)
    new_count, new_net, new_categories = _contribution(new)
    value = dict(summary.lifetime_value)
    value[new.currency] = value.get(new.currency, 0) + new_net - old_net
    categories = Tally(summary.categories)
    categories.update(new_categories)
    categories.subtract(old_categories)
    last = summary.last_order_at
    if new.paid and (last is None or new.created_at > last):
        last = new.created_at
    return Summary(
        lifetime_value=value,
        order_count=summary.order_count + new_count - old_count,
        last_order_at=last,
        categories={name: units for name, units in sorted(categories.items()) if units > 0},
        version=summary.version + 1,
    )


def _units(order: OrderRecord | None) -> Tally[str]:
    units: Tally[str] = Tally()
    if order is not None and order.counted:
        for line in order.lines:
            units[line.product_id] += line.quantity
    return units


def _units_delta(old: OrderRecord | None, new: OrderRecord) -> dict[str, int]:
    delta = _units(new)
    delta.subtract(_units(old))
    return {product_id: units for product_id, units in delta.items() if units}
