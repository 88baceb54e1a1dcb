"""The one pricing module: what an order costs, line by line, with its discount, shipping and tax.

Quotes, checkout (and later refunds and reports) all call `price`, so a quote and the order placed from it
cannot disagree. Pure: no I/O, amounts are integers in minor units, tax rates are `Decimal` percents and
the arithmetic in between is exact (`Fraction`), rounded once per line, half-up on the minor unit.

Rules (docs/decisions.md, "Pricing: one module, rounded per line"):
- a coupon's discount is spread over the lines in proportion to their totals, by largest remainder, so
  the shares add up to the discount exactly;
- each line is taxed on its total less its share, at its category's rate (else the country's standard);
- shipping is taxed at the standard rate;
- prices include tax (`prices_include_tax`): tax = base·r/(100+r) and total = subtotal - discount +
  shipping; otherwise tax = base·r/100 and total = subtotal - discount + shipping + tax;
- no rates for the country (`rates=None`): no tax, and no tax lines.
"""

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from common.money import Money

Rate = Annotated[
    Decimal,
    Field(ge=0, le=100, max_digits=7, decimal_places=4, description="Percent, as a decimal", examples=["19"]),
]


class TaxRates(BaseModel):
    """A country's VAT/sales-tax rates: the standard one, and reduced ones by product category slug."""

    model_config = ConfigDict(frozen=True, alias_generator=to_camel, populate_by_name=True)

    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")]
    standard: Rate
    categories: dict[str, Rate] = Field(default_factory=dict)

    def rate_for(self, category: str) -> Decimal:
        """The category's own rate, else the standard rate."""
        return self.categories.get(category, self.standard)


class ShippingMethod(BaseModel):
    """A way to ship, its price, the countries it serves and, optionally, the order value from which it
    is free. An archived method serves nobody but stays readable (orders name it)."""

    model_config = ConfigDict(frozen=True, alias_generator=to_camel, populate_by_name=True)

    shipping_method_id: str
    name: str
    countries: list[str]
    price: Money
    free_over: Money | None = None
    min_days: int | None = None
    max_days: int | None = None
    archived: bool = False

    def charge_for(self, merchandise_after_discount: int) -> int:
        """What shipping costs for merchandise worth this much after the discount: free once it reaches
        `free_over` (a threshold is met *at* its value), else the method's price."""
        if self.free_over is not None and merchandise_after_discount >= self.free_over.amount:
            return 0
        return self.price.amount

    def serves(self, country: str) -> bool:
        return not self.archived and country in self.countries


@dataclass(frozen=True)
class PricingLine:
    """A line as the catalog priced it: `unit_price` in minor units, as the catalog shows it (with tax
    when the shop's prices include tax)."""

    sku: str
    product_id: str
    name: str
    category: str
    quantity: int
    unit_price: int


@dataclass(frozen=True)
class PricedLine:
    """A line with its total, its share of the discount, its tax rate and tax, and `net` — what it comes
    to without tax after the discount."""

    sku: str
    product_id: str
    name: str
    category: str
    quantity: int
    unit_price: int
    line_total: int
    discount: int
    tax_rate: Decimal
    tax: int
    net: int


@dataclass(frozen=True)
class TaxLine:
    """Tax at one rate: `base` is the net amount taxed at it (lines and shipping, without tax, after the
    discount), `amount` the tax — the sum of the rounded taxes of those lines, so tax lines add up to
    the order's tax."""

    rate: Decimal
    base: int
    amount: int


@dataclass(frozen=True)
class Priced:
    """What the order costs, all in minor units of `currency`. `shipping` is as charged (with tax when
    prices include tax); `shipping_tax` is its share of `tax`."""

    currency: str
    prices_include_tax: bool
    lines: list[PricedLine]
    subtotal: int
    discount: int
    shipping: int
    shipping_tax: int
    tax: int
    tax_lines: list[TaxLine]
    total: int


def price(
    lines: list[PricingLine],
    *,
    currency: str,
    prices_include_tax: bool,
    discount: int,
    shipping: int,
    rates: TaxRates | None,
) -> Priced:
    """Price `lines` with a discount already decided (orders' coupon rules, on the merchandise subtotal)
    and a shipping charge already chosen (`ShippingMethod.charge_for`). `ValueError` when the discount
    is negative or more than the lines are worth, or shipping is negative: callers' bugs, never input."""
    totals = [line.quantity * line.unit_price for line in lines]
    subtotal = sum(totals)
    if not 0 <= discount <= subtotal:
        raise ValueError(f"a discount of {discount} on a subtotal of {subtotal}")
    if shipping < 0 or any(total < 0 for total in totals):
        raise ValueError("prices and shipping are never negative")
    shares = spread(discount, totals)
    priced: list[PricedLine] = []
    by_rate: dict[Decimal, list[int]] = {}  # rate -> [base, amount]
    for line, total, share in zip(lines, totals, shares, strict=True):
        rate = rates.rate_for(line.category) if rates else Decimal(0)
        tax = tax_on(total - share, rate, prices_include_tax=prices_include_tax)
        net = total - share - tax if prices_include_tax else total - share
        priced.append(
            PricedLine(
                sku=line.sku,
                product_id=line.product_id,
                name=line.name,
                category=line.category,
                quantity=line.quantity,
                unit_price=line.unit_price,
                line_total=total,
                discount=share,
                tax_rate=rate,
                tax=tax,
                net=net,
            )
        )
        if rates is not None:
            _add(by_rate, rate, net, tax)
    shipping_tax = 0
    if rates is not None and shipping:
        shipping_tax = tax_on(shipping, rates.standard, prices_include_tax=prices_include_tax)
        _add(by_rate, rates.standard, shipping - shipping_tax if prices_include_tax else shipping, shipping_tax)
    tax = sum(line.tax for line in priced) + shipping_tax
    total = subtotal - discount + shipping + (0 if prices_include_tax else tax)
    return Priced(
        currency=currency,
        prices_include_tax=prices_include_tax,
        lines=priced,
        subtotal=subtotal,
        discount=discount,
        shipping=shipping,
        shipping_tax=shipping_tax,
        tax=tax,
        tax_lines=[TaxLine(rate=rate, base=base, amount=amount) for rate, (base, amount) in sorted(by_rate.items())],
        total=total,
    )


def spread(amount: int, weights: list[int]) -> list[int]:
    """`amount` split over `weights` in proportion, by largest remainder: each share is the floor of its
    exact part, and the units left go one each to the largest remainders (the earlier line on a tie), so
    the shares add up to `amount` exactly and none passes its weight."""
    whole = sum(weights)
    if amount == 0 or whole == 0:
        if amount:
            raise ValueError(f"cannot spread {amount} over nothing")
        return [0] * len(weights)
    shares = [amount * weight // whole for weight in weights]
    left = amount - sum(shares)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(amount * weights[i] % whole), i))
    for i in by_remainder[:left]:
        shares[i] += 1
    return shares


def tax_on(base: int, rate: Decimal, *, prices_include_tax: bool) -> int:
    """The tax in `base` (inclusive: base·r/(100+r)) or on it (exclusive: base·r/100), rounded half-up
    on the minor unit."""
    r = Fraction(rate)
    exact = Fraction(base) * r / (100 + r if prices_include_tax else 100)
    return _half_up(exact)


def _half_up(value: Fraction) -> int:
    """Round a non-negative amount to the nearest unit, halves up (0.5 → 1): the rule tax offices use,
    not Python's banker's rounding."""
    return int(value + Fraction(1, 2)) if value >= 0 else -int(-value + Fraction(1, 2))


def _add(by_rate: dict[Decimal, list[int]], rate: Decimal, base: int, amount: int) -> None:
    entry = by_rate.setdefault(rate, [0, 0])
    entry[0] += base
    entry[1] += amount


# ---------------------------------------------------------------- refunds: what part of a price comes back
#
# Rules (docs/decisions.md, "Refunds by line: rounded cumulatively"):
# - a line's paid amount G, tax T and net N come back cumulatively: returning k of its Q units in all
#   gives back half_up(X·k/Q) of its net N and its tax T, so a refund of q units after r takes
#   part(r+q) - part(r) of each, and its amount is exactly its net plus its tax (G = N + T for every
#   priced line): returning every unit, in any steps, gives back exactly G, T and N, no step is
#   negative, and each is within two minor units (one per rounded part) of its exact share of G;
# - an amount-only refund takes the order's tax and net in proportion to the amount (half-up), never
#   more than is left of them, and the refund that completes the order takes exactly what is left.


def part(whole: int, units: int, of: int) -> int:
    """`units` of `of` units' share of `whole`, rounded half-up (`ValueError` outside 0..of)."""
    if of <= 0 or not 0 <= units <= of:
        raise ValueError(f"{units} of {of} units")
    return _half_up(Fraction(whole * units, of))


@dataclass(frozen=True)
class LinePart:
    """What units of a line come to: `amount` as paid (with tax, after the discount), its `tax` and `net`."""

    amount: int
    tax: int
    net: int


def line_refund(*, paid: int, tax: int, net: int, quantity: int, returned: int, units: int) -> LinePart:
    """What `units` more of a line of `quantity` units bring back when `returned` came back before: the
    cumulative rule above, applied to the net and the tax; the amount is their sum. `ValueError` when
    fewer than `units` are left, `units` is not positive, or `paid` is not `net + tax` (a line `price`
    did not price): callers check requests first."""
    if paid != net + tax:
        raise ValueError(f"a line paid {paid} is not {net} net and {tax} tax")
    if units < 1 or returned < 0 or returned + units > quantity:
        raise ValueError(f"{units} more units of {quantity} after {returned}")

    def share(whole: int) -> int:
        return part(whole, returned + units, quantity) - part(whole, returned, quantity)

    its_net, its_tax = share(net), share(tax)
    return LinePart(amount=its_net + its_tax, tax=its_tax, net=its_net)


def in_proportion(whole: int, amount: int, total: int) -> int:
    """`whole`'s share of `amount` out of `total`, rounded half-up (0 when nothing was charged)."""
    if total <= 0:
        return 0
    return _half_up(Fraction(whole * amount, total))


@dataclass(frozen=True)
class AmountPart:
    """An amount-only refund's split: its `net` part of the merchandise net, and its tax by rate (rate,
    base, amount) in the order of the order's tax lines."""

    net: int
    tax: int
    tax_lines: list[TaxLine]


def amount_refund(
    amount: int,
    *,
    total: int,
    refunded_before: int,
    merchandise_net: int,
    net_before: int,
    tax_lines: list[TaxLine],
    tax_before: dict[Decimal, tuple[int, int]],
) -> AmountPart:
    """Split an amount-only refund as the order was priced. `tax_lines` are the order's; `tax_before` by
    rate the (base, amount) earlier refunds gave back, `net_before` the merchandise net. The tax is
    half_up(order tax · amount / total), spread over the rates by what is left of each (`spread`); each
    rate's base and the net are in proportion too; none passes what is left, and the refund that
    completes the order (`refunded_before + amount == total`) takes exactly what is left of each."""
    left_net = max(merchandise_net - net_before, 0)
    lefts = [
        (
            t.rate,
            max(t.base - tax_before.get(t.rate, (0, 0))[0], 0),
            max(t.amount - tax_before.get(t.rate, (0, 0))[1], 0),
        )
        for t in tax_lines
    ]
    if refunded_before + amount >= total:
        return AmountPart(
            net=left_net,
            tax=sum(a for _, _, a in lefts),
            tax_lines=[TaxLine(rate=r, base=b, amount=a) for r, b, a in lefts if b or a],
        )
    order_tax = sum(t.amount for t in tax_lines)
    tax = min(in_proportion(order_tax, amount, total), sum(a for _, _, a in lefts))
    amounts = spread(tax, [a for _, _, a in lefts]) if tax else [0] * len(lefts)
    split = [
        TaxLine(rate=r, base=min(in_proportion(t.base, amount, total), b), amount=a_share)
        for (r, b, _), t, a_share in zip(lefts, tax_lines, amounts, strict=True)
    ]
    return AmountPart(
        net=min(in_proportion(merchandise_net, amount, total), left_net),
        tax=tax,
        tax_lines=[t for t in split if t.base or t.amount],
    )
