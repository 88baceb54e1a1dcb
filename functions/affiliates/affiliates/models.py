"""Affiliates models by owner: requests, the domain, responses. Stored items are mapped in
`affiliates.store`, the only module that knows their keys.

Money in the domain is integer minor units; a commission rate is integer basis points (1/10,000), so
no float ever touches an amount."""

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from common.api_models import In, Out, Page
from common.contracts import AffiliateDay
from common.money import Money

BPS = 10_000
MAX_RATE_BPS = 5_000
AFFILIATE_ID_PATTERN = r"^af_[0-9a-z]{26}$"


class AffiliateStatus(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"


class CommissionStatus(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    PAID = "PAID"
    REVERSED = "REVERSED"


# ---------------------------------------------------------------- requests


class ApplicationIn(In):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    website: Annotated[
        str,
        StringConstraints(strip_whitespace=True, max_length=300, pattern=r"^https?://[^\s/?#.]+\.[^\s]+$"),
        Field(description="Where the affiliate promotes the shop", examples=["https://blog.example.com"]),
    ]
    payout_email: Annotated[
        str,
        StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
        Field(description="Where payouts are sent"),
    ]


class ApprovalIn(In):
    commission_rate: Annotated[
        Decimal,
        Field(
            gt=0,
            le=Decimal("0.5"),
            decimal_places=4,
            description=(
                "Fraction of an order's merchandise value (after discounts, without tax and shipping) the"
                " affiliate earns"
            ),
            examples=[0.1],
        ),
    ]

    @property
    def rate_bps(self) -> int:
        return int(self.commission_rate * BPS)


# ---------------------------------------------------------------- domain


class Totals(BaseModel):
    """An affiliate's commissions by where they stand, in minor units. `paid` is what was paid out and
    stays so; `reversed` is every amount taken back by refunds (including after a payout)."""

    model_config = ConfigDict(frozen=True)

    pending: int = 0
    approved: int = 0
    paid: int = 0
    reversed: int = 0

    def __add__(self, other: "Totals") -> "Totals":
        return Totals(
            pending=self.pending + other.pending,
            approved=self.approved + other.approved,
            paid=self.paid + other.paid,
            reversed=self.reversed + other.reversed,
        )

    def __sub__(self, other: "Totals") -> "Totals":
        return Totals(
            pending=self.pending - other.pending,
            approved=self.approved - other.approved,
            paid=self.paid - other.paid,
            reversed=self.reversed - other.reversed,
        )


class Affiliate(BaseModel):
    model_config = ConfigDict(frozen=True)

    affiliate_id: str
    user_sub: str
    username: str = Field(description="The Cognito user name group changes are made with")
    email: str | None
    name: str
    website: str
    payout_email: str
    code: str
    status: AffiliateStatus
    rate_bps: int | None = None
    created_at: datetime
    approved_at: datetime | None = None
    totals: Totals = Totals()

    @property
    def rate(self) -> float | None:
        return self.rate_bps / BPS if self.rate_bps is not None else None


class Commission(BaseModel):
    """One order's commission. `amount` is what the order earned: the rate times `earned_on`, the order's
    merchandise net (`base`: its lines without tax, after discounts, shipping left out) or, for orders
    priced before lines carried their net (`base` None), its `order_total`. `reversed` is what refunds
    took back, never more than `amount`; `refunded` how much of `earned_on` the order's refunds have
    given back so far (refunded merchandise net, or refunded total when `base` is None)."""

    model_config = ConfigDict(frozen=True)

    affiliate_id: str
    order_id: str
    customer_id: str
    currency: str
    order_total: int
    base: int | None = None
    rate_bps: int
    amount: int
    refunded: int = 0
    reversed: int = 0
    status: CommissionStatus = CommissionStatus.PENDING
    earned_at: datetime
    approved_at: datetime | None = None
    paid_at: datetime | None = None
    paid_amount: int = 0
    payout_id: str | None = None
    reversed_at: datetime | None = None
    version: int = 0

    @property
    def earned_on(self) -> int:
        """What the commission is a share of (and refunds are measured against)."""
        return self.order_total if self.base is None else self.base

    @property
    def net(self) -> int:
        return self.amount - self.reversed

    def contribution(self) -> Totals:
        """What this commission adds to its affiliate's totals."""
        return Totals(
            pending=self.net if self.status is CommissionStatus.PENDING else 0,
            approved=self.net if self.status is CommissionStatus.APPROVED else 0,
            paid=self.paid_amount,
            reversed=self.reversed,
        )


class Payout(BaseModel):
    model_config = ConfigDict(frozen=True)

    payout_id: str
    affiliate_id: str
    total: int
    count: int
    currency: str
    complete: bool
    created_at: datetime


# ---------------------------------------------------------------- responses


class AffiliateTotalsOut(Out):
    pending: Money
    approved: Money
    paid: Money
    reversed: Money

    @classmethod
    def of(cls, totals: Totals, currency: str) -> Self:
        return cls(
            pending=Money(amount=max(0, totals.pending), currency=currency),
            approved=Money(amount=max(0, totals.approved), currency=currency),
            paid=Money(amount=max(0, totals.paid), currency=currency),
            reversed=Money(amount=max(0, totals.reversed), currency=currency),
        )


class AffiliateOut(Out):
    """An affiliate account as its applicant and the shop's staff see it."""

    affiliate_id: str
    code: str
    status: AffiliateStatus
    name: str
    website: str
    payout_email: str
    email: str | None
    commission_rate: float | None
    created_at: datetime
    approved_at: datetime | None
    totals: AffiliateTotalsOut

    @classmethod
    def of(cls, affiliate: Affiliate, currency: str) -> Self:
        return cls(
            affiliate_id=affiliate.affiliate_id,
            code=affiliate.code,
            status=affiliate.status,
            name=affiliate.name,
            website=affiliate.website,
            payout_email=affiliate.payout_email,
            email=affiliate.email,
            commission_rate=affiliate.rate,
            created_at=affiliate.created_at,
            approved_at=affiliate.approved_at,
            totals=AffiliateTotalsOut.of(affiliate.totals, currency),
        )


class AffiliatePage(Page[AffiliateOut]):
    pass


class AffiliateMeOut(Out):
    """An approved affiliate's own dashboard."""

    affiliate_id: str
    code: str
    referral_link: str = Field(description="The shop's address with `?ref=<code>`")
    commission_rate: float | None
    status: AffiliateStatus
    totals: AffiliateTotalsOut

    @classmethod
    def of(cls, affiliate: Affiliate, shop_url: str, currency: str) -> Self:
        return cls(
            affiliate_id=affiliate.affiliate_id,
            code=affiliate.code,
            referral_link=f"{shop_url.rstrip('/')}/?ref={affiliate.code}",
            commission_rate=affiliate.rate,
            status=affiliate.status,
            totals=AffiliateTotalsOut.of(affiliate.totals, currency),
        )


class CommissionOut(Out):
    order_id: str
    amount: Money = Field(description="What the order earned: rate times `base`")
    reversed_amount: Money = Field(description="What refunds took back")
    net_amount: Money = Field(description="amount - reversedAmount")
    status: CommissionStatus
    commission_rate: float
    order_total: Money
    base: Money = Field(
        description=(
            "What the commission was earned on: the order's merchandise value after discounts, without tax"
            " and shipping (for orders placed before 2026-12, its total)"
        )
    )
    earned_at: datetime
    approved_at: datetime | None
    paid_at: datetime | None
    reversed_at: datetime | None
    payout_id: str | None

    @classmethod
    def of(cls, commission: Commission) -> Self:
        def money(amount: int) -> Money:
            return Money(amount=amount, currency=commission.currency)

        return cls(
            order_id=commission.order_id,
            amount=money(commission.amount),
            reversed_amount=money(commission.reversed),
            net_amount=money(commission.net),
            status=commission.status,
            commission_rate=commission.rate_bps / BPS,
            order_total=money(commission.order_total),
            base=money(commission.earned_on),
            earned_at=commission.earned_at,
            approved_at=commission.approved_at,
            paid_at=commission.paid_at,
            reversed_at=commission.reversed_at,
            payout_id=commission.payout_id,
        )


class CommissionPage(Page[CommissionOut]):
    pass


class AffiliatePayoutOut(Out):
    payout_id: str
    affiliate_id: str
    total: Money = Field(description="The sum of the commissions this payout marked PAID")
    commission_count: int
    created_at: datetime

    @classmethod
    def of(cls, payout: Payout) -> Self:
        return cls(
            payout_id=payout.payout_id,
            affiliate_id=payout.affiliate_id,
            total=Money(amount=payout.total, currency=payout.currency),
            commission_count=payout.count,
            created_at=payout.created_at,
        )


class StatsRow(Out):
    """One day of an affiliate's figures (or the period's total)."""

    day: date | None = Field(description="The shop's day; None on the total")
    clicks: int = Field(description="Visitors who arrived with the code (each once a day)")
    orders: int = Field(description="Orders that earned a commission")
    conversion: float | None = Field(description="orders / clicks; None without clicks")
    commissions: Money = Field(description="Commissions earned")
    reversed: Money = Field(description="Commissions refunds took back")

    @classmethod
    def of(cls, day: date | None, figures: Sequence[AffiliateDay], currency: str) -> Self:
        clicks = sum(f.clicks for f in figures)
        orders = sum(f.orders for f in figures)
        return cls(
            day=day,
            clicks=clicks,
            orders=orders,
            conversion=round(orders / clicks, 4) if clicks else None,
            commissions=Money(amount=sum(f.earned for f in figures), currency=currency),
            reversed=Money(amount=sum(f.reversed for f in figures), currency=currency),
        )


class AffiliateStatsOut(Out):
    start: date = Field(alias="from")
    end: date = Field(alias="to")
    days: list[StatsRow]
    total: StatsRow

    @classmethod
    def of(cls, start: date, end: date, days: Sequence[AffiliateDay], currency: str) -> Self:
        return cls.model_validate(
            {
                "from": start,
                "to": end,
                "days": [StatsRow.of(date.fromisoformat(d.day), [d], currency) for d in days],
                "total": StatsRow.of(None, days, currency),
            }
        )
