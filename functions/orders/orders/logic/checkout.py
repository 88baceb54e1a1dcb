"""Checkout: price the order from the catalog, apply a coupon, write it PENDING and start its workflow."""

from typing import Any

from common.auth import Caller
from common.contracts import OrderedLine
from common.errors import ServiceUnavailable, ValidationFailed
from common.idempotency import mark_replayed
from common.ids import new_id
from common.money import MAX_AMOUNT, AmountTooLarge, Money, minimum_charge
from orders import coupons
from orders.errors import BelowMinimumCharge, IdempotencyKeyReused, UnknownSkus
from orders.logic.shared import ORDER_ID_PREFIX, digest, order_event
from orders.models import CheckoutIn, Order, OrderStatus, StatusChange
from orders.ports import Deadlines, Ports, Pricing
from orders.store import CouponUsedUp, KeyTaken, OrdersStore


def checkout(ports: Ports, caller: Caller, request: CheckoutIn, idempotency_key: str) -> Order:
    """Price the order from the catalog, write it PENDING and start its workflow. The same key from the
    same customer answers the same order (marked replayed), even when retries race; with another body it
    is a 409."""
    store = ports.store
    request_hash = digest(request)
    replay = _replay(ports, caller, idempotency_key, request_hash)
    if replay is not None:
        return replay
    at = ports.clock()
    lines = _priced_lines(ports.pricing, request)
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
    address = _shipping_address(ports, caller, request)
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
        store.create(order, idempotency_key, request_hash, coupon)
    except CouponUsedUp as used_up:
        assert coupon is not None
        if used_up.per_customer:
            raise coupons.rejected("coupon_used_by_customer", f"you have used coupon {coupon.code} already") from None
        raise coupons.rejected("coupon_exhausted", f"coupon {coupon.code} has been used up") from None
    except KeyTaken:
        raced = _replay(ports, caller, idempotency_key, request_hash)
        if raced is None:
            raise ServiceUnavailable("checkout is busy; retry") from None
        return raced
    _start(ports, order)
    return order


def execution_input(order: Order, deadlines: Deadlines) -> dict[str, Any]:
    """What the order's workflow starts with (a re-drive adds where it resumes)."""
    return {
        "orderId": order.order_id,
        "customerId": order.customer_id,
        "lines": [{"sku": line.sku, "quantity": line.quantity} for line in order.lines],
        "amount": order.total.model_dump(),
        "holdSeconds": deadlines.payment_seconds,
        "shipmentSeconds": deadlines.shipment_seconds,
    }


def _shipping_address(ports: Ports, caller: Caller, request: CheckoutIn) -> dict[str, Any]:
    """The address given, else the customer's saved default; a 422 with neither."""
    address = request.shipping_address or ports.customers.default_address(caller.sub)
    if address is None:
        raise ValidationFailed(
            "no shipping address given, and none saved as default",
            details=[
                {"field": "body.shippingAddress", "message": "required without a default address", "type": "missing"}
            ],
        )
    return address.model_dump(mode="json", by_alias=True, exclude_none=True)


def _coupon(store: OrdersStore, code: str) -> coupons.Coupon:
    coupon = store.get_coupon(code.upper())
    if coupon is None:
        raise coupons.rejected("coupon_not_found", f"there is no coupon {code}")
    return coupon


def _replay(ports: Ports, caller: Caller, key: str, request_hash: str) -> Order | None:
    record = ports.store.idempotency_record(caller.sub, key)
    if record is None:
        return None
    order_id, recorded_hash = record
    if recorded_hash != request_hash:
        raise IdempotencyKeyReused
    order = ports.store.get_order(order_id)
    if order is None:
        raise ServiceUnavailable("checkout is busy; retry")
    if order.status is OrderStatus.PENDING:
        _start(ports, order)  # the first attempt may have died before starting it
    mark_replayed()
    return order


def _start(ports: Ports, order: Order) -> None:
    ports.workflow.start(order.order_id, execution_input(order, ports.deadlines))
    ports.publish([order_event(order, "OrderPlaced")])


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
