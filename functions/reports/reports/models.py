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
from common.money import Money, SignedMoney

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


class RunIn(In):
    kind: Kind
    period: Annotated[str, Field(pattern=r"^\d{4}-\d{2}(-\d{2})?$")] | None = Field(
        default=None,
        description="A day (YYYY-MM-DD; a Monday for weekly), or a month for statements; default the last one",
    )


# ---------------------------------------------------------------- responses


class VisitAck(Out):
    counted: bool


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
    source: str
    medium: str
    campaign: str
    sessions: int
    orders: int
    revenue: Money
    refunds: Money
    conversion_rate: float | None = Field(description="orders / visiting sessions")


class AffiliateRow(Out):
    affiliate_id: str
    earned: Money
    reversed: Money
    paid: Money
    due: Money = Field(description="earned - reversed - paid")


class PaymentRow(Out):
    day: date
    order_id: str
    gross: Money
    fee: Money
    commission: Money
    refunds: Money
    net: SignedMoney = Field(description="What the shop keeps: gross - fee - commission - refunds")


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
    items: list[PaymentRow]
    total: PaymentRow


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
