"""Sales split as a tax office and a shipping bill read them (issue 13): net sales (the lines without tax
after discounts), shipping charged, tax collected, and tax per country and rate, per day and for the
range, in the API, the CSV files and the email. Refunds subtract their part on the refund's day; a
redelivered event counts once; an event published before 2026-12 still counts, with no split.

The worked example, prices including tax (checked by hand against `common.pricing`):
- DE: a book 20.00 € at 7 % (tax 1.31, net 18.69) and a tee 35.70 € at 19 % (tax 5.70, net 30.00),
  Standard shipping 4.90 € at 19 % (tax 0.78, base 4.12): DE 7 % 18.69/1.31, DE 19 % 34.12/6.48.
- AT: two tees at 12.00 € at 20 % (tax 4.00, net 20.00), shipping 4.90 € at 20 % (tax 0.82, base 4.08):
  AT 20 % 24.08/4.82.
"""

import csv
import io
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from common.pricing import TaxRates
from reports import admin_api as api
from reports.logic import queries, runs
from reports.models import ReportGranularity, ReportKind, SalesReport
from tests.proxy import Answer

from .conftest import (
    TABLE,
    World,
    cancelled_after_payment,
    order,
    paid,
    priced_order,
    published_before_tax,
    received,
    refunded,
    refunded_by_line,
)

DAY = datetime(2030, 3, 31, 10, 0, tzinfo=UTC)
NEXT_DAY = datetime(2030, 4, 1, 10, 0, tzinfo=UTC)
MORNING_AFTER = datetime(2030, 4, 2, 6, 0, tzinfo=UTC)
DE = TaxRates(country="DE", standard=Decimal(19), categories={"books": Decimal(7)})
AT = TaxRates(country="AT", standard=Decimal(20))


def _de_order() -> Any:
    return priced_order(
        country="DE", rates=DE, lines=[("p_book", "books", 1, 2000), ("p_tee", "apparel", 1, 3570)], shipping=490
    )


def _at_order() -> Any:
    return priced_order(country="AT", rates=AT, lines=[("p_tee", "apparel", 2, 1200)], shipping=490)


def _report(world: World, start: datetime = DAY, end: datetime = DAY) -> SalesReport:
    return queries.sales(world.store, start.date(), end.date(), ReportGranularity.DAY, "EUR")


def _taxes(row: Any) -> list[tuple[str | None, str, int, int]]:
    return [(t.country, t.rate, t.base.amount, t.tax.amount) for t in row.taxes]


def test_the_worked_example_is_what_pricing_says() -> None:
    de, at = _de_order(), _at_order()
    assert [(t.rate, t.base.amount, t.amount.amount) for t in de.tax_lines] == [("7", 1869, 131), ("19", 3412, 648)]
    assert (de.merchandise_net.amount, de.shipping.amount, de.tax.amount, de.total.amount) == (4869, 490, 779, 6060)
    assert [(t.rate, t.base.amount, t.amount.amount) for t in at.tax_lines] == [("20", 2408, 482)]
    assert (at.merchandise_net.amount, at.tax.amount, at.total.amount) == (2000, 482, 2890)


def test_net_sales_shipping_and_tax_per_country_and_rate(world: World, deliver: Callable[..., bool]) -> None:
    # Given an order to DE at two rates and one to AT at one, paid the same day
    assert deliver(paid(_de_order(), DAY))
    assert deliver(paid(_at_order(), DAY))

    # When the day's sales are read
    (row,) = _report(world).rows

    # Then gross stays as it was, and the split is the orders': lines without tax, shipping, tax
    assert (row.orders, row.gross.amount, row.discounts.amount, row.refunds.amount) == (2, 7970, 0, 0)
    assert (row.net_sales.amount, row.shipping.amount, row.tax.amount) == (6869, 980, 1261)
    # And tax is per country and rate, by country then rate (7 before 19: rates are numbers)
    assert _taxes(row) == [("AT", "20", 2408, 482), ("DE", "7", 1869, 131), ("DE", "19", 3412, 648)]
    assert sum(t.tax.amount for t in row.taxes) == row.tax.amount


def test_a_line_refund_subtracts_its_parts_on_the_refunds_day(world: World, deliver: Callable[..., bool]) -> None:
    # Given both orders paid, then the DE tee returned and the AT order's shipping given back the next day
    de, at = _de_order(), _at_order()
    assert deliver(paid(de, DAY))
    assert deliver(paid(at, DAY))
    assert deliver(refunded_by_line(de, NEXT_DAY, skus=["SKU-P_TEE"]))
    assert deliver(refunded_by_line(at, NEXT_DAY, shipping_at="20", refund_id="r2"))

    # When the two days are read
    report = _report(world, DAY, NEXT_DAY)
    first, second = report.rows

    # Then the day of payment is untouched, and the refund's day subtracts what came back
    assert (first.net_sales.amount, first.shipping.amount, first.tax.amount) == (6869, 980, 1261)
    assert second.refunds.amount == 3570 + 490
    assert (second.net_sales.amount, second.shipping.amount, second.tax.amount) == (-3000, -490, -570 - 82)
    assert _taxes(second) == [("AT", "20", -408, -82), ("DE", "19", -3000, -570)]
    # And the range keeps what was kept: the book and the DE shipping, the AT tees
    total = report.total
    assert (total.net_sales.amount, total.shipping.amount, total.tax.amount) == (3869, 490, 609)
    assert _taxes(total) == [("AT", "20", 2000, 400), ("DE", "7", 1869, 131), ("DE", "19", 412, 78)]


def test_shipping_charged_without_tax_comes_back_without_it(world: World, deliver: Callable[..., bool]) -> None:
    # Given a shop whose prices exclude tax: a tee 30.00 € + 19 % (5.70), shipping 4.90 € + 19 % (0.93)
    order = priced_order(
        country="DE", rates=DE, lines=[("p_tee", "apparel", 1, 3000)], shipping=490, prices_include_tax=False
    )
    assert (order.tax.amount, order.total.amount) == (663, 4153)
    assert deliver(paid(order, DAY))
    (row,) = _report(world).rows
    assert (row.net_sales.amount, row.shipping.amount, row.tax.amount) == (3000, 490, 663)

    # When its shipping is refunded as paid (5.83 €, with its tax)
    refund = refunded_by_line(order, DAY, shipping_at="19")
    assert refund[2]["shipping"]["amount"] == 583
    assert deliver(refund)

    # Then shipping charged is back to nothing, and its tax comes off the tax collected
    (row,) = _report(world).rows
    assert row.refunds.amount == 583
    assert (row.net_sales.amount, row.shipping.amount, row.tax.amount) == (3000, 0, 570)
    assert _taxes(row) == [("DE", "19", 3000, 570)]


def test_a_rate_refunded_in_full_leaves_no_row(world: World, deliver: Callable[..., bool]) -> None:
    at = _at_order()
    assert deliver(paid(at, DAY))
    assert deliver(cancelled_after_payment(at, DAY))
    (row,) = _report(world).rows
    assert (row.refunds.amount, row.net_sales.amount, row.shipping.amount, row.tax.amount) == (2890, 0, 0, 0)
    assert row.taxes == []


def test_a_redelivered_event_counts_once(world: World, deliver: Callable[..., bool]) -> None:
    de = _de_order()
    line_refund = refunded_by_line(de, DAY, skus=["SKU-P_BOOK"])
    assert deliver(paid(de, DAY))
    assert deliver(line_refund)

    # When both are delivered again
    assert not deliver(paid(de, DAY))
    assert not deliver(line_refund)

    # Then each counted once
    (row,) = _report(world).rows
    assert (row.orders, row.refunds.amount) == (1, 2000)
    assert (row.net_sales.amount, row.shipping.amount, row.tax.amount) == (4869 - 1869, 490, 779 - 131)
    assert _taxes(row) == [("DE", "19", 3412, 648)]


def test_events_published_before_tax_still_aggregate(world: World, deliver: Callable[..., bool]) -> None:
    # Given an order and its refund in the shape published before 2026-12 (no pricing fields at all)
    old = order(customer="ann", lines=[("p_tee", 2, 1500)], discount=300)
    old_paid, old_refund = published_before_tax(paid(old, DAY)), published_before_tax(refunded(old, 1000, DAY))
    assert "taxLines" not in old_paid[2] and "merchandiseNet" not in old_refund[2]
    assert received(old_refund).payload.merchandise_net is None  # type: ignore[attr-defined]
    # next to one of today's shape
    assert deliver(old_paid)
    assert deliver(old_refund)
    assert deliver(paid(_at_order(), DAY))

    # Then the old order counts in gross, discounts and refunds as before, and adds nothing to the split
    (row,) = _report(world).rows
    assert (row.orders, row.gross.amount, row.discounts.amount, row.refunds.amount) == (2, 3000 + 2400, 300, 1000)
    assert (row.net_sales.amount, row.shipping.amount, row.tax.amount) == (2000, 490, 482)
    assert _taxes(row) == [("AT", "20", 2408, 482)]


def test_weeks_and_months_sum_the_split(world: World, deliver: Callable[..., bool]) -> None:
    assert deliver(paid(_de_order(), DAY))
    assert deliver(paid(_de_order(), NEXT_DAY))
    report = queries.sales(world.store, DAY.date(), NEXT_DAY.date(), ReportGranularity.MONTH, "EUR")
    march, april = report.rows
    assert (march.period, april.period) == ("2030-03", "2030-04")
    assert _taxes(report.total) == [("DE", "7", 2 * 1869, 2 * 131), ("DE", "19", 2 * 3412, 2 * 648)]


def test_the_api_answers_the_split(
    world: World,
    deliver: Callable[..., bool],
    api_event: Callable[..., dict[str, Any]],
    lambda_context: Any,
    monkeypatch: Any,
) -> None:
    for name, value in {"REPORTS_TABLE": TABLE, "SHOP_TIMEZONE": "UTC", "SHOP_CURRENCY": "EUR"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    assert deliver(paid(_de_order(), DAY))

    event = api_event("GET", "/reports/sales", query={"from": "2030-03-31", "to": "2030-03-31"}, groups=["admin"])
    answer = Answer.of(api.handler(event, lambda_context))

    assert answer.status == 200
    total = answer.body["total"]
    assert (total["netSales"]["amount"], total["shipping"]["amount"], total["tax"]["amount"]) == (4869, 490, 779)
    assert total["taxes"] == [
        {
            "country": "DE",
            "rate": "7",
            "base": {"amount": 1869, "currency": "EUR"},
            "tax": {"amount": 131, "currency": "EUR"},
        },
        {
            "country": "DE",
            "rate": "19",
            "base": {"amount": 3412, "currency": "EUR"},
            "tax": {"amount": 648, "currency": "EUR"},
        },
    ]


def _decoded(mail: Any, *, name: str | None = None, content_type: str | None = None) -> str:
    """The text of the mail's part with this file name or content type."""
    part = next(p for p in mail.walk() if (p.get_filename() == name if name else p.get_content_type() == content_type))
    return str(part.get_payload(decode=True).decode())


def _attached(mail: Any, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(_decoded(mail, name=name))))


def test_the_csv_files_and_the_email_show_the_split(world: World, deliver: Callable[..., bool]) -> None:
    # Given the two orders paid on one day
    assert deliver(paid(_de_order(), NEXT_DAY))
    assert deliver(paid(_at_order(), NEXT_DAY))

    # When that day's report runs
    record = runs.run(world.context(MORNING_AFTER), ReportKind.DAILY_REPORT)

    # Then the sales CSV has the split after its former columns, and the tax CSV a line per country and rate
    assert record["status"] == "DONE"
    (mail,) = world.sent()
    (line,) = _attached(mail, "sales-2030-04-01.csv")
    assert list(line)[-4:] == ["currency", "net_sales", "shipping", "tax"]
    assert (line["net_sales"], line["shipping"], line["tax"]) == ("6869", "980", "1261")
    assert _attached(mail, "tax-2030-04-01.csv") == [
        {"period": "2030-04-01", "country": "AT", "rate": "20", "base": "2408", "tax": "482", "currency": "EUR"},
        {"period": "2030-04-01", "country": "DE", "rate": "7", "base": "1869", "tax": "131", "currency": "EUR"},
        {"period": "2030-04-01", "country": "DE", "rate": "19", "base": "3412", "tax": "648", "currency": "EUR"},
    ]
    # And the email shows them: the totals, then a table of tax by country and rate
    html = _decoded(mail, content_type="text/html")
    for shown in ("Net sales (without tax)", "€68.69", "Shipping charged", "€9.80", "Tax collected", "€12.61"):
        assert shown in html
    assert "Tax by country and rate" in html
    assert html.index("AT") < html.index("€24.08") < html.index("€4.82") < html.index("€18.69")
    text = _decoded(mail, content_type="text/plain")
    assert "Tax collected:" in text and "12.61\n" in text  # the part's own charset encoding aside
    assert "tax-2030-04-01.csv" in {f["name"] for f in record["files"]}


def test_a_report_run_on_a_day_without_tax_says_so(world: World) -> None:
    record = runs.run(world.context(MORNING_AFTER), ReportKind.DAILY_REPORT)
    assert record["status"] == "DONE"
    (mail,) = world.sent()
    assert _attached(mail, "tax-2030-04-01.csv") == []
    html = _decoded(mail, content_type="text/html")
    assert "No tax collected" in html
    assert date(2030, 4, 1).isoformat() in html
