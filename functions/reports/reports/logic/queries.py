"""The reports, read from the aggregates: each costs reads proportional to its period (one item per day
for sales, one partition per day for the breakdowns), never to the number of orders."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from common.money import Money, SignedMoney
from reports.errors import BadRange
from reports.logic.aggregates import TAX, TAX_BASE, UNKNOWN_COUNTRY
from reports.models import (
    AffiliateRow,
    CampaignRow,
    CustomerRow,
    Granularity,
    PaymentRow,
    PaymentsReport,
    ProductRow,
    SalesReport,
    SalesRow,
    TaxRow,
)
from reports.store import ReportsStore

MAX_DAYS = 366
DEFAULT_DAYS = 30


def asked_days(start: date | None, end: date | None, today: date) -> tuple[date, date]:
    """A report's days as asked: `to` defaults to today (the shop's), `from` to 29 days before `to`."""
    last = end or today
    return start or last - timedelta(days=DEFAULT_DAYS - 1), last


def days(start: date, end: date) -> list[date]:
    if end < start:
        raise BadRange("`to` must not be before `from`")
    count = (end - start).days + 1
    if count > MAX_DAYS:
        raise BadRange(f"a report covers at most {MAX_DAYS} days")
    return [start + timedelta(days=i) for i in range(count)]


def _bucket(day: date, granularity: Granularity) -> str:
    if granularity == "week":
        return (day - timedelta(days=day.weekday())).isoformat()
    if granularity == "month":
        return day.strftime("%Y-%m")
    return day.isoformat()


def _sales_row(period: str, figures: dict[str, int], currency: str) -> SalesRow:
    def money(amount: int) -> Money:
        return Money(amount=amount, currency=currency)

    def signed(amount: int) -> SignedMoney:
        return SignedMoney(amount=amount, currency=currency)

    orders, gross, discounts, refunds = (figures.get(k, 0) for k in ("orders", "gross", "discounts", "refunds"))
    return SalesRow(
        period=period,
        orders=orders,
        units=figures.get("units", 0),
        gross=money(gross),
        discounts=money(discounts),
        refunds=money(refunds),
        net=SignedMoney(amount=gross - discounts - refunds, currency=currency),
        average_order_value=money((gross - discounts) // orders if orders else 0),
        net_sales=signed(figures.get("net_sales", 0)),
        shipping=signed(figures.get("shipping", 0)),
        tax=signed(figures.get("tax", 0)),
        taxes=_tax_rows(figures, currency),
    )


def _tax_rows(figures: dict[str, int], currency: str) -> list[TaxRow]:
    """The `tax#`/`taxbase#` figures as rows, by country then rate; a rate refunds brought back to
    nothing (no base, no tax) is left out."""
    keys = {name.removeprefix(TAX_BASE) for name in figures if name.startswith(TAX_BASE)}
    keys |= {name.removeprefix(TAX) for name in figures if name.startswith(TAX)}
    rows = []
    for key in keys:
        base, tax = figures.get(TAX_BASE + key, 0), figures.get(TAX + key, 0)
        if not base and not tax:
            continue
        country, rate = key.rsplit("#", 1)
        rows.append(
            TaxRow(
                country=None if country == UNKNOWN_COUNTRY else country,
                rate=rate,
                base=SignedMoney(amount=base, currency=currency),
                tax=SignedMoney(amount=tax, currency=currency),
            )
        )
    return sorted(rows, key=lambda r: (r.country or "~", Decimal(r.rate)))


FIGURES = ("orders", "units", "gross", "discounts", "refunds", "net_sales", "shipping", "tax")


def _figures(item: dict[str, Any]) -> dict[str, int]:
    """The figures of one `TOTAL` item that are summed: the named ones and the tax per country and rate."""
    return {name: int(value) for name, value in item.items() if name in FIGURES or name.startswith((TAX, TAX_BASE))}


def sales(store: ReportsStore, start: date, end: date, granularity: Granularity, currency: str) -> SalesReport:
    """Sales per day, week or month; periods without sales appear with zeros, so a chart has no gaps."""
    period_days = days(start, end)
    totals = store.totals(f"DAY#{d.isoformat()}" for d in period_days)
    buckets: dict[str, dict[str, int]] = {}
    overall: dict[str, int] = defaultdict(int)
    for day in period_days:
        bucket = buckets.setdefault(_bucket(day, granularity), defaultdict(int))
        for name, value in _figures(totals.get(f"DAY#{day.isoformat()}", {})).items():
            bucket[name] += value
            overall[name] += value
    return SalesReport(
        start=start,
        end=end,
        granularity=granularity,
        rows=[_sales_row(period, figures, currency) for period, figures in buckets.items()],
        total=_sales_row("total", overall, currency),
    )


def _summed(store: ReportsStore, partitions: Iterable[str], prefix: str) -> dict[str, dict[str, Any]]:
    summed: dict[str, dict[str, Any]] = {}
    for partition in partitions:
        for row in store.rows(partition, prefix):
            key = row["SK"].removeprefix(prefix)
            into = summed.setdefault(key, {})
            for name, value in row.items():
                if name in ("PK", "SK"):
                    continue
                if isinstance(value, int) and not isinstance(value, bool):
                    into[name] = into.get(name, 0) + value
                else:
                    into.setdefault(name, value)
    return summed


def top_products(store: ReportsStore, start: date, end: date, limit: int, currency: str) -> list[ProductRow]:
    summed = _summed(store, (f"DAY#{d.isoformat()}" for d in days(start, end)), "PRODUCT#")
    rows = [
        ProductRow(
            product_id=product_id,
            name=str(f.get("name", product_id)),
            category=str(f.get("category", "")),
            units=f.get("units", 0),
            gross=Money(amount=f.get("gross", 0), currency=currency),
            views=f.get("views", 0),
            conversion=round(f.get("units", 0) / f["views"], 4) if f.get("views") else None,
        )
        for product_id, f in summed.items()
    ]
    rows.sort(key=lambda r: (-r.gross.amount, -r.units, r.product_id))
    return [r for r in rows if r.units or r.views][:limit]


def best_customers(store: ReportsStore, start: date, end: date, limit: int, currency: str) -> list[CustomerRow]:
    summed = _summed(store, (f"DAY#{d.isoformat()}" for d in days(start, end)), "CUSTOMER#")
    rows = [
        CustomerRow(
            customer_id=customer_id,
            orders=f.get("orders", 0),
            spent=Money(amount=f.get("spent", 0), currency=currency),
            refunds=Money(amount=f.get("refunds", 0), currency=currency),
            net=SignedMoney(amount=f.get("spent", 0) - f.get("refunds", 0), currency=currency),
        )
        for customer_id, f in summed.items()
    ]
    rows.sort(key=lambda r: (-r.net.amount, r.customer_id))
    return rows[:limit]


def campaigns(store: ReportsStore, start: date, end: date, currency: str) -> list[CampaignRow]:
    summed = _summed(store, (f"DAY#{d.isoformat()}" for d in days(start, end)), "CAMPAIGN#")
    rows = []
    for key, f in summed.items():
        source, medium, campaign = [*key.split("|"), "-", "-", "-"][:3]
        sessions = f.get("sessions", 0)
        rows.append(
            CampaignRow(
                source=source,
                medium=medium,
                campaign=campaign,
                sessions=sessions,
                orders=f.get("orders", 0),
                revenue=Money(amount=f.get("revenue", 0), currency=currency),
                refunds=Money(amount=f.get("refunds", 0), currency=currency),
                conversion_rate=round(f.get("orders", 0) / sessions, 4) if sessions else None,
            )
        )
    rows.sort(key=lambda r: (-r.revenue.amount, -r.sessions, r.source, r.medium, r.campaign))
    return rows


def affiliates(store: ReportsStore, month: str, currency: str) -> list[AffiliateRow]:
    rows = []
    for row in store.rows(f"MONTH#{month}", "AFFILIATE#"):
        earned, reversed_, paid = (int(row.get(k, 0)) for k in ("earned", "reversed", "paid"))
        rows.append(
            AffiliateRow(
                affiliate_id=row["SK"].removeprefix("AFFILIATE#"),
                earned=Money(amount=earned, currency=currency),
                reversed=Money(amount=reversed_, currency=currency),
                paid=Money(amount=paid, currency=currency),
                due=Money(amount=max(0, earned - reversed_ - paid), currency=currency),
            )
        )
    return sorted(rows, key=lambda r: (-r.due.amount, r.affiliate_id))


def statement_addresses(store: ReportsStore, month: str) -> dict[str, str]:
    """Affiliate id → the address their monthly statement goes to, where the events carried one."""
    return {
        row["SK"].removeprefix("AFFILIATE#"): str(row["email"])
        for row in store.rows(f"MONTH#{month}", "AFFILIATE#")
        if row.get("email")
    }


def payments(store: ReportsStore, start: date, end: date, currency: str) -> PaymentsReport:
    def money(amount: int) -> Money:
        return Money(amount=amount, currency=currency)

    items = []
    for day in days(start, end):
        for row in store.rows(f"DAY#{day.isoformat()}", "PAYMENT#"):
            gross, fee, commission, refunds = (int(row.get(k, 0)) for k in ("gross", "fee", "commission", "refunds"))
            items.append(
                PaymentRow(
                    day=day,
                    order_id=row["SK"].removeprefix("PAYMENT#"),
                    gross=money(gross),
                    fee=money(fee),
                    commission=money(commission),
                    refunds=money(refunds),
                    net=SignedMoney(amount=gross - fee - commission - refunds, currency=currency),
                )
            )
    sums = {k: sum(getattr(r, k).amount for r in items) for k in ("gross", "fee", "commission", "refunds", "net")}
    total = PaymentRow(
        day=end,
        order_id="total",
        **{k: money(v) for k, v in sums.items() if k != "net"},
        net=SignedMoney(amount=sums["net"], currency=currency),
    )
    return PaymentsReport(start=start, end=end, items=items, total=total)
