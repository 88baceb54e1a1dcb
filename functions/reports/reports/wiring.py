"""The adapters every reports handler shares, built from the settings on first use."""

from datetime import UTC, datetime

from reports.adapters import S3Files, SesMailer
from reports.runs import RunContext
from reports.settings import settings
from reports.store import ReportsStore


def store() -> ReportsStore:
    return ReportsStore(settings().reports_table)


def run_context(now: datetime | None = None) -> RunContext:
    config = settings()
    return RunContext(
        store=store(),
        files=S3Files(config.reports_bucket, config.link_seconds),
        mailer=SesMailer(),
        sender=config.report_sender,
        recipients=config.recipients,
        currency=config.shop_currency,
        zone_today=(now or datetime.now(UTC)).astimezone(config.zone).date(),
    )
