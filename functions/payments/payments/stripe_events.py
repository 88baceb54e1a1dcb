"""Stripe's webhook events as the payments domain reads them: strict pydantic models of the envelope and
of the objects we act on, so that a signed but malformed event is refused (400) before anything is
written, and logic never meets a string where it expects an amount.

Only what we read is modelled; Stripe adds fields all the time, and unknown ones are ignored. Event types
we do not act on are checked as far as the envelope (`OtherEvent`)."""

from typing import Annotated, Any, Literal, Self, get_args

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, TypeAdapter, ValidationError, model_validator

from common.money import MAX_AMOUNT, MinorUnits
from payments.errors import MalformedEvent

IntentEventType = Literal["payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.canceled"]
ChargeEventType = Literal["charge.refunded"]
RefundEventType = Literal["refund.created", "refund.updated", "refund.failed", "charge.refund.updated"]
DisputeEventType = Literal["charge.dispute.created", "charge.dispute.closed"]
INTENT_EVENTS: tuple[str, ...] = get_args(IntentEventType)
CHARGE_EVENTS: tuple[str, ...] = get_args(ChargeEventType)
REFUND_EVENTS: tuple[str, ...] = get_args(RefundEventType)
DISPUTE_EVENTS: tuple[str, ...] = get_args(DisputeEventType)
CLOSED_DISPUTE = frozenset({"won", "lost", "warning_closed"})
"""A closed dispute's statuses: `warning_closed` is an inquiry that closed without a chargeback (the shop
keeps the money, as if won)."""

StripeId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_]{1,255}$")]
PaymentIntentId = Annotated[
    str,
    Field(
        pattern=r"^pi_[A-Za-z0-9_]{1,56}$",
        description="Stripe's are 27 characters; the bound keeps `late-<id>` a valid refund id (64)",
    ),
]
StripeCurrency = Annotated[str, Field(pattern=r"^[A-Za-z]{3}$", description="Stripe writes it in lower case")]
Metadata = Annotated[dict[str, str], Field(max_length=50)]


class _Stripe(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class PaymentError(_Stripe):
    message: str | None = Field(default=None, max_length=1000)


class PaymentIntentObject(_Stripe):
    id: PaymentIntentId
    object: Literal["payment_intent"]
    amount: MinorUnits
    amount_received: MinorUnits | None = Field(default=None, description="Stripe sends it; localstripe does not")
    currency: StripeCurrency
    status: str = Field(max_length=64)
    metadata: Metadata = Field(default_factory=dict)
    last_payment_error: PaymentError | None = None


class ChargeObject(_Stripe):
    id: StripeId
    object: Literal["charge"]
    payment_intent: PaymentIntentId | None = None
    amount: MinorUnits
    amount_refunded: MinorUnits
    currency: StripeCurrency


class RefundObject(_Stripe):
    id: StripeId
    object: Literal["refund"]
    payment_intent: PaymentIntentId | None = None
    amount: MinorUnits
    currency: StripeCurrency
    status: str | None = Field(default=None, max_length=64)


SignedMinorUnits = Annotated[int, Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT)]


class DisputeBalance(_Stripe):
    """One balance transaction a dispute lists: the withdrawal (`amount` < 0, `fee` the dispute fee) or
    the reinstatement of a dispute won (`amount` > 0, `fee` <= 0: what Stripe gives back of its fee)."""

    amount: SignedMinorUnits
    fee: SignedMinorUnits
    currency: StripeCurrency


class DisputeObject(_Stripe):
    id: StripeId
    object: Literal["dispute"]
    charge: StripeId
    payment_intent: PaymentIntentId | None = None
    amount: MinorUnits
    currency: StripeCurrency
    reason: str = Field(max_length=200)
    status: str = Field(pattern=r"^[a-z_]{1,64}$")
    created: int = Field(ge=0, le=2**32)
    balance_transactions: list[DisputeBalance] | None = Field(
        default=None, max_length=10, description="Stripe lists zero, one or two; None: not in the payload"
    )


class _IntentData(_Stripe):
    object: PaymentIntentObject


class _ChargeData(_Stripe):
    object: ChargeObject


class _RefundData(_Stripe):
    object: RefundObject


class _DisputeData(_Stripe):
    object: DisputeObject


class _AnyData(_Stripe):
    object: dict[str, Any]


class _Envelope(_Stripe):
    id: StripeId
    type: str = Field(pattern=r"^[a-z_.]{1,100}$")


class IntentEvent(_Envelope):
    type: IntentEventType
    data: _IntentData


class ChargeEvent(_Envelope):
    type: ChargeEventType
    data: _ChargeData


class RefundEvent(_Envelope):
    type: RefundEventType
    data: _RefundData


class DisputeEvent(_Envelope):
    type: DisputeEventType
    created: int = Field(ge=0, le=2**32)
    data: _DisputeData

    @model_validator(mode="after")
    def _closed_has_an_outcome(self) -> Self:
        if self.type == "charge.dispute.closed" and self.data.object.status not in CLOSED_DISPUTE:
            raise ValueError("a closed dispute is won, lost or warning_closed")
        return self


class OtherEvent(_Envelope):
    """An event type we acknowledge and ignore."""

    data: _AnyData


def _kind(payload: Any) -> str | None:
    if not isinstance(payload, dict):
        return None
    kind = payload.get("type")
    if kind in INTENT_EVENTS:
        return "intent"
    if kind in CHARGE_EVENTS:
        return "charge"
    if kind in REFUND_EVENTS:
        return "refund"
    if kind in DISPUTE_EVENTS:
        return "dispute"
    return "other"


StripeEvent = Annotated[
    Annotated[IntentEvent, Tag("intent")]
    | Annotated[ChargeEvent, Tag("charge")]
    | Annotated[RefundEvent, Tag("refund")]
    | Annotated[DisputeEvent, Tag("dispute")]
    | Annotated[OtherEvent, Tag("other")],
    Discriminator(_kind),
]
_EVENT: TypeAdapter[StripeEvent] = TypeAdapter(StripeEvent)


_UNEXPECTED = "not what a Stripe event holds here"
"""The `message` of each field error (`common.http.FieldError`): fixed, since pydantic's may quote the value."""


StripeEventModel = IntentEvent | ChargeEvent | RefundEvent | DisputeEvent | OtherEvent


def parse_event(payload: Any) -> StripeEventModel:
    """The verified payload as a typed event; `MalformedEvent` (400) naming the fields that are wrong, never
    their values (they may be anything)."""
    try:
        return _EVENT.validate_python(payload)
    except ValidationError as error:
        details = [
            {"field": ".".join(str(part) for part in item["loc"]), "message": _UNEXPECTED, "type": item["type"]}
            for item in error.errors(include_url=False, include_input=False, include_context=False)
        ][:20]
        raise MalformedEvent("the event is not a Stripe event we can read", details=details) from None
