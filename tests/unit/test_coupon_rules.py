"""What a coupon takes off a checkout (`orders.coupons.discount`), without moto: percent and fixed
arithmetic in minor units, categories, and each rule's refusal with its code. The store enforces the use
limits again in its transaction (tests/integration/orders/test_coupons.py); these are the pure rules."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.contracts import OrderedLine
from common.errors import ValidationFailed
from common.money import Money
from orders.coupons import MAX_SHARDS, Coupon, CouponOut, allowances, discount, shards_for

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
CUSTOMER = "cust-1"


def eur(amount: int) -> Money:
    return Money(amount=amount, currency="EUR")


def line(sku: str, unit: int, quantity: int = 1, *, category: str = "tees") -> OrderedLine:
    return OrderedLine(
        sku=sku,
        product_id=f"p_{sku.lower()}",
        name=f"Product {sku}",
        category=category,
        quantity=quantity,
        unit_price=eur(unit),
        line_total=eur(unit * quantity),
    )


def coupon(**fields: Any) -> Coupon:
    """A coupon as the store reads it back: 10 % off, no limits, unless `fields` say otherwise."""
    return Coupon.model_validate({"code": "SAVE10", "type": "percent", "value": 10, "createdAt": NOW} | fields)


def off(
    the_coupon: Coupon,
    lines: list[OrderedLine],
    *,
    has_earlier_orders: bool = False,
    redeemed_by_customer: int = 0,
    now: datetime = NOW,
) -> int:
    """The discount in minor units for CUSTOMER."""
    return discount(
        the_coupon,
        lines,
        customer_id=CUSTOMER,
        has_earlier_orders=has_earlier_orders,
        redeemed_by_customer=redeemed_by_customer,
        now=now,
    ).amount


def refusal(the_coupon: Coupon, lines: list[OrderedLine], **kwargs: Any) -> str:
    """The rule code of the 422 the coupon is refused with."""
    with pytest.raises(ValidationFailed) as raised:
        off(the_coupon, lines, **kwargs)
    assert raised.value.details is not None
    assert raised.value.details[0]["field"] == "body.couponCode"
    return raised.value.code


def test_a_percent_discount_rounds_down_to_the_cent() -> None:
    # Given 10 % off and a cart of 19.99
    # When it is applied
    # Then 1.99 comes off (the fraction of a cent stays with the shop), never 2.00
    assert off(coupon(), [line("TEE", 1999)]) == 199
    # And 15 % of 33.33 (4.9995) is 4.99
    assert off(coupon(value=15), [line("TEE", 3333)]) == 499


def test_a_percent_discount_counts_every_unit_of_every_line() -> None:
    # Given 10 % off two tees at 25.00 and a mug at 12.00
    lines = [line("TEE", 2500, 2), line("MUG", 1200, category="kitchen")]
    # When it is applied
    # Then 6.20 comes off
    assert off(coupon(), lines) == 620


def test_categories_limit_what_the_discount_applies_to() -> None:
    # Given 10 % off kitchen only, on two tees and a mug
    lines = [line("TEE", 2500, 2), line("MUG", 1200, category="kitchen")]
    # When it is applied
    # Then only the mug is discounted
    assert off(coupon(categories=["kitchen"]), lines) == 120


def test_a_fixed_discount_never_exceeds_what_it_applies_to() -> None:
    # Given 5.00 off kitchen items, and a cart whose only kitchen item costs 3.00
    fixed = coupon(type="fixed", value=500, currency="EUR", categories=["kitchen"])
    lines = [line("TEE", 2500), line("SPOON", 300, category="kitchen")]
    # When it is applied
    # Then 3.00 comes off (the tee keeps its price), and with more kitchen items the whole 5.00
    assert off(fixed, lines) == 300
    assert off(fixed, [*lines, line("MUG", 1200, category="kitchen")]) == 500


def test_a_hundred_percent_takes_off_exactly_the_eligible_total() -> None:
    assert off(coupon(value=100), [line("TEE", 1999, 3)]) == 5997


@given(
    units=st.lists(st.tuples(st.integers(1, 100_000), st.integers(1, 20)), min_size=1, max_size=6),
    percent=st.integers(1, 100),
    fixed=st.integers(1, 1_000_000),
)
def test_a_discount_is_never_negative_nor_more_than_the_cart(
    units: list[tuple[int, int]], percent: int, fixed: int
) -> None:
    # Given any cart, and any percent or fixed coupon
    lines = [line(f"SKU{i}", unit, quantity) for i, (unit, quantity) in enumerate(units)]
    subtotal = sum(item.line_total.amount for item in lines)
    # When each is applied
    by_percent = off(coupon(value=percent), lines)
    by_amount = off(coupon(type="fixed", value=fixed, currency="EUR"), lines)
    # Then each is the floor of the percentage, or the fixed amount capped by the cart
    assert by_percent == subtotal * percent // 100
    assert by_amount == min(fixed, subtotal)
    assert 0 <= by_percent <= subtotal and 0 <= by_amount <= subtotal


def test_the_validity_window_includes_its_start_and_excludes_its_end() -> None:
    # Given a coupon valid for one day
    window = coupon(validFrom=NOW, validUntil=NOW + timedelta(days=1))
    cart = [line("TEE", 1000)]
    # When it is used at its first instant, its last, and its end
    # Then the first two count, the end is expired, and before the start it is not valid yet
    assert off(window, cart, now=NOW) == 100
    assert off(window, cart, now=NOW + timedelta(days=1, microseconds=-1)) == 100
    assert refusal(window, cart, now=NOW + timedelta(days=1)) == "coupon_expired"
    assert refusal(window, cart, now=NOW - timedelta(microseconds=1)) == "coupon_not_yet_valid"


def test_a_minimum_subtotal_is_inclusive_and_in_the_carts_currency() -> None:
    # Given a coupon that needs 20.00 in euros
    needs_20 = coupon(minSubtotal={"amount": 2000, "currency": "EUR"})
    # When the cart is exactly 20.00, or a cent less
    # Then the first is discounted and the second refused
    assert off(needs_20, [line("TEE", 2000)]) == 200
    assert refusal(needs_20, [line("TEE", 1999)]) == "coupon_min_subtotal"
    # And a minimum in another currency is never met
    needs_20_usd = coupon(minSubtotal={"amount": 2000, "currency": "USD"})
    assert refusal(needs_20_usd, [line("TEE", 5000)]) == "coupon_min_subtotal"


@pytest.mark.parametrize(
    ("fields", "kwargs", "rule"),
    [
        ({"maxRedemptions": 10, "redemptions": 10}, {}, "coupon_exhausted"),
        ({"customerIds": ["somebody-else"]}, {}, "coupon_not_for_customer"),
        ({"maxPerCustomer": 1}, {"redeemed_by_customer": 1}, "coupon_used_by_customer"),
        ({"firstOrderOnly": True}, {"has_earlier_orders": True}, "coupon_first_order_only"),
        ({"type": "fixed", "value": 500, "currency": "USD"}, {}, "coupon_currency"),
        ({"categories": ["garden"]}, {}, "coupon_not_applicable"),
    ],
)
def test_each_rule_refuses_with_its_own_code(fields: dict[str, Any], kwargs: dict[str, Any], rule: str) -> None:
    # Given a coupon that breaks one rule for this customer and cart
    # When it is applied
    # Then it is a 422 on body.couponCode naming that rule
    assert refusal(coupon(**fields), [line("TEE", 1000)], **kwargs) == rule


@pytest.mark.parametrize(
    ("fields", "kwargs"),
    [
        ({"maxRedemptions": 10, "redemptions": 9}, {}),
        ({"customerIds": [CUSTOMER]}, {}),
        ({"maxPerCustomer": 2}, {"redeemed_by_customer": 1}),
        ({"firstOrderOnly": True}, {"has_earlier_orders": False}),
    ],
)
def test_just_inside_each_limit_the_coupon_applies(fields: dict[str, Any], kwargs: dict[str, Any]) -> None:
    assert off(coupon(**fields), [line("TEE", 1000)], **kwargs) == 100


def test_validity_times_are_utc_even_when_one_is_given_without_a_zone() -> None:
    # Given a coupon whose start has no zone and whose end is in another zone (was a TypeError: a 500)
    fields = {"validFrom": "2030-06-01T08:00:00", "validUntil": "2030-06-30T12:00:00+02:00"}

    # When staff create it
    created = coupon(**fields)

    # Then both are UTC (a time without a zone is taken as UTC), and answered with `Z`
    assert (created.valid_from, created.valid_until) == (
        datetime(2030, 6, 1, 8, tzinfo=UTC),
        datetime(2030, 6, 30, 10, tzinfo=UTC),
    )
    assert created.valid_from is not None and created.valid_from.tzinfo is UTC
    assert CouponOut(**created.model_dump()).model_dump(mode="json")["validUntil"] == "2030-06-30T10:00:00Z"


@given(st.integers(min_value=1, max_value=10_000_000))
def test_a_cap_splits_over_its_shards_without_losing_or_adding_a_use(cap: int) -> None:
    # Given a coupon's cap, split over the shards a new coupon gets
    shards = shards_for(cap)
    split = allowances(cap, shards)

    # Then the shards hold the cap exactly, each at least one use, none more than one above another
    assert 1 <= shards <= MAX_SHARDS
    assert len(split) == shards
    assert sum(split) == cap
    assert min(split) >= 1
    assert max(split) - min(split) <= 1


def test_a_coupon_without_a_cap_is_counted_over_every_shard() -> None:
    assert shards_for(None) == MAX_SHARDS
    assert shards_for(1) == 1
    assert shards_for(5_000) == MAX_SHARDS
