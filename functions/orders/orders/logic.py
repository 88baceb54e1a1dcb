"""Order use cases. No HTTP, no Lambda events, no boto3: the store and the ports (`orders.ports`) are
passed in, so the rules read in one place and tests run them against fakes of our own ports."""

import contextlib
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from common.auth import ADMIN, SUPPORT, Caller
from common.contracts import (
    CancelPaymentInput,
    OrderedLine,
    OrderRefunded,
    OrderState,
    OrderStatesOutput,
    RefundInput,
    RestockInput,
)
from common.contracts import OrderLine as StockLine
from common.cursor import decode_cursor, encode_cursor
from common.errors import Conflict, ServiceUnavailable, ValidationFailed
from common.events import DomainEvent, new_event
from common.ids import new_id
from common.money import MAX_AMOUNT, AmountTooLarge, Money, minimum_charge
from orders import coupons
from orders.errors import (
    BelowMinimumCharge,
    CouponCodeTaken,
    IdempotencyKeyReused,
    InvalidTransition,
    NotCancellable,
    OrderNotFound,
    RefundNotPossible,
    UnknownSkus,
)
from orders.models import (
    OPEN,
    REFUNDABLE,
    CheckoutIn,
    Order,
    OrderStatus,
    Refund,
    RefundHold,
    RefundIn,
    ShipmentIn,
    StatusChange,
)
from orders.ports import Customers, Inventory, Payments, Pricing, Workflow
from orders.store import CouponExists, CouponUsedUp, KeyTaken, OrdersStore

Publisher = Callable[[list[DomainEvent]], None]


@dataclass(frozen=True)
class Deadlines:
    """How long the workflow waits for the payment (the stock hold window) and for the shipment."""

    payment_seconds: int = 15 * 60
    shipment_seconds: int = 30 * 24 * 3600


ORDER_ID_PREFIX = "o"
STAFF = (ADMIN, SUPPORT)
EVENT_OF = {
    OrderStatus.PAID: "OrderPaid",
    OrderStatus.REJECTED: "OrderRejected",
    OrderStatus.CANCELLED: "OrderCancelled",
    OrderStatus.SHIPPED: "OrderShipped",
}


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def order_event(order: Order, detail_type: str) -> DomainEvent:
    return new_event(detail_type, f"{detail_type}#{order.order_id}", order.snapshot())


# ---------------------------------------------------------------- checkout


def request_hash(request: CheckoutIn) -> str:
    canonical = json.dumps(request.model_dump(mode="json", by_alias=True), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def checkout(
    store: OrdersStore,
    pricing: Pricing,
    customers: Customers,
    workflow: Workflow,
    publish: Publisher,
    caller: Caller,
    request: CheckoutIn,
    idempotency_key: str,
    *,
    deadlines: Deadlines = Deadlines(),
    now: datetime | None = None,
) -> Order:
    """Price the order from the catalog, write it PENDING and start its workflow. The same key from the
    same customer answers the same order, even when retries race; with another body it is a 409."""
    digest = request_hash(request)
    replay = _replay(store, workflow, publish, caller, idempotency_key, digest, deadlines)
    if replay is not None:
        return replay
    at = _now(now)
    lines = _priced_lines(pricing, request)
    currency = lines[0].unit_price.currency
    subtotal = Money(amount=sum(line.line_total.amount for line in lines), currency=currency)
    order_id = new_id(ORDER_ID_PREFIX)
    coupon = _coupon(store, request.coupon_code) if request.coupon_code else None
    off = (
        coupons.discount(
            coupon,
            lines,
            customer_id=caller.sub,
            has_earlier_orders=coupon.first_order_only and store.has_orders(caller.sub, excluding=order_id),
            redeemed_by_customer=store.coupon_uses(coupon.code, caller.sub),
            now=at,
        )
        if coupon
        else Money(amount=0, currency=currency)
    )
    address = (
        request.shipping_address.model_dump(mode="json", by_alias=True, exclude_none=True)
        if request.shipping_address
        else None
    )
    address = address or customers.default_address(caller.sub)
    if address is None:
        raise ValidationFailed(
            "no shipping address given, and none saved as default",
            details=[
                {"field": "body.shippingAddress", "message": "required without a default address", "type": "missing"}
            ],
        )
    total = subtotal - off
    if 0 < total.amount < minimum_charge(currency):
        raise BelowMinimumCharge(total.amount, minimum_charge(currency), currency)
    order = Order(
        order_id=order_id,
        customer_id=caller.sub,
        status=OrderStatus.PENDING,
        lines=tuple(lines),
        subtotal=subtotal,
        discount=off,
        total=total,
        refunded_total=Money(amount=0, currency=currency),
        shipping_address=address,
        coupon_code=coupon.code if coupon else None,
        affiliate_code=request.affiliate_code,
        attribution=request.attribution.model_dump() if request.attribution else None,
        history=(StatusChange(status=OrderStatus.PENDING, at=at),),
        created_at=at,
        updated_at=at,
    )
    try:
        store.create(order, idempotency_key, digest, coupon)
    except CouponUsedUp as used_up:
        assert coupon is not None
        if used_up.per_customer:
            raise coupons.rejected("coupon_used_by_customer", f"you have used coupon {coupon.code} already") from None
        raise coupons.rejected("coupon_exhausted", f"coupon {coupon.code} has been used up") from None
    except KeyTaken:
        raced = _replay(store, workflow, publish, caller, idempotency_key, digest, deadlines)
        if raced is None:
            raise ServiceUnavailable("checkout is busy; retry") from None
        return raced
    _start(workflow, publish, order, deadlines)
    return order


def _coupon(store: OrdersStore, code: str) -> coupons.Coupon:
    coupon = store.get_coupon(code.upper())
    if coupon is None:
        raise coupons.rejected("coupon_not_found", f"there is no coupon {code}")
    return coupon


def _replay(
    store: OrdersStore,
    workflow: Workflow,
    publish: Publisher,
    caller: Caller,
    key: str,
    digest: str,
    deadlines: Deadlines,
) -> Order | None:
    record = store.idempotency_record(caller.sub, key)
    if record is None:
        return None
    order_id, recorded_digest = record
    if recorded_digest != digest:
        raise IdempotencyKeyReused
    order = store.get(order_id)
    if order is None:
        raise ServiceUnavailable("checkout is busy; retry")
    if order.status is OrderStatus.PENDING:
        _start(workflow, publish, order, deadlines)  # the first attempt may have died before starting it
    return order


def _start(workflow: Workflow, publish: Publisher, order: Order, deadlines: Deadlines) -> None:
    workflow.start(order.order_id, _execution_input(order, deadlines))
    publish([order_event(order, "OrderPlaced")])


def _execution_input(order: Order, deadlines: Deadlines) -> dict[str, Any]:
    return {
        "orderId": order.order_id,
        "customerId": order.customer_id,
        "lines": [{"sku": line.sku, "quantity": line.quantity} for line in order.lines],
        "amount": order.total.model_dump(),
        "holdSeconds": deadlines.payment_seconds,
        "shipmentSeconds": deadlines.shipment_seconds,
    }


def _priced_lines(pricing: Pricing, request: CheckoutIn) -> list[OrderedLine]:
    priced = pricing.price(list(dict.fromkeys(item.sku for item in request.items)))
    by_sku = {item.sku: item for item in priced.items}
    problems = []
    for index, item in enumerate(request.items):
        found = by_sku.get(item.sku)
        if found is None:
            problems.append((index, item.sku, "unknown"))
        elif not found.active:
            problems.append((index, item.sku, "no longer sold"))
    if problems:
        raise UnknownSkus(problems)
    lines = []
    for index, item in enumerate(request.items):
        found = by_sku[item.sku]
        try:
            line_total = found.price.times(item.quantity)
        except AmountTooLarge as too_large:
            raise _too_large(too_large.message, f"body.items.{index}.quantity") from None
        lines.append(
            OrderedLine(
                sku=item.sku,
                product_id=found.product_id,
                name=found.name,
                category=found.category,
                quantity=item.quantity,
                unit_price=found.price,
                line_total=line_total,
            )
        )
    if sum(line.line_total.amount for line in lines) > MAX_AMOUNT:
        raise _too_large(f"the order comes to more than {MAX_AMOUNT} minor units", "body.items")
    return lines


def _too_large(message: str, field: str) -> AmountTooLarge:
    return AmountTooLarge(message, details=[{"field": field, "message": message, "type": AmountTooLarge.code}])


# ---------------------------------------------------------------- reads


def readable(store: OrdersStore, caller: Caller, order_id: str) -> Order:
    """The order if the caller may see it: its customer, or staff. Anyone else gets the same 404 as
    for an order that does not exist."""
    order = store.get(order_id) if _is_order_id(order_id) else None
    if order is None or (order.customer_id != caller.sub and not caller.is_in(*STAFF)):
        raise OrderNotFound(order_id)
    return order


def my_orders(store: OrdersStore, caller: Caller, *, cursor: str | None, limit: int) -> tuple[list[Order], str | None]:
    scope = f"orders|customer|{caller.sub}"
    page = store.by_customer(caller.sub, start_key=decode_cursor(cursor, scope), limit=limit)
    return page.items, encode_cursor(page.next_key, scope)


def orders_by_status(
    store: OrdersStore, status: OrderStatus, *, cursor: str | None, limit: int
) -> tuple[list[Order], str | None]:
    scope = f"orders|status|{status.value}"
    page = store.by_status(status, start_key=decode_cursor(cursor, scope), limit=limit)
    return page.items, encode_cursor(page.next_key, scope)


def _is_order_id(order_id: str) -> bool:
    return order_id.startswith(f"{ORDER_ID_PREFIX}_") and len(order_id) == 28 and order_id[2:].isalnum()


# ---------------------------------------------------------------- cancellation


def cancel(
    store: OrdersStore,
    payments: Payments,
    workflow: Workflow,
    caller: Caller,
    order_id: str,
    reason: str | None,
    *,
    now: datetime | None = None,
) -> Order:
    """Ask for an order to be cancelled before it ships. The workflow does the undoing (cancel or refund
    the payment, put the stock back) and marks it CANCELLED; this records the request and tells it."""
    order = readable(store, caller, order_id)
    if order.status in (OrderStatus.CANCELLED, OrderStatus.REJECTED):
        return order
    if order.status not in OPEN:
        raise NotCancellable(order_id, order.status.value)
    who = "customer" if order.customer_id == caller.sub else "staff"
    why = reason or f"cancelled by the {who}"
    cancellation = {"by": caller.sub, "role": who, "reason": why, "at": _now(now).isoformat()}
    statuses = {f":open{i}": s.value for i, s in enumerate(sorted(OPEN))}
    recorded = store.set_fields(
        order_id,
        {"cancellation": cancellation},
        condition=f"attribute_not_exists(cancellation) AND #status IN ({', '.join(statuses)})",
        values=statuses,
    )
    order = recorded or readable(store, caller, order_id)
    if order.status not in OPEN:
        raise NotCancellable(order_id, order.status.value)
    if order.status is not OrderStatus.PAID:
        result = payments.cancel(CancelPaymentInput(order_id=order_id, reason=why, refund_if_paid=False))
        if result.cancelled or result.pending:  # pending: Stripe is down, the workflow's compensation retries
            return order
        order = readable(store, caller, order_id)  # paid meanwhile: the shipment step undoes it
    if order.ship_token:
        workflow.fail(order.ship_token, "OrderCancelled", why)
    return order


# ---------------------------------------------------------------- shipment


def ship(
    store: OrdersStore,
    workflow: Workflow,
    publish: Publisher,
    order_id: str,
    request: ShipmentIn,
    *,
    now: datetime | None = None,
) -> Order:
    at = _now(now)
    shipment = {**request.model_dump(mode="json", by_alias=True), "shippedAt": at.isoformat()}
    order = store.get(order_id) if _is_order_id(order_id) else None
    if order is None:
        raise OrderNotFound(order_id)
    if order.shipment and order.shipment.get("trackingNumber") == request.tracking_number:
        # A retry: announce and resume again (both are harmless twice; the first attempt may have died).
        publish([order_event(order, "OrderShipped")])
        if order.ship_token:
            workflow.succeed(order.ship_token, {"shipped": True})
        return order
    shipped = store.transition(
        order_id,
        OrderStatus.SHIPPED,
        at,
        reason=f"{request.carrier} {request.tracking_number}",
        sets={"shipment": shipment},
        condition="attribute_not_exists(cancellation) AND attribute_not_exists(shipment)",
    )
    if shipped is None:
        current = store.get(order_id) or order
        if current.cancellation is not None and current.status is OrderStatus.PAID:
            raise InvalidTransition(order_id, "being cancelled", OrderStatus.SHIPPED.value)
        raise InvalidTransition(order_id, current.status.value, OrderStatus.SHIPPED.value)
    publish([order_event(shipped, "OrderShipped")])
    if shipped.ship_token:
        workflow.succeed(shipped.ship_token, {"shipped": True})
    return shipped


# ---------------------------------------------------------------- refunds


def refund(
    store: OrdersStore,
    payments: Payments,
    inventory: Inventory,
    workflow: Workflow,
    publish: Publisher,
    order_id: str,
    request: RefundIn,
    idempotency_key: str | None,
    *,
    now: datetime | None = None,
) -> Order:
    """Refund part or all of a paid order through Stripe, optionally putting its units back on sale.
    The refund's id comes from the Idempotency-Key, so a retried request refunds once; the same key with
    another body is `IdempotencyKeyReused`. The amount is set aside on the order (a conditional write)
    before payments is asked, so refunds racing under different keys never refund more than was paid.
    Payments' refusal gives the amount back; any other failure keeps it set aside (the refund may have
    been made), so a retry under the same key finishes it."""
    at = _now(now)
    order = store.get(order_id) if _is_order_id(order_id) else None
    if order is None:
        raise OrderNotFound(order_id)
    refund_id = f"r_{hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]}" if idempotency_key else new_id("r")
    digest = _refund_digest(request)
    made = next((r for r in order.refunds if r.refund_id == refund_id), None)
    if made is not None:
        if made.request_hash not in (None, digest):
            raise IdempotencyKeyReused("refund")
        return order
    hold = order.refund_holds.get(refund_id) or _hold(store, order, refund_id, request, digest, at)
    if hold.request_hash != digest:
        raise IdempotencyKeyReused("refund")
    try:
        result = payments.refund(
            RefundInput(order_id=order_id, refund_id=refund_id, amount=hold.amount, reason=request.reason)
        )
    except RefundNotPossible:
        store.release_refund(order_id, refund_id, hold.amount.amount)
        raise
    restocked = order.restocked
    if request.restock and not order.restocked:
        lines = [StockLine(sku=line.sku, quantity=line.quantity) for line in order.lines]
        inventory.restock(RestockInput(order_id=order_id, lines=lines, reason=request.reason))
        restocked = True
    entry = Refund(
        refund_id=refund_id,
        amount=result.amount,
        reason=request.reason,
        restock=request.restock,
        at=at,
        request_hash=digest,
    )
    updated = _record_refund(store, order_id, entry, restocked=restocked, now=at)
    event = OrderRefunded(
        order=updated.snapshot(), refund_id=refund_id, amount=result.amount, restocked=request.restock
    )
    publish([new_event(OrderRefunded.DETAIL_TYPE, f"OrderRefunded#{order_id}#{refund_id}", event)])
    if updated.status is OrderStatus.REFUNDED and updated.shipment is None and updated.ship_token:
        workflow.fail(updated.ship_token, "OrderRefunded", "refunded before shipment")
    return updated


RECORD_ATTEMPTS = 5


def _refund_digest(request: RefundIn) -> str:
    canonical = json.dumps(request.model_dump(mode="json", by_alias=True), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _hold(store: OrdersStore, order: Order, refund_id: str, request: RefundIn, digest: str, at: datetime) -> RefundHold:
    """Set the refund's amount aside on the order: what is asked, or all that is neither refunded nor
    held for another refund. `RefundNotPossible` if that much is not left (a refund racing under another
    key may have taken it); a 503 if this very refund is being set aside by a concurrent retry."""
    if order.status not in REFUNDABLE:
        raise RefundNotPossible(f"order {order.order_id} is {order.status.value}: there is no payment to refund")
    not_refunded = order.total.amount - order.refunded_total.amount
    remaining = not_refunded - sum(h.amount.amount for h in order.refund_holds.values())
    amount = request.amount.money() if request.amount else Money(amount=remaining, currency=order.total.currency)
    if amount.currency != order.total.currency:
        raise ValidationFailed(
            f"refunds of this order are in {order.total.currency}",
            details=[{"field": "body.amount.currency", "message": "not the order's currency", "type": "currency"}],
        )
    if not 0 < amount.amount <= remaining:
        raise RefundNotPossible(f"cannot refund {amount.amount}: {remaining} is left to refund")
    hold = RefundHold(amount=amount, request_hash=digest, at=at)
    if store.reserve_refund(order.order_id, refund_id, hold, left=not_refunded) is not None:
        return hold
    current = store.get(order.order_id) or order
    if refund_id in current.refund_holds or any(r.refund_id == refund_id for r in current.refunds):
        raise ServiceUnavailable("this refund is being made right now; retry to see it")
    if current.status not in REFUNDABLE:
        raise RefundNotPossible(f"order {order.order_id} is {current.status.value}: there is no payment to refund")
    left = (
        current.total.amount
        - current.refunded_total.amount
        - sum(h.amount.amount for h in current.refund_holds.values())
    )
    raise RefundNotPossible(f"cannot refund {amount.amount}: {max(left, 0)} is left to refund")


def _record_refund(store: OrdersStore, order_id: str, entry: Refund, *, restocked: bool, now: datetime) -> Order:
    """Record a refund payments made: the order's refunded total grows by its amount, and the order is
    REFUNDED once nothing is left. Conditional on the total read, so refunds finishing together each
    count (a lost race reads again)."""
    for _ in range(RECORD_ATTEMPTS):
        current = store.get(order_id)
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
        )
        if recorded is not None:
            return recorded
    raise ServiceUnavailable("refunds of this order are busy; retry with the same Idempotency-Key")


# ---------------------------------------------------------------- workflow steps


def transition(
    store: OrdersStore,
    publish: Publisher,
    order_id: str,
    to: OrderStatus,
    *,
    reason: str | None = None,
    payment: dict[str, str] | None = None,
    short: list[dict[str, object]] | None = None,
    refunded: Money | None = None,
    restocked: bool = False,
    now: datetime | None = None,
) -> tuple[Order, bool]:
    """Move an order along its workflow. Reaching the status it already has is a no-op (a retried
    step); an impossible move is `InvalidTransition`. Announces the new status once."""
    sets: dict[str, object] = {}
    removes: tuple[str, ...] = ()
    if payment:
        sets |= {"payment_intent_id": payment["paymentIntentId"], "client_secret": payment["clientSecret"]}
    if to in (OrderStatus.PAID, OrderStatus.CANCELLED, OrderStatus.REJECTED):
        removes = ("client_secret",)  # it has served its purpose; keep no secret longer than needed
    if reason:
        sets["reason"] = reason
    if short is not None:
        sets["short"] = short
    if refunded is not None:
        sets["refunded_total"] = refunded.model_dump()
    if restocked:
        sets["restocked"] = True
    give_back = None
    if to in (OrderStatus.CANCELLED, OrderStatus.REJECTED):
        before = store.get(order_id)
        if before is not None and before.coupon_code:
            give_back = (before.coupon_code, before.customer_id)
    moved = store.transition(order_id, to, _now(now), reason=reason, sets=sets, removes=removes, give_back=give_back)
    if moved is None:
        current = store.get(order_id)
        if current is None:
            raise OrderNotFound(order_id)
        if current.status is to:
            if to in EVENT_OF:  # a retried step: announce again (same id), the first attempt may have died
                publish([order_event(current, EVENT_OF[to])])
            return current, False
        raise InvalidTransition(order_id, current.status.value, to.value)
    if to in EVENT_OF:
        publish([order_event(moved, EVENT_OF[to])])
    return moved, True


def await_shipment(store: OrdersStore, workflow: Workflow, order_id: str, token: str) -> None:
    """Store the shipment step's token; if the order shipped, was cancelled or refunded first, answer
    the step right away."""
    order = store.set_fields(order_id, {"ship_token": token}, condition="attribute_exists(PK)")
    if order is None:
        raise OrderNotFound(order_id)
    if order.status is OrderStatus.SHIPPED:
        workflow.succeed(token, {"shipped": True})
    elif order.status in (OrderStatus.REFUNDED, OrderStatus.PARTIALLY_REFUNDED) and order.refunded_total == order.total:
        workflow.fail(token, "OrderRefunded", "refunded before shipment")
    elif order.cancellation is not None:
        workflow.fail(token, "OrderCancelled", str(order.cancellation.get("reason", "cancelled")))


# ---------------------------------------------------------------- coupons


def create_coupon(store: OrdersStore, request: coupons.CouponIn, *, now: datetime | None = None) -> coupons.Coupon:
    """A new coupon; the same definition again answers the coupon (a retry), another is a 409."""
    coupon = coupons.Coupon(**request.model_dump(), created_at=_now(now))
    try:
        store.put_coupon(coupon)
    except CouponExists:
        existing = store.get_coupon(coupon.code)
        if (
            existing is None
            or coupons.CouponIn(**existing.model_dump(exclude={"redemptions", "created_at"})) != request
        ):
            raise CouponCodeTaken(coupon.code) from None
        return existing
    return coupon


def list_coupons(store: OrdersStore, *, cursor: str | None, limit: int) -> tuple[list[coupons.Coupon], str | None]:
    page = store.list_coupons(start_key=decode_cursor(cursor, "coupons"), limit=limit)
    return page.items, encode_cursor(page.next_key, "coupons")


# ---------------------------------------------------------------- erasure (a customer's right to be forgotten)

ERASED = "[erased]"
ANONYMISE_PAGE = 50


@dataclass(frozen=True)
class Anonymised:
    anonymised: list[str]
    open: list[str]


def still_to_ship(order: Order) -> bool:
    """The shop still needs the address: the order may yet be paid or shipped."""
    return order.status in OPEN or (order.status is OrderStatus.PARTIALLY_REFUNDED and order.shipment is None)


def redacted(order: Order) -> dict[str, Any]:
    """The order's personal data as the books keep it: the shipping address without name, street, city or
    postal code (the country stays: it decides the tax), and the customer's own cancellation words
    wherever the order repeats them (the cancellation, its status history, the order's reason)."""
    address = {"name": ERASED, "line1": ERASED, "city": ERASED, "postalCode": ERASED}
    if country := order.shipping_address.get("country"):
        address["country"] = country
    sets: dict[str, Any] = {"shipping_address": address}
    if order.cancellation is not None and order.cancellation.get("role") == "customer":
        words = order.cancellation.get("reason")
        sets["cancellation"] = {**order.cancellation, "reason": ERASED}
        sets["history"] = [
            change.model_dump(mode="json") | ({"reason": ERASED} if words and change.reason == words else {})
            for change in order.history
        ]
        if words and order.reason == words:
            sets["reason"] = ERASED
    return sets


def anonymise_customer(store: OrdersStore, customer_id: str) -> Anonymised:
    """Redact the personal data on every order of the customer that no longer needs it, for the books
    keep the order (lines, totals, refunds, payment) but not the person. Orders still to ship are left
    as they are and named in `open`. Idempotent: an order already anonymised is skipped, and a retry
    after a failure takes up the rest."""
    done: list[str] = []
    still_open: list[str] = []
    start_key = None
    while True:
        page = store.by_customer(customer_id, start_key=start_key, limit=ANONYMISE_PAGE)
        for order in page.items:
            if still_to_ship(order):
                still_open.append(order.order_id)
            elif not order.anonymised and store.redact(order.order_id, customer_id, redacted(order)):
                done.append(order.order_id)
        if not page.next_key:
            return Anonymised(anonymised=done, open=still_open)
        start_key = page.next_key


# ---------------------------------------------------------------- orders that need staff


def flag(store: OrdersStore, order_id: str, reason: str, source: str, *, now: datetime | None = None) -> Order:
    """Put the order on the staff queue (`GET /admin/orders?attention=true`): a step failed after all its
    retries, or reconciliation found money that does not add up. Flagging twice keeps one entry."""
    attention = {"reason": reason[:500], "source": source, "since": _now(now).isoformat()}
    flagged = store.flag(order_id, attention) if _is_order_id(order_id) else None
    if flagged is None:
        raise OrderNotFound(order_id)
    return flagged


def workflow_failure(error: dict[str, Any] | None, execution: str) -> str:
    """A readable reason from a Catch's `{Error, Cause}` (the Cause is often Lambda's JSON error)."""
    error = error or {}
    name, cause = str(error.get("Error") or "unknown error"), str(error.get("Cause") or "")
    with contextlib.suppress(ValueError, AttributeError):
        cause = str(json.loads(cause).get("errorMessage") or cause)
    return f"workflow {execution} stopped: {name}: {cause}"[:500]


def orders_needing_attention(store: OrdersStore, *, cursor: str | None, limit: int) -> tuple[list[Order], str | None]:
    scope = "orders|attention"
    page = store.needing_attention(start_key=decode_cursor(cursor, scope), limit=limit)
    return page.items, encode_cursor(page.next_key, scope)


def resume_point(order: Order) -> str | None:
    """Where a re-driven workflow picks up, by what the order says: an unpaid order is compensated (cancel
    or refund at Stripe, stock back, CANCELLED); a paid order being cancelled is refunded and restocked; a
    paid order waits for its shipment again. An order in a final status has no workflow to resume."""
    if order.status in (OrderStatus.PENDING, OrderStatus.AWAITING_PAYMENT):
        return "compensate"
    if order.status is OrderStatus.PAID:
        return "refund" if order.cancellation is not None else "shipment"
    return None


def redrive(
    store: OrdersStore,
    workflow: Workflow,
    caller: Caller,
    order_id: str,
    *,
    deadlines: Deadlines = Deadlines(),
    now: datetime | None = None,
) -> Order:
    """Staff re-drive a flagged order: a new execution (named after the order and the re-drive's number,
    so a retried request starts it once) resumes where the failed one stopped. If it fails again, it flags
    the order again."""
    order = store.get(order_id) if _is_order_id(order_id) else None
    if order is None:
        raise OrderNotFound(order_id)
    if order.attention is None:
        raise Conflict(f"order {order_id} is not waiting for staff", code="not_flagged")
    resume = resume_point(order)
    if resume is None:
        raise Conflict(
            f"order {order_id} is {order.status.value}: there is no workflow to resume; settle it by hand and "
            "clear the flag",
            code="nothing_to_redrive",
        )
    note = _staff_note(order, caller, f"re-driven by staff ({resume})", now)
    cleared = store.clear_flag(order_id, note, redrives=True)
    if cleared is None:  # another staff member re-drove it first
        return store.get(order_id) or order
    reason = order.reason or str((order.cancellation or {}).get("reason") or "cancelled after a failed step")
    execution_input = _execution_input(order, deadlines) | {"resume": resume, "reason": reason}
    workflow.start(f"{order_id}-redrive-{cleared.redrives}", execution_input)
    return cleared


def clear_attention(
    store: OrdersStore, caller: Caller, order_id: str, note: str, *, now: datetime | None = None
) -> Order:
    """Staff settled a flagged order by hand: take it off the queue, with their note in its history."""
    order = store.get(order_id) if _is_order_id(order_id) else None
    if order is None:
        raise OrderNotFound(order_id)
    cleared = store.clear_flag(order_id, _staff_note(order, caller, f"settled by staff: {note}", now))
    if cleared is None:
        raise Conflict(f"order {order_id} is not waiting for staff", code="not_flagged")
    return cleared


def _staff_note(order: Order, caller: Caller, what: str, now: datetime | None) -> dict[str, Any]:
    who = caller.email or caller.sub
    return StatusChange(status=order.status, at=_now(now), reason=f"{what} — {who}"[:500]).model_dump(mode="json")


# ---------------------------------------------------------------- order states (payments' reconciliation)


def order_states(store: OrdersStore, order_ids: list[str]) -> OrderStatesOutput:
    """How each order stands, for payments' reconciliation: status, total, refunded total and the
    PaymentIntent orders recorded. Ids that are not orders (malformed, or never created) are `unknown`:
    a payment naming one belongs to no order. Read consistently, one order at a time (at most
    `MAX_ORDER_STATES`), so a status written a moment ago is seen."""
    items: list[OrderState] = []
    unknown: list[str] = []
    for order_id in dict.fromkeys(order_ids):
        order = store.get(order_id) if _is_order_id(order_id) else None
        if order is None:
            unknown.append(order_id)
            continue
        items.append(
            OrderState(
                order_id=order.order_id,
                status=order.status.value,
                total=order.total,
                refunded_total=order.refunded_total,
                payment_intent_id=order.payment_intent_id,
            )
        )
    return OrderStatesOutput(items=items, unknown=unknown)
