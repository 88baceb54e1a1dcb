"""Coupons: what a code is worth for one checkout, decided by pure rules. Redemption counts are kept
by `orders.store` in the order's own transaction, so a coupon limited to N uses is redeemed at most N
times under any concurrency, and a cancelled or rejected order gives its use back. A coupon's uses are
counted in `shards` items (`shards_for`), so a crowd redeeming one coupon writes no item they all share."""

from datetime import UTC, datetime
from typing import Annotated, Self

from pydantic import ConfigDict, Field, StringConstraints, field_validator, model_validator

from common.api_models import In, Out, Page
from common.contracts import CouponType, OrderedLine
from common.errors import ValidationFailed
from common.money import Money, MoneyIn

CouponCode = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Z0-9_-]{3,40}$")]


class CouponIn(In):
    """A coupon as staff (or the win-back job) define it."""

    code: CouponCode
    type: CouponType
    value: int = Field(strict=True, ge=1, le=100_000_00, description="Percent (1-100) or an amount in minor units")
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = Field(default=None, description="For fixed")
    min_subtotal: MoneyIn | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    max_redemptions: int | None = Field(default=None, strict=True, ge=1, le=10_000_000)
    max_per_customer: int | None = Field(default=None, strict=True, ge=1, le=1000)
    first_order_only: bool = Field(default=False, strict=True)
    customer_ids: list[Annotated[str, StringConstraints(min_length=1, max_length=128)]] | None = Field(
        default=None, max_length=1000, description="Only these customers (their user ids)"
    )
    categories: list[Annotated[str, StringConstraints(min_length=1, max_length=80)]] | None = Field(
        default=None, max_length=50, description="Discount only lines in these category slugs"
    )

    @field_validator("valid_from", "valid_until", mode="after")
    @classmethod
    def _in_utc(cls, at: datetime | None) -> datetime | None:
        """Kept and answered in UTC; a time given without a zone is taken as UTC (one naive and one
        zoned bound could not even be compared)."""
        if at is None:
            return None
        return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.type == "percent" and self.value > 100:
            raise ValueError("a percent coupon is worth 1 to 100")
        if self.type == "fixed" and self.currency is None:
            raise ValueError("a fixed coupon needs its currency")
        if self.valid_from and self.valid_until and self.valid_from >= self.valid_until:
            raise ValueError("validFrom must be before validUntil")
        return self


MAX_SHARDS = 16
"""Allowance items per coupon: enough that a crowd's checkouts rarely meet on one item (see
`shards_for`), few enough that the uses are summed by one small query and created in one transaction."""


def shards_for(max_redemptions: int | None) -> int:
    """How many items a new coupon's uses are counted in: `MAX_SHARDS`, or one per use when it has
    fewer (each shard then allows at least one use). Not fewer for a small coupon: a crowd is a crowd
    whatever the cap, and on one item their transactions cancel each other (`TransactionConflict`)."""
    return MAX_SHARDS if max_redemptions is None else min(MAX_SHARDS, max_redemptions)


def allowances(max_redemptions: int, shards: int) -> list[int]:
    """The cap split over `shards` items as evenly as it goes (the first ones take the remainder)."""
    share, extra = divmod(max_redemptions, shards)
    return [share + (1 if n < extra else 0) for n in range(shards)]


class Coupon(CouponIn):
    redemptions: int = 0
    shards: int | None = Field(
        default=None,
        description="How many items its uses are counted in, so a crowd redeeming it shares no one item; "
        "null: counted on the coupon itself (coupons made before December 2026)",
    )
    created_at: datetime


class CouponOut(Coupon):
    model_config = ConfigDict(serialize_by_alias=True)


class CouponPage(Page[CouponOut]):
    pass


class CouponOffer(Out):
    """A coupon issued to the caller that they can use now: its code, what it is worth, until when, and
    the conditions a checkout will check."""

    code: str
    type: CouponType
    value: int = Field(description="Percent (1-100) or an amount in minor units of `currency`")
    currency: str | None = Field(description="For a fixed amount")
    min_subtotal: Money | None = Field(description="The cart's subtotal must reach it")
    valid_from: datetime | None
    valid_until: datetime | None = Field(description="Expires at this moment (None: never)")
    first_order_only: bool
    max_per_customer: int | None = Field(description="How many times the caller may use it (None: no limit)")
    uses_left: int | None = Field(description="How many more times the caller may use it (None: no limit)")
    categories: list[str] | None = Field(description="Discounts only lines in these category slugs (None: all)")

    @classmethod
    def of(cls, coupon: Coupon, uses_left: int | None) -> Self:
        return cls(
            code=coupon.code,
            type=coupon.type,
            value=coupon.value,
            currency=coupon.currency,
            min_subtotal=Money(amount=coupon.min_subtotal.amount, currency=coupon.min_subtotal.currency)
            if coupon.min_subtotal
            else None,
            valid_from=coupon.valid_from,
            valid_until=coupon.valid_until,
            first_order_only=coupon.first_order_only,
            max_per_customer=coupon.max_per_customer,
            uses_left=uses_left,
            categories=coupon.categories,
        )


class CouponOfferList(Out):
    items: list[CouponOffer]


def rejected(rule: str, message: str) -> ValidationFailed:
    """A 422 naming the rule the coupon failed, in the shape of a field error on `body.couponCode`."""
    return ValidationFailed(
        message, details=[{"field": "body.couponCode", "message": message, "type": rule}], code=rule
    )


def discount(
    coupon: Coupon,
    lines: list[OrderedLine],
    *,
    customer_id: str,
    has_earlier_orders: bool,
    redeemed_by_customer: int,
    now: datetime | None = None,
) -> Money:
    """What `coupon` takes off these lines for this customer, or the 422 of the first rule it breaks.
    Use limits are checked here for a clear answer and enforced again by the store's conditions."""
    at = now or datetime.now(UTC)
    currency = lines[0].unit_price.currency
    subtotal = sum(line.line_total.amount for line in lines)
    if coupon.valid_from and at < coupon.valid_from:
        raise rejected("coupon_not_yet_valid", f"coupon {coupon.code} is valid from {coupon.valid_from.isoformat()}")
    if coupon.valid_until and at >= coupon.valid_until:
        raise rejected("coupon_expired", f"coupon {coupon.code} expired at {coupon.valid_until.isoformat()}")
    if coupon.max_redemptions is not None and coupon.redemptions >= coupon.max_redemptions:
        raise rejected("coupon_exhausted", f"coupon {coupon.code} has been used up")
    if coupon.customer_ids is not None and customer_id not in coupon.customer_ids:
        raise rejected("coupon_not_for_customer", f"coupon {coupon.code} is not for this customer")
    if coupon.max_per_customer is not None and redeemed_by_customer >= coupon.max_per_customer:
        raise rejected("coupon_used_by_customer", f"you have used coupon {coupon.code} already")
    if coupon.first_order_only and has_earlier_orders:
        raise rejected("coupon_first_order_only", f"coupon {coupon.code} is for a first order only")
    if coupon.min_subtotal is not None and (
        coupon.min_subtotal.currency != currency or subtotal < coupon.min_subtotal.amount
    ):
        raise rejected(
            "coupon_min_subtotal", f"coupon {coupon.code} needs a subtotal of at least {coupon.min_subtotal.amount}"
        )
    if coupon.type == "fixed" and coupon.currency != currency:
        raise rejected("coupon_currency", f"coupon {coupon.code} is in {coupon.currency}")
    eligible = sum(
        line.line_total.amount for line in lines if coupon.categories is None or line.category in coupon.categories
    )
    if eligible == 0:
        raise rejected("coupon_not_applicable", f"coupon {coupon.code} applies to none of these products")
    off = eligible * coupon.value // 100 if coupon.type == "percent" else min(coupon.value, eligible)
    return Money(amount=off, currency=currency)
