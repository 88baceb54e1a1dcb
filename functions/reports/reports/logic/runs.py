"""Report runs: a daily report, a weekly report, the monthly affiliate statements. A run renders CSV
files and an email with the chart, stores the files, sends the email (the files attached), and records
itself, once per kind and period: a retried schedule finds the run DONE and sends nothing.

A run asked for through the API is recorded QUEUED and handed to the run function asynchronously (a
run may take longer than API Gateway waits); the caller follows it on `GET /reports/runs/{runId}`.
Stored files are fetched through the API, which answers each request with a fresh short-lived link."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from common.affiliate_stats import AffiliateStatsReader
from common.idempotency import KeyRecords
from common.ids import new_id
from common.store import iso
from reports.errors import BadPeriod, RunFileNotFound, RunNotFound
from reports.logic import payments as payments_due
from reports.logic import queries, render
from reports.models import Kind, ReportGranularity
from reports.ports import Files, Mailer, Runner
from reports.store import ReportsStore

CHART_DAYS = 14
STALE_AFTER = timedelta(minutes=15)
"""A QUEUED or RUNNING run nobody finished within this was lost (an event dropped, a function killed):
the run function gives up after 120 s, and Lambda hands an event over within seconds unless throttled."""


@dataclass(frozen=True)
class RunContext:
    store: ReportsStore
    files: Files
    mailer: Mailer
    sender: str
    recipients: list[str]
    currency: str
    zone_today: date
    affiliate_stats: AffiliateStatsReader | None = None
    """Affiliates' daily figures (read-only), for the statements' clicks, orders and conversion."""


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
        raise BadPeriod(f"{period!r} is not a period of a {kind}", "YYYY-MM-DD, or YYYY-MM for statements") from None
    if kind == "weekly-report":
        if start.weekday() != 0:
            raise BadPeriod("a weekly report's period is the Monday it starts on", "a Monday")
        return start, start + timedelta(days=6)
    return start, start


def may_take_over(claiming: Literal["QUEUED", "RUNNING"], now: datetime) -> Callable[[Mapping[str, Any]], bool]:
    """Whether a claim to `claiming` may replace the run already recorded for its kind and period: a
    FAILED run is run again; a QUEUED one is the run function's to start (whoever gets there first); a
    QUEUED or RUNNING one that went stale was lost. A DONE run is never redone."""

    def decide(existing: Mapping[str, Any]) -> bool:
        status = existing["status"]
        if status == "FAILED" or (status, claiming) == ("QUEUED", "RUNNING"):
            return True
        if status not in ("QUEUED", "RUNNING"):
            return False
        since = existing.get("claimedAt") or existing.get("startedAt") or existing.get("queuedAt")
        return since is None or now - datetime.fromisoformat(since) > STALE_AFTER

    return decide


def request_run(
    store: ReportsStore,
    runner: Runner,
    kind: Kind,
    period: str | None,
    zone_today: date,
    *,
    idempotency_key: str | None = None,
    by: str = "",
) -> dict[str, Any]:
    """Queue a run and hand it to the run function; answer its record at once. Once per kind and period:
    asking again answers the run recorded (queued, running or done), unless it failed or went stale.
    With an Idempotency-Key (of admin `by`), a retry answers the run the first request queued, as it
    stands (replayed), even if it failed since; the key with another kind or period is a 409."""
    return KeyRecords(store, "report-run").once(
        by,
        idempotency_key,
        {"kind": kind, "period": period},
        lambda: _request_run(store, runner, kind, period, zone_today),
        result_of=lambda record: str(record["runId"]),
        replay=lambda run_id: run_of(store, run_id),
    )


def _request_run(
    store: ReportsStore, runner: Runner, kind: Kind, period: str | None, zone_today: date
) -> dict[str, Any]:
    chosen = period or default_period(kind, zone_today)
    period_days(kind, chosen)  # a 422 here, not the run function's error later
    now = datetime.now(UTC)
    record = {
        "runId": new_id("run"),
        "kind": kind,
        "period": chosen,
        "status": "QUEUED",
        "queuedAt": iso(now),
        "claimedAt": iso(now),
    }
    claimed, mine = store.claim_run(record, may_take_over=may_take_over("QUEUED", now))
    if not mine:
        return claimed
    try:
        runner.start(kind, chosen, claimed["runId"])
    except Exception as error:
        # Recorded FAILED, so asking again queues it again at once instead of waiting for it to go stale.
        store.finish_run(kind, chosen, status="FAILED", error=f"not started: {type(error).__name__}"[:500])
        raise
    return claimed


def run(context: RunContext, kind: Kind, period: str | None = None, run_id: str | None = None) -> dict[str, Any]:
    """Run a report once per kind and period; answer the run record (an earlier one if it ran)."""
    chosen = period or default_period(kind, context.zone_today)
    start, end = period_days(kind, chosen)
    now = datetime.now(UTC)
    record = {
        "runId": run_id or new_id("run"),
        "kind": kind,
        "period": chosen,
        "status": "RUNNING",
        "startedAt": iso(now),
        "claimedAt": iso(now),
    }
    claimed, mine = context.store.claim_run(record, may_take_over=may_take_over("RUNNING", now))
    if not mine:
        return claimed
    try:
        if kind == "affiliate-statements":
            outcome = _statements(context, chosen)
        else:
            outcome = _sales_report(context, kind, chosen, start, end, claimed["runId"])
    except Exception as error:
        context.store.finish_run(
            kind,
            chosen,
            status="FAILED",
            finishedAt=iso(datetime.now(UTC)),
            error=f"{type(error).__name__}: {error}"[:500],
        )
        raise
    finished = {"status": "DONE", "finishedAt": iso(datetime.now(UTC)), **outcome}
    context.store.finish_run(kind, chosen, **finished)
    return {**claimed, **finished}


def run_of(store: ReportsStore, run_id: str) -> dict[str, Any]:
    """The run recorded under `run_id`, as it stands; `RunNotFound` if there is none."""
    record = store.run_by_id(run_id)
    if record is None:
        raise RunNotFound(run_id)
    return record


def file_link(store: ReportsStore, files: Files, run_id: str, name: str) -> str:
    """A fresh short-lived link to one file of a run; `RunFileNotFound` for an unknown run or file."""
    record = store.run_by_id(run_id)
    found = next((f for f in (record or {}).get("files", []) if f.get("name") == name), None)
    if record is None or found is None:
        raise RunFileNotFound(run_id, name)
    return files.link(found.get("key") or f"{record['kind']}/{record['period']}/{name}")


def _sales_report(context: RunContext, kind: Kind, period: str, start: date, end: date, run_id: str) -> dict[str, Any]:
    store, currency = context.store, context.currency
    report = queries.sales(store, start, end, ReportGranularity.DAY, currency)
    chart_start = min(start, end - timedelta(days=CHART_DAYS - 1)) if kind == "daily-report" else start
    window = queries.sales(store, chart_start, end, ReportGranularity.DAY, currency)
    products = queries.top_products(store, start, end, 10, currency)
    ads = queries.campaigns(store, start, end, currency)
    due = payments_due.payments(store, start, end, currency)
    label = "Daily report" if kind == "daily-report" else "Weekly report"
    title = f"{label} {start.isoformat()}" + ("" if start == end else f" to {end.isoformat()}")
    attachments = [
        render.Attachment(f"sales-{period}.csv", render.sales_csv(report.rows)),
        render.Attachment(f"tax-{period}.csv", render.tax_csv(report.rows)),
        render.Attachment(f"products-{period}.csv", render.products_csv(products)),
        render.Attachment(f"campaigns-{period}.csv", render.campaigns_csv(ads)),
        render.Attachment(f"payments-{period}.csv", payments_due.payments_csv(due)),
    ]
    chart = render.chart_png(
        f"Net revenue and orders, {window.rows[0].period} to {window.rows[-1].period}",
        [r.period for r in window.rows],
        [r.net for r in window.rows],
        [r.orders for r in window.rows],
    )
    stored = [(a.name, a.content, a.mime) for a in attachments] + [("chart.png", chart, "image/png")]
    for name, content, mime in stored:
        context.files.put(f"{kind}/{period}/{name}", content, mime)
    cid = render.new_cid()
    raw = render.message(
        sender=context.sender,
        recipients=context.recipients,
        subject=f"{title}: {render.money_text(report.total.net)} net, {report.total.orders} orders",
        text=render.email_text(title, report.total) + payments_due.payments_text(due),
        html_body=render.email_html(
            title,
            report.total,
            products,
            ads,
            cid,
            [a.name for a in attachments],
            run_id,
            sections=payments_due.payments_html(due),
        ),
        chart=chart,
        chart_cid=cid,
        attachments=attachments,
    )
    message_id = context.mailer.send(context.sender, context.recipients, raw)
    return {
        "recipients": list(context.recipients),
        "messageIds": [message_id],
        "files": [{"name": name, "key": f"{kind}/{period}/{name}"} for name, _, _ in stored],
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
    key = f"affiliate-statements/{month}/affiliates.csv"
    context.files.put(key, all_rows, "text/csv")
    files = [{"name": f"affiliates-{month}.csv", "key": key}]
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
        attachments = [render.Attachment(f"statement-{month}.csv", mine)]
        if context.affiliate_stats is not None:
            summary, per_day = _affiliate_days(context.affiliate_stats, row.affiliate_id, month, context.currency)
            body += summary
            attachments.append(render.Attachment(f"days-{month}.csv", per_day))
        raw = render.message(
            sender=context.sender,
            recipients=[address],
            subject=f"Your affiliate statement for {month}",
            text=body,
            html_body=f"<!doctype html><html><body><p>{body}</p></body></html>",
            chart=None,
            chart_cid=render.new_cid(),
            attachments=attachments,
        )
        sent.append(context.mailer.send(context.sender, [address], raw))
        recipients.append(address)
    return {"recipients": recipients, "messageIds": sent, "files": files}


def _affiliate_days(reader: AffiliateStatsReader, affiliate_id: str, month: str, currency: str) -> tuple[str, bytes]:
    """The month's clicks, orders, conversion and commissions, as the affiliate's `GET /affiliates/me/stats`
    shows them (the same items, read through affiliates' read model): a line for the email and a CSV per day."""
    first = date.fromisoformat(f"{month}-01")
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    days = reader.days(affiliate_id, first, last)

    def conversion(clicks: int, orders: int) -> str:
        return f"{orders / clicks:.4f}" if clicks else ""

    clicks, orders = sum(d.clicks for d in days), sum(d.orders for d in days)
    earned, reversed_ = sum(d.earned for d in days), sum(d.reversed for d in days)
    rate = f"{orders / clicks:.1%}" if clicks else "n/a"
    summary = f"Clicks {clicks}, orders {orders}, conversion {rate}.\n"
    per_day = render.csv_file(
        ["day", "clicks", "orders", "conversion", "commissions", "reversed", "currency"],
        [[d.day, d.clicks, d.orders, conversion(d.clicks, d.orders), d.earned, d.reversed, currency] for d in days]
        + [["total", clicks, orders, conversion(clicks, orders), earned, reversed_, currency]],
    )
    return summary, per_day
