"""Pricing arithmetic in `common.money`, without moto: line totals (price times quantity, bounded by the
largest amount the shop handles), sums of lines, and Stripe's minimum charge per currency. Checkout is
built from these; the integration suites check it end to end, this tier catches a broken rule fast."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.errors import ValidationFailed
from common.money import DEFAULT_MINIMUM_CHARGE, MAX_AMOUNT, AmountTooLarge, Money, minimum_charge


def eur(amount: int) -> Money:
    return Money(amount=amount, currency="EUR")


def test_a_line_total_is_the_unit_price_times_the_quantity() -> None:
    # Given a unit price of 19.99
    price = eur(1999)
    # When three are bought
    total = price.times(3)
    # Then the line costs exactly 59.97, in the price's currency
    assert total == eur(5997)


def test_a_line_total_may_reach_the_largest_amount_but_not_pass_it() -> None:
    # Given a price that is exactly a quarter of the largest amount
    price = eur(MAX_AMOUNT // 4)
    # When four are bought, the total is the largest amount itself
    assert price.times(4) == eur(MAX_AMOUNT)
    # And when one more cent's worth is asked, it is a 422 naming the amount, not a model's 500
    with pytest.raises(AmountTooLarge) as raised:
        eur(MAX_AMOUNT // 4 + 1).times(4)
    assert isinstance(raised.value, ValidationFailed)
    assert raised.value.code == "amount_too_large"


@given(
    unit=st.integers(min_value=0, max_value=MAX_AMOUNT),
    quantity=st.integers(min_value=0, max_value=1_000),
)
def test_times_is_exact_or_refused(unit: int, quantity: int) -> None:
    # Given any unit price and quantity
    # When the line total is computed
    # Then it is the exact product, or refused because the product passes the largest amount
    if unit * quantity > MAX_AMOUNT:
        with pytest.raises(AmountTooLarge):
            eur(unit).times(quantity)
    else:
        assert eur(unit).times(quantity).amount == unit * quantity


@given(amounts=st.lists(st.integers(min_value=0, max_value=MAX_AMOUNT // 100), min_size=1, max_size=20))
def test_a_subtotal_is_the_exact_sum_of_its_lines(amounts: list[int]) -> None:
    # Given the totals of some lines
    lines = [eur(amount) for amount in amounts]
    # When they are added up
    subtotal = lines[0]
    for line in lines[1:]:
        subtotal = subtotal + line
    # Then nothing is lost or rounded, and taking a line back out gives the rest
    assert subtotal == eur(sum(amounts))
    assert subtotal - lines[0] == eur(sum(amounts[1:]))


@pytest.mark.parametrize(
    ("currency", "minimum"),
    [("EUR", 50), ("USD", 50), ("GBP", 30), ("JPY", 50), ("HUF", 17500), ("CZK", 1500), ("DKK", 250)],
)
def test_the_minimum_charge_is_stripes_for_the_currency(currency: str, minimum: int) -> None:
    # Given a settlement currency Stripe lists
    # When the shop asks for the smallest payable total
    # Then it is Stripe's minimum, in minor units
    assert minimum_charge(currency) == minimum


def test_a_currency_stripe_does_not_list_gets_the_default_minimum() -> None:
    # Given a currency missing from the table
    # When its minimum is asked
    # Then it is the default (0.50), so a tiny total is refused rather than failing at Stripe
    assert DEFAULT_MINIMUM_CHARGE == 50
    assert minimum_charge("ISK") == DEFAULT_MINIMUM_CHARGE
