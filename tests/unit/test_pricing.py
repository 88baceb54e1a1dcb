"""`common.pricing` without moto: the issue's worked examples written out, tax-exclusive variants, and
properties for generated carts (shares add up to the discount, tax lines to the tax, totals are never
negative and follow the formula of the shop's tax mode)."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.money import Money
from common.pricing import PricingLine, ShippingMethod, TaxLine, TaxRates, price, spread, tax_on

DE = TaxRates(country="DE", standard=Decimal("19"), categories={"books": Decimal("7")})
STANDARD = ShippingMethod(
    shipping_method_id="standard",
    name="Standard",
    countries=["DE", "AT"],
    price=Money(amount=490, currency="EUR"),
    free_over=Money(amount=5000, currency="EUR"),
)


def line(sku: str, unit_price: int, quantity: int = 1, category: str = "tees") -> PricingLine:
    return PricingLine(
        sku=sku, product_id=f"p_{sku}", name=sku, category=category, quantity=quantity, unit_price=unit_price
    )


# ---------------------------------------------------------------- worked examples (issue 13)


def test_two_items_incl_19_percent_with_shipping_come_to_28_70_with_4_58_tax() -> None:
    # Given 2 x 11.90 EUR in a shop whose prices include tax, shipped to DE (19 %) for 4.90
    lines = [line("TEE", 1190, quantity=2)]

    # When priced
    priced = price(lines, currency="EUR", prices_include_tax=True, discount=0, shipping=490, rates=DE)

    # Then the total is 28.70 and it includes 4.58 tax: 3.80 on the goods (23.80·19/119), 0.78 on shipping
    assert (priced.subtotal, priced.shipping, priced.total) == (2380, 490, 2870)
    assert priced.tax == 458
    assert (priced.lines[0].tax, priced.shipping_tax) == (380, 78)
    # And one tax line at 19 % whose base is what was taxed, without the tax
    assert priced.tax_lines == [TaxLine(rate=Decimal("19"), base=2000 + 412, amount=458)]


def test_a_7_percent_book_next_to_a_19_percent_line_is_taxed_at_each_rate() -> None:
    # Given a book (7 %) at 10.70 and a tee (19 %) at 11.90, prices with tax, shipped for 4.90
    lines = [line("BOOK", 1070, category="books"), line("TEE", 1190)]

    # When priced
    priced = price(lines, currency="EUR", prices_include_tax=True, discount=0, shipping=490, rates=DE)

    # Then the book carries 0.70 (10.70·7/107), the tee 1.90, shipping 0.78 at the standard rate
    assert [(p.sku, p.tax_rate, p.tax, p.net) for p in priced.lines] == [
        ("BOOK", Decimal("7"), 70, 1000),
        ("TEE", Decimal("19"), 190, 1000),
    ]
    assert priced.tax == 70 + 190 + 78
    assert priced.tax_lines == [
        TaxLine(rate=Decimal("7"), base=1000, amount=70),
        TaxLine(rate=Decimal("19"), base=1000 + 412, amount=190 + 78),
    ]
    assert priced.total == 1070 + 1190 + 490


def test_shipping_is_free_exactly_at_the_threshold() -> None:
    # Given Standard shipping, free from 50.00
    # When the merchandise after discount is worth exactly 50.00, or a cent less
    # Then it ships free at the threshold, and costs 4.90 below it
    assert STANDARD.charge_for(5000) == 0
    assert STANDARD.charge_for(4999) == 490
    # And a free shipping charge is priced and taxed as nothing
    priced = price(
        [line("TEE", 2500, quantity=2)],
        currency="EUR",
        prices_include_tax=True,
        discount=0,
        shipping=STANDARD.charge_for(5000),
        rates=DE,
    )
    assert (priced.shipping, priced.shipping_tax, priced.total) == (0, 0, 5000)


def test_a_10_percent_coupon_is_spread_over_two_rates_before_tax() -> None:
    # Given a book at 21.40 (7 %) and a tee at 35.70 (19 %), and a 10 % coupon: 5.71 off 57.10
    lines = [line("BOOK", 2140, category="books"), line("TEE", 3570)]

    # When priced with that discount and no shipping
    priced = price(lines, currency="EUR", prices_include_tax=True, discount=571, shipping=0, rates=DE)

    # Then the discount is shared in proportion (2.14 and 3.57, summing to 5.71)
    assert [p.discount for p in priced.lines] == [214, 357]
    # And each line is taxed on what is left of it: 19.26·7/107 = 1.26, 32.13·19/119 = 5.13
    assert [p.tax for p in priced.lines] == [126, 513]
    assert priced.tax == 639
    assert priced.total == 5710 - 571


def test_tax_exclusive_prices_add_the_tax_on_top() -> None:
    # Given 2 x 10.00 net and 4.90 shipping net, in a shop whose prices exclude tax, to DE
    lines = [line("TEE", 1000, quantity=2)]

    # When priced
    priced = price(lines, currency="EUR", prices_include_tax=False, discount=0, shipping=490, rates=DE)

    # Then 19 % is added on the goods (3.80) and on shipping (0.93), and the total carries it
    assert (priced.lines[0].tax, priced.shipping_tax, priced.tax) == (380, 93, 473)
    assert priced.total == 2000 + 490 + 473
    assert priced.tax_lines == [TaxLine(rate=Decimal("19"), base=2490, amount=473)]


def test_tax_exclusive_with_a_coupon_taxes_the_discounted_lines() -> None:
    # Given a 7 % book at 20.00 and a 19 % tee at 30.00 net, and 5.00 off
    lines = [line("BOOK", 2000, category="books"), line("TEE", 3000)]

    # When priced without shipping
    priced = price(lines, currency="EUR", prices_include_tax=False, discount=500, shipping=0, rates=DE)

    # Then the shares are 2.00 and 3.00, and tax is on 18.00 (1.26) and 27.00 (5.13)
    assert [(p.discount, p.tax, p.net) for p in priced.lines] == [(200, 126, 1800), (300, 513, 2700)]
    assert priced.total == 5000 - 500 + 126 + 513


def test_a_country_without_rates_is_taxed_at_nothing() -> None:
    # Given no rates for the country
    # When priced
    lines = [line("TEE", 1190, 2)]
    priced = price(lines, currency="EUR", prices_include_tax=True, discount=0, shipping=490, rates=None)
    # Then there is no tax and no tax line, and the total is what the prices say
    assert (priced.tax, priced.tax_lines, priced.total) == (0, [], 2870)


def test_tax_is_rounded_half_up_on_the_minor_unit() -> None:
    # Given amounts whose exact tax ends in exactly half a cent
    # When rounded, the half goes up (Python's round() would give 0 and 2)
    assert tax_on(5, Decimal("10"), prices_include_tax=False) == 1  # 0.5
    assert tax_on(25, Decimal("10"), prices_include_tax=False) == 3  # 2.5
    assert tax_on(24, Decimal("10"), prices_include_tax=False) == 2  # 2.4
    # And a fractional rate is exact: 100 x 7.7 % = 7.7 → 8
    assert tax_on(100, Decimal("7.7"), prices_include_tax=False) == 8


def test_the_largest_remainders_get_the_units_left_over() -> None:
    # Given 1.00 off three equal lines
    # When spread, the first lines take the extra cent on a tie, and the shares add up
    assert spread(100, [1000, 1000, 1000]) == [34, 33, 33]
    assert spread(0, [5, 0]) == [0, 0]
    with pytest.raises(ValueError, match="cannot spread"):
        spread(1, [0, 0])


def test_a_discount_beyond_the_subtotal_is_a_bug() -> None:
    with pytest.raises(ValueError, match="a discount of 101"):
        price([line("TEE", 100)], currency="EUR", prices_include_tax=True, discount=101, shipping=0, rates=DE)


# ---------------------------------------------------------------- properties

rates = st.one_of(
    st.none(),
    st.builds(
        lambda standard, reduced: TaxRates(country="DE", standard=standard, categories={"books": reduced}),
        st.decimals(min_value=0, max_value=30, places=1),
        st.decimals(min_value=0, max_value=10, places=1),
    ),
)
lines_st = st.lists(
    st.builds(
        line,
        st.sampled_from(["A", "B", "C", "D"]),
        st.integers(min_value=0, max_value=500_000),
        st.integers(min_value=1, max_value=20),
        st.sampled_from(["books", "tees"]),
    ),
    min_size=1,
    max_size=8,
)


@given(
    lines=lines_st,
    discount_part=st.fractions(min_value=0, max_value=1),
    shipping=st.integers(min_value=0, max_value=10_000),
    rates=rates,
    inclusive=st.booleans(),
)
def test_priced_orders_add_up(
    lines: list[PricingLine], discount_part: object, shipping: int, rates: TaxRates | None, inclusive: bool
) -> None:
    # Given any cart, a discount up to its value, a shipping charge, rates or none, and either tax mode
    subtotal = sum(item.quantity * item.unit_price for item in lines)
    discount = int(subtotal * discount_part)  # type: ignore[operator]

    # When priced
    priced = price(
        lines, currency="EUR", prices_include_tax=inclusive, discount=discount, shipping=shipping, rates=rates
    )

    # Then the shares add up to the discount, none exceeds its line, and no amount is negative
    assert sum(p.discount for p in priced.lines) == discount
    assert all(0 <= p.discount <= p.line_total for p in priced.lines)
    assert all(p.tax >= 0 and p.net >= 0 for p in priced.lines)
    assert priced.total >= 0 and priced.tax >= 0
    # And the total follows the shop's tax mode
    expected = subtotal - discount + shipping + (0 if inclusive else priced.tax)
    assert (priced.subtotal, priced.total) == (subtotal, expected)
    # And the tax lines add up to the tax, and their bases to everything taxed, without tax
    assert sum(t.amount for t in priced.tax_lines) == (priced.tax if rates else 0)
    if rates is not None:
        without_tax = subtotal - discount + shipping - (priced.tax if inclusive else 0)
        assert sum(t.base for t in priced.tax_lines) == without_tax
    else:
        assert priced.tax == 0 and priced.tax_lines == []


@given(amount=st.integers(min_value=0, max_value=10**9), weights=st.lists(st.integers(0, 10**8), min_size=1))
def test_spread_shares_sum_exactly(amount: int, weights: list[int]) -> None:
    # Given an amount no larger than what it is spread over
    amount = min(amount, sum(weights))
    # When spread
    shares = spread(amount, weights)
    # Then the shares add up exactly and each is within one unit of its exact proportion
    assert sum(shares) == amount
    whole = sum(weights) or 1
    assert all(abs(share * whole - amount * weight) < whole for share, weight in zip(shares, weights, strict=True))
