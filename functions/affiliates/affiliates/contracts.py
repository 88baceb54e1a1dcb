"""The event affiliates publishes. It is affiliates' own contract (no other domain imports it yet);
it moves to `common.contracts` when a consumer appears."""

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from common.money import Money


class CommissionEarned(BaseModel):
    """Published when an order's commission is first recorded; the envelope's eventId is
    `CommissionEarned#{orderId}` (an order has at most one affiliate), so a re-publication is a duplicate
    consumers drop."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)

    DETAIL_TYPE: ClassVar[str] = "CommissionEarned"

    affiliate_id: str
    code: str
    order_id: str
    amount: Money = Field(description="rate times the order's net total")
    order_total: Money
    commission_rate: float
    status: str = Field(description="The commission's status when it was recorded (REVERSED if a refund came first)")
    payout_email: str | None = Field(default=None, description="Where the affiliate's monthly statement goes")


class CommissionReversed(BaseModel):
    """Published when refunds take back (more of) a commission; the envelope's eventId is
    `CommissionReversed#{orderId}#{reversedSoFar}`, so each step is one fact."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)

    DETAIL_TYPE: ClassVar[str] = "CommissionReversed"

    affiliate_id: str
    order_id: str
    amount: Money = Field(description="What this step reversed")
    reversed_total: Money


class CommissionPaid(BaseModel):
    """Published when a payout is complete; the envelope's eventId is `CommissionPaid#{payoutId}`."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)

    DETAIL_TYPE: ClassVar[str] = "CommissionPaid"

    affiliate_id: str
    payout_id: str
    amount: Money = Field(description="The payout's total")
    commissions: int
