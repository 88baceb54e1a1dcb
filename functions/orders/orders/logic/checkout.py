"""Checkout: price the order from the catalog, apply a coupon, choose the shipping, tax it (all through
`common.pricing`, as quotes do), write it PENDING and start its workflow."""

from typing import Any

from common.auth import Caller
from common.contracts import OrderedLine
from common.errors import ServiceUnavailable, ValidationFailed
from common.idempotency import mark_replayed
from common.ids import new_id
from common.money import MAX_AMOUNT, AmountTooLarge, Money, minimum_charge
from common.pricing import PricingLine, ShippingMethod, price
from orders import coupons
from orders.errors import (
    BelowMinimumCharge,
    CountryNotServed,
    IdempotencyKeyReused,
    ShippingMethodInvalid,
    ShippingMethodRequired,
    UnknownSkus,
)
from orders.logic.shared import ORDER_ID_PREFIX, digest, order_event
from orders.models import CheckoutIn, Order, OrderStatus, OrderTaxLine, ShippingMethodRef, StatusChange
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
    country = str(address["country"])
    method = _shipping_method(store, country, request.shipping_method_id)
    priced = price(
        [
            PricingLine(
                sku=line.sku,
                product_id=line.product_id,
                name=line.name,
                category=line.category,
                quantity=line.quantity,
                unit_price=line.unit_price.amount,
            )
            for line in lines
        ],
        currency=currency,
        prices_include_tax=ports.prices_include_tax,
        discount=off.amount,
        shipping=method.charge_for(subtotal.amount - off.amount) if method else 0,
        rates=store.tax_rates(country),
    )
    if priced.total > MAX_AMOUNT:
        raise _too_large(f"the order comes to more than {MAX_AMOUNT} minor units", "body.items")
    total = Money(amount=priced.total, currency=currency)
    if 0 < total.amount < minimum_charge(currency):
        raise BelowMinimumCharge(total.amount, minimum_charge(currency), currency)
    order = Order(
        order_id=order_id,
        customer_id=caller.sub,
        status=OrderStatus.PENDING,
        lines=tuple(line.priced_as(p) for line, p in zip(lines, priced.lines, strict=True)),
        subtotal=subtotal,
        discount=off,
        shipping=Money(amount=priced.shipping, currency=currency),
        tax=Money(amount=priced.tax, currency=currency),
        shipping_tax=Money(amount=priced.shipping_tax, currency=currency),
        tax_lines=tuple(
            OrderTaxLine(
                rate=t.rate,
                base=Money(amount=t.base, currency=currency),
                amount=Money(amount=t.amount, currency=currency),
            )
            for t in priced.tax_lines
        ),
        shipping_method=ShippingMethodRef(shipping_method_id=method.shipping_method_id, name=method.name)
        if method
        else None,
        total=total,
        refunded_total=Money(amount=0, currency=currency),
        shipping_address=address,
        email=caller.email,
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


def _shipping_method(store: OrdersStore, country: str, chosen: str | None) -> ShippingMethod | None:
    """The method the order ships with, chosen as a quote chooses it (`logic.quote`): the one named if it
    serves the country, else the country's only one. A shop without any active method ships anywhere for
    free (as before shipping methods existed); a shop with some ships only where they serve."""
    serving = store.shipping_methods(country)
    if not serving:
        if store.has_shipping_methods():
            raise CountryNotServed(country)
        return None
    if chosen is not None:
        method = next((m for m in serving if m.shipping_method_id == chosen), None)
        if method is None:
            raise ShippingMethodInvalid(chosen, country)
        return method
    if len(serving) == 1:
        return serving[0]
    raise ShippingMethodRequired(country, [m.shipping_method_id for m in serving])


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
            lines.append(OrderedLine.of(found, item.quantity))
        except AmountTooLarge as too_large:
            raise _too_large(too_large.message, f"body.items.{index}.quantity") from None
    if sum(line.line_total.amount for line in lines) > MAX_AMOUNT:
        raise _too_large(f"the order comes to more than {MAX_AMOUNT} minor units", "body.items")
    return lines


def _too_large(message: str, field: str) -> AmountTooLarge:
    return AmountTooLarge(message, details=[{"field": field, "message": message, "type": AmountTooLarge.code}])
