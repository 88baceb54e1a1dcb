"""Staff refunds: part or all of a paid order through payments — an amount, or units of its lines and its
shipping, split as the order was priced — optionally putting the units back on sale."""

import hashlib
import json
from collections import Counter
from datetime import datetime
from decimal import Decimal

from common.contracts import OrderLine, OrderRefunded, RefundedLine, RefundInput, RestockInput, TaxAtRate, percent_text
from common.errors import ServiceUnavailable, ValidationFailed
from common.events import new_event
from common.idempotency import mark_replayed
from common.ids import new_id
from common.money import Money
from common.pricing import TaxLine, amount_refund, in_proportion, line_refund, tax_on
from orders.errors import IdempotencyKeyReused, OrderNotFound, RefundNotPossible
from orders.logic.shared import existing
from orders.models import REFUNDABLE, Actor, Order, OrderStatus, Refund, RefundHold, RefundIn
from orders.ports import Ports
from orders.store import OrdersStore

RECORD_ATTEMPTS = 5
HOLD_ATTEMPTS = 5


def refund(
    ports: Ports, order_id: str, request: RefundIn, idempotency_key: str | None, actor: Actor | None = None
) -> Order:
    """Refund part or all of a paid order through Stripe, optionally putting its units back on sale.
    An amount (or, with neither amount nor lines, everything left), or `lines` of units and/or the
    shipping, whose amount, tax and net come from the order's own lines (`common.pricing.line_refund`).
    The refund's id comes from the Idempotency-Key, so a retried request refunds once; the same key with
    another body is `IdempotencyKeyReused`. The amount (and the units, and the shipping) are set aside on
    the order (a conditional write) before payments is asked, so refunds racing under different keys
    never refund more than was paid nor return a unit twice. Payments' refusal gives them back; any other
    failure keeps them set aside (the refund may have been made), so a retry under the same key finishes it."""
    _check_shape(request)
    store = ports.store
    at = ports.clock()
    order = existing(store, order_id)
    refund_id = f"r_{hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]}" if idempotency_key else new_id("r")
    request_hash = _request_hash(request)
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
        store.release_refund(order_id, refund_id, hold)
        raise
    whole_order_back = False
    if request.restock and not order.restocked:
        if hold.lines:
            # Exactly these units, keyed by the refund: a retry puts them back once.
            units = [OrderLine(sku=line.sku, quantity=line.quantity) for line in hold.lines]
            ports.inventory.restock(
                RestockInput(order_id=order_id, lines=units, reason=request.reason, restock_id=refund_id)
            )
        else:
            units = _not_yet_back(order)
            if units:
                ports.inventory.restock(RestockInput(order_id=order_id, lines=units, reason=request.reason))
            whole_order_back = True
    entry = Refund(
        refund_id=refund_id,
        amount=result.amount,
        reason=request.reason,
        restock=request.restock,
        at=at,
        request_hash=request_hash,
        lines=hold.lines,
        shipping=hold.shipping,
    )
    updated, entry = _record_refund(
        store, order_id, entry, hold, whole_order_back=whole_order_back, now=at, actor=actor
    )
    event = OrderRefunded(
        order=updated.snapshot(),
        refund_id=refund_id,
        amount=result.amount,
        restocked=request.restock,
        lines=list(entry.lines),
        shipping=entry.shipping,
        tax_lines=list(entry.tax_lines),
        merchandise_net=entry.merchandise_net,
    )
    ports.publish([new_event(OrderRefunded.DETAIL_TYPE, f"OrderRefunded#{order_id}#{refund_id}", event)])
    if updated.status is OrderStatus.REFUNDED and updated.shipment is None and updated.ship_token:
        ports.workflow.fail(updated.ship_token, "OrderRefunded", "refunded before shipment")
    return updated


def _request_hash(request: RefundIn) -> str:
    """The request's fingerprint (`shared.digest`), leaving out the by-line fields when they are not
    used, so a key sent before refunds by line existed still replays with the same body."""
    body = request.model_dump(mode="json", by_alias=True)
    if body.get("lines") is None:
        body.pop("lines", None)
    if body.get("refundShipping") is False:
        body.pop("refundShipping", None)
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _check_shape(request: RefundIn) -> None:
    """What no order can make right: an amount with lines or the shipping, a SKU named twice (422)."""
    problems = []
    if request.amount is not None and request.lines is not None:
        problems.append({"field": "body.lines", "message": "refund either an amount or lines, not both"})
    if request.amount is not None and request.refund_shipping:
        problems.append({"field": "body.refundShipping", "message": "refund either an amount or the shipping"})
    seen: set[str] = set()
    for i, line in enumerate(request.lines or []):
        if line.sku in seen:
            problems.append({"field": f"body.lines.{i}.sku", "message": "name each SKU once"})
        seen.add(line.sku)
    if problems:
        raise ValidationFailed(
            "the refund's body does not add up", details=[p | {"type": "refund_body"} for p in problems]
        )


def _hold(
    store: OrdersStore, order: Order, refund_id: str, request: RefundIn, request_hash: str, at: datetime
) -> RefundHold:
    """Set the refund aside on the order: the amount asked (or all that is neither refunded nor held for
    another refund), or the units and shipping asked with what they come to. `RefundNotPossible` if that
    much is not left (a refund racing under another key may have taken it); a 503 if this very refund
    is being set aside by a concurrent retry. A refund by line is computed from the units returned so
    far and set aside only if that count still holds, so a lost race reads the order again."""
    for _ in range(HOLD_ATTEMPTS):
        if order.status not in REFUNDABLE:
            raise RefundNotPossible(f"order {order.order_id} is {order.status.value}: there is no payment to refund")
        not_refunded = order.total.amount - order.refunded_total.amount
        remaining = not_refunded - _held(order)
        if request.lines or request.refund_shipping:
            hold = _by_line(order, request, request_hash, at)
        else:
            amount = (
                request.amount.money() if request.amount else Money(amount=remaining, currency=order.total.currency)
            )
            if amount.currency != order.total.currency:
                raise ValidationFailed(
                    f"refunds of this order are in {order.total.currency}",
                    details=[
                        {"field": "body.amount.currency", "message": "not the order's currency", "type": "currency"}
                    ],
                )
            hold = RefundHold(amount=amount, request_hash=request_hash, at=at)
        if not 0 < hold.amount.amount <= remaining:
            raise RefundNotPossible(f"cannot refund {hold.amount.amount}: {max(remaining, 0)} is left to refund")
        if store.reserve_refund(order.order_id, refund_id, hold, left=not_refunded, returned=order.returned_units):
            return hold
        current = store.get_order(order.order_id) or order
        if refund_id in current.refund_holds or any(r.refund_id == refund_id for r in current.refunds):
            raise ServiceUnavailable("this refund is being made right now; retry to see it")
        order = current  # another refund moved the money or the units: compute again from what is left
    raise ServiceUnavailable("refunds of this order are busy; retry with the same Idempotency-Key")


def _by_line(order: Order, request: RefundIn, request_hash: str, at: datetime) -> RefundHold:
    """The units asked, and the shipping if asked, with what they come to as the order was priced. An
    order placed before its lines carried their tax and net (or with a SKU on two lines) is refunded
    by amount instead: 409, as is asking for more units than are left or the shipping twice."""
    currency = order.total.currency
    lines: list[RefundedLine] = []
    by_sku = Counter(line.sku for line in order.lines)
    for i, asked in enumerate(request.lines or []):
        line = next((ordered for ordered in order.lines if ordered.sku == asked.sku), None)
        if line is None:
            raise ValidationFailed(
                f"order {order.order_id} has no line of {asked.sku}",
                details=[{"field": f"body.lines.{i}.sku", "message": "not in the order", "type": "refund_body"}],
            )
        if line.net is None or line.tax is None or by_sku[asked.sku] > 1:
            raise RefundNotPossible(f"the line of {asked.sku} cannot be refunded by units: refund an amount instead")
        returned = order.returned_units.get(asked.sku, 0)
        if asked.quantity > line.quantity - returned:
            raise RefundNotPossible(
                f"cannot return {asked.quantity} of {asked.sku}: "
                f"{max(line.quantity - returned, 0)} of {line.quantity} are left to return"
            )
        share = line_refund(
            paid=line.net.amount + line.tax.amount,
            tax=line.tax.amount,
            net=line.net.amount,
            quantity=line.quantity,
            returned=returned,
            units=asked.quantity,
        )
        lines.append(
            RefundedLine(
                sku=asked.sku,
                quantity=asked.quantity,
                amount=Money(amount=share.amount, currency=currency),
                tax=Money(amount=share.tax, currency=currency),
                net=Money(amount=share.net, currency=currency),
            )
        )
    shipping, shipping_tax = None, None
    if request.refund_shipping:
        if order.shipping_refunded is not None:
            raise RefundNotPossible(f"the shipping of order {order.order_id} was refunded already")
        if order.shipping.amount > 0 and order.shipping_tax is None:
            raise RefundNotPossible("this order's shipping cannot be refunded by itself: refund an amount instead")
        if order.shipping_paid() == 0:
            raise RefundNotPossible(f"order {order.order_id} was charged nothing for shipping")
        shipping = Money(amount=order.shipping_paid(), currency=currency)
        shipping_tax = _shipping_tax(order)
    amount = sum(line.amount.amount for line in lines) + (shipping.amount if shipping else 0)
    return RefundHold(
        amount=Money(amount=amount, currency=currency),
        request_hash=request_hash,
        at=at,
        lines=tuple(lines),
        shipping=shipping,
        shipping_tax=shipping_tax,
    )


def _shipping_tax(order: Order) -> TaxAtRate | None:
    """The shipping's tax line: its tax at the standard rate. The order keeps the rates it was taxed at,
    not which was the standard one: the rate that gives the shipping's tax (the highest, if several do)."""
    if not order.tax_lines:
        return None
    currency = order.total.currency
    included = order.prices_include_tax()
    tax = order.shipping_tax.amount if order.shipping_tax else 0
    fits = [
        t.rate for t in order.tax_lines if tax_on(order.shipping.amount, t.rate, prices_include_tax=included) == tax
    ]
    if not fits:
        return None
    base = order.shipping.amount - tax if included else order.shipping.amount
    return TaxAtRate(
        rate=percent_text(max(fits)),
        base=Money(amount=base, currency=currency),
        amount=Money(amount=tax, currency=currency),
    )


def _held(order: Order) -> int:
    return sum(h.amount.amount for h in order.refund_holds.values())


def _not_yet_back(order: Order) -> list[OrderLine]:
    """The order's units that refunds by line have not put back on sale yet (a whole-order restock)."""
    back = _restocked_units(order.refunds)
    ordered = Counter[str]()
    for line in order.lines:
        ordered[line.sku] += line.quantity
    return [OrderLine(sku=sku, quantity=q - back[sku]) for sku, q in ordered.items() if q > back[sku]]


def _restocked_units(refunds: tuple[Refund, ...]) -> Counter[str]:
    back = Counter[str]()
    for made in refunds:
        if made.restock:
            for line in made.lines:
                back[line.sku] += line.quantity
    return back


def _all_back(order: Order, entry: Refund) -> bool:
    """Whether, with `entry`, refunds by line have put every unit of the order back on sale."""
    return not _not_yet_back(order.model_copy(update={"refunds": (*order.refunds, entry)}))


def _split(order: Order, entry: Refund, hold: RefundHold) -> Refund:
    """The refund with its tax (by rate) and its part of the merchandise net, computed from the order as
    recorded so far: a refund by line from its units and shipping, an amount by proportion
    (`common.pricing.amount_refund`). The merchandise net refunded never passes the order's, and the
    refund that completes the order takes exactly what is left of it."""
    currency = order.total.currency
    merchandise_net = order.merchandise_net()
    net_before = order.refunded_merchandise_net.amount if order.refunded_merchandise_net else 0
    completes = order.refunded_total.amount + entry.amount.amount >= order.total.amount
    if entry.lines or entry.shipping is not None:
        rates = {line.sku: line.tax_rate for line in order.lines}
        by_rate: dict[str, list[int]] = {}
        for line in entry.lines:
            rate = rates.get(line.sku) or "0"
            entry_rate = by_rate.setdefault(rate, [0, 0])
            entry_rate[0] += line.net.amount
            entry_rate[1] += line.tax.amount
        if hold.shipping_tax is not None:
            entry_rate = by_rate.setdefault(hold.shipping_tax.rate, [0, 0])
            entry_rate[0] += hold.shipping_tax.base.amount
            entry_rate[1] += hold.shipping_tax.amount.amount
        has_rates = bool(order.tax_lines)
        tax_lines = [
            TaxAtRate(rate=rate, base=Money(amount=b, currency=currency), amount=Money(amount=a, currency=currency))
            for rate, (b, a) in sorted(by_rate.items(), key=lambda item: Decimal(item[0]))
            if has_rates
        ]
        tax = sum(t.amount.amount for t in tax_lines)
        net = sum(line.net.amount for line in entry.lines)
        if merchandise_net is not None:
            left = max(merchandise_net.amount - net_before, 0)
            net = left if completes else min(net, left)
    else:
        before: dict[Decimal, tuple[int, int]] = {}
        for made in order.refunds:
            for t in made.tax_lines:
                base, amount = before.get(Decimal(t.rate), (0, 0))
                before[Decimal(t.rate)] = (base + t.base.amount, amount + t.amount.amount)
        split = amount_refund(
            entry.amount.amount,
            total=order.total.amount,
            refunded_before=order.refunded_total.amount,
            merchandise_net=merchandise_net.amount if merchandise_net else 0,
            net_before=net_before,
            tax_lines=[TaxLine(rate=t.rate, base=t.base.amount, amount=t.amount.amount) for t in order.tax_lines],
            tax_before=before,
        )
        tax_lines = [
            TaxAtRate(
                rate=percent_text(t.rate),
                base=Money(amount=t.base, currency=currency),
                amount=Money(amount=t.amount, currency=currency),
            )
            for t in split.tax_lines
        ]
        tax = split.tax if order.tax_lines else in_proportion(order.tax.amount, entry.amount.amount, order.total.amount)
        net = split.net
    return entry.model_copy(
        update={
            "tax": Money(amount=tax, currency=currency),
            "tax_lines": tuple(tax_lines),
            "merchandise_net": Money(amount=net, currency=currency) if merchandise_net is not None else None,
        }
    )


def _record_refund(
    store: OrdersStore,
    order_id: str,
    entry: Refund,
    hold: RefundHold,
    *,
    whole_order_back: bool,
    now: datetime,
    actor: Actor | None = None,
) -> tuple[Order, Refund]:
    """Record a refund payments made: the order's refunded total (and merchandise net) grow by its
    amount (and net), and the order is REFUNDED once nothing is left. Conditional on the total read, so
    refunds finishing together each count (a lost race reads again and splits again). The order is
    restocked (RETURNED once shipped) when all its units came back on sale."""
    for _ in range(RECORD_ATTEMPTS):
        current = store.get_order(order_id)
        if current is None:
            raise OrderNotFound(order_id)
        recorded_before = next((r for r in current.refunds if r.refund_id == entry.refund_id), None)
        if recorded_before is not None:
            return current, recorded_before
        split = _split(current, entry, hold)
        before = current.refunded_total.amount
        after = Money(amount=before + split.amount.amount, currency=current.total.currency)
        to = OrderStatus.REFUNDED if after.amount >= current.total.amount else OrderStatus.PARTIALLY_REFUNDED
        net_after = None
        if split.merchandise_net is not None:
            net_before = current.refunded_merchandise_net.amount if current.refunded_merchandise_net else 0
            net_after = Money(amount=net_before + split.merchandise_net.amount, currency=current.total.currency)
        recorded = store.record_refund(
            order_id,
            split,
            to=to,
            refunded_total=after.model_dump(),
            refunded_before=before,
            restocked=current.restocked or whole_order_back or (split.restock and _all_back(current, split)),
            now=now,
            refunded_merchandise_net=net_after.model_dump() if net_after else None,
            actor=actor,
        )
        if recorded is not None:
            return recorded, split
    raise ServiceUnavailable("refunds of this order are busy; retry with the same Idempotency-Key")
