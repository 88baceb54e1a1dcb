"""A quote: what a cart would cost if ordered now, priced by `common.pricing.price` with the same inputs
checkout uses (catalog prices, orders' coupon rules, the country's shipping methods and tax rates), so
the two cannot disagree. Reads only: it writes nothing, holds no stock and redeems no coupon. What stands
in the way of ordering is listed in `problems`, never raised; only malformed input is an error (422).

Anonymous: a coupon's rules that depend on who asks (listed customers, per-customer limits, first order
only) are decided at checkout, where the customer is known."""

from collections import Counter

from common.contracts import OrderedLine, PriceSkusOutput
from common.errors import ValidationFailed
from common.money import Money
from common.pricing import PricingLine, ShippingMethod, price
from orders import coupons
from orders.ports import Ports, StockLevels
from orders.quotes import QuoteCoupon, QuoteIn, QuoteLine, QuoteOut, QuoteProblem, QuoteProblemCode
from orders.shipping import ShippingMethodOut


def quote(ports: Ports, stock: StockLevels, request: QuoteIn, *, currency: str, prices_include_tax: bool) -> QuoteOut:
    """The cart priced as checkout would price it now; `currency` is the shop's, for a cart of unknown SKUs."""
    problems: list[QuoteProblem] = []
    lines = _lines(ports.pricing.price(list(dict.fromkeys(i.sku for i in request.items))), request, problems)
    if lines:
        currency = lines[0].unit_price.currency
    available = _available(stock, lines, problems)

    def money(amount: int) -> Money:
        return Money(amount=amount, currency=currency)

    coupon_answer, off = _coupon(ports, request.coupon_code, lines, currency, problems)
    country = request.destination
    methods = ports.store.shipping_methods(country)
    method = _method(ports, methods, request.shipping_method_id, country, problems)
    rates = ports.store.tax_rates(country)
    if rates is None:
        problems.append(_problem(QuoteProblemCode.NO_TAX_RATE, f"no tax rate is set for {country}: no tax is charged"))
    subtotal = sum(line.line_total.amount for line in lines)
    shipping = method.charge_for(subtotal - off) if method else 0
    priced = price(
        [
            PricingLine(line.sku, line.product_id, line.name, line.category, line.quantity, line.unit_price.amount)
            for line in lines
        ],
        currency=currency,
        prices_include_tax=prices_include_tax,
        discount=off,
        shipping=shipping,
        rates=rates,
    )
    return QuoteOut(
        currency=currency,
        prices_include_tax=prices_include_tax,
        lines=[
            QuoteLine(
                sku=p.sku,
                product_id=p.product_id,
                name=p.name,
                quantity=p.quantity,
                unit_price=money(p.unit_price),
                line_total=money(p.line_total),
                tax_rate=str(p.tax_rate),
                tax=money(p.tax),
                available=p.sku in available,
            )
            for p in priced.lines
        ],
        subtotal=money(priced.subtotal),
        discount=money(priced.discount),
        shipping=money(priced.shipping),
        tax=money(priced.tax),
        total=money(priced.total),
        coupon=coupon_answer,
        shipping_methods=[ShippingMethodOut.of(m) for m in methods],
        problems=problems,
    )


def _problem(code: QuoteProblemCode, message: str, sku: str | None = None) -> QuoteProblem:
    return QuoteProblem(code=code, sku=sku, message=message)


def _lines(priced: PriceSkusOutput, request: QuoteIn, problems: list[QuoteProblem]) -> list[OrderedLine]:
    """The cart's lines the catalog sells, priced now; the others are problems (`unknown_sku`)."""
    by_sku = {item.sku: item for item in priced.items}
    lines = []
    for item in request.items:
        found = by_sku.get(item.sku)
        if found is None or not found.active:
            why = "not in the catalog" if found is None else "no longer sold"
            problems.append(_problem(QuoteProblemCode.UNKNOWN_SKU, f"{item.sku} is {why}", item.sku))
            continue
        lines.append(OrderedLine.of(found, item.quantity))
    return lines


def _available(stock: StockLevels, lines: list[OrderedLine], problems: list[QuoteProblem]) -> set[str]:
    """The SKUs whose wanted units (summed over the cart) are on sale now. A level that could not be read
    (None) counts as available: checkout decides for sure, and a quote must not call it sold out."""
    wanted = Counter[str]()
    for line in lines:
        wanted[line.sku] += line.quantity
    levels = stock.levels(wanted)
    available = set()
    for sku, quantity in wanted.items():
        stocked = sku in levels
        level = levels.get(sku)
        if stocked and (level is None or level.available >= quantity):
            available.add(sku)
        else:
            problems.append(_problem(QuoteProblemCode.OUT_OF_STOCK, f"{sku}: fewer than {quantity} in stock", sku))
    return available


def _coupon(
    ports: Ports, code: str | None, lines: list[OrderedLine], currency: str, problems: list[QuoteProblem]
) -> tuple[QuoteCoupon | None, int]:
    """The coupon's answer and its discount (0 when it does not apply), by orders' own coupon rules
    without the ones that need to know the customer."""
    if code is None:
        return None, 0
    zero = Money(amount=0, currency=currency)

    def invalid(reason: QuoteProblemCode, message: str) -> tuple[QuoteCoupon, int]:
        problems.append(_problem(reason, message))
        return QuoteCoupon(code=code.upper(), valid=False, reason=reason, discount=zero), 0

    coupon = ports.store.get_coupon(code.upper())
    if coupon is None:
        return invalid(QuoteProblemCode.COUPON_NOT_FOUND, f"there is no coupon {code}")
    if not lines:
        return invalid(QuoteProblemCode.COUPON_NOT_APPLICABLE, f"coupon {coupon.code} applies to none of these")
    anonymous = coupon.model_copy(update={"customer_ids": None, "max_per_customer": None, "first_order_only": False})
    try:
        off = coupons.discount(
            anonymous, lines, customer_id="", has_earlier_orders=False, redeemed_by_customer=0, now=ports.clock()
        )
    except ValidationFailed as rejected:
        known = rejected.code in set(QuoteProblemCode)
        return invalid(QuoteProblemCode(rejected.code) if known else QuoteProblemCode.COUPON_INVALID, rejected.message)
    return QuoteCoupon(code=coupon.code, valid=True, discount=off), off.amount


def _method(
    ports: Ports,
    methods: list[ShippingMethod],
    wanted: str | None,
    country: str,
    problems: list[QuoteProblem],
) -> ShippingMethod | None:
    """The method the quote charges, as checkout chooses it. A shop that has no active method at all
    does not charge shipping (as before methods existed); one that has some ships only where they serve."""
    if not methods:
        if ports.store.has_shipping_methods():
            problems.append(_problem(QuoteProblemCode.COUNTRY_NOT_SERVED, f"no shipping method serves {country}"))
        return None
    if wanted is not None:
        chosen = next((m for m in methods if m.shipping_method_id == wanted), None)
        if chosen is None:
            problems.append(
                _problem(QuoteProblemCode.SHIPPING_METHOD_INVALID, f"shipping method {wanted} does not serve {country}")
            )
        return chosen
    if len(methods) == 1:
        return methods[0]
    problems.append(
        _problem(QuoteProblemCode.SHIPPING_METHOD_REQUIRED, f"choose one of the {len(methods)} shipping methods")
    )
    return None
