"""Commission arithmetic in `affiliates.logic`, without moto: a commission is the rate (in basis points)
of the order's net total rounded half down (an exact half cent goes to the shop), and refunds reverse the
same share of the refunded part, computed from the cumulative refunds so partial refunds never drift."""

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from affiliates.logic import commission_of, reversal_of, round_half_down
from affiliates.models import BPS, MAX_RATE_BPS


def half_down(value: Fraction) -> int:
    """The rule, said plainly: the nearest integer, an exact half going down."""
    floor = value.numerator // value.denominator
    return floor + 1 if value - floor > Fraction(1, 2) else floor


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [(25, 2, 12), (27, 2, 13), (26, 2, 13), (1, 3, 0), (2, 3, 1), (5, 4, 1), (7, 4, 2), (0, 7, 0)],
)
def test_round_half_down(numerator: int, denominator: int, expected: int) -> None:
    # Given a quotient below, at or above a half
    # When it is rounded
    # Then it goes to the nearest integer, an exact half down
    assert round_half_down(numerator, denominator) == expected


def test_an_exact_half_cent_of_commission_goes_to_the_shop() -> None:
    # Given a 12.5 % affiliate: of 1.00 that is exactly 12.5 cents, of 1.01 it is 12.625 cents
    rate = 1250
    # When the commissions are computed
    # Then the half goes down, the rest to the nearest cent
    assert commission_of(100, rate) == 12
    assert commission_of(101, rate) == 13


@given(net_total=st.integers(min_value=0, max_value=100_000_000_00), rate_bps=st.integers(0, MAX_RATE_BPS))
def test_a_commission_is_the_rate_of_the_net_total_rounded_half_down(net_total: int, rate_bps: int) -> None:
    # Given any net total and any rate an affiliate may be approved at
    # When the commission is computed
    # Then it is the exact share, rounded half down, and never more than the order
    commission = commission_of(net_total, rate_bps)
    assert commission == half_down(Fraction(net_total * rate_bps, BPS))
    assert 0 <= commission <= net_total


def test_refunds_reverse_the_same_share_of_the_commission() -> None:
    # Given a 4.50 commission on a 45.00 order
    # When nothing, half, or all of it is refunded
    # Then nothing, half, or all of the commission is reversed
    assert reversal_of(450, 0, 4500) == 0
    assert reversal_of(450, 2250, 4500) == 225
    assert reversal_of(450, 4500, 4500) == 450


@given(
    commission=st.integers(min_value=0, max_value=1_000_000),
    total=st.integers(min_value=1, max_value=10_000_000),
    cuts=st.lists(st.floats(min_value=0.0, max_value=1.0), max_size=6),
)
def test_partial_refunds_never_drift_and_a_full_refund_reverses_exactly(
    commission: int, total: int, cuts: list[float]
) -> None:
    # Given a commission on an order refunded in several parts, the reversal of each part being the
    # difference between the reversals of the cumulative refunds (as the ledger applies them)
    refunded = sorted({int(total * cut) for cut in cuts})
    steps = [*refunded, total]
    reversed_so_far = 0
    for cumulative in steps:
        # When the next refund arrives
        now_reversed = reversal_of(commission, cumulative, total)
        # Then the reversal never goes back, and never passes the commission
        assert reversed_so_far <= now_reversed <= commission
        assert now_reversed == min(commission, half_down(Fraction(commission * cumulative, total)))
        reversed_so_far = now_reversed
    # And once everything is refunded, exactly the commission is reversed
    assert reversed_so_far == commission
