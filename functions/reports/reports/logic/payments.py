"""Payments due: per transaction what the customer paid, what Stripe kept (its balance transactions' fee,
published by payments on `PaymentSucceeded`, and its dispute fees), what refunds and lost disputes took
back and the affiliate commission, the net the shop keeps, totals per day and for the period, and the
commissions due to affiliates. As the API answers it (`GET /reports/payments`), as CSV and as a section of
the emailed report. Costs one query per day of the period and one per month it touches."""

from collections.abc import Sequence
from datetime import date
from typing import Any

from common.money import Money, SignedMoney
from reports.logic import render
from reports.logic.queries import affiliates, days
from reports.models import AffiliateRow, PaymentDayRow, PaymentFigures, PaymentRow, PaymentsReport
from reports.store import ReportsStore

COUNTS = (
    "gross",
    "fee",
    "feeUnknown",
    "feeReturned",
    "commission",
    "refunds",
    "disputed",
    "disputeLost",
    "disputeFee",
    "disputeFeeReturned",
)
"""The sums a `PAYMENT#` item holds (`reports.logic.aggregates`)."""


def payments(store: ReportsStore, start: date, end: date, currency: str) -> PaymentsReport:
    items: list[PaymentRow] = []
    per_day: list[PaymentDayRow] = []
    for day in days(start, end):
        rows = store.rows(f"DAY#{day.isoformat()}", "PAYMENT#")
        sums = [{k: int(row.get(k, 0)) for k in COUNTS} for row in rows]
        items += [
            PaymentRow(day=day, order_id=row["SK"].removeprefix("PAYMENT#"), **_figures(sums[i], currency))
            for i, row in enumerate(rows)
        ]
        per_day.append(PaymentDayRow(day=day, payments=len(rows), **_figures(_add(sums), currency)))
    total = PaymentRow(day=end, order_id="total", **_figures(_add([_counts(d) for d in per_day]), currency))
    return PaymentsReport(
        start=start,
        end=end,
        items=items,
        days=per_day,
        total=total,
        commissions_due=commissions_due(store, start, end, currency),
    )


def commissions_due(store: ReportsStore, start: date, end: date, currency: str) -> list[AffiliateRow]:
    """Per affiliate, their commissions over the months from `start` to `end` (commissions are kept per
    month), highest due first."""
    months = sorted({d.strftime("%Y-%m") for d in days(start, end)})
    summed: dict[str, dict[str, int]] = {}
    for month in months:
        for row in affiliates(store, month, currency):
            into = summed.setdefault(row.affiliate_id, {"earned": 0, "reversed": 0, "paid": 0})
            for name in into:
                into[name] += getattr(row, name).amount
    rows = [
        AffiliateRow(
            affiliate_id=affiliate_id,
            earned=Money(amount=f["earned"], currency=currency),
            reversed=Money(amount=f["reversed"], currency=currency),
            paid=Money(amount=f["paid"], currency=currency),
            due=Money(amount=max(0, f["earned"] - f["reversed"] - f["paid"]), currency=currency),
        )
        for affiliate_id, f in summed.items()
    ]
    return sorted(rows, key=lambda r: (-r.due.amount, r.affiliate_id))


def _add(sums: Sequence[dict[str, int]]) -> dict[str, int]:
    return {k: sum(s.get(k, 0) for s in sums) for k in COUNTS}


def _counts(figures: PaymentFigures) -> dict[str, int]:
    return {
        "gross": figures.gross.amount,
        "fee": figures.fee.amount,
        "feeUnknown": figures.fee_unknown,
        "feeReturned": figures.fee_returned.amount,
        "commission": figures.commission.amount,
        "refunds": figures.refunds.amount,
        "disputed": figures.disputed.amount,
        "disputeLost": figures.dispute_lost.amount,
        "disputeFee": figures.dispute_fee.amount,
        "disputeFeeReturned": figures.dispute_fee_returned.amount,
    }


def _figures(f: dict[str, int], currency: str) -> dict[str, Any]:
    def money(amount: int) -> Money:
        return Money(amount=amount, currency=currency)

    fees = f["fee"] - f["feeReturned"] + f["disputeFee"] - f["disputeFeeReturned"]
    net = f["gross"] - fees - f["commission"] - f["refunds"] - f["disputeLost"]
    return {
        "gross": money(f["gross"]),
        "fee": money(f["fee"]),
        "fee_unknown": f["feeUnknown"],
        "fee_returned": money(f["feeReturned"]),
        # A commission reversed on a later day than it was earned makes that day's figure negative.
        "commission": SignedMoney(amount=f["commission"], currency=currency),
        "refunds": money(f["refunds"]),
        "disputed": money(f["disputed"]),
        "dispute_lost": money(f["disputeLost"]),
        "dispute_fee": money(f["disputeFee"]),
        "dispute_fee_returned": money(f["disputeFeeReturned"]),
        "net": SignedMoney(amount=net, currency=currency),
    }


# ---------------------------------------------------------------- as people receive it

HEADER = [
    "day",
    "order_id",
    "gross",
    "fee",
    "fee_unknown",
    "fee_returned",
    "commission",
    "refunds",
    "disputed",
    "dispute_lost",
    "dispute_fee",
    "dispute_fee_returned",
    "net",
    "currency",
]


def payments_csv(report: PaymentsReport) -> bytes:
    """Every transaction row, then a `total` row per day and one for the period (minor units). A fee
    Stripe did not tell us reads `unknown` in `fee_unknown` (the fee column then counts known fees only)."""

    def line(day: date, order_id: str, r: PaymentFigures) -> list[object]:
        return [
            day.isoformat(),
            order_id,
            r.gross.amount,
            r.fee.amount,
            r.fee_unknown or "",
            r.fee_returned.amount,
            r.commission.amount,
            r.refunds.amount,
            r.disputed.amount,
            r.dispute_lost.amount,
            r.dispute_fee.amount,
            r.dispute_fee_returned.amount,
            r.net.amount,
            r.gross.currency,
        ]

    rows = [line(r.day, r.order_id, r) for r in report.items]
    rows += [line(d.day, "day total", d) for d in report.days if d.payments]
    rows.append(line(report.end, "total", report.total))
    return render.csv_file(HEADER, rows)


def payments_html(report: PaymentsReport) -> str:
    """The emailed report's payments section: the period's totals and the commissions due."""
    t = report.total
    fee = render.money_text(t.fee) + (f" ({t.fee_unknown} unknown)" if t.fee_unknown else "")
    rows = [
        ["Gross", render.money_text(t.gross)],
        ["Stripe fees", fee],
        ["Fees returned", render.money_text(t.fee_returned)],
        ["Commissions", render.money_text(t.commission)],
        ["Refunds", render.money_text(t.refunds)],
        ["Disputed", render.money_text(t.disputed)],
        ["Disputes lost", render.money_text(t.dispute_lost)],
        ["Dispute fees", render.money_text(t.dispute_fee)],
        ["Dispute fees returned", render.money_text(t.dispute_fee_returned)],
        ["Net", render.money_text(t.net)],
    ]
    due = [[a.affiliate_id, render.money_text(a.due)] for a in report.commissions_due if a.due.amount]
    section = "<h3>Payments</h3>" + render._table(["", ""], rows)
    section += "<h3>Commissions due</h3>" + render._table(["Affiliate", "Due"], due or [["None due", ""]])
    return section


def payments_text(report: PaymentsReport) -> str:
    t = report.total
    unknown = f" ({t.fee_unknown} unknown)" if t.fee_unknown else ""
    return (
        f"Payments: gross {render.money_text(t.gross)}, Stripe fees {render.money_text(t.fee)}{unknown}, "
        f"refunds {render.money_text(t.refunds)}, disputes lost {render.money_text(t.dispute_lost)}, "
        f"dispute fees {render.money_text(t.dispute_fee)}, "
        f"net {render.money_text(t.net)}.\n"
    )
