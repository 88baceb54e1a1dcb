"""Reports models by owner: the domain (an increment to the aggregates, a run's kind and status, the run
function's task), requests, and responses (the reports and report runs). Stored items are mapped in
`reports.store`, the only module that knows their keys."""

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Self
from urllib.parse import quote

from pydantic import Field, StringConstraints

from common.api_models import In, Out
from common.money import Money, MoneyIn, SignedMoney

# ---------------------------------------------------------------- the domain


class ReportKind(StrEnum):
    DAILY_REPORT = "daily-report"
    WEEKLY_REPORT = "weekly-report"
    AFFILIATE_STATEMENTS = "affiliate-statements"


class RunStatus(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    DONE = "DONE"
    FAILED = "FAILED"


class ReportGranularity(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


Kind = ReportKind
KINDS: tuple[Kind, ...] = tuple(ReportKind)
Status = RunStatus
Granularity = ReportGranularity


@dataclass(frozen=True)
class Increment:
    """What one fact adds to one aggregate item: sums under `add`, and attributes set once (a product's
    name, an affiliate's statement address) under `set_if_absent`."""

    pk: str
    sk: str
    add: dict[str, int]
    set_if_absent: dict[str, Any] = field(default_factory=dict)


class RunTask(In):
    """The run function's input: a schedule's `{"kind"}` (the period just ended), or the API's queued
    run `{"kind", "period", "runId"}`. `now` fixes the clock (tests, re-runs)."""

    kind: Kind
    period: str | None = None
    run_id: str | None = None
    now: datetime | None = None


# ---------------------------------------------------------------- requests

Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60, pattern=r"^[\w .:/+-]+$")]


class VisitIn(In):
    session_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{8,64}$", description="Random, per browser session")]
    path: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^/[^\s?#]*$")]
    product_id: Annotated[str, Field(pattern=r"^p_[0-9a-z]{26}$")] | None = None
    source: Label | None = None
    medium: Label | None = None
    campaign: Label | None = None
    ref: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")] | None = Field(
        default=None, description="An affiliate's code the visit arrived with (`?ref=`): recorded as a click"
    )
    visitor_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{8,64}$")] | None = Field(
        default=None,
        description="Random, kept by the browser across sessions; checkout sends it in `attribution.visitorId` "
        "so an order is tied to this visitor's affiliate click",
    )


CampaignName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=60, pattern=r"^[\w.:+-][\w .:+-]*$"),
    Field(description="The campaign label the storefront's visits and orders carry (`utm_campaign`)"),
]


class SpendIn(In):
    """What one campaign cost on one day, in the shop's currency: a PUT replaces the day's figure."""

    date: date
    amount: MoneyIn


class RunIn(In):
    kind: Kind
    period: Annotated[str, Field(pattern=r"^\d{4}-\d{2}(-\d{2})?$")] | None = Field(
        default=None,
        description="A day (YYYY-MM-DD; a Monday for weekly), or a month for statements; default the last one",
    )


# ---------------------------------------------------------------- responses


class VisitAck(Out):
    counted: bool = Field(
        description="Whether it counted its session somewhere new (the day, the path, the campaign, the product); "
        "its page view counts either way"
    )


class TaxRow(Out):
    country: str | None = Field(description="Where the orders shipped (ISO 3166-1 alpha-2); null if unknown")
    rate: str = Field(description="Percent, as a decimal string", examples=["19"])
    base: SignedMoney = Field(description="What was taxed at the rate: without tax, after discounts, less refunds")
    tax: SignedMoney = Field(description="Tax collected at the rate, less the tax refunds gave back")


class SalesRow(Out):
    period: str = Field(description="The day, the Monday of the week, or the month (YYYY-MM)")
    orders: int
    units: int
    gross: Money = Field(description="Before discounts")
    discounts: Money
    refunds: Money
    net: SignedMoney = Field(description="gross - discounts - refunds")
    average_order_value: Money = Field(description="(gross - discounts) / orders")
    net_sales: SignedMoney = Field(
        description="The lines without tax, after discounts, less the part refunds gave back "
        "(orders paid before 2026-12 add 0)"
    )
    shipping: SignedMoney = Field(description="Shipping charged (as charged), less shipping refunded")
    tax: SignedMoney = Field(description="Tax collected (lines and shipping), less tax refunded")
    taxes: list[TaxRow] = Field(description="Tax per country and rate, by country then rate")
    sessions: int = Field(default=0, description="Visiting sessions, each counted once a day (every beacon's)")
    page_views: int = Field(default=0, description="Page views: every beacon the storefront sent")


class SalesReport(Out):
    start: date = Field(alias="from")
    end: date = Field(alias="to")
    granularity: Granularity
    rows: list[SalesRow]
    total: SalesRow


class ProductRow(Out):
    product_id: str
    name: str
    category: str
    units: int
    gross: Money
    views: int = Field(description="Visiting sessions that viewed it")
    conversion: float | None = Field(description="Units sold per view")


class CustomerRow(Out):
    customer_id: str
    orders: int
    spent: Money
    refunds: Money
    net: SignedMoney


class CampaignRow(Out):
    """One campaign over the period: the traffic and orders its label brought, what it cost, and what that
    bought. Traffic without a campaign label stays one row per source and medium (campaign `-`, no spend)."""

    source: str = Field(description="Where its traffic came from; several joined by `, ` when it ran on more")
    medium: str = Field(description="Its medium; several joined by `, `")
    campaign: str
    sessions: int
    orders: int
    revenue: Money
    refunds: Money
    conversion_rate: float | None = Field(description="orders / visiting sessions; null without sessions")
    spend: Money = Field(description="The ad spend recorded for its days (PUT /reports/campaigns/{campaign}/spend)")
    cost_per_order: Money | None = Field(description="spend / orders, to the minor unit (half up); null without orders")
    return_on_ad_spend: float | None = Field(
        description="revenue / spend, to 4 decimal places (half up); null when spend is 0"
    )


class SpendOut(Out):
    campaign: str
    date: date
    amount: Money


class AffiliateRow(Out):
    affiliate_id: str
    earned: Money
    reversed: Money
    paid: Money
    due: Money = Field(description="earned - reversed - paid")


class PaymentFigures(Out):
    """What Stripe and the affiliates leave the shop of some payments (minor units of the shop's currency)."""

    gross: Money = Field(description="What the customer paid")
    fee: Money = Field(description="Stripe's fee, from the charge's balance transaction (known fees only)")
    fee_unknown: int = Field(
        default=0,
        description="Payments, and disputes, whose fee Stripe did not tell us (left out of `fee`, `disputeFee` "
        "and `net`)",
    )
    fee_returned: Money = Field(description="What Stripe gave back of its fee on refunds (usually 0)")
    commission: SignedMoney = Field(
        description="Affiliate commission earned less reversed (negative on a day that only reversed some)"
    )
    refunds: Money
    disputed: Money = Field(description="Amount of disputes opened (held by Stripe until they close)")
    dispute_lost: Money = Field(description="Amount of disputes closed LOST: gone back to the customer")
    dispute_fee: Money = Field(description="Stripe's fees for disputes opened, taken with the disputed amount")
    dispute_fee_returned: Money = Field(description="What Stripe gave back of its dispute fees on disputes won")
    net: SignedMoney = Field(
        description="What the shop keeps: gross - fee + feeReturned - commission - refunds - disputeLost "
        "- disputeFee + disputeFeeReturned"
    )


class PaymentRow(PaymentFigures):
    """One payment's figures on one day (a refund or a dispute on a later day is a row of that day)."""

    day: date
    order_id: str


class PaymentDayRow(PaymentFigures):
    """The totals of one day's rows."""

    day: date
    payments: int = Field(description="Rows of the day (one per order with money moving that day)")


class ListReport[T](Out):
    """A ranked list over a period. Subclassed per row type, so the schema has a name a person would call it."""

    start: date | None = Field(default=None, alias="from")
    end: date | None = Field(default=None, alias="to")
    items: list[T]


class TopProductsReport(ListReport[ProductRow]):
    pass


class CustomersReport(ListReport[CustomerRow]):
    pass


class CampaignsReport(ListReport[CampaignRow]):
    pass


class AffiliatesReport(ListReport[AffiliateRow]):
    pass


class PaymentsReport(Out):
    start: date = Field(alias="from")
    end: date = Field(alias="to")
    items: list[PaymentRow] = Field(description="Per transaction: one row per order and day")
    days: list[PaymentDayRow] = Field(description="Totals per day, every day of the period")
    total: PaymentRow = Field(description="The period's totals (`orderId` is `total`, `day` the last day)")
    commissions_due: list[AffiliateRow] = Field(
        description="Per affiliate, the commissions of the months the period touches: earned, reversed, paid, due"
    )


class RunFile(Out):
    name: str
    url: str = Field(description="This API's path that redirects to a fresh, short-lived download link (admin)")


class RunOut(Out):
    run_id: str
    kind: ReportKind
    period: str
    status: RunStatus = Field(description="QUEUED, then RUNNING, then DONE (or FAILED: asking again runs it again)")
    queued_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    recipients: list[str] = Field(default_factory=list)
    files: list[RunFile] = Field(
        default_factory=list, description="Stored files, once DONE (also attached to the email)"
    )
    error: str | None = None

    @classmethod
    def of(cls, record: dict[str, Any]) -> Self:
        """A run record as the API shows it: its files behind this API's download path, never the stored keys."""
        status = "DONE" if record["status"] == "SENT" else record["status"]  # runs recorded before QUEUED/DONE
        files = [
            RunFile(name=f["name"], url=f"/reports/runs/{record['runId']}/files/{quote(f['name'])}")
            for f in record.get("files", [])
        ]
        return cls.model_validate({**record, "status": status, "files": files})
