"""Ad spend, the cost side of "which ads work": what a campaign cost on a day, entered by staff (from the
ad platforms' invoices). The campaigns report (`reports.logic.queries.campaigns`) sets it against the
sessions, orders and revenue the campaign's label brought."""

from datetime import UTC, datetime

from common.store import iso
from reports.errors import BadSpend
from reports.models import SpendIn, SpendOut
from reports.store import ReportsStore


def record_spend(
    store: ReportsStore, campaign: str, spend: SpendIn, currency: str, *, by: str, now: datetime | None = None
) -> SpendOut:
    """Record `campaign`'s spend on `spend.date`, replacing what was recorded for that day (a PUT: the
    same request twice leaves the same figure). In the shop's currency only: the report sums it with
    revenue. `-` is what the aggregates call "no campaign label", so it cannot be given a spend."""
    if campaign.strip() == "-":
        raise BadSpend("`-` stands for traffic without a campaign; name the campaign", "path.campaign")
    amount = spend.amount.money()
    if amount.currency != currency:
        raise BadSpend(f"spend is recorded in the shop's currency, {currency}", "body.amount.currency")
    at = iso(now or datetime.now(UTC))
    store.put_spend(spend.date.isoformat(), campaign, amount.amount, amount.currency, by=by, at=at)
    return SpendOut(campaign=campaign, date=spend.date, amount=amount)
