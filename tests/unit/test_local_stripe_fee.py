"""The local Stripe's fee (`local.stripe.stripe_fee`, `with_fee`): 1.5 % half up to the cent, plus 0.25,
on charges; none on refunds. Pure arithmetic: what the e2e tests and the payments report rely on."""

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from local.stripe import stripe_fee, with_fee


@pytest.mark.parametrize(
    ("amount", "fee"),
    [
        (0, 25),
        (1, 25),  # 0.015 → 0
        (33, 25),  # 0.495 → 0
        (34, 26),  # 0.51 → 1
        (100, 27),  # 1.5 → 2 (half up, not half even)
        (300, 30),  # 4.5 → 5
        (1000, 40),
        (1033, 40),  # 15.495 → 15
        (1034, 41),  # 15.51 → 16
        (2500, 63),  # 37.5 → 38
        (3600, 79),
    ],
)
def test_the_fee_is_one_and_a_half_percent_half_up_plus_25(amount: int, fee: int) -> None:
    assert stripe_fee(amount) == fee


@given(st.integers(min_value=0, max_value=99_999_999))
def test_the_fee_equals_the_decimal_rule(amount: int) -> None:
    percent = (Decimal(amount) * Decimal("0.015")).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    assert stripe_fee(amount) == int(percent) + 25


def test_a_charges_balance_transaction_gets_the_fee_and_its_net() -> None:
    transaction = {"id": "txn_1", "amount": 2500, "fee": 0, "net": 2500, "currency": "eur", "type": "charge"}

    charged = with_fee(transaction)

    assert (charged["amount"], charged["fee"], charged["net"]) == (2500, 63, 2437)
    assert charged["fee_details"] == [{"amount": 63, "currency": "eur", "type": "stripe_fee", "description": None}]
    assert charged["id"] == "txn_1"


def test_a_refunds_balance_transaction_keeps_no_fee() -> None:
    transaction = {"id": "txn_2", "amount": -700, "fee": 0, "net": -700, "currency": "eur", "type": "refund"}

    refunded = with_fee(transaction)

    assert (refunded["amount"], refunded["fee"], refunded["net"], refunded["fee_details"]) == (-700, 0, -700, [])
