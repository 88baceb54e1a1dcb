"""Payment use cases. No HTTP, no Lambda events: Stripe, the workflow callbacks and the event bus are
ports passed in (`Gateway`, `Callbacks`, `Publisher`), so tests hand in fakes of our own ports or
talk to localstripe."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from common.contracts import (
    AttentionRequested,
    AwaitPaymentInput,
    CancelPaymentInput,
    CancelPaymentResult,
    CreatePaymentIntentInput,
    ForgetCustomerResult,
    PaymentFailed,
    PaymentIntentRef,
    PaymentOutcome,
    PaymentSucceeded,
    RefundInput,
    RefundResult,
    RefundSucceeded,
    SavedCard,
    SavedCards,
)
from common.errors import ServiceUnavailable
from common.events import DomainEvent, new_event
from common.money import Money
from payments.errors import PaymentCanceled, PaymentNotFound, PaymentProviderUnavailable, PaymentRejected
from payments.store import PaymentsStore
from payments.stripe_events import ChargeEvent, ChargeObject, IntentEvent, OtherEvent, RefundEvent

Publisher = Callable[[list[DomainEvent]], None]
SUCCEEDED, FAILED, CANCELED = "succeeded", "failed", "canceled"


class Gateway(Protocol):
    def create_intent(
        self, order_id: str, amount: Money, customer_id: str | None, *, stripe_customer_id: str | None = None
    ) -> dict[str, Any]: ...
    def retrieve_intent(self, payment_intent_id: str) -> dict[str, Any]: ...
    def cancel_intent(self, payment_intent_id: str) -> dict[str, Any] | None: ...
    def refund(self, payment_intent_id: str, amount: int | None, refund_key: str, order_id: str) -> dict[str, Any]: ...


class CustomerAccounts(Protocol):
    """Stripe Customers and the cards saved to them (the same Stripe gateway, as a port of its own so
    that the order steps work without it)."""

    def create_customer(self, customer_id: str) -> str: ...
    def delete_customer(self, stripe_customer_id: str) -> None: ...
    def list_cards(self, stripe_customer_id: str) -> list[dict[str, Any]]: ...


class Callbacks(Protocol):
    def succeed(self, token: str, output: dict[str, Any]) -> bool: ...
    def fail(self, token: str, error: str, cause: str) -> bool: ...


# ---------------------------------------------------------------- workflow steps


def create_intent(
    store: PaymentsStore, gateway: Gateway, task: CreatePaymentIntentInput, *, accounts: CustomerAccounts | None = None
) -> PaymentIntentRef:
    """One PaymentIntent per order, however often the step is retried: an existing one is answered
    again; a PaymentIntent created by a losing concurrent attempt is cancelled. With `accounts`, the
    customer's Stripe Customer (created on their first payment) is named on the PaymentIntent."""
    record = store.get(task.order_id) or {}
    if record.get("outcome") == CANCELED:
        raise PaymentCanceled(task.order_id)
    if record.get("paymentIntentId"):
        return _ref(gateway.retrieve_intent(record["paymentIntentId"]), task.amount)
    if accounts is not None and task.customer_id:
        stripe_customer = stripe_customer_of(store, accounts, task.customer_id)
        intent = gateway.create_intent(task.order_id, task.amount, task.customer_id, stripe_customer_id=stripe_customer)
    else:
        intent = gateway.create_intent(task.order_id, task.amount, task.customer_id)
    if store.attach_intent(task.order_id, intent["id"], task.amount.amount, task.amount.currency) is None:
        kept = (store.get(task.order_id) or {}).get("paymentIntentId")
        if kept != intent["id"]:  # Stripe's idempotency key usually hands both attempts the same one
            gateway.cancel_intent(intent["id"])
        return create_intent(store, gateway, task, accounts=accounts)
    return _ref(intent, task.amount)


def stripe_customer_of(store: PaymentsStore, accounts: CustomerAccounts, customer_id: str) -> str:
    """The customer's Stripe Customer, created on first use. Two first payments racing each create
    one; the first recorded is kept and the other deleted at Stripe (where idempotency keys did not
    already hand both the same)."""
    known = store.stripe_customer(customer_id)
    if known:
        return known
    created = accounts.create_customer(customer_id)
    kept = store.keep_stripe_customer(customer_id, created)
    if kept != created:
        accounts.delete_customer(created)
    return kept


def saved_cards(store: PaymentsStore, accounts: CustomerAccounts, customer_id: str) -> SavedCards:
    """The cards saved at Stripe for one of our customers: brand, last 4 and expiry, nothing more."""
    stripe_customer = store.stripe_customer(customer_id)
    if stripe_customer is None:
        return SavedCards(stripe_customer_id=None, items=[])
    cards = [
        SavedCard(
            brand=str(card.get("brand") or "unknown"),
            last4=str(card.get("last4") or ""),
            exp_month=int(card.get("exp_month") or 0),
            exp_year=int(card.get("exp_year") or 0),
        )
        for card in accounts.list_cards(stripe_customer)
    ]
    return SavedCards(stripe_customer_id=stripe_customer, items=cards)


def forget_customer(store: PaymentsStore, accounts: CustomerAccounts, customer_id: str) -> ForgetCustomerResult:
    """Erase what payments keeps of one of our customers: their Stripe Customer (with the cards saved to
    it, and our id in its metadata) and our record of it. The Stripe Customer goes first, so a failure
    leaves the record that finds it on the retry; one Stripe no longer knows counts as deleted.
    Idempotent: a second erasure finds nothing. Their past PaymentIntents stay at Stripe, as the books need."""
    stripe_customer = store.stripe_customer(customer_id)
    if stripe_customer is not None:
        accounts.delete_customer(stripe_customer)
        store.forget_stripe_customer(customer_id)
    return ForgetCustomerResult(customer_id=customer_id, stripe_customer_deleted=stripe_customer is not None)


def _ref(intent: dict[str, Any], amount: Money) -> PaymentIntentRef:
    return PaymentIntentRef(payment_intent_id=intent["id"], client_secret=intent["client_secret"], amount=amount)


def await_payment(store: PaymentsStore, callbacks: Callbacks, task: AwaitPaymentInput) -> None:
    """Store the callback token. If Stripe's verdict arrived first, resume the workflow right away."""
    record = store.register_token(task.order_id, task.task_token)
    if record.get("outcome"):
        _resume(callbacks, record)
    elif record.get("cancelRequested"):  # a customer's cancel that Stripe could not confirm yet
        callbacks.fail(task.task_token, "CancelRequested", str(record["cancelRequested"]))


def _resume(callbacks: Callbacks, record: dict[str, Any]) -> None:
    token, outcome = record["taskToken"], record["outcome"]
    if outcome == SUCCEEDED:
        output = PaymentOutcome(
            order_id=record["orderId"],
            payment_intent_id=record.get("paymentIntentId", ""),
            amount_received=int(record.get("amountReceived", record.get("amount", 0))),
        )
        callbacks.succeed(token, output.model_dump(mode="json", by_alias=True))
    elif outcome == FAILED:
        callbacks.fail(token, "PaymentFailed", record.get("outcomeDetail") or "the payment failed")
    else:
        callbacks.fail(token, "PaymentCanceled", record.get("outcomeDetail") or "the payment was cancelled")


def decide(store: PaymentsStore, callbacks: Callbacks, order_id: str, outcome: str, detail: str) -> bool:
    """Record the payment's outcome once and resume the workflow if it waits; False if it was decided."""
    record = store.decide(order_id, outcome, detail)
    if record is None:
        return False
    if record.get("taskToken"):
        _resume(callbacks, record)
    return True


def cancel(
    store: PaymentsStore, gateway: Gateway, callbacks: Callbacks, task: CancelPaymentInput
) -> CancelPaymentResult:
    """Make sure the order keeps no money. The outcome `canceled` is written only once Stripe has
    confirmed that the PaymentIntent can no longer take money (or there never was one), so a payment
    made while Stripe was unreachable is still seen and refunded. For a compensation
    (`refund_if_paid`), a payment that was taken is refunded; Stripe being down raises
    `PaymentProviderUnavailable`, which the workflow retries for hours. A customer's request leaves a
    taken payment alone (the shipment step refunds it) and, when Stripe is down, hands the cancel to the
    workflow (`pending`): the waiting step is failed with `CancelRequested`, and the compensation retries."""
    record = store.get(task.order_id) or {}
    if record.get("outcome") == SUCCEEDED:
        return _cancel_paid(store, gateway, task)
    intent_id = record.get("paymentIntentId")
    if intent_id:
        try:
            status = _cancel_at_stripe(gateway, intent_id)
        except PaymentProviderUnavailable:
            if task.refund_if_paid:
                raise
            return _hand_to_workflow(store, callbacks, task)
        if status == SUCCEEDED:  # paid while we were deciding: the payment stands until refunded
            decide(store, callbacks, task.order_id, SUCCEEDED, "paid")
            return _cancel_paid(store, gateway, task)
    decide(store, callbacks, task.order_id, CANCELED, task.reason)
    after = store.get(task.order_id) or {}
    if after.get("outcome") == SUCCEEDED:  # the webhook's verdict won the race to the record
        return _cancel_paid(store, gateway, task)
    return CancelPaymentResult(order_id=task.order_id, cancelled=True)


def _cancel_at_stripe(gateway: Gateway, intent_id: str) -> str:
    """Cancel the PaymentIntent; its status after (`canceled`, or `succeeded` when it was paid first).
    A PaymentIntent Stripe is still processing cannot be decided yet: that is retried like an outage."""
    cancelled = gateway.cancel_intent(intent_id)
    status = str((cancelled or gateway.retrieve_intent(intent_id)).get("status") or "")
    if status in (CANCELED, SUCCEEDED):
        return status
    raise PaymentProviderUnavailable(f"the PaymentIntent is {status or 'in an unknown state'}; try again later")


def _cancel_paid(store: PaymentsStore, gateway: Gateway, task: CancelPaymentInput) -> CancelPaymentResult:
    if not task.refund_if_paid:
        return CancelPaymentResult(order_id=task.order_id, cancelled=False)
    return _refund_rest(store, gateway, task.order_id, task.reason)


def _hand_to_workflow(store: PaymentsStore, callbacks: Callbacks, task: CancelPaymentInput) -> CancelPaymentResult:
    """Stripe cannot confirm a customer's cancel now: remember the request and wake the waiting step, so
    the workflow's compensation (which retries with backoff) cancels or refunds when Stripe is back."""
    record = store.request_cancel(task.order_id, task.reason)
    if record.get("taskToken") and not record.get("outcome"):
        callbacks.fail(record["taskToken"], "CancelRequested", task.reason)
    return CancelPaymentResult(order_id=task.order_id, cancelled=False, pending=True)


def _refund_rest(store: PaymentsStore, gateway: Gateway, order_id: str, reason: str) -> CancelPaymentResult:
    """Refund whatever of the payment is not refunded yet (nothing left is not an error: a retry)."""
    record = store.get(order_id) or {}
    refunded = sum(int(r["amount"]) for r in (record.get("refunds") or {}).values())
    if "cancellation" not in (record.get("refunds") or {}) and int(record.get("amount", 0)) - refunded <= 0:
        return CancelPaymentResult(order_id=order_id, cancelled=True)
    result = refund(store, gateway, RefundInput(order_id=order_id, refund_id="cancellation", reason=reason))
    return CancelPaymentResult(order_id=order_id, cancelled=True, refunded=result.amount)


def refund(store: PaymentsStore, gateway: Gateway, task: RefundInput) -> RefundResult:
    """Refund part or all of a taken payment. The order's refund id is the idempotency key at Stripe
    and in our record, so a retried refund is answered, not repeated. The amount is set aside on the
    record (a conditional write) before Stripe is called, so refunds running at once never add up to
    more than was taken; Stripe's refusal gives it back."""
    record = store.get(task.order_id)
    if record is None or not record.get("paymentIntentId"):
        raise PaymentNotFound(task.order_id)
    currency = record["currency"]
    refunds: dict[str, Any] = record.get("refunds") or {}
    if task.refund_id in refunds:
        return _refund_result(task, refunds[task.refund_id], refunds, currency)
    if task.amount is not None and task.amount.currency != currency:
        raise PaymentRejected(f"refunds of this order are in {currency}")
    held = (record.get("refundHolds") or {}).get(task.refund_id)
    wanted = int(held["amount"]) if held else _set_aside(store, record, task)
    try:
        made = gateway.refund(record["paymentIntentId"], wanted, f"{task.order_id}-{task.refund_id}", task.order_id)
    except PaymentRejected:
        store.release_refund(task.order_id, task.refund_id, wanted)
        raise
    entry = {"providerRefundId": made["id"], "amount": int(made["amount"]), "reason": task.reason}
    after = store.record_refund(task.order_id, task.refund_id, entry)
    final = (after or store.get(task.order_id) or {}).get("refunds") or {}
    return _refund_result(task, final.get(task.refund_id, entry), final, currency)


def _set_aside(store: PaymentsStore, record: dict[str, Any], task: RefundInput) -> int:
    """Set the refund's amount aside on the payment record: what is asked, or all that is neither
    refunded nor set aside for another refund. `PaymentRejected` if that much is not left; a retryable
    `ServiceUnavailable` if a concurrent attempt of this very refund set it aside first."""
    refunds: dict[str, Any] = record.get("refunds") or {}
    holds: dict[str, Any] = record.get("refundHolds") or {}
    not_refunded = int(record["amount"]) - sum(int(r["amount"]) for r in refunds.values())
    remaining = not_refunded - sum(int(h["amount"]) for rid, h in holds.items() if rid not in refunds)
    wanted = remaining if task.amount is None else task.amount.amount
    if wanted <= 0 or wanted > remaining:
        raise PaymentRejected(f"cannot refund {wanted}: {remaining} of the payment is left to refund")
    if store.reserve_refund(task.order_id, task.refund_id, wanted, left=not_refunded) is not None:
        return wanted
    current = store.get(task.order_id) or {}
    if task.refund_id in (current.get("refundHolds") or {}) or task.refund_id in (current.get("refunds") or {}):
        raise ServiceUnavailable("this refund is being made right now; retry")
    raise PaymentRejected(f"cannot refund {wanted}: another refund of this payment took what was left")


def _refund_result(task: RefundInput, entry: dict[str, Any], refunds: dict[str, Any], currency: str) -> RefundResult:
    total = sum(int(r["amount"]) for r in refunds.values())
    return RefundResult(
        order_id=task.order_id,
        refund_id=task.refund_id,
        provider_refund_id=entry["providerRefundId"],
        amount=Money(amount=int(entry["amount"]), currency=currency),
        refunded_total=Money(amount=total, currency=currency),
    )


# ---------------------------------------------------------------- Stripe's webhooks

LATE_REFUNDED = "late: refunded, the order will not be fulfilled"
LATE_ALREADY_REFUNDED = "late: already refunded"


@dataclass(frozen=True)
class Handled:
    """What one Stripe event did, for the answer and the log. `mismatch` says how an event contradicted
    the payment we recorded (a security event: nothing was changed)."""

    outcome: str
    order_id: str | None = None
    payment_intent_id: str | None = None
    mismatch: str | None = None


class _Mismatch(Exception):
    def __init__(self, why: str, order_id: str | None, payment_intent_id: str | None) -> None:
        super().__init__(why)
        self.order_id = order_id
        self.payment_intent_id = payment_intent_id


def handle_event(
    store: PaymentsStore,
    callbacks: Callbacks,
    publish: Publisher,
    event: IntentEvent | ChargeEvent | RefundEvent | OtherEvent,
    gateway: Callable[[], Gateway],
) -> Handled:
    """Apply one verified, well-formed Stripe event. Its order is found through its PaymentIntent (the
    `PI#` pointer written when the intent was attached), and the event must agree with the payment we
    recorded (PaymentIntent, amount, currency): a signed event can still name another order in its
    metadata or carry another amount, and then nothing changes. Events may come twice, late or out of
    order: the outcome is written once (a `payment_failed` after `succeeded` changes nothing), and what
    we publish carries a stable id. A payment that succeeds after the order's payment was decided
    `failed` or `canceled` is refunded in full at once (`gateway` is built only then)."""
    try:
        if isinstance(event, IntentEvent):
            return _on_intent(store, callbacks, publish, event, gateway)
        if isinstance(event, ChargeEvent):
            return _on_charge_refunded(store, publish, event.data.object)
        if isinstance(event, RefundEvent):
            return _on_refund(store, publish, event)
    except _Mismatch as mismatch:
        return Handled(
            "ignored: does not match the payment",
            order_id=mismatch.order_id,
            payment_intent_id=mismatch.payment_intent_id,
            mismatch=str(mismatch),
        )
    return Handled(f"ignored: {event.type}")


def _on_intent(
    store: PaymentsStore, callbacks: Callbacks, publish: Publisher, event: IntentEvent, gateway: Callable[[], Gateway]
) -> Handled:
    intent = event.data.object
    pointed = store.order_of_intent(intent.id)
    named = intent.metadata.get("orderId")
    if pointed is not None and named is not None and named != pointed:
        raise _Mismatch("its metadata names another order than its PaymentIntent's", pointed, intent.id)
    order_id = pointed or named  # metadata alone only for intents attached before the pointer existed
    if order_id is None:
        return Handled("ignored: no order", payment_intent_id=intent.id)
    record = _matching_payment(store, order_id, intent.id, intent.currency, intent.amount)
    done = partial(Handled, order_id=order_id, payment_intent_id=intent.id)
    if event.type == "payment_intent.succeeded":
        received = intent.amount if intent.amount_received is None else intent.amount_received
        if intent.status != SUCCEEDED or received != int(record["amount"]):
            raise _Mismatch("it says succeeded, but not for the order's amount", order_id, intent.id)
        decided = decide(store, callbacks, order_id, SUCCEEDED, "paid")
        if not decided:
            earlier = (store.get(order_id) or {}).get("outcome")
            if earlier in (FAILED, CANCELED):
                return done(_refund_late_payment(store, gateway, order_id, intent.id, str(earlier)))
        amount = Money(amount=int(record["amount"]), currency=str(record["currency"]))
        data = PaymentSucceeded(order_id=order_id, payment_intent_id=intent.id, amount=amount)
        # Published again on a redelivery (same id, consumers drop it): the first attempt may have died here.
        publish([new_event(PaymentSucceeded.DETAIL_TYPE, f"PaymentSucceeded#{order_id}", data)])
        return done("succeeded" if decided else "duplicate")
    if event.type == "payment_intent.payment_failed":
        reason = (intent.last_payment_error.message if intent.last_payment_error else None) or "the card was declined"
        decided = decide(store, callbacks, order_id, FAILED, reason)
        if not decided and not _outcome_is(store, order_id, FAILED):
            return done("late: the payment was already decided otherwise")
        failed = PaymentFailed(order_id=order_id, payment_intent_id=intent.id, reason=reason)
        publish([new_event(PaymentFailed.DETAIL_TYPE, f"PaymentFailed#{order_id}", failed)])
        return done("failed" if decided else "duplicate")
    decided = decide(store, callbacks, order_id, CANCELED, "cancelled at Stripe")
    return done("canceled" if decided else "duplicate or late")


def _matching_payment(
    store: PaymentsStore, order_id: str, payment_intent_id: str, currency: str, amount: int
) -> dict[str, Any]:
    """The order's payment record, if the event's PaymentIntent, amount and currency are the recorded ones."""
    record = store.get(order_id)
    if record is None or record.get("paymentIntentId") != payment_intent_id:
        raise _Mismatch("it is not the order's PaymentIntent", order_id, payment_intent_id)
    if currency.upper() != record.get("currency") or amount != int(record.get("amount", -1)):
        raise _Mismatch("its amount or currency is not the order's", order_id, payment_intent_id)
    return record


def _refund_late_payment(
    store: PaymentsStore, gateway: Callable[[], Gateway], order_id: str, payment_intent_id: str, earlier: str
) -> str:
    """Refund a payment taken for an order that will not be fulfilled: all of it that is not refunded yet,
    under a refund id derived from the PaymentIntent (Stripe's idempotency key and our record's), so a
    redelivery refunds nothing more. Stripe being down raises: the webhook answers 5xx and Stripe
    redelivers; reconciliation is the second net."""
    refund_id = f"late-{payment_intent_id}"
    record = store.get(order_id) or {}
    if refund_id not in (record.get("refunds") or {}) and _left_to_refund(record) <= 0:
        return LATE_ALREADY_REFUNDED
    task = RefundInput(order_id=order_id, refund_id=refund_id, reason=f"paid after the payment was {earlier}")
    try:
        refund(store, gateway(), task)
    except PaymentRejected:
        if _left_to_refund(store.get(order_id) or {}) <= 0:  # another path refunded it meanwhile
            return LATE_ALREADY_REFUNDED
        raise
    return LATE_REFUNDED


def _left_to_refund(record: dict[str, Any]) -> int:
    return int(record.get("amount", 0)) - sum(int(r["amount"]) for r in (record.get("refunds") or {}).values())


def _on_charge_refunded(store: PaymentsStore, publish: Publisher, charge: ChargeObject) -> Handled:
    """Stripe's refunded total of the order's charge; the order is found through `payment_intent`, never
    the charge's own metadata (which Stripe does not promise to carry)."""
    pointed = store.order_of_intent(charge.payment_intent) if charge.payment_intent else None
    if charge.payment_intent is None or pointed is None:
        return Handled("ignored: not an order's PaymentIntent", payment_intent_id=charge.payment_intent)
    record = _matching_payment(store, pointed, charge.payment_intent, charge.currency, charge.amount)
    if charge.amount_refunded > charge.amount:
        raise _Mismatch("it refunds more than the charge", pointed, charge.payment_intent)
    total = charge.amount_refunded
    store.record_refunded_total(pointed, total)
    refunded = RefundSucceeded(
        order_id=pointed,
        payment_intent_id=charge.payment_intent,
        refunded_total=Money(amount=total, currency=str(record["currency"])),
    )
    publish([new_event(RefundSucceeded.DETAIL_TYPE, f"RefundSucceeded#{pointed}#{total}", refunded)])
    return Handled("refund recorded", order_id=pointed, payment_intent_id=charge.payment_intent)


def _on_refund(store: PaymentsStore, publish: Publisher, event: RefundEvent) -> Handled:
    """A refund Stripe could not complete means the customer did not get the money back: staff are told
    (`AttentionRequested`). Other refund updates are acknowledged; `charge.refunded` carries the totals."""
    made = event.data.object
    pointed = store.order_of_intent(made.payment_intent) if made.payment_intent else None
    if made.payment_intent is None or pointed is None:
        return Handled("ignored: not an order's PaymentIntent", payment_intent_id=made.payment_intent)
    record = store.get(pointed) or {}
    if made.currency.upper() != record.get("currency") or made.amount > int(record.get("amount", -1)):
        raise _Mismatch("its amount or currency is not the order's", pointed, made.payment_intent)
    if event.type != "refund.failed" and made.status not in ("failed", "canceled"):
        return Handled(f"ignored: {event.type}", order_id=pointed, payment_intent_id=made.payment_intent)
    attention = AttentionRequested(
        order_id=pointed,
        reason=f"Stripe could not complete refund {made.id} of {made.amount} {record['currency']}",
        source="webhook",
        payment_intent_id=made.payment_intent,
    )
    publish([new_event(AttentionRequested.DETAIL_TYPE, f"AttentionRequested#{pointed}#{made.id}", attention)])
    return Handled("refund failed: staff told", order_id=pointed, payment_intent_id=made.payment_intent)


def _outcome_is(store: PaymentsStore, order_id: str, outcome: str) -> bool:
    return (store.get(order_id) or {}).get("outcome") == outcome
