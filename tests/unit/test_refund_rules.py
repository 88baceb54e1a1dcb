"""Refunds by line and by amount as `common.pricing` splits them, without moto: the issue's worked example
("a line-level refund of one of three units") written out, with and without a coupon share, and
properties: returning a line's units in any steps gives back exactly what it was paid, its tax and its
net; amount-only refunds never give back more tax or net than is left, and the last one takes the rest."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.pricing import (
    LinePart,
    PricingLine,
    TaxLine,
    TaxRates,
    amount_refund,
    in_proportion,
    line_refund,
    part,
    price,
)

DE = TaxRates(country="DE", standard=Decimal("19"), categories={"books": Decimal("7")})


def tees(quantity: int, unit_price: int = 1190) -> PricingLine:
    return PricingLine(
        sku="TEE", product_id="p_tee", name="Tee", category="tees", quantity=quantity, unit_price=unit_price
    )


# ---------------------------------------------------------------- worked examples (issue 13)


def test_one_of_three_units_at_11_90_incl_19_percent_comes_back_as_11_90_with_1_90_tax() -> None:
    # Given 3 x 11.90 EUR, prices including 19 % (DE): the line was paid 35.70, of which tax 5.70, net 30.00
    (line,) = price([tees(3)], currency="EUR", prices_include_tax=True, discount=0, shipping=0, rates=DE).lines
    assert (line.line_total, line.discount, line.tax, line.net) == (3570, 0, 570, 3000)

    # When one unit comes back
    back = line_refund(paid=line.net + line.tax, tax=line.tax, net=line.net, quantity=3, returned=0, units=1)

    # Then it gives back 11.90 gross, 1.90 tax, 10.00 net
    assert back == LinePart(amount=1190, tax=190, net=1000)


def test_one_of_three_units_with_a_coupon_share_gives_back_a_third_of_what_was_paid() -> None:
    # Given 3 x 11.90 incl. 19 % and a 10 % coupon (3.57 off): paid 32.13, tax 5.13, net 27.00
    (line,) = price([tees(3)], currency="EUR", prices_include_tax=True, discount=357, shipping=0, rates=DE).lines
    assert (line.discount, line.net + line.tax, line.tax, line.net) == (357, 3213, 513, 2700)

    # When one unit comes back, then the other two
    first = line_refund(paid=3213, tax=513, net=2700, quantity=3, returned=0, units=1)
    rest = line_refund(paid=3213, tax=513, net=2700, quantity=3, returned=1, units=2)

    # Then the first gives back 10.71 (tax 1.71, net 9.00), the rest 21.42 (tax 3.42, net 18.00)
    assert first == LinePart(amount=1071, tax=171, net=900)
    assert rest == LinePart(amount=2142, tax=342, net=1800)


def test_units_of_a_line_that_does_not_divide_evenly_are_rounded_cumulatively() -> None:
    # Given 3 x 11.90 incl. 19 % with a 5.00 coupon: paid 30.70, tax 30.70 x 19/119 = 4.9017 -> 4.90,
    # net 25.80; a third is 10.2333 (tax 1.6333, net 8.60)
    paid, tax, net = 3070, 490, 2580

    # When the units come back one by one
    steps = [line_refund(paid=paid, tax=tax, net=net, quantity=3, returned=r, units=1) for r in range(3)]

    # Then each takes part(r+1) - part(r): 10.23, 10.24 (20.47 - 10.23), 10.23 (30.70 - 20.47), and
    # likewise the tax 1.63, 1.64, 1.63; together exactly what the line was paid
    assert [s.amount for s in steps] == [1023, 1024, 1023]
    assert [s.tax for s in steps] == [163, 164, 163]
    assert [s.net for s in steps] == [860, 860, 860]
    assert (sum(s.amount for s in steps), sum(s.tax for s in steps), sum(s.net for s in steps)) == (paid, tax, net)


def test_a_unit_of_a_line_priced_without_tax_gives_back_its_tax_on_top() -> None:
    # Given a shop whose prices exclude tax: 3 x 10.00 at 19 % is paid 35.70 (net 30.00, tax 5.70)
    (line,) = price([tees(3, 1000)], currency="EUR", prices_include_tax=False, discount=0, shipping=0, rates=DE).lines

    # When one unit comes back, then it gives back 11.90 of which 1.90 tax
    back = line_refund(paid=line.net + line.tax, tax=line.tax, net=line.net, quantity=3, returned=0, units=1)
    assert back == LinePart(amount=1190, tax=190, net=1000)


def test_an_amount_only_refund_splits_its_tax_over_the_rates_in_proportion() -> None:
    # Given an order of 28.70 incl. tax 4.58 (19 % on 24.12 net of lines and shipping) and 7 % on nothing
    lines = [TaxLine(rate=Decimal("19"), base=2412, amount=458)]

    # When 10.00 is refunded
    split = amount_refund(
        1000, total=2870, refunded_before=0, merchandise_net=2000, net_before=0, tax_lines=lines, tax_before={}
    )

    # Then its tax is 4.58 x 10/28.70 = 1.5958 -> 1.60, its base 8.40, its net 20.00 x 10/28.70 -> 6.97
    assert (split.tax, split.net) == (160, 697)
    assert split.tax_lines == [TaxLine(rate=Decimal("19"), base=840, amount=160)]


def test_the_refund_that_completes_an_order_takes_exactly_what_is_left() -> None:
    lines = [TaxLine(rate=Decimal("7"), base=1000, amount=70), TaxLine(rate=Decimal("19"), base=2000, amount=380)]
    split = amount_refund(
        1500,
        total=3450,
        refunded_before=1950,
        merchandise_net=3000,
        net_before=1700,
        tax_lines=lines,
        tax_before={Decimal("7"): (600, 42), Decimal("19"): (1100, 209)},
    )
    assert (split.net, split.tax) == (1300, 28 + 171)
    assert split.tax_lines == [
        TaxLine(rate=Decimal("7"), base=400, amount=28),
        TaxLine(rate=Decimal("19"), base=900, amount=171),
    ]


def test_more_units_than_are_left_are_a_callers_bug() -> None:
    with pytest.raises(ValueError, match="units"):
        line_refund(paid=100, tax=0, net=100, quantity=2, returned=1, units=2)
    with pytest.raises(ValueError, match="units"):
        line_refund(paid=100, tax=0, net=100, quantity=2, returned=0, units=0)


# ---------------------------------------------------------------- properties


@st.composite
def a_line_returned_in_steps(draw: st.DrawFn) -> tuple[int, int, int, int, list[int]]:
    quantity = draw(st.integers(min_value=1, max_value=60))
    tax = draw(st.integers(min_value=0, max_value=500_000))
    net = draw(st.integers(min_value=0, max_value=5_000_000))
    steps: list[int] = []
    left = quantity
    while left:
        step = draw(st.integers(min_value=1, max_value=left))
        steps.append(step)
        left -= step
    return quantity, net + tax, tax, net, steps


@given(a_line_returned_in_steps())
def test_any_sequence_of_partial_line_refunds_gives_back_exactly_what_the_line_was_paid(
    case: tuple[int, int, int, int, list[int]],
) -> None:
    quantity, paid, tax, net, steps = case
    returned = 0
    parts = []
    for units in steps:
        parts.append(line_refund(paid=paid, tax=tax, net=net, quantity=quantity, returned=returned, units=units))
        returned += units
    assert sum(p.amount for p in parts) == paid
    assert sum(p.tax for p in parts) == tax
    assert sum(p.net for p in parts) == net
    assert all(p.amount >= 0 and p.tax >= 0 and p.net >= 0 for p in parts)
    assert all(p.amount == p.net + p.tax for p in parts)
    # and each step is within two minor units (one per rounded part) of its exact share
    for p, units in zip(parts, steps, strict=True):
        assert abs(p.amount * quantity - paid * units) <= 2 * quantity


@st.composite
def amount_refunds(draw: st.DrawFn) -> tuple[int, int, list[TaxLine], list[int]]:
    rates = draw(st.lists(st.sampled_from(["0", "5.5", "7", "19", "20"]), min_size=0, max_size=3, unique=True))
    tax_lines = [
        TaxLine(
            rate=Decimal(rate),
            base=draw(st.integers(min_value=0, max_value=100_000)),
            amount=draw(st.integers(min_value=0, max_value=20_000)),
        )
        for rate in rates
    ]
    net = draw(st.integers(min_value=0, max_value=100_000))
    total = net + sum(t.amount for t in tax_lines) + draw(st.integers(min_value=1, max_value=5000))
    amounts: list[int] = []
    left = total
    while left and len(amounts) < 8:
        step = draw(st.integers(min_value=1, max_value=left))
        amounts.append(step)
        left -= step
    if left:
        amounts.append(left)
    return total, net, tax_lines, amounts


@given(amount_refunds())
def test_amount_only_refunds_never_give_back_more_than_is_left_and_the_last_takes_the_rest(
    case: tuple[int, int, list[TaxLine], list[int]],
) -> None:
    total, merchandise_net, tax_lines, amounts = case
    refunded = net_before = 0
    before: dict[Decimal, tuple[int, int]] = {}
    for amount in amounts:
        split = amount_refund(
            amount,
            total=total,
            refunded_before=refunded,
            merchandise_net=merchandise_net,
            net_before=net_before,
            tax_lines=tax_lines,
            tax_before=before,
        )
        assert split.tax == sum(t.amount for t in split.tax_lines)
        assert split.net >= 0 and split.tax >= 0
        refunded += amount
        net_before += split.net
        for t in split.tax_lines:
            base, tax = before.get(t.rate, (0, 0))
            before[t.rate] = (base + t.base, tax + t.amount)
        assert net_before <= merchandise_net
        for t in tax_lines:
            assert before.get(t.rate, (0, 0))[0] <= t.base and before.get(t.rate, (0, 0))[1] <= t.amount
    # the order is refunded in full: every rate's base and tax, and the net, are back exactly
    assert net_before == merchandise_net
    assert {r: v for r, v in before.items() if v != (0, 0)} == {
        t.rate: (t.base, t.amount) for t in tax_lines if t.base or t.amount
    }


def test_part_and_proportion_round_half_up() -> None:
    assert part(5, 1, 2) == 3  # 2.5 -> 3
    assert in_proportion(458, 1000, 2870) == 160
    assert in_proportion(100, 50, 0) == 0
