"""The adapters every reports handler shares, built from the settings on first use, and the shop's
today (reports count days in the shop's time zone)."""

from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import partial

from common.affiliate_stats import AffiliateStatsReader
from common.events import DomainEvent, publish
from reports.adapters import LambdaRunner, S3Files, SesMailer
from reports.logic.runs import RunContext
from reports.settings import settings
from reports.store import ReportsStore


def store() -> ReportsStore:
    return ReportsStore(settings().reports_table)


def publisher() -> Callable[[list[DomainEvent]], None]:
    """Puts events on the bus as `storekeeper.reports` (the beacon hands affiliate clicks over)."""
    return partial(publish, domain="reports", bus_name=settings().event_bus_name)


def files() -> S3Files:
    config = settings()
    return S3Files(config.reports_bucket, config.link_seconds)


def runner() -> LambdaRunner:
    return LambdaRunner(settings().report_run_function)


def mailer() -> SesMailer:
    return SesMailer()


def zone_today(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(settings().zone).date()


def run_context(now: datetime | None = None) -> RunContext:
    config = settings()
    return RunContext(
        store=store(),
        files=files(),
        mailer=mailer(),
        sender=config.report_sender,
        recipients=config.recipients,
        currency=config.shop_currency,
        zone_today=zone_today(now),
        affiliate_stats=AffiliateStatsReader(config.affiliates_table) if config.affiliates_table else None,
    )
