"""Payments models by owner: the stored payment of an order, what one Stripe event did, the
reconciliation runs, and the admin API's and webhook's responses. The payloads other domains see are
`common.contracts` models; Stripe's own events are read through `payments.stripe_events`. Stored items
are mapped here and keyed in `payments.store`, the only module that knows their keys."""

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from common.api_models import Out, Page
from common.errors import ValidationFailed
from common.money import Money

DEFAULT_WINDOW = timedelta(hours=25)
MAX_WINDOW = timedelta(days=31)
MAX_RECORDED_FINDINGS = 200
"""A run record keeps this many findings (a DynamoDB item holds 400 KB); the log and counts keep all."""


class Outcome(StrEnum):
    """A payment's verdict, written once (a late or repeated Stripe event cannot undo it)."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True, frozen=True)


class _Stored(_Model):
    """A stored item's attributes (camelCase, as written); its keys and TTL are ignored."""

    model_config = ConfigDict(extra="ignore")


# ---------------------------------------------------------------- the payment of an order


class RefundEntry(_Stored):
    """One refund Stripe made, under the order's refund id (the key of `Payment.refunds`)."""

    provider_refund_id: str
    amount: int
    reason: str = ""


class RefundHold(_Stored):
    """An amount set aside for a refund before Stripe is asked, so racing refunds never add up to more."""

    amount: int
    held_at: datetime | None = None


class Payment(_Stored):
    """The payment record of one order. `payment_intent_id` and `amount` are set once its PaymentIntent
    is attached; a record made by the waiting step or a cancel before that has neither."""

    order_id: str
    payment_intent_id: str | None = None
    amount: int = 0
    currency: str | None = None
    created_at: datetime | None = None
    task_token: str | None = None
    outcome: Outcome | None = None
    outcome_detail: str | None = None
    decided_at: datetime | None = None
    cancel_requested: str | None = Field(default=None, description="A customer's cancel Stripe could not confirm")
    refunds: dict[str, RefundEntry] = Field(default_factory=dict)
    refund_holds: dict[str, RefundHold] = Field(default_factory=dict)
    refund_left: int | None = None
    amount_refunded: int | None = Field(default=None, description="Stripe's refunded total (`charge.refunded`)")

    @property
    def refunded(self) -> int:
        """What our own refunds gave back."""
        return sum(entry.amount for entry in self.refunds.values())

    @property
    def left_to_refund(self) -> int:
        return self.amount - self.refunded

    @property
    def held(self) -> int:
        """Set aside for refunds that are not recorded yet."""
        return sum(hold.amount for refund_id, hold in self.refund_holds.items() if refund_id not in self.refunds)


class Claim(_Model):
    """What claiming a Stripe event found: this delivery holds the lease (`token`), or the event was
    processed already (`done`), or another delivery holds a live lease (neither)."""

    token: str | None = None
    done: bool = False


class Handled(_Model):
    """What one Stripe event did, for the answer and the log. `mismatch` says how an event contradicted
    the payment we recorded (a security event: nothing was changed)."""

    outcome: str
    order_id: str | None = None
    payment_intent_id: str | None = None
    mismatch: str | None = None
    fee_unknown: str | None = Field(default=None, description="Why Stripe's fee could not be read (published without)")


class AwaitingPayment(_Model):
    """AwaitPayment's own answer (the workflow waits for the callback, not for this)."""

    order_id: str
    waiting: bool = True


# ---------------------------------------------------------------- reconciliation


class ReconciliationFindingKind(StrEnum):
    """What reconciliation found wrong with a payment (the schema name a client sees)."""

    PAID_FOR_CANCELLED_ORDER = "paid_for_cancelled_order"
    PAID_FOR_REJECTED_ORDER = "paid_for_rejected_order"
    PAID_FOR_UNKNOWN_ORDER = "paid_for_unknown_order"
    PAID_WITHOUT_PAYMENT = "paid_without_payment"
    AMOUNT_DIFFERS = "amount_differs"
    REFUNDS_DIFFER = "refunds_differ"
    UNEXPECTED_PAYMENT = "unexpected_payment"
    PAYMENT_NOT_APPLIED = "payment_not_applied"


class ReconciliationAction(StrEnum):
    """What reconciliation did about a finding."""

    REFUNDED = "refunded"
    FLAGGED = "flagged"
    REFUND_FAILED = "refund_failed"


Kind = ReconciliationFindingKind
Action = ReconciliationAction


class ReconcileInput(BaseModel):
    """What the job is invoked with: a scheduler's event (no window: the last 25 hours) or, to look at
    another period, `{"since": iso, "until": iso}`. Other keys of a scheduled event are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    since: datetime | None = None
    until: datetime | None = None

    @model_validator(mode="after")
    def _aware(self) -> Self:
        for at in (self.since, self.until):
            if at is not None and at.tzinfo is None:
                raise ValueError("since and until need a time zone (e.g. 2026-12-01T10:00:00Z)")
        return self

    def window(self, now: datetime, default: timedelta = DEFAULT_WINDOW) -> tuple[datetime, datetime]:
        until = self.until or now
        since = self.since or until - default
        if not since < until or until - since > MAX_WINDOW:
            raise ValidationFailed(f"the window must run forwards and span at most {MAX_WINDOW.days} days")
        return since.astimezone(UTC), until.astimezone(UTC)


class ReconciliationFinding(_Model):
    payment_intent_id: str | None
    order_id: str
    kind: Kind
    action: Action
    amount: Money | None = Field(default=None, description="What was refunded, or the amount in question")
    detail: str = Field(max_length=500)


class ReconciliationCounts(_Model):
    payment_intents: int = Field(description="Our PaymentIntents created in the window")
    succeeded: int = Field(description="Of which succeeded")
    orders: int = Field(description="Orders they name")
    ok: int = Field(description="PaymentIntents with nothing to say")
    refunded: int
    flagged: int
    failed: int = Field(description="Refunds Stripe refused or could not make now (the next run retries)")


class ReconciliationRun(_Model):
    run_id: str
    started_at: datetime
    finished_at: datetime
    since: datetime
    until: datetime
    counts: ReconciliationCounts
    findings: list[ReconciliationFinding] = Field(description=f"The first {MAX_RECORDED_FINDINGS}; all are in the log")
    findings_truncated: bool = False


class ReconcileSummary(_Model):
    """What the reconciliation job answers (its scheduler only logs it)."""

    run_id: str
    counts: ReconciliationCounts


# ---------------------------------------------------------------- responses


class ReconciliationRunPage(Page[ReconciliationRun]):
    pass


class WebhookAck(Out):
    received: bool
    outcome: str
