"""Report runs: a daily report, a weekly report, the monthly affiliate statements. A run renders CSV
files and an email with the chart, stores the files, sends the email, and records itself, once per
kind and period: a retried schedule finds the run SENT and sends nothing."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, Protocol

from common.errors import ValidationFailed
from common.ids import new_id
from reports import queries, render
from reports.store import ReportsStore

Kind = Literal["daily-report", "weekly-report", "affiliate-statements"]
KINDS: tuple[Kind, ...] = ("daily-report", "weekly-report", "affiliate-statements")
CHART_DAYS = 14
STALE_AFTER = timedelta(minutes=15)


class Files(Protocol):
    def put(self, key: str, content: bytes, content_type: str) -> str:
        """Store a file; answer a link to it that works without credentials for a while."""
        ...


class Mailer(Protocol):
    def send(self, sender: str, recipients: Sequence[str], raw: bytes) -> str: ...


@dataclass(frozen=True)
class RunContext:
    store: ReportsStore
    files: Files
    mailer: Mailer
    sender: str
    recipients: list[str]
    currency: str
    zone_today: date


def default_period(kind: Kind, today: date) -> str:
    """What a schedule means when it fires `today`: yesterday, last week (its Monday), last month."""
    if kind == "daily-report":
        return (today - timedelta(days=1)).isoformat()
    if kind == "weekly-report":
        this_monday = today - timedelta(days=today.weekday())
        return (this_monday - timedelta(days=7)).isoformat()
    first = today.replace(day=1)
    return (first - timedelta(days=1)).strftime("%Y-%m")


def period_days(kind: Kind, period: str) -> tuple[date, date]:
    try:
        if kind == "affiliate-statements":
            first = datetime.strptime(period, "%Y-%m").date()
            following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
            return first, following - timedelta(days=1)
        start = date.fromisoformat(period)
    except ValueError:
        raise ValidationFailed(
            f"{period!r} is not a period of a {kind}",
            details=[{"field": "body.period", "message": "YYYY-MM-DD, or YYYY-MM for statements", "type": "period"}],
        ) from None
    if kind == "weekly-report":
        if start.weekday() != 0:
            raise ValidationFailed(
                "a weekly report's period is the Monday it starts on",
                details=[{"field": "body.period", "message": "a Monday", "type": "period"}],
            )
        return start, start + timedelta(days=6)
    return start, start


def run(context: RunContext, kind: Kind, period: str | None = None, run_id: str | None = None) -> dict[str, Any]:
    """Run a report once per kind and period; answer the run record (an earlier one if it ran)."""
    chosen = period or default_period(kind, context.zone_today)
    start, end = period_days(kind, chosen)
    record = {
        "runId": run_id or new_id("run"),
        "kind": kind,
        "period": chosen,
        "status": "RUNNING",
        "startedAt": datetime.now(UTC).isoformat(),
    }
    claimed, mine = context.store.start_run(record, stale_after=STALE_AFTER)
    if not mine:
        return claimed
    try:
        if kind == "affiliate-statements":
            outcome = _statements(context, chosen)
        else:
            outcome = _sales_report(context, kind, chosen, start, end)
    except Exception as error:
        context.store.finish_run(kind, chosen, status="FAILED", error=f"{type(error).__name__}: {error}"[:500])
        raise
    finished = {"status": "SENT", "finishedAt": datetime.now(UTC).isoformat(), **outcome}
    context.store.finish_run(kind, chosen, **finished)
    return {**claimed, **finished}


def _sales_report(context: RunContext, kind: Kind, period: str, start: date, end: date) -> dict[str, Any]:
    store, currency = context.store, context.currency
    report = queries.sales(store, start, end, "day", currency)
    chart_start = min(start, end - timedelta(days=CHART_DAYS - 1)) if kind == "daily-report" else start
    window = queries.sales(store, chart_start, end, "day", currency)
    products = queries.top_products(store, start, end, 10, currency)
    ads = queries.campaigns(store, start, end, currency)
    label = "Daily report" if kind == "daily-report" else "Weekly report"
    title = f"{label} {start.isoformat()}" + ("" if start == end else f" to {end.isoformat()}")
    attachments = [
        render.Attachment(f"sales-{period}.csv", render.sales_csv(report.rows)),
        render.Attachment(f"products-{period}.csv", render.products_csv(products)),
        render.Attachment(f"campaigns-{period}.csv", render.campaigns_csv(ads)),
    ]
    chart = render.chart_png(
        f"Net revenue and orders, {window.rows[0].period} to {window.rows[-1].period}",
        [r.period for r in window.rows],
        [r.net for r in window.rows],
        [r.orders for r in window.rows],
    )
    links = [(a.name, context.files.put(f"{kind}/{period}/{a.name}", a.content, a.mime)) for a in attachments]
    links.append(("chart.png", context.files.put(f"{kind}/{period}/chart.png", chart, "image/png")))
    cid = render.new_cid()
    raw = render.message(
        sender=context.sender,
        recipients=context.recipients,
        subject=f"{title}: {render.money_text(report.total.net)} net, {report.total.orders} orders",
        text=render.email_text(title, report.total),
        html_body=render.email_html(title, report.total, products, ads, cid, links),
        chart=chart,
        chart_cid=cid,
        attachments=attachments,
    )
    message_id = context.mailer.send(context.sender, context.recipients, raw)
    return {
        "recipients": list(context.recipients),
        "messageIds": [message_id],
        "files": [{"name": name, "url": url} for name, url in links],
    }


def _statements(context: RunContext, month: str) -> dict[str, Any]:
    rows = queries.affiliates(context.store, month, context.currency)
    addresses = queries.statement_addresses(context.store, month)
    all_rows = render.csv_file(
        ["affiliate_id", "earned", "reversed", "paid", "due", "currency"],
        [
            [r.affiliate_id, r.earned.amount, r.reversed.amount, r.paid.amount, r.due.amount, r.due.currency]
            for r in rows
        ],
    )
    files = [
        {
            "name": f"affiliates-{month}.csv",
            "url": context.files.put(f"affiliate-statements/{month}/affiliates.csv", all_rows, "text/csv"),
        }
    ]
    sent, recipients = [], []
    for row in rows:
        address = addresses.get(row.affiliate_id)
        if not address:
            continue  # no address in the events: the shop's copy (the CSV above) still has the line
        mine = render.csv_file(
            ["month", "earned", "reversed", "paid", "due", "currency"],
            [[month, row.earned.amount, row.reversed.amount, row.paid.amount, row.due.amount, row.due.currency]],
        )
        body = (
            f"Your commissions for {month}: earned {render.money_text(row.earned)}, reversed "
            f"{render.money_text(row.reversed)}, paid {render.money_text(row.paid)}, "
            f"due {render.money_text(row.due)}.\n"
        )
        raw = render.message(
            sender=context.sender,
            recipients=[address],
            subject=f"Your affiliate statement for {month}",
            text=body,
            html_body=f"<!doctype html><html><body><p>{body}</p></body></html>",
            chart=None,
            chart_cid=render.new_cid(),
            attachments=[render.Attachment(f"statement-{month}.csv", mine)],
        )
        sent.append(context.mailer.send(context.sender, [address], raw))
        recipients.append(address)
    return {"recipients": recipients, "messageIds": sent, "files": files}
