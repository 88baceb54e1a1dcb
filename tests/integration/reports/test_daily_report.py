"""A daily report for a frozen clock: its CSV line by line, the email's parts and recipients, and a
second run of the same day that sends nothing. Then the edges: an empty day, a day with only
refunds, a month boundary, and the shop's time zone."""

from collections.abc import Callable
from datetime import UTC, date, datetime

from reports.logic import queries, runs
from reports.models import ReportGranularity, ReportKind

from .conftest import RECIPIENTS, SENDER, World, cancelled_after_payment, order, paid, refunded

DAY = datetime(2030, 3, 31, 10, 0, tzinfo=UTC)  # the last day of a month
NEXT_MORNING = datetime(2030, 4, 1, 6, 0, tzinfo=UTC)


def _parts(message: object) -> dict[str, list[object]]:
    found: dict[str, list[object]] = {}
    for part in message.walk():  # type: ignore[attr-defined]
        found.setdefault(part.get_content_type(), []).append(part)
    return found


def test_the_daily_report_of_yesterday(world: World, deliver: Callable[..., bool]) -> None:
    # Given yesterday: two orders, one from a campaign, one of them partly refunded the same day
    ad = order(
        customer="ann",
        lines=[("p_tee", 2, 1500)],
        discount=300,
        attribution={"source": "google", "medium": "cpc", "campaign": "spring"},
    )
    plain = order(customer="bob", lines=[("p_mug", 1, 1200), ("p_tee", 1, 1500)])
    for event in (paid(ad, DAY), paid(plain, DAY), refunded(plain, 1200, DAY)):
        assert deliver(event)

    # When the schedule fires the next morning
    record = runs.run(world.context(NEXT_MORNING), ReportKind.DAILY_REPORT)

    # Then the run covers yesterday and is recorded as sent to the configured recipients
    assert (record["period"], record["status"], record["recipients"]) == ("2030-03-31", "DONE", RECIPIENTS)
    (mail,) = world.sent()
    assert mail["From"] == SENDER
    assert mail["To"] == ", ".join(RECIPIENTS)
    assert "Daily report 2030-03-31" in str(mail["Subject"])
    parts = _parts(mail)
    # The CSV is attached, line by line: gross 3000 + 2700 = 5700, discounts 300, refunds 1200 (orders of
    # the shape before 2026-12 carry no net sales, shipping or tax: 0 in the columns after `currency`)
    sales_csv = next(p for p in parts["text/csv"] if p.get_filename() == "sales-2030-03-31.csv")  # type: ignore[attr-defined]
    assert sales_csv.get_content_disposition() == "attachment"  # type: ignore[attr-defined]
    assert sales_csv.get_payload(decode=True).decode().splitlines() == [  # type: ignore[attr-defined]
        "period,orders,units,gross,discounts,refunds,net,average_order_value,currency,net_sales,shipping,tax",
        "2030-03-31,2,4,5700,300,1200,4200,2700,EUR,0,0,0",
    ]
    products_csv = next(p for p in parts["text/csv"] if p.get_filename().startswith("products"))  # type: ignore[attr-defined]
    assert products_csv.get_payload(decode=True).decode().splitlines() == [  # type: ignore[attr-defined]
        "product_id,name,category,units,gross,views,currency",
        "p_tee,Product p_tee,apparel,3,4500,0,EUR",
        "p_mug,Product p_mug,apparel,1,1200,0,EUR",
    ]
    campaigns_csv = next(p for p in parts["text/csv"] if p.get_filename().startswith("campaigns"))  # type: ignore[attr-defined]
    assert campaigns_csv.get_payload(decode=True).decode().splitlines()[1] == "google,cpc,spring,0,1,2700,0,,0,0,,EUR"  # type: ignore[attr-defined]
    # The payments due are attached: each order's row (no fee published here: 0 known, none unknown), the
    # day's total and the period's; refunds 1200 of `plain`
    payments_csv = next(p for p in parts["text/csv"] if p.get_filename().startswith("payments"))  # type: ignore[attr-defined]
    payment_lines = payments_csv.get_payload(decode=True).decode().splitlines()  # type: ignore[attr-defined]
    assert payment_lines[0] == (
        "day,order_id,gross,fee,fee_unknown,fee_returned,commission,refunds,disputed,dispute_lost,"
        "dispute_fee,dispute_fee_returned,net,currency"
    )
    assert payment_lines[-2:] == [
        "2030-03-31,day total,5400,0,,0,0,1200,0,0,0,0,4200,EUR",
        "2030-03-31,total,5400,0,,0,0,1200,0,0,0,0,4200,EUR",
    ]
    # The chart is inline, referenced by its Content-ID from the HTML, a real PNG
    (chart,) = parts["image/png"]
    assert chart.get_content_disposition() == "inline"  # type: ignore[attr-defined]
    assert chart.get_payload(decode=True).startswith(b"\x89PNG")  # type: ignore[attr-defined]
    (html,) = parts["text/html"]
    assert f"cid:{chart['Content-ID'].strip('<>')}" in html.get_payload(decode=True).decode()  # type: ignore[attr-defined,index]
    assert "€42.00" in html.get_payload(decode=True).decode()  # type: ignore[attr-defined]
    assert "<h3>Payments</h3>" in html.get_payload(decode=True).decode()  # type: ignore[attr-defined]
    # And the files are stored, each with a link
    assert {f["name"] for f in record["files"]} == {
        "sales-2030-03-31.csv",
        "tax-2030-03-31.csv",
        "products-2030-03-31.csv",
        "campaigns-2030-03-31.csv",
        "payments-2030-03-31.csv",
        "chart.png",
    }

    # When the schedule fires again for the same day (a retry)
    again = runs.run(world.context(NEXT_MORNING), ReportKind.DAILY_REPORT)

    # Then nothing more is sent, and the run answered is the first one
    assert len(world.sent()) == 1
    assert again["runId"] == record["runId"]


def test_an_empty_day_still_reports_zeros(world: World) -> None:
    record = runs.run(world.context(NEXT_MORNING), ReportKind.DAILY_REPORT)
    assert record["status"] == "DONE"
    (mail,) = world.sent()
    sales_csv = next(p for p in _parts(mail)["text/csv"] if p.get_filename().startswith("sales"))  # type: ignore[attr-defined]
    assert sales_csv.get_payload(decode=True).decode().splitlines()[1] == "2030-03-31,0,0,0,0,0,0,0,EUR,0,0,0"  # type: ignore[attr-defined]


def test_a_day_with_only_refunds_has_negative_net(world: World, deliver: Callable[..., bool]) -> None:
    earlier = order(customer="cy", lines=[("p_tee", 1, 2000)])
    assert deliver(paid(earlier, datetime(2030, 3, 30, 12, tzinfo=UTC)))
    assert deliver(cancelled_after_payment(earlier, DAY))
    report = queries.sales(world.store, date(2030, 3, 31), date(2030, 3, 31), ReportGranularity.DAY, "EUR")
    (row,) = report.rows
    assert (row.orders, row.refunds.amount, row.net.amount) == (0, 2000, -2000)


def test_a_month_boundary_splits_monthly_buckets(world: World, deliver: Callable[..., bool]) -> None:
    march = order(customer="dee", lines=[("p_tee", 1, 1000)])
    april = order(customer="dee", lines=[("p_tee", 1, 3000)])
    deliver(paid(march, datetime(2030, 3, 31, 23, 59, tzinfo=UTC)))
    deliver(paid(april, datetime(2030, 4, 1, 0, 1, tzinfo=UTC)))
    report = queries.sales(world.store, date(2030, 3, 1), date(2030, 4, 30), ReportGranularity.MONTH, "EUR")
    assert [(r.period, r.orders, r.gross.amount) for r in report.rows] == [("2030-03", 1, 1000), ("2030-04", 1, 3000)]
    assert report.total.gross.amount == 4000


def test_days_follow_the_shops_time_zone(world: World, deliver: Callable[..., bool]) -> None:
    # 23:30 UTC on March 31st is already April 1st in Berlin
    late = order(customer="eve", lines=[("p_tee", 1, 1000)])
    deliver(paid(late, datetime(2030, 3, 31, 23, 30, tzinfo=UTC)), "Europe/Berlin")
    berlin = queries.sales(world.store, date(2030, 3, 31), date(2030, 4, 1), ReportGranularity.DAY, "EUR")
    assert [(r.period, r.orders) for r in berlin.rows] == [("2030-03-31", 0), ("2030-04-01", 1)]


def test_reads_grow_with_the_period_not_with_orders(world: World, deliver: Callable[..., bool]) -> None:
    for i in range(30):
        deliver(paid(order(customer=f"c{i}"), DAY))
    world.store.items_read = 0
    queries.sales(world.store, date(2030, 3, 1), date(2030, 3, 31), ReportGranularity.DAY, "EUR")
    assert world.store.items_read == 1  # one TOTAL item for the one day with sales, however many orders
