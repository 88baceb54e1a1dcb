"""The reports, read from the aggregates: each costs reads proportional to its period (one item per day
for sales, one partition per day for the breakdowns), never to the number of orders."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from math import floor
from typing import Any

from common.money import Money, SignedMoney
from reports.errors import BadRange
from reports.logic.aggregates import TAX, TAX_BASE, UNKNOWN_COUNTRY
from reports.models import (
    AffiliateRow,
    CampaignRow,
    CustomerRow,
    Granularity,
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


def half_up(numerator: int, denominator: int, places: int = 0) -> Fraction:
    """`numerator / denominator` rounded half up to `places` decimals, exactly (no float on the way)."""
    scale = 10**places
    return Fraction(floor(Fraction(numerator * scale, denominator) + Fraction(1, 2)), scale)


def ratio(numerator: int, denominator: int) -> float | None:
    """A rate or a return to 4 decimal places (half up); None when there is nothing to divide by."""
    return float(half_up(numerator, denominator, 4)) if denominator else None


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
        sessions=figures.get("sessions", 0),
        page_views=figures.get("views", 0),
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


FIGURES = ("orders", "units", "gross", "discounts", "refunds", "net_sales", "shipping", "tax", "sessions", "views")


def _figures(item: dict[str, Any]) -> dict[str, int]:
    """The figures of a day (its `TOTAL` and traffic items) that are summed: the named ones and the tax
    per country and rate."""
    return {name: int(value) for name, value in item.items() if name in FIGURES or name.startswith((TAX, TAX_BASE))}


def sales(store: ReportsStore, start: date, end: date, granularity: Granularity, currency: str) -> SalesReport:
    """Sales and traffic per day, week or month; periods without sales appear with zeros, so a chart has no
    gaps. A week's or a month's sessions are its days' (a session that spans midnight counts on both)."""
    period_days = days(start, end)
    totals = store.totals(f"DAY#{d.isoformat()}" for d in period_days)
    traffic = store.traffic(f"DAY#{d.isoformat()}" for d in period_days)
    buckets: dict[str, dict[str, int]] = {}
    overall: dict[str, int] = defaultdict(int)
    for day in period_days:
        partition = f"DAY#{day.isoformat()}"
        figures = totals.get(partition, {}) | traffic.get(partition, {})
        bucket = buckets.setdefault(_bucket(day, granularity), defaultdict(int))
        for name, value in _figures(figures).items():
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
    """Per campaign label: its sessions, orders and revenue (over every source it ran on), its spend, and
    what that bought. Traffic without a campaign label stays one row per source and medium. Costs two
    queries per day (the day's campaign items, and its spend)."""
    period = [f"DAY#{d.isoformat()}" for d in days(start, end)]
    summed = _summed(store, period, "CAMPAIGN#")
    spent: dict[str, int] = defaultdict(int)
    for partition in period:
        for row in store.rows(partition, "SPEND#"):
            spent[row["SK"].removeprefix("SPEND#")] += int(row.get("amount", 0))
    groups: dict[str, dict[str, Any]] = {}
    for key, f in summed.items():
        source, medium, campaign = [*key.split("|"), "-", "-", "-"][:3]
        group = groups.setdefault(
            campaign if campaign != "-" else key, {"campaign": campaign, "sources": {}, "mediums": {}}
        )
        group["sources"][source] = group["mediums"][medium] = None
        for name in ("sessions", "orders", "revenue", "refunds"):
            group[name] = group.get(name, 0) + f.get(name, 0)
    for campaign in spent:
        groups.setdefault(campaign, {"campaign": campaign, "sources": {"-": None}, "mediums": {"-": None}})

    def money(amount: int) -> Money:
        return Money(amount=amount, currency=currency)

    rows = []
    for key, g in groups.items():
        sessions, orders, revenue = g.get("sessions", 0), g.get("orders", 0), g.get("revenue", 0)
        spend = spent.get(key, 0) if g["campaign"] != "-" else 0
        rows.append(
            CampaignRow(
                source=", ".join(sorted(g["sources"])),
                medium=", ".join(sorted(g["mediums"])),
                campaign=g["campaign"],
                sessions=sessions,
                orders=orders,
                revenue=money(revenue),
                refunds=money(g.get("refunds", 0)),
                conversion_rate=ratio(orders, sessions),
                spend=money(spend),
                cost_per_order=money(int(half_up(spend, orders))) if orders else None,
                return_on_ad_spend=ratio(revenue, spend),
            )
        )
    rows.sort(key=lambda r: (-r.revenue.amount, -r.sessions, -r.spend.amount, r.campaign, r.source, r.medium))
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
