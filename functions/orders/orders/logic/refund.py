"""Staff refunds: part or all of a paid order through payments, optionally putting its units back."""

import hashlib
from datetime import datetime

from common.contracts import OrderLine, OrderRefunded, RefundInput, RestockInput
from common.errors import ServiceUnavailable, ValidationFailed
from common.events import new_event
from common.idempotency import mark_replayed
from common.ids import new_id
from common.money import Money
from orders.errors import IdempotencyKeyReused, OrderNotFound, RefundNotPossible
from orders.logic.shared import digest, existing
from orders.models import REFUNDABLE, Actor, Order, OrderStatus, Refund, RefundHold, RefundIn
from orders.ports import Ports
from orders.store import OrdersStore

RECORD_ATTEMPTS = 5


def refund(
    ports: Ports, order_id: str, request: RefundIn, idempotency_key: str | None, actor: Actor | None = None
) -> Order:
    """Refund part or all of a paid order through Stripe, optionally putting its units back on sale.
    The refund's id comes from the Idempotency-Key, so a retried request refunds once; the same key with
    another body is `IdempotencyKeyReused`. The amount is set aside on the order (a conditional write)
    before payments is asked, so refunds racing under different keys never refund more than was paid.
    Payments' refusal gives the amount back; any other failure keeps it set aside (the refund may have
    been made), so a retry under the same key finishes it."""
    store = ports.store
    at = ports.clock()
    order = existing(store, order_id)
    refund_id = f"r_{hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]}" if idempotency_key else new_id("r")
    request_hash = digest(request)
    made = next((r for r in order.refunds if r.refund_id == refund_id), None)
    if made is not None:
        if made.request_hash not in (None, request_hash):
            raise IdempotencyKeyReused("refund")
        mark_replayed()
        return order
    hold = order.refund_holds.get(refund_id) or _hold(store, order, refund_id, request, request_hash, at)
    if hold.request_hash != request_hash:
        raise IdempotencyKeyReused("refund")
    try:
        result = ports.payments.refund(
            RefundInput(order_id=order_id, refund_id=refund_id, amount=hold.amount, reason=request.reason)
        )
    except RefundNotPossible:
        store.release_refund(order_id, refund_id, hold.amount.amount)
        raise
    restocked = order.restocked
    if request.restock and not order.restocked:
        lines = [OrderLine(sku=line.sku, quantity=line.quantity) for line in order.lines]
        ports.inventory.restock(RestockInput(order_id=order_id, lines=lines, reason=request.reason))
        restocked = True
    entry = Refund(
        refund_id=refund_id,
        amount=result.amount,
        reason=request.reason,
        restock=request.restock,
        at=at,
        request_hash=request_hash,
    )
    updated = _record_refund(store, order_id, entry, restocked=restocked, now=at, actor=actor)
    event = OrderRefunded(
        order=updated.snapshot(), refund_id=refund_id, amount=result.amount, restocked=request.restock
    )
    ports.publish([new_event(OrderRefunded.DETAIL_TYPE, f"OrderRefunded#{order_id}#{refund_id}", event)])
    if updated.status is OrderStatus.REFUNDED and updated.shipment is None and updated.ship_token:
        ports.workflow.fail(updated.ship_token, "OrderRefunded", "refunded before shipment")
    return updated


def _hold(
    store: OrdersStore, order: Order, refund_id: str, request: RefundIn, request_hash: str, at: datetime
) -> RefundHold:
    """Set the refund's amount aside on the order: what is asked, or all that is neither refunded nor
    held for another refund. `RefundNotPossible` if that much is not left (a refund racing under another
    key may have taken it); a 503 if this very refund is being set aside by a concurrent retry."""
    if order.status not in REFUNDABLE:
        raise RefundNotPossible(f"order {order.order_id} is {order.status.value}: there is no payment to refund")
    not_refunded = order.total.amount - order.refunded_total.amount
    remaining = not_refunded - _held(order)
    amount = request.amount.money() if request.amount else Money(amount=remaining, currency=order.total.currency)
    if amount.currency != order.total.currency:
        raise ValidationFailed(
            f"refunds of this order are in {order.total.currency}",
            details=[{"field": "body.amount.currency", "message": "not the order's currency", "type": "currency"}],
        )
    if not 0 < amount.amount <= remaining:
        raise RefundNotPossible(f"cannot refund {amount.amount}: {remaining} is left to refund")
    hold = RefundHold(amount=amount, request_hash=request_hash, at=at)
    if store.reserve_refund(order.order_id, refund_id, hold, left=not_refunded) is not None:
        return hold
    current = store.get_order(order.order_id) or order
    if refund_id in current.refund_holds or any(r.refund_id == refund_id for r in current.refunds):
        raise ServiceUnavailable("this refund is being made right now; retry to see it")
    if current.status not in REFUNDABLE:
        raise RefundNotPossible(f"order {order.order_id} is {current.status.value}: there is no payment to refund")
    left = current.total.amount - current.refunded_total.amount - _held(current)
    raise RefundNotPossible(f"cannot refund {amount.amount}: {max(left, 0)} is left to refund")


def _held(order: Order) -> int:
    return sum(h.amount.amount for h in order.refund_holds.values())


def _record_refund(
    store: OrdersStore, order_id: str, entry: Refund, *, restocked: bool, now: datetime, actor: Actor | None = None
) -> Order:
    """Record a refund payments made: the order's refunded total grows by its amount, and the order is
    REFUNDED once nothing is left. Conditional on the total read, so refunds finishing together each
    count (a lost race reads again)."""
    for _ in range(RECORD_ATTEMPTS):
        current = store.get_order(order_id)
        if current is None:
            raise OrderNotFound(order_id)
        if any(r.refund_id == entry.refund_id for r in current.refunds):
            return current
        before = current.refunded_total.amount
        after = Money(amount=before + entry.amount.amount, currency=current.total.currency)
        to = OrderStatus.REFUNDED if after.amount >= current.total.amount else OrderStatus.PARTIALLY_REFUNDED
        recorded = store.record_refund(
            order_id,
            entry,
            to=to,
            refunded_total=after.model_dump(),
            refunded_before=before,
            restocked=restocked or current.restocked,
            now=now,
            actor=actor,
        )
        if recorded is not None:
            return recorded
    raise ServiceUnavailable("refunds of this order are busy; retry with the same Idempotency-Key")
