"""The sale's split (net sales, shipping, tax, tax per country and rate) as increments to the day's
TOTAL item, read from the events' 2026-12 fields only: top-level attributes `tax#<country>#<rate>` and
`taxbase#<country>#<rate>`, so every update stays one atomic ADD and the day one item to read."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from common.contracts import OrderedLine, OrderRefunded, OrderSnapshot, RefundedLine, TaxAtRate
from common.events import Received
from common.money import Money
from reports.logic.aggregates import increments

AT = datetime(2030, 5, 31, 12, 0, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")


def _eur(amount: int) -> Money:
    return Money(amount=amount, currency="EUR")


def _line(sku: str, total: int, rate: str, tax: int) -> OrderedLine:
    return OrderedLine(
        sku=sku,
        product_id=f"p_{sku}",
        name=sku,
        category="c",
        quantity=1,
        unit_price=_eur(total),
        line_total=_eur(total),
        discount=_eur(0),
        tax_rate=rate,
        tax=_eur(tax),
        net=_eur(total - tax),
    )


# Prices include tax: a 7 % line 2000 (tax 131), a 19 % line 3570 (tax 570), shipping 490 (tax 78)
ORDER = OrderSnapshot(
    order_id="o_1",
    customer_id="ann",
    status="PAID",
    lines=[_line("book", 2000, "7", 131), _line("tee", 3570, "19", 570)],
    subtotal=_eur(5570),
    discount=_eur(0),
    shipping=_eur(490),
    tax=_eur(779),
    total=_eur(6060),
    refunded_total=_eur(0),
    shipping_tax=_eur(78),
    tax_lines=[
        TaxAtRate(rate="7", base=_eur(1869), amount=_eur(131)),
        TaxAtRate(rate="19", base=_eur(3412), amount=_eur(648)),
    ],
    country="DE",
    merchandise_net=_eur(4869),
    refunded_merchandise_net=_eur(0),
    created_at="2030-05-31T10:00:00.000000Z",
)


def _total(detail_type: str, payload: object) -> dict[str, int]:
    found = increments(Received(detail_type, f"{detail_type}#1", AT, payload), UTC_ZONE)  # type: ignore[arg-type]
    (total,) = [i for i in found if i.sk == "TOTAL"]
    return total.add


def test_a_paid_order_adds_its_split() -> None:
    assert _total("OrderPaid", ORDER) == {
        "orders": 1,
        "units": 2,
        "gross": 5570,
        "discounts": 0,
        "net_sales": 4869,
        "shipping": 490,
        "tax": 779,
        "tax#DE#7": 131,
        "taxbase#DE#7": 1869,
        "tax#DE#19": 648,
        "taxbase#DE#19": 3412,
    }


def test_an_order_without_a_country_counts_its_tax_under_an_unknown_one() -> None:
    added = _total("OrderPaid", ORDER.model_copy(update={"country": None}))
    assert added["tax#-#19"] == 648


def test_a_refund_by_line_subtracts_what_it_carries() -> None:
    refund = OrderRefunded(
        order=ORDER,
        refund_id="r1",
        amount=_eur(3570),
        restocked=True,
        lines=[RefundedLine(sku="tee", quantity=1, amount=_eur(3570), tax=_eur(570), net=_eur(3000))],
        tax_lines=[TaxAtRate(rate="19", base=_eur(3000), amount=_eur(570))],
        merchandise_net=_eur(3000),
    )
    assert _total("OrderRefunded", refund) == {
        "refunds": 3570,
        "net_sales": -3000,
        "tax": -570,
        "tax#DE#19": -570,
        "taxbase#DE#19": -3000,
    }


def test_a_refund_published_before_tax_subtracts_only_its_amount() -> None:
    refund = OrderRefunded(order=ORDER, refund_id="r1", amount=_eur(1000), restocked=False)
    assert _total("OrderRefunded", refund) == {"refunds": 1000}


def test_a_cancellation_after_payment_gives_the_whole_split_back() -> None:
    cancelled = ORDER.model_copy(update={"status": "CANCELLED", "refunded_total": _eur(6060)})
    assert _total("OrderCancelled", cancelled) == {
        "refunds": 6060,
        "net_sales": -4869,
        "shipping": -490,
        "tax": -779,
        "tax#DE#7": -131,
        "taxbase#DE#7": -1869,
        "tax#DE#19": -648,
        "taxbase#DE#19": -3412,
    }


def test_a_cancellation_refunding_part_gives_the_split_back_in_proportion() -> None:
    # Half the total: each figure half, rounded half up; the tax (390 of 779) spread over the rates
    cancelled = ORDER.model_copy(update={"status": "CANCELLED", "refunded_total": _eur(3030)})
    added = _total("OrderCancelled", cancelled)
    assert (added["refunds"], added["net_sales"], added["shipping"], added["tax"]) == (3030, -2435, -245, -390)
    assert added["tax#DE#7"] + added["tax#DE#19"] == -390
    assert (added["taxbase#DE#7"], added["taxbase#DE#19"]) == (-935, -1706)
